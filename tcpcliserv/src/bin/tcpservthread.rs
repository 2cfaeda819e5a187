//! tcpservthread — echo server with one thread per client (UNP threads/tcpserv01.c).
//!
//! No fork, so no child process, no SIGCHLD and no zombie, by construction. The thread
//! is started by [`unp::serve::thread_per_client`], which owns the connection and
//! closes it when the client leaves.

use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::service;
use unp::Result;
use unp::addr::explain_privileged_port;

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Echo server, one thread per client");
        tcpservthread(a.port)
    })
}

/// UNP's threads/tcpserv01.c: for each client, `pthread_create` a thread that runs
/// `str_echo` and closes the connection.
fn tcpservthread(port: u16) -> Result<()> {
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
        // accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        // pthread_create(): the thread runs str_echo (read, write) and closes connfd;
        // this thread goes straight back to accept.
        unp::serve::thread_per_client(connfd, &cliaddr, |conn, _| service::str_echo(conn))?;
    }
}
