//! tcpcli08 — client for the text sum server tcpserv08 (UNP tcpcliserv/tcpcli08.c):
//! str_cli, so `2 5` typed prints the server's `7`.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client::{self, LineWrite};

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Sum client (text): type 'A B', get A+B from tcpserv08");
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // str_cli(): write each `A B` line, read the `A+B` line, print it (client.rs)
        client::str_cli(std::io::stdin().lock(), &sockfd, LineWrite::Whole)?;
        // close(): FIN to the server, whose child then reads EOF and exits
        unp::close(sockfd)
    })
}
