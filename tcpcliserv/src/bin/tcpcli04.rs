//! tcpcli04 — echo client that opens five connections and uses only the first
//! (UNP tcpcliserv/tcpcli04.c). When it exits, the kernel closes all five at once, so
//! five server children exit together: the test of tcpserv02 against tcpserv04.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

/// How many connections UNP's tcpcli04 opens.
const CONNECTIONS: usize = 5;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client with five connections that close together");
        let mut conns = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            conns.push(unp::tcp_connect(&a.host, a.port)?);
        }
        client::str_cli(std::io::stdin().lock(), &conns[0])
        // Returning exits the process: all five sockets are closed together (five FINs).
    })
}
