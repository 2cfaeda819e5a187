//! tcpservpoll01 — echo server on `poll` (UNP tcpcliserv/tcpservpoll01.c,
//! section 6.11): one process, one thread, every client.
//!
//! The lesson is `tcpservpoll` in `src/multiplex/poll.rs`. The course's
//! tcpservpoll02, 03 and 04 are this program with a timeout (`--timeout forever`,
//! `0`, `1000ms`) and the course's lines. `--readline` serves a ready client with
//! `readline` instead of one `read`: the denial of service of section 6.8 (a client
//! sending one byte and no newline stops the server for everybody), as with select.

use tcpcliserv::args::{self, MultiplexArgs};
use tcpcliserv::multiplex::poll;

fn main() {
    unp::run(|| {
        let a: MultiplexArgs = args::parse("Echo server on poll: one process for every client");
        poll::tcpservpoll(a.server.port, a.options())
    })
}
