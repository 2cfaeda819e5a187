//! The ports of a run: free ones handed out once, and whether a server is up on one
//! (a TCP server listening, a UDP server bound), read from `/proc/net` on Linux so
//! that no probe connection or datagram reaches the program.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Mutex, PoisonError};

static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A port free on loopback now for TCP and for UDP, never handed out before by this
/// process (so that checks running side by side in a batch never share one). labcheck's
/// own UDP sockets take their ports here too ([`udp_socket`]), never from the kernel's
/// ephemeral choice, which could fall on a port handed out to a UDP server a moment
/// earlier and not yet bound by it.
///
/// On Linux the port also comes from below the kernel's ephemeral range, which the
/// kernel never gives to a `bind` to port 0 or a `connect` (a client's port would
/// otherwise take it before the server binds it), and is claimed for as long as this
/// process runs ([`claim`]): two labchecks running at once (the tests, batches side by
/// side) each handed the same port to a server, and one of them checked the other's.
pub fn free_port() -> Result<u16, String> {
    for _ in 0..50 {
        let port = candidate()?;
        if !is_free(port) {
            continue;
        }
        let mut used = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
        if !used.contains(&port) && claim(port) {
            used.push(port);
            return Ok(port);
        }
    }
    Err("no free port found".to_string())
}

/// True when no TCP or UDP socket holds `port`, on any address of either version.
fn is_free(port: u16) -> bool {
    let in_use = |e: std::io::Error| e.kind() == std::io::ErrorKind::AddrInUse;
    let (v4, v6) = (
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
    );
    TcpListener::bind(v4).is_ok()
        && UdpSocket::bind(v4).is_ok()
        && !TcpListener::bind(v6).is_err_and(in_use)
        && !UdpSocket::bind(v6).is_err_and(in_use)
}

/// A port to try: on Linux a random one between 10000 and the start of the ephemeral
/// range (when there is room); elsewhere the one the kernel picks for a bind to port 0.
fn candidate() -> Result<u16, String> {
    #[cfg(target_os = "linux")]
    if let Some(start) = ephemeral_start().filter(|s| *s > 12_000) {
        use rand::{RngExt, SeedableRng};
        static RNG: Mutex<Option<rand::rngs::StdRng>> = Mutex::new(None);
        let mut rng = RNG.lock().unwrap_or_else(PoisonError::into_inner);
        let rng = rng.get_or_insert_with(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            let nanos = now.map_or(0, |d| d.as_nanos() as u64);
            rand::rngs::StdRng::seed_from_u64(nanos ^ u64::from(std::process::id()))
        });
        return Ok(rng.random_range(10_000..start));
    }
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind error: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("getsockname error: {e}"))
}

/// Linux: the first port of the kernel's ephemeral range (`ip_local_port_range`).
#[cfg(target_os = "linux")]
fn ephemeral_start() -> Option<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

/// Linux: claims `port` among the labchecks of this machine (of this network
/// namespace) with an abstract Unix socket named after it, which the kernel releases
/// when this process ends, however it ends; false if another labcheck holds it. The
/// newest [`CLAIMS_KEPT`] claims are kept (a step's server is long gone when hundreds
/// of ports came after its own). Elsewhere, or when no socket can be made: true.
fn claim(port: u16) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr, UnixDatagram};
        static CLAIMS: Mutex<std::collections::VecDeque<UnixDatagram>> =
            Mutex::new(std::collections::VecDeque::new());
        let name = format!("unplab-labcheck-port-{port}");
        let claimed = SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|addr| UnixDatagram::bind_addr(&addr));
        match claimed {
            Ok(sock) => {
                let mut claims = CLAIMS.lock().unwrap_or_else(PoisonError::into_inner);
                claims.push_back(sock);
                if claims.len() > CLAIMS_KEPT {
                    claims.pop_front();
                }
                true
            }
            Err(e) => e.kind() != std::io::ErrorKind::AddrInUse,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        true
    }
}

/// How many of its newest ports a labcheck keeps claimed (one descriptor each).
#[cfg(target_os = "linux")]
const CLAIMS_KEPT: usize = 256;

/// A UDP socket of labcheck's own on loopback: on `port`, or on a port from
/// [`free_port`] when `port` is 0.
pub fn udp_socket(port: u16) -> std::io::Result<UdpSocket> {
    if port != 0 {
        return UdpSocket::bind((Ipv4Addr::LOCALHOST, port));
    }
    let mut last = None;
    for _ in 0..10 {
        let p = free_port().map_err(std::io::Error::other)?;
        match UdpSocket::bind((Ipv4Addr::LOCALHOST, p)) {
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
        UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).is_err()
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

/// Linux: the bytes waiting in the receive queue of the UDP socket bound to `port` (its
/// `rx_queue` in `/proc/net/udp{,6}`); `None` when none is bound, and elsewhere.
pub fn udp_backlog(port: u16) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let want = format!(":{port:04X} ");
        ["/proc/net/udp", "/proc/net/udp6"].iter().find_map(|f| {
            let table = std::fs::read_to_string(f).ok()?;
            let row = table.lines().skip(1).find(|l| {
                let local = l.split_whitespace().nth(1).unwrap_or("");
                format!("{local} ").ends_with(&want)
            })?;
            let queues = row.split_whitespace().nth(4)?; // tx_queue:rx_queue, hex
            u64::from_str_radix(queues.split(':').nth(1)?, 16).ok()
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_handed_out_once_and_claimed() {
        let (a, b) = (free_port().unwrap(), free_port().unwrap());
        assert_ne!(a, b);
        #[cfg(target_os = "linux")]
        {
            // Below the ephemeral range, and held: a second claim (another labcheck's) fails.
            if let Some(start) = ephemeral_start().filter(|s| *s > 12_000) {
                assert!((10_000..start).contains(&a), "{a}");
            }
            assert!(!claim(a));
        }
    }
}
