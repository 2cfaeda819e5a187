//! tcpserv01_non — the course's Lab 4 starting point: UNP's tcpserv01 with the `fork`
//! left out, an *iterative* echo server. While it serves one client, a second one
//! connects (the kernel completes its handshake and queues it) but gets no echo: this
//! single process is blocked in the first client's `read`, and calls `accept` again
//! only when that client leaves.
//!
//! The exercise: make it concurrent. At the marked place, `fork()`; in the child,
//! close `listenfd`, run `str_echo`, exit; in the parent, close `connfd`. Then install
//! a SIGCHLD handler `sig_chld` that reaps every child with `waitpid(-1, WNOHANG)` in a
//! loop, and call `accept` again when it is interrupted (`EINTR`). The answer is
//! tcpserv04 (`src/bin/tcpserv04.rs`).

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::service;
use unp::Result;
use unp::addr::explain_privileged_port;

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Iterative echo server: one client at a time (no fork)");
        tcpserv01_non(a.port)
    })
}

/// tcpserv01.c without the fork: accept, serve, close, accept the next.
fn tcpserv01_non(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr).map_err(|e| explain_privileged_port(e, port, "-p 9877"))?;
    // listen(): from now on the kernel completes handshakes and queues them
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    loop {
        // accept(): blocks until a client connects
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        let client = unp::sock_ntop(&cliaddr);
        unp::log(format_args!("connection from {client}"));
        // (exercise: fork() here; the child serves, the parent closes connfd)
        // str_echo(): read and write until this client's FIN; every other client waits
        unp::serve::report(&client, service::str_echo(&connfd));
        // close(connfd): FIN to the client, then back to accept
        drop(connfd);
        unp::log(format_args!("{client} left"));
    }
}
