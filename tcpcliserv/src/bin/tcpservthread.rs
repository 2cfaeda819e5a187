//! tcpservthread — echo server with one thread per client (UNP threads/tcpserv01.c).
//!
//! No fork, so no child process, no SIGCHLD and no zombie, by construction.

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::server;

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server, one thread per client");
        let listener = server::listen(a.port, "-p 9877")?;
        server::serve_threads(listener, server::str_echo)
    })
}
