//! tcpserv08 — sum server, text protocol: `A B\n` → `A+B\n` or `input error\n`
//! (UNP tcpcliserv/tcpserv08.c with str_echo08.c). tcpserv04 with another service.

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{server, sigchld};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Sum server (text): answers 'A B' lines with A+B");
        let listener = server::listen(a.port, "-p 9877")?;
        // SAFETY: sig_chld_waitpid only calls waitpid and write(2) (async-signal-safe).
        unsafe {
            unp::signal::signal(
                Signal::SIGCHLD,
                SigHandler::Handler(sigchld::sig_chld_waitpid),
            )
        }?;
        server::serve_forking(listener, server::str_echo08)
    })
}
