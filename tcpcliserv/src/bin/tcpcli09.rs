//! tcpcli09 — client for the binary sum server tcpserv09 (UNP tcpcliserv/tcpcli09.c
//! with str_cli09.c): `A B` typed is sent as 16 bytes, the 8-byte sum is printed.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Sum client (binary): type 'A B', get A+B from tcpserv09");
        let conn = unp::tcp_connect(&a.host, a.port)?;
        client::str_cli09(std::io::stdin().lock(), &conn)
    })
}
