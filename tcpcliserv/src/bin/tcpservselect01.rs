//! tcpservselect01 — echo server on `select` (UNP tcpcliserv/tcpservselect01.c,
//! section 6.8): one process, one thread, every client.
//!
//! The lesson is `tcpservselect` in `src/multiplex/select.rs`. The course's
//! tcpservselect02, 03 and 04 are this program with a timeout (`--timeout forever`,
//! `5s`, `0`) and the course's lines. `--readline` serves a ready client with
//! `readline` instead of one `read`: the denial of service of section 6.8 (a client
//! sending one byte and no newline stops the server for everybody).

use tcpcliserv::args::{self, MultiplexArgs};
use tcpcliserv::multiplex::select;

fn main() {
    unp::run(|| {
        let a: MultiplexArgs = args::parse("Echo server on select: one process for every client");
        select::tcpservselect(a.server.port, a.options())
    })
}
