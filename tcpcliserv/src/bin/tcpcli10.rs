//! tcpcli10 — echo client that ends its connection with RST instead of FIN: it sets
//! `SO_LINGER` with a zero timeout, so `close` discards the connection at once and the
//! server's next `read` fails with `ECONNRESET` (no TIME_WAIT on this side either).

use std::time::Duration;

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client::{self, LineWrite};

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client whose close sends RST (SO_LINGER 0)");
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // str_cli(): write each line, read the echo, print it (client.rs)
        client::str_cli(std::io::stdin().lock(), &sockfd, LineWrite::Whole)?;
        // setsockopt(SO_LINGER, {1, 0}): close will abort the connection
        unp::sock::set_linger(&sockfd, Some(Duration::ZERO))?;
        // close(): RST, not FIN
        unp::close(sockfd)
    })
}
