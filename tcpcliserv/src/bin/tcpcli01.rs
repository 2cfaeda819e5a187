//! tcpcli01 — echo client (UNP tcpcliserv/tcpcli01.c with str_cli.c): each line typed
//! goes to the server, the line that comes back is printed.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client::{self, LineWrite};

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client: sends each line of stdin, prints the reply");
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // str_cli(): write each line, read the echo, print it (client.rs)
        client::str_cli(std::io::stdin().lock(), &sockfd, LineWrite::Whole)?;
        // close(): FIN to the server, whose child then reads EOF and exits
        unp::close(sockfd)
    })
}
