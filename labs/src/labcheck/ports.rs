//! The ports of a run: free ones handed out once, and whether a server is up on one
//! (a TCP server listening, a UDP server bound), read from `/proc/net` on Linux so
//! that no probe connection or datagram reaches the program.

#[cfg(not(target_os = "linux"))]
use std::net::SocketAddr;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, PoisonError};

static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A port free on loopback now for TCP and for UDP, never handed out before by this
/// process (so that checks running side by side in a batch never share one). labcheck's
/// own UDP sockets take their ports here too ([`udp_socket`]), never from the kernel's
/// ephemeral choice, which could fall on a port handed out to a UDP server a moment
/// earlier and not yet bound by it.
pub fn free_port() -> Result<u16, String> {
    for _ in 0..50 {
        let l =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind error: {e}"))?;
        let port = l
            .local_addr()
            .map_err(|e| format!("getsockname error: {e}"))?
            .port();
        if std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_err() {
            continue; // some UDP socket holds it
        }
        let mut used = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
        if !used.contains(&port) {
            used.push(port);
            return Ok(port);
        }
    }
    Err("no free port found".to_string())
}

/// A UDP socket of labcheck's own on loopback: on `port`, or on a port from
/// [`free_port`] when `port` is 0.
pub fn udp_socket(port: u16) -> std::io::Result<std::net::UdpSocket> {
    if port != 0 {
        return std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port));
    }
    let mut last = None;
    for _ in 0..10 {
        let p = free_port().map_err(std::io::Error::other)?;
        match std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, p)) {
            Ok(sock) => return Ok(sock),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free UDP port")))
}

/// True when something listens on TCP `port` (any address). On Linux this reads
/// `/proc/net/tcp{,6}` and so never connects (a probe connection would be a client an
/// iterative server must serve); elsewhere it tries to bind the port.
pub fn is_listening(port: u16) -> bool {
    #[cfg(target_os = "linux")]
    {
        proc_net_has(&["/proc/net/tcp", "/proc/net/tcp6"], port, "0A")
    }
    #[cfg(not(target_os = "linux"))]
    {
        TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).is_err()
    }
}

/// True when a UDP socket is bound to `port` (any address): a UDP server is "up" once
/// it has bound its port (there is no listen()). Linux reads `/proc/net/udp{,6}` (a
/// probe datagram would be a request the server answers); elsewhere it tries to bind.
pub fn is_udp_bound(port: u16) -> bool {
    #[cfg(target_os = "linux")]
    {
        proc_net_has(&["/proc/net/udp", "/proc/net/udp6"], port, "07")
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::net::UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).is_err()
    }
}

/// True when a server is up on `port`: listening (TCP) or bound (UDP).
pub fn server_is_up(port: u16, udp: bool) -> bool {
    if udp {
        is_udp_bound(port)
    } else {
        is_listening(port)
    }
}

/// A report's words for a server that is up: what it does to its port, what it does
/// before, the calls it needs.
pub fn up_words(udp: bool) -> (&'static str, &'static str, &'static str) {
    match udp {
        true => (
            "is bound to",
            "binding its port",
            "socket() and bind() the port from its command line, then recvfrom()",
        ),
        false => (
            "listens on",
            "listening",
            "socket(), bind() the port from its command line, listen() and then accept() clients",
        ),
    }
}

/// Linux: a socket of `files` has local port `port` and state `state` (`0A` LISTEN,
/// `07` a UDP socket not connected).
#[cfg(target_os = "linux")]
fn proc_net_has(files: &[&str], port: u16, state: &str) -> bool {
    let want = format!(":{port:04X} ");
    files.iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| {
            t.lines().skip(1).any(|l| {
                let mut cols = l.split_whitespace();
                let local = cols.nth(1).unwrap_or("");
                let st = cols.nth(1).unwrap_or("");
                st == state && format!("{local} ").ends_with(&want)
            })
        })
    })
}
