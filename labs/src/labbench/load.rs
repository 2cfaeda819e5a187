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

use super::ports::{self, Sources};

/// Bytes in one echo request (and its echo).
pub const MESSAGE: usize = 64;

/// What the load says to the server, and what counts as its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// [`MESSAGE`] bytes; the answer is the same number of bytes back.
    #[default]
    Echo,
    /// The lottery's GEN, 4 bytes; the answer is what one `read` returns (the lottery
    /// server writes each reply in one `write`, with no terminator, as the handout's
    /// client reads it: one `read`).
    Lottery,
}

impl Protocol {
    /// What the table's `load` column says: `echo` (64 bytes echoed) or `GEN`.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Echo => "echo",
            Protocol::Lottery => "GEN",
        }
    }

    /// The bytes of one request.
    pub fn request(self) -> Vec<u8> {
        match self {
            Protocol::Echo => vec![b'x'; MESSAGE],
            Protocol::Lottery => lottery::proto::Command::Gen.encode().to_vec(),
        }
    }

    /// How many more bytes of the answer to read at most, with `got` read so far.
    fn room(self, got: usize) -> usize {
        match self {
            Protocol::Echo => MESSAGE - got,
            Protocol::Lottery => lottery::proto::MAX_REPLY,
        }
    }

    /// Whether `got` bytes are the whole answer.
    fn answered(self, got: usize) -> bool {
        match self {
            Protocol::Echo => got >= MESSAGE,
            Protocol::Lottery => got > 0,
        }
    }
}

/// The largest answer any [`Protocol`] reads in one go.
const READ_BUF: usize = 256;

/// What one round-trip run saw.
#[derive(Debug, Default, Clone)]
pub struct RoundTrips {
    /// Completed round trips.
    pub count: u64,
    /// Each round trip's latency, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Connections that never got their first answer within the warm-up (an iterative
    /// server serves one; the others wait in its queue).
    pub unserved: usize,
}

/// What one connection-rate run saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct Connections {
    /// Connect, one request and its answer, close: completed.
    pub count: u64,
    /// Connects or exchanges that failed.
    pub errors: u64,
}

/// How many load threads for `n` connections.
fn threads_for(n: usize) -> usize {
    n.clamp(1, 2)
}

/// Opens `n` connections, sends one request on each and waits (up to `warmup`) for the
/// answers, calls `settled` (the caller samples memory then), then keeps every
/// connection busy with back-to-back round trips for `span`.
pub fn round_trips(
    proto: Protocol,
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
            .map(|g| s.spawn(move || exchange_once(proto, g, warmup)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    settled();
    let start = Instant::now() + Duration::from_millis(1);
    let results: Vec<RoundTrips> = thread::scope(|s| {
        let hs: Vec<_> = groups
            .iter()
            .map(|g| s.spawn(move || busy(proto, g, start + span)))
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

/// One request on every connection; how many answers came back within `limit`.
fn exchange_once(proto: Protocol, conns: &[TcpStream], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    let request = proto.request();
    let mut got = vec![0usize; conns.len()];
    let mut gone = vec![false; conns.len()];
    for c in conns {
        let _ = (&*c).write(&request);
    }
    let mut buf = [0u8; READ_BUF];
    let waiting =
        |got: &[usize], gone: &[bool]| (0..got.len()).any(|i| !gone[i] && !proto.answered(got[i]));
    while waiting(&got, &gone) && Instant::now() < deadline {
        let mut fds: Vec<PollFd> = conns
            .iter()
            .map(|c| PollFd::new(c.as_fd(), PollFlags::POLLIN))
            .collect();
        if poll(&mut fds, PollTimeout::from(50u16)).is_err() {
            continue;
        }
        let ready: Vec<bool> = fds.iter().map(|p| p.any().unwrap_or(false)).collect();
        for (i, c) in conns.iter().enumerate() {
            if !ready[i] || gone[i] || proto.answered(got[i]) {
                continue;
            }
            match (&*c).read(&mut buf[..proto.room(got[i])]) {
                Ok(0) => gone[i] = true, // the server closed it: not served
                Ok(k) => got[i] += k,
                Err(_) => {}
            }
        }
    }
    (0..got.len())
        .filter(|&i| !gone[i] && proto.answered(got[i]))
        .count()
}

/// Back-to-back round trips on every connection until `until`.
fn busy(proto: Protocol, conns: &[TcpStream], until: Instant) -> RoundTrips {
    let mut out = RoundTrips::default();
    let request = proto.request();
    let mut sent = vec![Instant::now(); conns.len()];
    let mut got = vec![0usize; conns.len()];
    for (i, c) in conns.iter().enumerate() {
        sent[i] = Instant::now();
        let _ = (&*c).write(&request);
    }
    let mut buf = [0u8; READ_BUF];
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
            match (&*c).read(&mut buf[..proto.room(got[i])]) {
                Ok(0) | Err(_) => continue,
                Ok(k) => got[i] += k,
            }
            if proto.answered(got[i]) {
                let now = Instant::now();
                out.count += 1;
                let us = now.duration_since(sent[i]).as_micros();
                out.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                got[i] = 0;
                sent[i] = now;
                let _ = (&*c).write(&request);
            }
        }
    }
    out
}

/// `n` connections at a time, each: connect, one request and its answer, close, and
/// again, for `span`. Spread over several source addresses ([`Sources`]).
pub fn connections(proto: Protocol, addr: SocketAddr, n: usize, span: Duration) -> Connections {
    let until = Instant::now() + span;
    let per = n.div_ceil(threads_for(n));
    let mut left = n;
    let results: Vec<Connections> = thread::scope(|s| {
        let mut hs = Vec::new();
        while left > 0 {
            let k = per.min(left);
            left -= k;
            let first = hs.len() * usize::from(ports::SOURCES) / 2;
            hs.push(s.spawn(move || churn(proto, addr, k, until, first)));
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
    Answering,
}

fn start(addr: &SocketAddr, sources: &mut Sources) -> std::io::Result<Slot> {
    let sock = Socket::new(Domain::for_address(*addr), Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    sources.bind_next(&sock)?; // 127.0.0.1..16: each source address has its own ports
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

fn churn(proto: Protocol, addr: SocketAddr, k: usize, until: Instant, first: usize) -> Connections {
    let mut out = Connections::default();
    let request = proto.request();
    let mut sources = Sources::new(&addr, first);
    let mut slots: Vec<Option<Slot>> = (0..k).map(|_| start(&addr, &mut sources).ok()).collect();
    let mut buf = [0u8; READ_BUF];
    while Instant::now() < until {
        for s in slots.iter_mut().filter(|s| s.is_none()) {
            *s = start(&addr, &mut sources).ok();
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
                    Ok(None) if (&slot.sock).write(&request).is_ok() => {
                        slot.stage = Stage::Answering;
                        None
                    }
                    _ => Some(false),
                },
                Stage::Answering => match (&slot.sock).read(&mut buf[..proto.room(slot.got)]) {
                    Ok(0) => Some(false),
                    Ok(n) => {
                        slot.got += n;
                        proto.answered(slot.got).then_some(true)
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
