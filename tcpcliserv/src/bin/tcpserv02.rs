//! tcpserv02 — echo server, fork per client, SIGCHLD handler that calls `wait` once
//! per signal (UNP tcpcliserv/tcpserv02.c with sigchldwait.c).
//!
//! Children that exit one at a time are reaped. Children that exit together (tcpcli04's
//! five connections) may leave zombies: signals are not queued, so several exits can
//! produce one SIGCHLD, and one `wait` reaps one child. How many stay is a matter of
//! timing. Compare tcpserv04.

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{server, sigchld};

fn main() {
    unp::run(|| {
        let a: ServerArgs =
            args::parse("Echo server, fork per client, SIGCHLD handler calling wait once");
        let listener = server::listen(a.port, "-p 9877")?;
        // UNP's Signal: SA_RESTART, so accept continues after the handler.
        // SAFETY: sig_chld_wait only calls wait and write(2) (async-signal-safe).
        unsafe {
            unp::signal::signal(Signal::SIGCHLD, SigHandler::Handler(sigchld::sig_chld_wait))
        }?;
        server::serve_forking(listener, server::str_echo)
    })
}
