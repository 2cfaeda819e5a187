//! UDP wrappers: UNP's `Socket(AF_INET, SOCK_DGRAM, 0)`, `Bind`, `Recvfrom`, `Sendto`,
//! `Connect`, `Read`/`Write` on a connected UDP socket, and the socket options of
//! chapter 8 and 14 (`SO_RCVBUF`, `SO_RCVTIMEO`), over std's [`UdpSocket`].
//!
//! UDP has no connection: every `sendto` names its destination, every `recvfrom` says
//! who sent the datagram, and one `recvfrom` returns exactly one datagram — or the
//! first `buf.len()` bytes of it: the rest is discarded without a word (the course's
//! programs receive into 255 bytes, so a longer datagram loses its tail).
//!
//! Two deliberate differences from std, as in [`crate::sock`]:
//! - [`socket`] returns an *unbound* socket; std only makes UDP sockets by binding them,
//!   which would hide UNP's lesson that a client need not bind (the kernel picks an
//!   ephemeral port at its first `sendto`).
//! - [`recvfrom`] and [`recv`] hand `EINTR` back to the caller, who decides whether to
//!   call again (a program that prints its count on SIGINT must see it).
//!
//! A receive timeout ([`set_rcvtimeo`]) makes `recvfrom` fail with `EAGAIN` (macOS and
//! Linux both say "Resource temporarily unavailable"); [`is_timeout`] recognises it.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::errno::Errno;
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::error::{Context, Error, Result};

/// `socket(AF_INET or AF_INET6, SOCK_DGRAM, 0)`: a UDP endpoint for `family`'s address
/// family, not bound yet.
///
/// As [`crate::socket`] does for TCP, an IPv6 socket is made dual-stack (`IPV6_V6ONLY`
/// off where the system allows it), so a server bound to `[::]` also receives IPv4
/// datagrams, from IPv4-mapped addresses (`::ffff:127.0.0.1`).
pub fn socket(family: &SocketAddr) -> Result<UdpSocket> {
    let sock = Socket::new(
        Domain::for_address(*family),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .context("socket")?;
    if family.is_ipv6() {
        // Best effort: some systems (OpenBSD) have no dual-stack sockets at all.
        let _ = sock.set_only_v6(false);
    }
    Ok(sock.into())
}

/// `bind(2)`: gives the socket its local address; port 0 lets the kernel choose. A
/// second server on the same port gets `EADDRINUSE`.
pub fn bind(sock: &UdpSocket, addr: &SocketAddr) -> Result<()> {
    SockRef::from(sock)
        .bind(&SockAddr::from(*addr))
        .context("bind")
}

/// `recvfrom(2)`: waits for one datagram, copies at most `buf.len()` bytes of it into
/// `buf` (the rest of a longer datagram is lost) and returns that length and the
/// sender's address. A datagram of 0 bytes is a datagram too: `Ok((0, addr))`, not an
/// end of file.
pub fn recvfrom(sock: &UdpSocket, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
    sock.recv_from(buf).context("recvfrom")
}

/// `sendto(2)`: sends `buf` as one datagram to `to`. Returns as soon as the datagram is
/// queued for the interface: it says nothing about its arrival.
///
/// On an unconnected socket an ICMP "port unreachable" that comes back is *not*
/// reported (UNP 8.9): the kernel has no one to tell it to.
pub fn sendto(sock: &UdpSocket, buf: &[u8], to: &SocketAddr) -> Result<usize> {
    sock.send_to(buf, to)
        .map_err(|e| Error::os("sendto", e).with_detail(crate::sock_ntop(to)))
}

/// `connect(2)` on a UDP socket: no packet is sent. The kernel records the peer, so
/// that [`send`] needs no address, only the peer's datagrams are received, and an
/// ICMP error about the peer comes back as the error of the next call
/// (`ECONNREFUSED` for "port unreachable", UNP 8.11).
pub fn connect(sock: &UdpSocket, addr: &SocketAddr) -> Result<()> {
    sock.connect(addr)
        .map_err(|e| Error::os("connect", e).with_detail(crate::sock_ntop(addr)))
}

/// `write(2)` (`send`) on a connected UDP socket: one datagram to the peer.
pub fn send(sock: &UdpSocket, buf: &[u8]) -> Result<usize> {
    sock.send(buf).context("write")
}

/// `read(2)` (`recv`) on a connected UDP socket: one datagram from the peer, or the
/// error an ICMP message about the peer left behind (`ECONNREFUSED`).
pub fn recv(sock: &UdpSocket, buf: &mut [u8]) -> Result<usize> {
    sock.recv(buf).context("read")
}

/// `setsockopt(SOL_SOCKET, SO_RCVTIMEO)`: a blocking receive gives up after `timeout`
/// with `EAGAIN` ([`is_timeout`]); `None` waits forever again (UNP 14.2).
pub fn set_rcvtimeo(sock: &UdpSocket, timeout: Option<Duration>) -> Result<()> {
    sock.set_read_timeout(timeout.filter(|t| !t.is_zero()))
        .context("setsockopt SO_RCVTIMEO")
}

/// True if a receive failed because its [`set_rcvtimeo`] timeout ran out.
pub fn is_timeout(err: &Error) -> bool {
    matches!(
        err.raw_os_error().map(Errno::from_raw),
        Some(Errno::EAGAIN | Errno::ETIMEDOUT)
    )
}

/// `setsockopt(SOL_SOCKET, SO_RCVBUF)`: how many bytes of datagrams the kernel keeps
/// for this socket before it drops new arrivals (UNP 8.13). Linux doubles the value
/// (for its bookkeeping) and caps it at `net.core.rmem_max`; read the result back with
/// [`rcvbuf`].
pub fn set_rcvbuf(sock: &impl AsFd, bytes: usize) -> Result<()> {
    SockRef::from(sock)
        .set_recv_buffer_size(bytes)
        .context("setsockopt SO_RCVBUF")
}

/// `getsockopt(SOL_SOCKET, SO_RCVBUF)`: the receive buffer the kernel really gave.
pub fn rcvbuf(sock: &impl AsFd) -> Result<usize> {
    SockRef::from(sock)
        .recv_buffer_size()
        .context("getsockopt SO_RCVBUF")
}

/// `getsockname(2)` of a UDP socket: the real port after binding port 0, or after the
/// first `sendto` of a client that never bound.
pub fn local_addr(sock: &UdpSocket) -> Result<SocketAddr> {
    sock.local_addr().context("getsockname")
}

/// The first address `host` resolves to for `port`, for a UDP client (UNP's
/// `udp_client` without the loop: UDP cannot try addresses, nothing answers a
/// `sendto`).
pub fn resolve_one(host: &str, port: u16) -> Result<SocketAddr> {
    crate::addr::resolve(host, port)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::msg(format!("no address found for {host}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_goes_and_comes_back_on_both_families() {
        for wild in ["[::]:0", "0.0.0.0:0"] {
            let wild: SocketAddr = wild.parse().unwrap();
            let server = socket(&wild).unwrap();
            bind(&server, &wild).unwrap();
            let port = local_addr(&server).unwrap().port();
            let to: SocketAddr = if wild.is_ipv6() {
                SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], port))
            } else {
                SocketAddr::from(([127, 0, 0, 1], port))
            };
            let client = socket(&to).unwrap();
            assert_eq!(sendto(&client, b"hello", &to).unwrap(), 5);
            let mut buf = [0u8; 3];
            let (n, from) = recvfrom(&server, &mut buf).unwrap();
            assert_eq!((n, &buf[..n]), (3, &b"hel"[..]), "the tail is cut off");
            // The client never bound: its first sendto gave it a port (on the wildcard).
            assert_eq!(from.port(), local_addr(&client).unwrap().port());
        }
    }

    #[test]
    fn a_timeout_is_recognised() {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let s = socket(&any).unwrap();
        bind(&s, &any).unwrap();
        set_rcvtimeo(&s, Some(Duration::from_millis(10))).unwrap();
        let e = recvfrom(&s, &mut [0u8; 8]).unwrap_err();
        assert!(is_timeout(&e), "{e}");
        assert!(e.to_string().starts_with("recvfrom error: "), "{e}");
    }
}
