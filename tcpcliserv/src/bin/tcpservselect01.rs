//! tcpservselect01 — echo server on `select` (UNP tcpcliserv/tcpservselect01.c,
//! section 6.8): one process, one thread, every client.
//!
//! The lesson is `tcpservselect` in `src/multiplex/select.rs`. The course's
//! tcpservselect02, 03 and 04 are this program with a timeout (`--timeout forever`,
//! `5s`, `0`) and the course's lines. `--readline` serves a ready client with
//! `readline` instead of one `read`: the denial of service of section 6.8 (a client
//! sending one byte and no newline stops the server for everybody).

use clap::Parser;
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, select};

/// `tcpservselect01 [-p PORT] [--timeout T] [--readline]`.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// select's timeout: forever (NULL), 0 (return at once), 5s, 1000ms
    #[arg(long, value_parser = Wait::parse, default_value = "forever")]
    timeout: Wait,
    /// Read each ready client with readline (UNP 6.8's denial of service)
    #[arg(long)]
    readline: bool,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("Echo server on select: one process for every client");
        let opts = Options {
            wait: a.timeout,
            course_lines: false,
            readline: a.readline,
        };
        select::tcpservselect(a.server.port, opts)
    })
}
