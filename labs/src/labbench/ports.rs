//! Ephemeral ports: the limit a connection-rate load meets first on loopback.
//!
//! The load closes each connection first, so each leaves a TIME_WAIT on the client's
//! side for a minute, holding its four-tuple. From one source address to one server
//! port there are only the ~28,000 ports of `ip_local_port_range`; once they are all in
//! TIME_WAIT, every `connect` searches them for one old enough to reuse (`tcp_tw_reuse`:
//! about a second), and the load stalls at roughly 14,000 connections/s — its own
//! limit, not the server's. On Linux the loopback interface answers to all of
//! 127.0.0.0/8, so [`Sources`] spreads the connections over 127.0.0.1 to
//! 127.0.0.[`SOURCES`], each with its own ports. `IP_BIND_ADDRESS_NO_PORT` lets
//! `bind` choose only the address and leaves the port to `connect`, which picks one
//! that is free for this four-tuple.
//!
//! Elsewhere (macOS configures only 127.0.0.1), or towards a server that is not on
//! IPv4 loopback, the connections keep the one source address the kernel picks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use socket2::{SockAddr, Socket};

/// How many loopback source addresses the load spreads its connections over.
pub const SOURCES: u8 = 16;

/// The source addresses a load thread takes turns with.
#[derive(Debug, Clone)]
pub struct Sources {
    next: usize,
    usable: bool,
}

impl Sources {
    /// Sources for connections to `server`; `first` staggers the threads.
    pub fn new(server: &SocketAddr, first: usize) -> Sources {
        let usable =
            cfg!(target_os = "linux") && matches!(server.ip(), IpAddr::V4(ip) if ip.is_loopback());
        Sources {
            next: first,
            usable,
        }
    }

    /// Binds `sock` to the next source address, the port left to `connect`. Does
    /// nothing when spreading does not apply.
    pub fn bind_next(&mut self, sock: &Socket) -> std::io::Result<()> {
        if !self.usable {
            return Ok(());
        }
        let host = u8::try_from(self.next % usize::from(SOURCES)).unwrap_or(0) + 1;
        self.next += 1;
        no_port_yet(sock)?;
        let source = SocketAddr::from((Ipv4Addr::new(127, 0, 0, host), 0));
        sock.bind(&SockAddr::from(source))
    }
}

#[cfg(target_os = "linux")]
fn no_port_yet(sock: &Socket) -> std::io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt::IpBindAddressNoPort};
    setsockopt(sock, IpBindAddressNoPort, &true).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn no_port_yet(_: &Socket) -> std::io::Result<()> {
    Ok(())
}
