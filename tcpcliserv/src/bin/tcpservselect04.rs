//! tcpservselect04 — the course's select echo server with a zero timeout: select returns at once, ready or not (`Do not wait at all!`), so the loop spins and uses a whole CPU core while nobody talks to it.
//!
//! The lesson is `tcpservselect` in `src/multiplex/select.rs`, shared with tcpservselect01, 02 and 03: the four differ only in the timeout.

use std::time::Duration;

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, select};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server on select, zero timeout (spins)");
        select::tcpservselect(a.port, Options::course(Wait::For(Duration::ZERO)))
    })
}
