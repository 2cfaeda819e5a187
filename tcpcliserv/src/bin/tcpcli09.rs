//! tcpcli09 — client for the binary sum server tcpserv09 (UNP tcpcliserv/tcpcli09.c
//! with str_cli09.c): `A B` typed is sent as 16 bytes, the 8-byte sum is printed.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Sum client (binary): type 'A B', get A+B from tcpserv09");
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // str_cli09(): write 16 bytes per line, read the 8-byte sum, print it (client.rs)
        client::str_cli09(std::io::stdin().lock(), &sockfd)?;
        // close(): FIN to the server, whose child then reads EOF and exits
        unp::close(sockfd)
    })
}
