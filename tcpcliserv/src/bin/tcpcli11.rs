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
use tcpcliserv::client::{self, LineWrite};

fn main() {
    unp::run(|| {
        let a: ClientArgs =
            args::parse("Echo client writing each line as 1 byte, a pause, the rest");
        // SIGPIPE's default action (terminate), which Rust programs otherwise ignore.
        // SAFETY: restoring the default action installs no handler code.
        unsafe { unp::signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) }?;
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        client::allow_sigpipe(&sockfd)?; // macOS: undo socket2's SO_NOSIGPIPE
        // str_cli11(): write 1 byte, sleep, write the rest; read the echo (client.rs)
        client::str_cli(std::io::stdin().lock(), &sockfd, LineWrite::InTwo)?;
        // close(): FIN to the server
        unp::close(sockfd)
    })
}
