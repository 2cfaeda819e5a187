//! tcpservpoll03 — the course's poll echo server with timeout 0: poll returns at once (`Do not wait at all!`), so the loop spins and uses a whole CPU core while nobody talks to it.
//!
//! The lesson is `tcpservpoll` in `src/multiplex/poll.rs`, shared with tcpservpoll01, 02 and 04: the four differ only in the timeout.

use std::time::Duration;

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, poll};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server on poll, zero timeout (spins)");
        poll::tcpservpoll(a.port, Options::course(Wait::For(Duration::ZERO)))
    })
}
