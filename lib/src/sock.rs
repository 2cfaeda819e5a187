//! Socket wrappers: UNP's `Socket`, `Bind`, `Listen`, `Accept`, `Connect`, `Close`,
//! `Shutdown` and `Setsockopt`, over [`socket2`] and std.
//!
//! Each wrapper makes exactly the system call its name says and, on failure, returns an
//! [`Error`] naming that call, so a program can `?` it and [`crate::run`] prints
//! `PROGRAM: bind error: Address already in use (EADDRINUSE)`.
//!
//! Programs hold std's [`TcpListener`] and [`TcpStream`]; the wrappers take `&impl AsFd`
//! where they only need the descriptor, so they work on std and socket2 types alike.
//!
//! One deliberate difference from std: [`accept`] hands `EINTR` back to the caller. std's
//! `TcpListener::accept` silently retries it, which would hide the lesson of UNP's
//! tcpserv04 (a SIGCHLD handler interrupts a blocked `accept`).

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, IntoRawFd};
use std::time::Duration;

use nix::errno::Errno;
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::LISTENQ;
use crate::error::{Context, Error, Result};

/// `socket(2)`: a new TCP socket for `addr`'s family (IPv4 or IPv6).
///
/// Adds the error context `socket error: ...`, and one thing for IPv6: the socket is
/// made dual-stack (`IPV6_V6ONLY` off, where the system allows it), so that a server
/// bound to `[::]` also takes IPv4 clients, whatever the system's default. The
/// descriptor is close-on-exec, as socket2 always makes it.
pub fn socket(family: &SocketAddr) -> Result<Socket> {
    let sock = Socket::new(
        Domain::for_address(*family),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .context("socket")?;
    if family.is_ipv6() {
        // Best effort: some systems (OpenBSD) have no dual-stack sockets at all.
        let _ = sock.set_only_v6(false);
    }
    Ok(sock)
}

/// `bind(2)`: gives the socket its local address (port 0 lets the kernel choose).
pub fn bind(sock: &Socket, addr: &SocketAddr) -> Result<()> {
    sock.bind(&SockAddr::from(*addr)).context("bind")
}

/// `listen(2)` with UNP's backlog rule: [`LISTENQ`], unless the environment variable
/// `LISTENQ` holds a number, which overrides it (as UNP's `Listen` does).
///
/// The backlog is how many connections the kernel completes (three-way handshake done)
/// and queues before the program calls `accept`; a client in that queue is connected but
/// nobody reads what it sends yet.
///
/// Returns the socket as std's [`TcpListener`], ready for [`accept`].
pub fn listen(sock: Socket) -> Result<TcpListener> {
    let backlog = std::env::var("LISTENQ")
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .unwrap_or(LISTENQ);
    sock.listen(backlog).context("listen")?;
    Ok(sock.into())
}

/// `accept(2)`: waits for a completed connection and returns it with the peer address.
///
/// As UNP's `Accept`, retries when the connection was aborted before it was accepted
/// (`ECONNABORTED`, and `EPROTO` on older systems): that concerns a client that is gone,
/// not this server. Unlike std, returns `EINTR` to the caller: a server that installs
/// signal handlers without `SA_RESTART` must decide itself whether to call again (UNP
/// tcpserv04: `if (errno == EINTR) continue;`). Test with [`Error::is_interrupted`].
pub fn accept(listener: &impl AsFd) -> Result<(TcpStream, SocketAddr)> {
    let sock = SockRef::from(listener);
    loop {
        match sock.accept() {
            Ok((conn, peer)) => {
                let peer = peer
                    .as_socket()
                    .ok_or_else(|| Error::msg("accept: peer address is not an IP address"))?;
                return Ok((conn.into(), peer));
            }
            Err(e)
                if matches!(
                    e.raw_os_error().map(Errno::from_raw),
                    Some(Errno::ECONNABORTED | Errno::EPROTO)
                ) => {}
            Err(e) => return Err(Error::os("accept", e)),
        }
    }
}

/// `connect(2)`: starts the three-way handshake and waits for it to finish.
pub fn connect(sock: &Socket, addr: &SocketAddr) -> Result<()> {
    sock.connect(&SockAddr::from(*addr)).context("connect")
}

/// `close(2)`, checked. Dropping a `TcpStream` also closes it but ignores any error;
/// this is for the places where UNP calls `Close` and a failure should be seen.
///
/// For a TCP socket, close sends FIN once no other descriptor (a forked child's copy)
/// refers to the connection.
pub fn close(sock: impl IntoRawFd) -> Result<()> {
    nix::unistd::close(sock.into_raw_fd()).context("close")
}

/// `shutdown(2)`: `Shutdown::Write` sends FIN now, whatever other descriptors exist
/// (UNP's str_cli with select uses it to half-close).
pub fn shutdown(stream: &TcpStream, how: Shutdown) -> Result<()> {
    stream.shutdown(how).context("shutdown")
}

/// `setsockopt(SOL_SOCKET, SO_REUSEADDR)`: lets a restarted server bind its port while
/// connections of the previous run sit in TIME_WAIT. It does *not* let two servers listen
/// on one port: the second still gets `EADDRINUSE`.
pub fn set_reuseaddr(sock: &impl AsFd, on: bool) -> Result<()> {
    SockRef::from(sock)
        .set_reuse_address(on)
        .context("setsockopt SO_REUSEADDR")
}

/// `setsockopt(SOL_SOCKET, SO_LINGER)`. `Some(Duration::ZERO)` makes `close` discard
/// unsent data and send RST instead of FIN (UNP tcpcli10); `None` restores the default.
pub fn set_linger(sock: &impl AsFd, linger: Option<Duration>) -> Result<()> {
    SockRef::from(sock)
        .set_linger(linger)
        .context("setsockopt SO_LINGER")
}

/// `setsockopt(IPPROTO_TCP, TCP_NODELAY)`: turns Nagle's algorithm off, so small writes
/// go out at once instead of waiting for the previous segment's ACK.
pub fn set_nodelay(sock: &impl AsFd, on: bool) -> Result<()> {
    SockRef::from(sock)
        .set_tcp_nodelay(on)
        .context("setsockopt TCP_NODELAY")
}

/// `getsockname(2)`: the local address (the real port after binding port 0).
pub fn local_addr(sock: &impl AsFd) -> Result<SocketAddr> {
    sock_addr(SockRef::from(sock).local_addr(), "getsockname")
}

/// `getpeername(2)`: the address of the connected peer.
pub fn peer_addr(sock: &impl AsFd) -> Result<SocketAddr> {
    sock_addr(SockRef::from(sock).peer_addr(), "getpeername")
}

fn sock_addr(addr: io::Result<SockAddr>, call: &'static str) -> Result<SocketAddr> {
    addr.context(call)?
        .as_socket()
        .ok_or_else(|| Error::msg(format!("{call}: not an IP socket address")))
}
