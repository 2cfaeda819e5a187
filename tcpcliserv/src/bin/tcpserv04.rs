//! tcpserv04 — the correct fork-per-client echo server (UNP tcpcliserv/tcpserv04.c with
//! sigchldwaitpid.c): the SIGCHLD handler reaps every exited child with a
//! `waitpid(WNOHANG)` loop, and an `accept` interrupted by the handler is called again.
//!
//! UNP installs the handler with `Signal` (SA_RESTART) and still checks for EINTR,
//! because some systems do not restart `accept`. Here it is installed with
//! `Signal_intr` (no SA_RESTART) on purpose, so that every child's exit really
//! interrupts `accept` and the EINTR line below runs: without it this server would die
//! with `accept error: Interrupted system call (EINTR)`.
//!
//! Compare tcpserv01 and tcpserv02: the three differ only in the handler and that line.

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{service, sigchld};
use unp::Result;
use unp::addr::explain_privileged_port;
use unp::process::{ForkResult, exit_child, fork};

fn main() {
    unp::run(|| {
        let a: ServerArgs =
            args::parse("Echo server, fork per client, SIGCHLD handler looping on waitpid");
        tcpserv04(a.port)
    })
}

/// UNP's tcpserv04.c: listen, reap children, and for each client fork a child that
/// runs `str_echo`.
fn tcpserv04(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr).map_err(|e| explain_privileged_port(e, port, "-p 9877"))?;
    // listen(): from now on the kernel completes handshakes and queues them
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // Signal_intr(SIGCHLD, sig_chld): reap every exited child; no SA_RESTART, so a
    // child's exit interrupts accept.
    let sig_chld = SigHandler::Handler(sigchld::sig_chld_waitpid);
    // SAFETY: sig_chld_waitpid only calls waitpid and write(2) (async-signal-safe).
    unsafe { unp::signal::signal_intr(Signal::SIGCHLD, sig_chld) }?;
    loop {
        // accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if e.is_interrupted() => continue, // EINTR: a child exited; call it again
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        // fork(): the child serves this client, the parent goes back to accept.
        // SAFETY: this server is single-threaded and its handler async-signal-safe.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(listener); // close(listenfd): the child never accepts
                let client = unp::sock_ntop(&cliaddr);
                // `child N serves ADDR`: said by the child, so always before its exit
                // (and the parent's `child N terminated`)
                unp::log(format_args!("child {} serves {client}", std::process::id()));
                let served = service::str_echo(&connfd); // read and write until the FIN
                let status = i32::from(served.is_err());
                unp::serve::report(&client, served); // `tcpserv04: ADDR: ...error`
                drop(connfd); // close(connfd): FIN to the client
                exit_child(status) // _exit: never back into the parent's loop
            }
            Ok(ForkResult::Parent { .. }) => {}
            Err(e) if unp::shortage::pause(&e) => {} // armour: out of processes
            Err(e) => return Err(e),
        }
        drop(connfd); // close(connfd): the parent's copy; the child has its own
    }
}
