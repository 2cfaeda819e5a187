//! tcpserv01 — echo server, one child per client, and no SIGCHLD handler
//! (UNP tcpcliserv/tcpserv01.c).
//!
//! Nobody calls wait: every child that has served its client stays a zombie (`Z` in
//! `ps -o pid,ppid,stat,cmd`) until this server exits. That is the lesson; compare
//! tcpserv02 and tcpserv04, which differ from this file only in the handler they install
//! (and tcpserv04 in what it does when that handler interrupts `accept`).

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::service;
use unp::Result;
use unp::addr::explain_privileged_port;
use unp::process::{ForkResult, exit_child, fork};

fn main() {
    unp::run(|| {
        let a: ServerArgs =
            args::parse("Echo server, fork per client, no SIGCHLD handling (zombies)");
        tcpserv01(a.port)
    })
}

/// UNP's tcpserv01.c: listen, and for each client fork a child that runs `str_echo`.
fn tcpserv01(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr).map_err(|e| explain_privileged_port(e, port, "-p 9877"))?;
    // listen(): from now on the kernel completes handshakes and queues them
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // No Signal(SIGCHLD, ...): nobody waits for the children, each exit leaves a zombie.
    loop {
        // accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        let client = unp::sock_ntop(&cliaddr);
        // fork(): the child serves this client, the parent goes back to accept.
        // SAFETY: this server is single-threaded and installs no signal handler.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(listener); // close(listenfd): the child never accepts
                unp::log(format_args!("child {} serves {client}", std::process::id()));
                let served = service::str_echo(&connfd); // read and write until the FIN
                let status = i32::from(served.is_err());
                unp::serve::report(&client, served); // `tcpserv01: ADDR: ...error`
                drop(connfd); // close(connfd): FIN to the client
                exit_child(status) // _exit: a zombie until this server exits
            }
            Ok(ForkResult::Parent { .. }) => {}
            Err(e) if unp::shortage::pause(&e) => {} // armour: out of processes
            Err(e) => return Err(e),
        }
        drop(connfd); // close(connfd): the parent's copy; the child has its own
    }
}
