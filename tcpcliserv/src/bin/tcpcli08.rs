//! tcpcli08 — client for the text sum server tcpserv08 (UNP tcpcliserv/tcpcli08.c):
//! str_cli, so `2 5` typed prints the server's `7`.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Sum client (text): type 'A B', get A+B from tcpserv08");
        let conn = unp::tcp_connect(&a.host, a.port)?;
        client::str_cli(std::io::stdin().lock(), &conn)
    })
}
