//! tcpservselect03 — the course's select echo server with a 5-second timeout: `Wait 5 sec!`, and `timeout!` each time 5 seconds pass with nothing ready.
//!
//! The lesson is `tcpservselect` in `src/multiplex/select.rs`, shared with tcpservselect01, 02 and 04: the four differ only in the timeout.

use std::time::Duration;

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, select};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server on select, 5 s timeout (Wait 5 sec!)");
        select::tcpservselect(a.port, Options::course(Wait::For(Duration::from_secs(5))))
    })
}
