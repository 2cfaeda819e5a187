//! tcpcli01 — echo client (UNP tcpcliserv/tcpcli01.c with str_cli.c): each line typed
//! goes to the server, the line that comes back is printed.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client: sends each line of stdin, prints the reply");
        let conn = unp::tcp_connect(&a.host, a.port)?;
        client::str_cli(std::io::stdin().lock(), &conn)
    })
}
