//! strcliselect01 — echo client on `select` (UNP select/strcliselect01.c): waits
//! for stdin and the socket at once, so it notices the server's FIN at once, even while
//! the user is typing; at the end of input it returns and closes the socket: with batch input (`< file`) the echoes still on their way are lost.
//!
//! The lesson is `str_cli_select` in `src/strcliselect.rs`, shared by strcliselect01
//! and 02: they differ only in what they do at the end of input.

use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::strcliselect::{AtEof, str_cli_select};

fn main() {
    unp::run(|| {
        let a: ClientArgs = args::parse("Echo client on select (stdin and the socket)");
        // socket() + connect(): UNP's tcp_connect (section 11.12)
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // str_cli(): select on stdin and the socket
        str_cli_select(&std::io::stdin(), &sockfd, AtEof::Return)?;
        // close(): FIN (and, for 01, an RST if echoes were still arriving)
        unp::close(sockfd)
    })
}
