//! # tcpcliserv — the first programs of UNP (chapters 1 and 5) and the Lab 3 echo pair
//!
//! Each program's lesson is in its own file, `src/bin/PROG.rs`: `socket`, `bind`,
//! `listen`, the `accept` loop (servers) or the connection (clients), commented where
//! the lesson happens, as in the book's `main`. What they share is here:
//!
//! | module | what it teaches | UNP source |
//! |---|---|---|
//! | [`proto`] | the bytes on the wire: daytime, echo, text and binary sum (one framing interface, no sockets) | intro/, tcpcliserv/str_echo*.c |
//! | [`service`] | what a server does with one client: `str_echo`, the two sums, the lab's echo (`read`, `write`) | tcpcliserv/str_echo.c, str_echo08.c, str_echo09.c |
//! | [`sigchld`] | reaping children: `wait` once per signal vs a `waitpid(WNOHANG)` loop | tcpcliserv/sigchldwait.c, sigchldwaitpid.c |
//! | [`client`] | `str_cli` and its variants (`write`, `read`): binary requests, writing a line in two parts | tcpcliserv/str_cli*.c |
//! | [`daytime`] | the daytime port, `ctime` in local time | intro/daytimetcp*.c |
//! | [`multiplex`] | one process for every client: `select`, `poll`, `epoll` and their timeouts | tcpcliserv/tcpservselect01.c, tcpservpoll01.c |
//! | [`strcliselect`] | `str_cli` on `select`: stdin or the socket, whichever is ready; `shutdown` for batch input | select/strcliselect01.c, strcliselect02.c |
//! | [`nonblock`] | nonblocking `str_cli` (partial writes wait in a buffer) and `connect` with a timeout | nonblock/strclinonb.c, lib/connect_nonb.c |
//! | [`args`] | the command lines: `-p PORT` for servers, `HOST -p PORT` for clients | — |
//! | [`terminal`] | armour: a peer's bytes reaching the terminal | — |
//!
//! Where is the fork? In `src/bin/tcpserv01.rs`, `tcpserv02.rs` and `tcpserv04.rs`,
//! written out as in the book; tcpserv08 and 09 use [`unp::serve::process_per_client`],
//! tcpservthread [`unp::serve::thread_per_client`], echoserver
//! [`unp::serve::one_at_a_time`] (the three ways to serve many clients, written once).
//!
//! | program | what it shows |
//! |---|---|
//! | `daytimetcpsrv`, `daytimetcpcli` | the smallest server and client; the server closes to end the reply |
//! | `tcpserv01` | fork per client and no SIGCHLD handler: every finished child stays a zombie |
//! | `tcpserv02` | a handler that calls `wait` once per signal: simultaneous exits still leave zombies |
//! | `tcpserv04` | a `waitpid` loop, and `accept` interrupted by the handler (`EINTR`) is called again: the correct server |
//! | `tcpservthread` | a thread per client: no processes, no zombies |
//! | `tcpserv08`/`tcpcli08`, `tcpserv09`/`tcpcli09` | the sum as text and as binary |
//! | `tcpcli01` | `str_cli`: line in, echo out |
//! | `tcpcli04` | five connections that close together (for tcpserv02 vs tcpserv04) |
//! | `tcpcli07` | SIGALRM from `setitimer` ends the client |
//! | `tcpcli10` | `SO_LINGER` 0: close sends RST |
//! | `tcpcli11` | writing to a dead peer: RST, then SIGPIPE |
//! | `tsigpipe` | catching SIGPIPE: the handler runs, then `write` fails with `EPIPE` |
//! | `echoserver`, `echoclient` | the lab's iterative echo: a second client waits |
//! | `tcpserv01_non` | the course's Lab 4 start: tcpserv01 without the fork (iterative); the answer is tcpserv04 |
//! | `tcpservselect01`–`04` | `select`: the book's server, then timeout NULL, 5 s, 0 (the course's lines; 0 spins) |
//! | `tcpservpoll01`–`04` | `poll`: the book's server, then timeout INFTIM, 0, 1000 ms |
//! | `tcpservepoll` | `epoll` (Linux): only the ready descriptors come back |
//! | `strcliselect01`, `strcliselect02` | `select` on stdin and the socket; 02 half-closes (`shutdown`) so batch input is not cut short |
//! | `tcpclinonb` | nonblocking `str_cli` and `connect` with a timeout (UNP 16.2, 16.3) |

pub mod args;
pub mod client;
pub mod daytime;
pub mod multiplex;
pub mod nonblock;
pub mod proto;
pub mod service;
pub mod sigchld;
pub mod strcliselect;
pub mod terminal;
