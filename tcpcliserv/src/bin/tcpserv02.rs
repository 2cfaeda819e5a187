//! tcpserv02 — echo server, fork per client, SIGCHLD handler that calls `wait` once
//! per signal (UNP tcpcliserv/tcpserv02.c with sigchldwait.c).
//!
//! Children that exit one at a time are reaped. Children that exit together (tcpcli04's
//! five connections) may leave zombies: signals are not queued, so several exits can
//! produce one SIGCHLD, and one `wait` reaps one child. How many stay is a matter of
//! timing. Compare tcpserv04.

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{service, sigchld};
use unp::Result;
use unp::addr::explain_privileged_port;
use unp::process::{ForkResult, exit_child, fork};

fn main() {
    unp::run(|| {
        let a: ServerArgs =
            args::parse("Echo server, fork per client, SIGCHLD handler calling wait once");
        tcpserv02(a.port)
    })
}

/// UNP's tcpserv02.c: tcpserv01 with a SIGCHLD handler that calls `wait` once.
fn tcpserv02(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr).map_err(|e| explain_privileged_port(e, port, "-p 9877"))?;
    // listen(): from now on the kernel completes handshakes and queues them
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // Signal(SIGCHLD, sig_chld): one wait per signal. UNP's Signal sets SA_RESTART, so
    // the kernel restarts accept after the handler (tcpserv04 restarts it itself).
    let sig_chld = SigHandler::Handler(sigchld::sig_chld_wait);
    // SAFETY: sig_chld_wait only calls wait and write(2) (async-signal-safe).
    unsafe { unp::signal::signal(Signal::SIGCHLD, sig_chld) }?;
    loop {
        // accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        let client = unp::sock_ntop(&cliaddr);
        // fork(): the child serves this client, the parent goes back to accept.
        // SAFETY: this server is single-threaded and its handler async-signal-safe.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(listener); // close(listenfd): the child never accepts
                unp::log(format_args!("child {} serves {client}", std::process::id()));
                let served = service::str_echo(&connfd); // read and write until the FIN
                let status = i32::from(served.is_err());
                unp::serve::report(&client, served); // `tcpserv02: ADDR: ...error`
                drop(connfd); // close(connfd): FIN to the client
                exit_child(status) // _exit: SIGCHLD to the parent
            }
            Ok(ForkResult::Parent { .. }) => {}
            Err(e) if unp::shortage::pause(&e) => {} // armour: out of processes
            Err(e) => return Err(e),
        }
        drop(connfd); // close(connfd): the parent's copy; the child has its own
    }
}
