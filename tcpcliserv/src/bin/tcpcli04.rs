//! tcpcli04 — echo client that opens five connections and uses only the first
//! (UNP tcpcliserv/tcpcli04.c). When it exits, the kernel closes all five at once, so
//! five server children exit together: the test of tcpserv02 against tcpserv04.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client::{self, LineWrite};

/// How many connections UNP's tcpcli04 opens.
const CONNECTIONS: usize = 5;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client with five connections that close together");
        let mut sockfd = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            // socket() + connect(), five times: UNP's tcp_connect (section 11.12), a
            // socket and a connect for each address HOST resolves to until one connects
            sockfd.push(unp::tcp_connect(&a.host, a.port)?);
        }
        // str_cli() on the first connection only: write, read, print (client.rs)
        client::str_cli(std::io::stdin().lock(), &sockfd[0], LineWrite::Whole)
        // exit(0): the kernel closes all five sockets together (five FINs), and five
        // server children exit at the same moment.
    })
}
