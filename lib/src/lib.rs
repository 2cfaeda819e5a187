//! # unp — the wrapper library under unplab's lab programs
//!
//! The Rust counterpart of `libunp.a` from W. Richard Stevens' *Unix Network
//! Programming*: each wrapper makes one system call and, when it fails, reports which
//! call failed and why, so a lab program reads like the bare algorithm.
//!
//! | module | teaches | UNP names |
//! |---|---|---|
//! | [`error`] | how a failure reaches the user: `bind error: Address already in use (EADDRINUSE)` | `err_sys`, `err_quit`, `err_msg`, `err_ret` |
//! | [`sock`] | the socket calls, one wrapper each | `Socket`, `Bind`, `Listen`, `Accept`, `Connect`, `Close`, `Shutdown`, `Setsockopt` |
//! | [`io`] | TCP is a byte stream: read exactly *n* bytes, write everything, read a line | `Readn`, `Writen`, `Readline` |
//! | [`process`] | fork per client, zombies, wait vs waitpid | `Fork`, `Wait`, `Waitpid` |
//! | [`signal`] | handlers, `SA_RESTART` vs `EINTR`, reaping every child | `Signal`, `Signal_intr`, `sig_chld` |
//! | [`addr`] | protocol-independent listen/connect, IPv4 and IPv6 | `tcp_listen`, `tcp_connect`, `sock_ntop` |
//! | [`udp`] | datagrams: socket, bind, recvfrom, sendto, a connected UDP socket, SO_RCVBUF, SO_RCVTIMEO | `Recvfrom`, `Sendto`, dg_echo, dg_cli |
//! | [`daemon`] | a process without a terminal: fork, setsid, fork, chdir, umask, close, syslog | `daemon_init` (UNP 13.4) |
//! | [`serve`] | how to serve many clients: one at a time, a process per client, a thread per client | tcpserv01.c, tcpserv04.c, threads/tcpserv01.c |
//!
//! Armour, beside the lessons and named for what it protects against:
//!
//! | module | protects against |
//! |---|---|
//! | [`shortage`] | a server dying when it runs out of descriptors, memory or processes |
//! | [`error::printable`] | a peer's bytes forging log lines or driving the terminal |
//! | [`text`] | a forked child copying the parent's heap pages for every line it formats (`StackText`: C's `char buf[N]`) |
//!
//! A program's `main` is `unp::run(|| { ... })`: the body uses `?` on every wrapper and
//! [`run`] prints the error the UNP way and exits 1.
//!
//! ```no_run
//! // fn main() {
//! unp::run(|| {
//!     let (listener, addr) = unp::tcp_listen(None, unp::SERV_PORT)?;
//!     println!("listening on {}", unp::sock_ntop(&addr));
//!     loop {
//!         let (mut conn, _peer) = unp::accept(&listener)?;
//!         unp::writen(&mut conn, b"hello\r\n")?;
//!     }
//! })
//! // }
//! ```

pub mod addr;
pub mod daemon;
pub mod error;
pub mod io;
pub mod process;
pub mod serve;
pub mod shortage;
pub mod signal;
pub mod sock;
pub mod text;
pub mod udp;

pub use addr::{sock_ntop, tcp_connect, tcp_listen};
pub use error::{Context, Error, Result, err_msg, err_ret, log, print_flush, printable, run};
pub use io::{LineReader, read, readn, write_fd, writen, writen_fd};
pub use sock::{accept, bind, close, connect, listen, set_reuseaddr, socket};
pub use text::StackText;

/// UNP's `SERV_PORT`: the default port of the echo and sum servers.
pub const SERV_PORT: u16 = 9877;

/// UNP's `LISTENQ`: the default `listen(2)` backlog.
pub const LISTENQ: i32 = 1024;

/// UNP's `MAXLINE`: the longest line [`LineReader`] returns in one piece.
pub const MAXLINE: usize = 4096;

/// UNP's `BUFFSIZE`: the buffer size for bulk reads and writes.
pub const BUFFSIZE: usize = 8192;
