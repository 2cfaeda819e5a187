//! echoserver — the Lab 3 EchoServer: an *iterative* echo server.
//!
//! It serves one client from `accept` to the client's close, printing each message
//! (`Data Received: ...`) and sending the same bytes back, then accepts the next. A
//! second client can connect meanwhile (the kernel completes the handshake and queues
//! it) but gets no answer until the first leaves: compare tcpserv04, which forks.

use clap::Parser;
use tcpcliserv::{args, service};
use unp::Result;
use unp::addr::explain_privileged_port;

/// `echoserver PORT`, as in the handout.
#[derive(Parser)]
struct Args {
    /// Port to listen on (0: let the kernel choose)
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("The lab's iterative echo server: one client at a time");
        echoserver(a.port)
    })
}

/// The lab's EchoServer.c: socket, bind, listen, then one client at a time.
fn echoserver(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr)
        .map_err(|e| explain_privileged_port(e, port, "echoserver 10000"))?;
    // listen(): from now on the kernel completes handshakes and queues them, also while
    // this server is busy with a client
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:10000`
    loop {
        // accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        // read, print, write until the client's FIN, then close(connfd): only then does
        // this loop call accept again. Logs `connection from ADDR` and `ADDR left`.
        unp::serve::one_at_a_time(connfd, &cliaddr, |conn, _| service::lab_echo(conn));
    }
}
