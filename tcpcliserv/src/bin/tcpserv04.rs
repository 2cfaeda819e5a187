//! tcpserv04 — the correct fork-per-client echo server (UNP tcpcliserv/tcpserv04.c with
//! sigchldwaitpid.c): the SIGCHLD handler reaps every exited child with a
//! `waitpid(WNOHANG)` loop, and an `accept` interrupted by the handler is restarted.
//!
//! UNP installs the handler with `Signal` (SA_RESTART) and still checks for EINTR,
//! because some systems do not restart `accept`. Here it is installed with
//! `Signal_intr` (no SA_RESTART) on purpose, so that every child's exit really
//! interrupts `accept` and the EINTR path in `server::serve_forking` runs: without it
//! this server would die with `accept error: Interrupted system call (EINTR)`.

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{server, sigchld};

fn main() {
    unp::run(|| {
        let a: ServerArgs =
            args::parse("Echo server, fork per client, SIGCHLD handler looping on waitpid");
        let listener = server::listen(a.port, "-p 9877")?;
        // SAFETY: sig_chld_waitpid only calls waitpid and write(2) (async-signal-safe).
        unsafe {
            unp::signal::signal_intr(
                Signal::SIGCHLD,
                SigHandler::Handler(sigchld::sig_chld_waitpid),
            )
        }?;
        server::serve_forking(listener, server::str_echo)
    })
}
