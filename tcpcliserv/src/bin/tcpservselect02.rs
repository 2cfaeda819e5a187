//! tcpservselect02 — the course's select echo server with select's timeout NULL: it sleeps until a descriptor is ready, printing `Wait forever!` before each call.
//!
//! The lesson is `tcpservselect` in `src/multiplex/select.rs`, shared with tcpservselect01, 03 and 04: the four differ only in the timeout.

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, select};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server on select, timeout NULL (Wait forever!)");
        select::tcpservselect(a.port, Options::course(Wait::Forever))
    })
}
