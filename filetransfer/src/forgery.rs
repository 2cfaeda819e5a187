//! Armour: what a client sends cannot forge log lines or drive the terminal.
//!
//! A requested path and every message about it (`No such file or directory: PATH`) come
//! from the network. Printed as they are, a path `a\n127.0.0.1:1 left` would start a log
//! line of its own, and `\x1b[2J` would clear the administrator's screen. So everything
//! the servers print about a client goes through [`unp::printable`], the one escaper.

use std::net::SocketAddr;

use unp::{Error, Result};

/// The server's line for one connection (Requirement 3's iterative server):
/// `sent 39 bytes to 127.0.0.1:53412` on stdout, or the error on stderr,
/// `iterftserver: 127.0.0.1:53412: refused: outside the served directory`.
pub fn log_served(peer: &SocketAddr, served: Result<u64>) {
    let peer = unp::sock_ntop(peer);
    match served {
        Ok(n) => unp::log(format_args!("sent {n} bytes to {peer}")),
        Err(e) => unp::serve::report(&peer, Err(escaped(e))),
    }
}

/// FTServer's one client: its error, escaped and with the client's address in front,
/// becomes the program's (`ftserver: 127.0.0.1:53412: the client closed without
/// sending a path`, status 1).
pub fn failed(peer: &SocketAddr, served: Result<u64>) -> Result<u64> {
    served.map_err(|e| escaped(e).with_peer(unp::sock_ntop(peer)))
}

/// The error's text with control characters escaped.
fn escaped(err: Error) -> Error {
    Error::msg(unp::printable(err.to_string().as_bytes()))
}
