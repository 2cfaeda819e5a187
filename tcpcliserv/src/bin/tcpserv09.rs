//! tcpserv09 — sum server, binary protocol: 16-byte request (two little-endian i64),
//! 8-byte reply (UNP tcpcliserv/tcpserv09.c with str_echo09.c).

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{server, sigchld};

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Sum server (binary): two i64 in, their sum out");
        let listener = server::listen(a.port, "-p 9877")?;
        // SAFETY: sig_chld_waitpid only calls waitpid and write(2) (async-signal-safe).
        unsafe {
            unp::signal::signal(
                Signal::SIGCHLD,
                SigHandler::Handler(sigchld::sig_chld_waitpid),
            )
        }?;
        server::serve_forking(listener, server::str_echo09)
    })
}
