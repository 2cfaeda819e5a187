//! tcpcli10 — echo client that ends its connection with RST instead of FIN: it sets
//! `SO_LINGER` with a zero timeout, so `close` discards the connection at once and the
//! server's next `read` fails with `ECONNRESET` (no TIME_WAIT on this side either).

use std::time::Duration;

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client whose close sends RST (SO_LINGER 0)");
        let conn = unp::tcp_connect(&a.host, a.port)?;
        client::str_cli(std::io::stdin().lock(), &conn)?;
        unp::sock::set_linger(&conn, Some(Duration::ZERO))?;
        unp::sock::close(conn) // RST, not FIN
    })
}
