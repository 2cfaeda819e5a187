//! tcpservpoll01 — echo server on `poll` (UNP tcpcliserv/tcpservpoll01.c,
//! section 6.11): one process, one thread, every client.
//!
//! The lesson is `tcpservpoll` in `src/multiplex/poll.rs`. The course's
//! tcpservpoll02, 03 and 04 are this program with a timeout (`--timeout forever`,
//! `0`, `1000ms`) and the course's lines. `--readline` serves a ready client with
//! `readline` instead of one `read`: the denial of service of section 6.8 (a client
//! sending one byte and no newline stops the server for everybody), as with select.

use clap::Parser;
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::multiplex::{Options, Wait, poll};

/// `tcpservpoll01 [-p PORT] [--timeout T] [--readline]`.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// poll's timeout: forever (INFTIM), 0 (return at once), 5s, 1000ms
    #[arg(long, value_parser = Wait::parse, default_value = "forever")]
    timeout: Wait,
    /// Read each ready client with readline (UNP 6.8's denial of service)
    #[arg(long)]
    readline: bool,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("Echo server on poll: one process for every client");
        let opts = Options {
            wait: a.timeout,
            course_lines: false,
            readline: a.readline,
        };
        poll::tcpservpoll(a.server.port, opts)
    })
}
