//! The load generator: many connections per thread, nonblocking, one `poll` loop per
//! thread — the same technique as the servers it measures, so that with two threads it
//! keeps a server busy without needing a thread per connection itself.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::thread;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, SockAddr, Socket, Type};

/// Bytes in one request (and its echo).
pub const MESSAGE: usize = 64;

/// What one round-trip run saw.
#[derive(Debug, Default, Clone)]
pub struct RoundTrips {
    /// Completed round trips.
    pub count: u64,
    /// Each round trip's latency, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Connections that never got their first echo within the warm-up (an iterative
    /// server serves one; the others wait in its queue).
    pub unserved: usize,
}

/// What one connection-rate run saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct Connections {
    /// Connect, one round trip, close: completed.
    pub count: u64,
    /// Connects or exchanges that failed.
    pub errors: u64,
}

/// How many load threads for `n` connections.
fn threads_for(n: usize) -> usize {
    n.clamp(1, 2)
}

/// Opens `n` connections, sends one message on each and waits (up to `warmup`) for the
/// echoes, calls `settled` (the caller samples memory then), then keeps every
/// connection busy with back-to-back round trips for `span`.
pub fn round_trips(
    addr: SocketAddr,
    n: usize,
    warmup: Duration,
    span: Duration,
    settled: impl FnOnce(),
) -> std::io::Result<RoundTrips> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let c = TcpStream::connect(addr)?;
        c.set_nodelay(true)?;
        c.set_nonblocking(true)?;
        conns.push(c);
    }
    let per = n.div_ceil(threads_for(n));
    let mut groups: Vec<Vec<TcpStream>> = Vec::new();
    while !conns.is_empty() {
        let rest = conns.split_off(per.min(conns.len()));
        groups.push(std::mem::replace(&mut conns, rest));
    }
    // Warm-up: every connection's first round trip (the server accepts, forks...).
    let warmed: Vec<usize> = thread::scope(|s| {
        let hs: Vec<_> = groups
            .iter()
            .map(|g| s.spawn(|| exchange_once(g, warmup)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    settled();
    let start = Instant::now() + Duration::from_millis(1);
    let results: Vec<RoundTrips> = thread::scope(|s| {
        let hs: Vec<_> = groups
            .iter()
            .map(|g| s.spawn(move || busy(g, start + span)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut total = RoundTrips {
        unserved: n - warmed.iter().sum::<usize>(),
        ..Default::default()
    };
    for r in results {
        total.count += r.count;
        total.latencies_us.extend(r.latencies_us);
    }
    Ok(total)
}

/// One message on every connection; how many echoes came back within `limit`.
fn exchange_once(conns: &[TcpStream], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    let mut got = vec![0usize; conns.len()];
    for c in conns {
        let _ = (&*c).write(&[b'x'; MESSAGE]);
    }
    let mut buf = [0u8; MESSAGE];
    while got.iter().any(|g| *g < MESSAGE) && Instant::now() < deadline {
        let mut fds: Vec<PollFd> = conns
            .iter()
            .map(|c| PollFd::new(c.as_fd(), PollFlags::POLLIN))
            .collect();
        if poll(&mut fds, PollTimeout::from(50u16)).is_err() {
            continue;
        }
        let ready: Vec<bool> = fds.iter().map(|p| p.any().unwrap_or(false)).collect();
        for (i, c) in conns.iter().enumerate() {
            if !ready[i] || got[i] >= MESSAGE {
                continue;
            }
            match (&*c).read(&mut buf[..MESSAGE - got[i]]) {
                Ok(0) => got[i] = usize::MAX, // the server closed it: not served
                Ok(k) => got[i] += k,
                Err(_) => {}
            }
        }
    }
    got.iter().filter(|g| **g == MESSAGE).count()
}

/// Back-to-back round trips on every connection until `until`.
fn busy(conns: &[TcpStream], until: Instant) -> RoundTrips {
    let mut out = RoundTrips::default();
    let mut sent = vec![Instant::now(); conns.len()];
    let mut got = vec![0usize; conns.len()];
    for (i, c) in conns.iter().enumerate() {
        sent[i] = Instant::now();
        let _ = (&*c).write(&[b'y'; MESSAGE]);
    }
    let mut buf = [0u8; MESSAGE];
    while Instant::now() < until {
        let mut fds: Vec<PollFd> = conns
            .iter()
            .map(|c| PollFd::new(c.as_fd(), PollFlags::POLLIN))
            .collect();
        if poll(&mut fds, PollTimeout::from(20u16)).is_err() {
            continue;
        }
        let ready: Vec<bool> = fds.iter().map(|p| p.any().unwrap_or(false)).collect();
        for (i, c) in conns.iter().enumerate().filter(|(i, _)| ready[*i]) {
            match (&*c).read(&mut buf[..MESSAGE - got[i]]) {
                Ok(0) | Err(_) => continue,
                Ok(k) => got[i] += k,
            }
            if got[i] == MESSAGE {
                let now = Instant::now();
                out.count += 1;
                let us = now.duration_since(sent[i]).as_micros();
                out.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                got[i] = 0;
                sent[i] = now;
                let _ = (&*c).write(&[b'y'; MESSAGE]);
            }
        }
    }
    out
}

/// `n` connections at a time, each: connect, one round trip, close, and again, for
/// `span`.
pub fn connections(addr: SocketAddr, n: usize, span: Duration) -> Connections {
    let until = Instant::now() + span;
    let per = n.div_ceil(threads_for(n));
    let mut left = n;
    let results: Vec<Connections> = thread::scope(|s| {
        let mut hs = Vec::new();
        while left > 0 {
            let k = per.min(left);
            left -= k;
            hs.push(s.spawn(move || churn(addr, k, until)));
        }
        hs.into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results
        .iter()
        .fold(Connections::default(), |a, r| Connections {
            count: a.count + r.count,
            errors: a.errors + r.errors,
        })
}

/// One slot of [`churn`]: a connection being made or used.
struct Slot {
    sock: Socket,
    stage: Stage,
    got: usize,
}

#[derive(PartialEq)]
enum Stage {
    Connecting,
    Echoing,
}

fn start(addr: &SocketAddr) -> std::io::Result<Slot> {
    let sock = Socket::new(Domain::for_address(*addr), Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    match sock.connect(&SockAddr::from(*addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => {}
        Err(e) => return Err(e),
    }
    Ok(Slot {
        sock,
        stage: Stage::Connecting,
        got: 0,
    })
}

fn churn(addr: SocketAddr, k: usize, until: Instant) -> Connections {
    let mut out = Connections::default();
    let mut slots: Vec<Option<Slot>> = (0..k).map(|_| start(&addr).ok()).collect();
    let mut buf = [0u8; MESSAGE];
    while Instant::now() < until {
        for s in slots.iter_mut().filter(|s| s.is_none()) {
            *s = start(&addr).ok();
            out.errors += u64::from(s.is_none());
        }
        let mut fds: Vec<PollFd> = slots
            .iter()
            .flatten()
            .map(|s| {
                let ev = if s.stage == Stage::Connecting {
                    PollFlags::POLLOUT
                } else {
                    PollFlags::POLLIN
                };
                PollFd::new(s.sock.as_fd(), ev)
            })
            .collect();
        if poll(&mut fds, PollTimeout::from(20u16)).is_err() {
            continue;
        }
        let ready: Vec<bool> = fds.iter().map(|p| p.any().unwrap_or(false)).collect();
        let mut ready = ready.into_iter();
        for s in slots.iter_mut().filter(|s| s.is_some()) {
            if !ready.next().unwrap_or(false) {
                continue;
            }
            let Some(slot) = s.as_mut() else { continue };
            let done = match slot.stage {
                Stage::Connecting => match slot.sock.take_error() {
                    Ok(None) if (&slot.sock).write(&[b'z'; MESSAGE]).is_ok() => {
                        slot.stage = Stage::Echoing;
                        None
                    }
                    _ => Some(false),
                },
                Stage::Echoing => match (&slot.sock).read(&mut buf[..MESSAGE - slot.got]) {
                    Ok(0) => Some(false),
                    Ok(n) => {
                        slot.got += n;
                        (slot.got == MESSAGE).then_some(true)
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => None,
                    Err(_) => Some(false),
                },
            };
            match done {
                Some(true) => out.count += 1,
                Some(false) => out.errors += 1,
                None => continue,
            }
            *s = None; // close: FIN to the server; a new connect next time round
        }
    }
    out
}
