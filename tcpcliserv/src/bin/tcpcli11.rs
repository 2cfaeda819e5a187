//! tcpcli11 — echo client that writes each line in two parts, one second apart
//! (UNP tcpcliserv/tcpcli11.c with str_cli11.c, section 5.13).
//!
//! Kill the server's child, then type a line: the first byte reaches a socket nobody
//! owns and the peer answers RST; the second write, to a connection that has been
//! reset, raises SIGPIPE. Like the C program, this one keeps SIGPIPE's default action,
//! so it is killed by it (status 141 in the shell). Rust programs normally ignore
//! SIGPIPE; see tsigpipe for catching it.

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::client;

fn main() {
    unp::run(|| {
        let a: ClientArgs =
            args::parse("Echo client writing each line as 1 byte, a pause, the rest");
        // SAFETY: restoring the default action installs no handler code.
        unsafe { unp::signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) }?;
        let conn = unp::tcp_connect(&a.host, a.port)?;
        client::allow_sigpipe(&conn)?;
        client::str_cli_with(std::io::stdin().lock(), &conn, client::send_in_two)
    })
}
