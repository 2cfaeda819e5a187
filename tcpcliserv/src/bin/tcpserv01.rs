//! tcpserv01 — echo server, one child per client, and no SIGCHLD handler
//! (UNP tcpcliserv/tcpserv01.c).
//!
//! Nobody calls wait: every child that has served its client stays a zombie (`Z` in
//! `ps -o pid,ppid,stat,cmd`) until this server exits. That is the lesson; compare
//! tcpserv02 and tcpserv04, which differ from this file only in the handler they install.

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::server;

fn main() {
    unp::run(|| {
        let a: ServerArgs =
            args::parse("Echo server, fork per client, no SIGCHLD handling (zombies)");
        let listener = server::listen(a.port, "-p 9877")?;
        server::serve_forking(listener, server::str_echo)
    })
}
