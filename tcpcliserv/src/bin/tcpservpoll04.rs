//! tcpservpoll04 — the course's poll echo server with a 1000 ms timeout: `Wait 1000 msec!`, and `timeout!` each second nothing is ready.
//!
//! The lesson is `tcpservpoll` in `src/multiplex/poll.rs`, shared with tcpservpoll01, 02 and 03: the four differ only in the timeout.

use std::time::Duration;

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, poll};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server on poll, 1000 ms timeout (Wait 1000 msec!)");
        poll::tcpservpoll(
            a.port,
            Options::course(Wait::For(Duration::from_millis(1000))),
        )
    })
}
