//! # labnet — two computers, a bad network and a capture, in one command
//!
//! The handout says "server and client should be executed in different computers".
//! `labnet up` builds them on one machine: two network namespaces, `NAME-client` and
//! `NAME-server`, each with a TUN device (`tun0`) and an address from the documentation
//! ranges. The labnet process itself is the cable between them: it reads every packet
//! one namespace sends into its TUN and writes it into the other's, after the
//! impairments of that direction (loss, delay and jitter, reordering, duplication, a
//! rate limit), and writes each packet to a pcap file as it enters the link (what
//! each host sent; or, with `--capture delivered|both`, also as it leaves it). The kernel needs no `netem` for any of it (the idea is
//! mahimahi's: a link in user space between two virtual interfaces).
//!
//! | module | what it does |
//! |---|---|
//! | [`command`] | runs `ip` and prints each command first (`+ ip netns add labnet-client`) |
//! | [`names`] | a network's name, its namespaces, addresses and state directory |
//! | [`netns`] | builds the two namespaces, and the guard that always tears them down |
//! | [`netem`] | `labnet up` asks whether the kernel has netem (labnet's link is used either way) |
//! | [`tun`] | opens a TUN device inside a namespace (`setns` in a short-lived thread) |
//! | [`offload`] | the virtio header of each packet; large (TSO) segments cut for the capture |
//! | [`impair`] | the impairments: parsing `--loss 10%`, `--delay 100ms`, `--rate 10mbit` |
//! | [`lane`] | one direction of the link: each packet's fate and its time-ordered queue |
//! | [`way`] | one direction's thread: reads a TUN device, the lane, writes the other |
//! | [`link`] | the link itself: the two directions' threads and the shared capture |
//! | [`profile`] | timing counters of the link's loop (`LABNET_PROFILE=1`) |
//! | [`pcap`] | writes the capture of the link (LINKTYPE_RAW) |
//! | [`tap`] | where the link is captured: what the hosts sent, what it delivered, or both |
//! | [`session`] | build, run the link in a thread while something happens, tear down |
//! | [`programs`] | the lab programs, started inside a namespace, their output collected |
//! | [`scenario`] | `labnet run`: a lab's server and client across the link, with a transcript |
//! | [`twoclients`] | `labnet run echo-select`, `echo-iterative`: two clients, one server, a time line |
//! | [`daemon`] | `labnet run daemon`: Lab 5's daemon in the server's namespace, shown, stopped, reaped |
//! | [`report`] | after a run: labtrace's story of the capture, tshark's counts |
//! | [`upload`] | after `udpft` or `rft`: the copy compared, datagram by datagram |
//! | [`bench`] | `labnet bench ft`: throughput for each loss and delay, a table and a chart ([`crate::plot`]) |
//! | [`control`] | `labnet exec`, `labnet shell`, `labnet down` |
//! | [`signals`] | Ctrl-C and SIGTERM become a flag the link checks |

pub mod bench;
pub mod command;
pub mod control;
pub mod daemon;
pub mod impair;
pub mod lane;
pub mod link;
pub mod names;
pub mod netem;
pub mod netns;
pub mod offload;
pub mod pcap;
pub mod profile;
pub mod programs;
pub mod report;
pub mod scenario;
pub mod session;
pub mod signals;
pub mod tap;
pub mod tun;
pub mod twoclients;
pub mod upload;
pub mod way;
