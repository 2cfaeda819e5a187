//! # udpcliserv — Lab 4's UDP programs and UNP chapter 8
//!
//! UNP's folder for chapter 8 ("Elementary UDP Sockets"), with the course's UDP
//! programs. Each program's `main` calls one lesson function, where its socket calls
//! appear in the order the book or the handout teaches them.
//!
//! | module | programs | teaches |
//! |---|---|---|
//! | [`daemons`] | `labdaemon`, `udpechod`, `daemonize` | Lab 5 and UNP 13: a process with no terminal, logging |
//! | [`echo`] | `udpechoserver`, `udpechoclient` | socket, bind, recvfrom, sendto: blanks ㊴–㊺ |
//! | [`failures`] | `dgclitimeo`, `dgcliaddr`, `dgcliconnect` | UNP 8.4, 8.8, 8.11, 14.2: lost datagrams, strangers, ICMP errors |
//! | [`flood`] | `dgcliloop`, `dgecholoop` | UNP 8.13: no flow control, `SO_RCVBUF` |
//! | [`ft`] | `udpftserver`, `udpftclient` | the course's UDP upload: `Received from client: [PATH]`, `ok`, `================END` |
//! | [`rft`] | `rftserver`, `rftclient` | reliability added over UDP: sequence numbers, ACKs, RTT-based retransmission, a window |
//! | [`seq`] | `udpseqserver`, `udpseqclient` | the course's experiment: `Sequence num: N`, `Error!` |
//! | [`text`] | — | a datagram as the C programs print it, escaped |
//!
//! Armour, beside the lessons:
//!
//! | item | protects against |
//! |---|---|
//! | [`upload`] | an upload written outside the server's root, or over a longer file's tail |
//! | [`seq::tally`] | one crafted sequence number growing the sequence server's memory |
//! | [`report_send_error`] | a server ending because one client's `sendto` failed |

use std::net::{SocketAddr, UdpSocket};

pub mod daemons;
pub mod echo;
pub mod failures;
pub mod flood;
pub mod ft;
pub mod rft;
pub mod seq;
pub mod sigint;
pub mod text;
pub mod upload;

/// The line every unplab server starts with: `listening on [::]:10000`, with the real
/// port when the program asked for port 0 (UDP has no `listen`; the server is bound and
/// waiting for datagrams, and tests and scripts wait for this line).
pub fn announce(sock: &UdpSocket) -> unp::Result<()> {
    let bound = unp::udp::local_addr(sock)?;
    unp::print_flush(format_args!("listening on {}\n", unp::sock_ntop(&bound)))
}

/// Reports a failed `sendto` to one client (`PROGRAM: sendto error for ADDR: ...`) and
/// lets the server go on: one client's unreachable address must not end it.
pub fn report_send_error(sent: unp::Result<usize>, to: &SocketAddr) {
    if let Err(e) = sent {
        unp::err_ret(&e.with_peer(unp::sock_ntop(to)));
    }
}

/// Parses a duration in seconds (`1`, `0.25`) for the programs' timeout options.
pub fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(std::time::Duration::from_secs_f64(v)),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}
