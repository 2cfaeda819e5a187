//! tcpservpoll02 — the course's poll echo server with poll's timeout INFTIM (-1): it sleeps until a descriptor is ready, printing `Wait forever!` before each call.
//!
//! The lesson is `tcpservpoll` in `src/multiplex/poll.rs`, shared with tcpservpoll01, 03 and 04: the four differ only in the timeout.

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, poll};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server on poll, timeout INFTIM (Wait forever!)");
        poll::tcpservpoll(a.port, Options::course(Wait::Forever))
    })
}
