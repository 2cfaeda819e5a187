//! echoserver — the Lab 3 EchoServer: an *iterative* echo server.
//!
//! It serves one client from `accept` to the client's close, printing each message
//! (`Data Received: ...`) and sending the same bytes back, then accepts the next. A
//! second client can connect meanwhile (the kernel completes the handshake and queues
//! it) but gets no answer until the first leaves: compare tcpserv04, which forks.

use clap::Parser;
use tcpcliserv::{args, server};

/// `echoserver PORT`, as in the handout.
#[derive(Parser)]
struct Args {
    /// Port to listen on (0: let the kernel choose)
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("The lab's iterative echo server: one client at a time");
        let listener = server::listen(a.port, "echoserver 10000")?;
        server::serve_iterative(listener, server::lab_echo)
    })
}
