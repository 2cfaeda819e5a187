//! Protocol-independent helpers: UNP's `tcp_listen`, `tcp_connect` and `sock_ntop`.
//!
//! UNP chapter 11 replaces `struct sockaddr_in` and `inet_addr` with `getaddrinfo`, so one
//! program works over IPv4 and IPv6 and with host names. These do the same with std's
//! resolver (`ToSocketAddrs`, which calls `getaddrinfo(3)`).

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::sock;
use crate::text::StackText;

/// UNP's `tcp_listen`: a listening TCP socket on `host` (or every address) and `port`.
///
/// For each address `host` resolves to: `socket`, `SO_REUSEADDR`, `bind`; the first that
/// binds is put in the listening state ([`sock::listen`]). Returns the listener and the
/// address it is bound to, with the real port when `port` is 0 (the kernel's choice).
///
/// With `host` `None` the server listens on every local address of both families: it
/// binds the IPv6 wildcard `[::]` with `IPV6_V6ONLY` off, so IPv4 clients arrive as
/// IPv4-mapped addresses (`::ffff:127.0.0.1`, which [`sock_ntop`] prints as
/// `127.0.0.1`). On a host without IPv6 it falls back to `0.0.0.0`.
///
/// A port already in use fails with `bind error: Address already in use (EADDRINUSE)`:
/// `SO_REUSEADDR` only tolerates TIME_WAIT leftovers, never a second listener.
pub fn tcp_listen(host: Option<&str>, port: u16) -> Result<(TcpListener, SocketAddr)> {
    let candidates: Vec<SocketAddr> = match host {
        None => vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port),
        ],
        Some(h) => resolve(h, port)?,
    };
    let mut last_err = None;
    for addr in &candidates {
        match listen_on(addr) {
            Ok(found) => return Ok(found),
            // The wildcard IPv6 attempt may fail only because this host has no IPv6;
            // then try IPv4. Any other failure (EADDRINUSE, EACCES) is the answer.
            Err(e) if host.is_none() && addr.is_ipv6() && !no_ipv6(&e) => return Err(e),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::msg(format!("tcp_listen error for {host:?}"))))
}

/// Turns `bind error: Permission denied (EACCES)` into a message that says why: ports
/// below 1024 (daytime's 13, echo's 7) are reserved for root on Linux and macOS (unless
/// the system lowers that limit). `example` shows a command line that would work. Other
/// errors are returned unchanged.
///
/// ```
/// use nix::errno::Errno;
/// let e = unp::addr::explain_privileged_port(unp::Error::errno("bind", Errno::EACCES), 13, "-p 1313");
/// assert_eq!(
///     e.to_string(),
///     "bind error: Permission denied (EACCES): port 13 is a privileged port (below 1024): \
///      only root may listen on it; choose another port, e.g. -p 1313"
/// );
/// ```
pub fn explain_privileged_port(err: Error, port: u16, example: &str) -> Error {
    if err.raw_os_error() != Some(Errno::EACCES as i32) {
        return err;
    }
    Error::msg(format!(
        "{err}: port {port} is a privileged port (below 1024): only root may listen on it; \
         choose another port, e.g. {example}"
    ))
}

fn no_ipv6(e: &Error) -> bool {
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EAFNOSUPPORT | Errno::EADDRNOTAVAIL | Errno::EPROTONOSUPPORT)
    )
}

fn listen_on(addr: &SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let s = sock::socket(addr)?;
    sock::set_reuseaddr(&s, true)?;
    sock::bind(&s, addr)?;
    let listener = sock::listen(s)?;
    let bound = sock::local_addr(&listener)?;
    Ok((listener, bound))
}

/// The address a server binds to listen on every local address, C's
/// `INADDR_ANY` with `port`: `[::]:port`, which with [`sock::socket`]'s dual-stack
/// socket takes IPv4 and IPv6 clients alike; `0.0.0.0:port` on a host without IPv6.
pub fn wildcard(port: u16) -> SocketAddr {
    static HAS_IPV6: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let has_ipv6 = *HAS_IPV6.get_or_init(|| {
        socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).is_ok()
    });
    if has_ipv6 {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
    } else {
        SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port)
    }
}

/// UNP's `tcp_connect`: a TCP connection to `host` (a name, an IPv4 literal or an IPv6
/// literal, with or without brackets) on `port`.
///
/// Tries each address the name resolves to, in order, until one connects (a host with
/// both `::1` and `127.0.0.1` for `localhost` is reached whichever the server listens
/// on). If none does, returns the error of the last attempt, e.g.
/// `connect error: Connection refused (ECONNREFUSED)`.
pub fn tcp_connect(host: &str, port: u16) -> Result<TcpStream> {
    let mut last_err = None;
    for addr in resolve(host, port)? {
        let s = sock::socket(&addr)?;
        match sock::connect(&s, &addr) {
            Ok(()) => return Ok(s.into()),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::msg(format!("tcp_connect error for {host}, {port}"))))
}

/// Resolves `host` and `port` to socket addresses (`getaddrinfo(3)`), accepting IPv6
/// literals in brackets (`[::1]`) as users type them.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| Error::os("getaddrinfo", e).with_detail(format!("{host}, {port}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::msg(format!("no address found for {host}")));
    }
    Ok(addrs)
}

/// UNP's `sock_ntop`: an address as people write it, `127.0.0.1:10000` or
/// `[::1]:10000`.
///
/// An IPv4-mapped IPv6 address (what a dual-stack server sees for an IPv4 client) prints
/// as the IPv4 address it stands for.
///
/// UNP's returns its own static buffer; this one returns the text itself, on the
/// caller's stack ([`StackText`]): a forked child names its client without a heap
/// allocation (see [`crate::text`] for why that matters). It reads as a `&str`.
pub fn sock_ntop(addr: &SocketAddr) -> SockNtop {
    let mut text = SockNtop::new();
    // The longest address, `[ffff:…:ffff%4294967295]:65535`, is 58 bytes: it fits.
    let _ = write!(text, "{}", unmap(*addr));
    text
}

/// The text [`sock_ntop`] returns: room for the longest socket address.
pub type SockNtop = StackText<SOCK_NTOP_LEN>;

/// Room for the longest address [`sock_ntop`] writes, with some to spare.
pub const SOCK_NTOP_LEN: usize = 72;

/// The IPv4 address behind an IPv4-mapped IPv6 one; other addresses are returned as is.
pub fn unmap(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sock_ntop_formats_both_families_and_unmaps() {
        let v4: SocketAddr = "127.0.0.1:10000".parse().unwrap();
        let v6: SocketAddr = "[::1]:10000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5".parse().unwrap();
        assert_eq!(sock_ntop(&v4), "127.0.0.1:10000");
        assert_eq!(sock_ntop(&v6), "[::1]:10000");
        assert_eq!(sock_ntop(&mapped), "127.0.0.1:5");
    }

    #[test]
    fn sock_ntop_holds_the_longest_address() {
        let longest = SocketAddr::V6(std::net::SocketAddrV6::new(
            Ipv6Addr::new(
                0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            ),
            65535,
            0,
            u32::MAX,
        ));
        let text = longest.to_string();
        assert_eq!(text.len(), 58, "{text}");
        assert_eq!(sock_ntop(&longest), text.as_str());
    }

    #[test]
    fn resolve_accepts_bracketed_ipv6() {
        let a = resolve("[::1]", 7).unwrap();
        assert_eq!(a, vec!["[::1]:7".parse::<SocketAddr>().unwrap()]);
    }
}
