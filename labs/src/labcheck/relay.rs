//! A lossy relay on loopback: labcheck stands between a UDP client and its server and
//! drops, delays past the next datagram (reorders) or doubles datagrams, each with its
//! own probability, from a seeded generator (the same run loses the same datagrams),
//! and can delay every datagram, so that a round trip takes as long as on a real link.
//! No root, no network namespace: any UDP program's robustness can be checked this way.
//!
//! ```text
//! client ──▶ relay's front port ──(impaired)──▶ relay's back socket ──▶ server
//! client ◀── relay's front port ◀──(impaired)── relay's back socket ◀── server
//! ```
//! The client is whoever last sent to the front port.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// What the relay does to each datagram, each way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Impair {
    /// Probability a datagram is dropped.
    pub loss: f64,
    /// Probability a datagram is held back and sent after the next one.
    pub reorder: f64,
    /// Probability a datagram is sent twice.
    pub duplicate: f64,
    /// How long every datagram takes through the relay.
    pub delay: Duration,
}

impl Impair {
    /// Nothing impaired (the start of `Impair { loss: 0.1, ..Impair::NONE }`).
    pub const NONE: Impair = Impair {
        loss: 0.0,
        reorder: 0.0,
        duplicate: 0.0,
        delay: Duration::ZERO,
    };

    /// How it reads in a report: `10 % loss, 10 % reordered`, `10 ms delay`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = [
            (self.loss, "loss"),
            (self.reorder, "reordered"),
            (self.duplicate, "duplicated"),
        ]
        .iter()
        .filter(|(p, _)| *p > 0.0)
        .map(|(p, what)| format!("{:.0} % {what}", p * 100.0))
        .collect();
        if !self.delay.is_zero() {
            parts.push(format!("{} ms delay", self.delay.as_millis()));
        }
        if parts.is_empty() {
            "nothing impaired".into()
        } else {
            format!("{} each way", parts.join(", "))
        }
    }
}

/// What happened to the datagrams of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Datagrams that came to the relay.
    pub came: u64,
    /// Dropped.
    pub dropped: u64,
    /// Sent after the datagram behind them.
    pub reordered: u64,
    /// Sent twice.
    pub duplicated: u64,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} dropped, {} reordered, {} duplicated",
            crate::plural(self.came, "datagram"),
            self.dropped,
            self.reordered,
            self.duplicated
        )
    }
}

/// A relay running in two threads, one per direction; stopped when dropped.
pub struct Relay {
    front: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Tally>>,
}

impl Relay {
    /// Binds the front port (`front_port`, 0 for any) on loopback and relays to `server`.
    pub fn start(
        front_port: u16,
        server: SocketAddr,
        imp: Impair,
        seed: u64,
    ) -> std::io::Result<Relay> {
        let front = super::ports::udp_socket(front_port)?;
        let back = super::ports::udp_socket(0)?;
        for s in [&front, &back] {
            s.set_read_timeout(Some(Duration::from_millis(10)))?;
            let _ = socket2::SockRef::from(s).set_recv_buffer_size(4 << 20);
        }
        let addr = front.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let (f2, b2, c2) = (front.try_clone()?, back.try_clone()?, client.clone());
        let up = Lane {
            from: front,
            to: back,
            imp,
            rng: StdRng::seed_from_u64(seed),
            stop: stop.clone(),
            delayed: VecDeque::new(),
        };
        let down = Lane {
            from: b2,
            to: f2,
            imp,
            rng: StdRng::seed_from_u64(seed ^ 0x5eed),
            stop: stop.clone(),
            delayed: VecDeque::new(),
        };
        let threads = vec![
            std::thread::spawn(move || {
                up.run(|from| {
                    *client.lock().unwrap_or_else(PoisonError::into_inner) = Some(from);
                    Some(server)
                })
            }),
            std::thread::spawn(move || {
                down.run(|_| *c2.lock().unwrap_or_else(PoisonError::into_inner))
            }),
        ];
        Ok(Relay {
            front: addr,
            stop,
            threads,
        })
    }

    /// Where the client sends.
    pub fn addr(&self) -> SocketAddr {
        self.front
    }

    /// Stops the relay; returns what it did toward the server and toward the client.
    pub fn stop(mut self) -> (Tally, Tally) {
        self.stop.store(true, Ordering::Relaxed);
        let mut t = self.threads.drain(..).map(|h| h.join().unwrap_or_default());
        (t.next().unwrap_or_default(), t.next().unwrap_or_default())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One direction.
struct Lane {
    from: UdpSocket,
    to: UdpSocket,
    imp: Impair,
    rng: StdRng,
    stop: Arc<AtomicBool>,
    /// Datagrams on their way (with a delay): when each leaves, and where to.
    delayed: VecDeque<(Instant, Vec<u8>, SocketAddr)>,
}

impl Lane {
    /// Relays until stopped; `dest` says where a datagram from an address goes.
    fn run(mut self, mut dest: impl FnMut(SocketAddr) -> Option<SocketAddr>) -> Tally {
        let mut t = Tally::default();
        let mut buf = vec![0u8; 65536];
        let mut held: Option<(Vec<u8>, SocketAddr, Instant)> = None;
        while !self.stop.load(Ordering::Relaxed) {
            self.release();
            let got = self.from.recv_from(&mut buf);
            // A held datagram waits for the next one, or 20 ms at most.
            if let Some((d, to, since)) = held.take() {
                if got.is_ok() || since.elapsed() > Duration::from_millis(20) {
                    let next = got
                        .as_ref()
                        .ok()
                        .and_then(|&(n, from)| Some((n, dest(from)?)));
                    if let Some((n, to2)) = next {
                        t.came += 1;
                        self.pass(&buf[..n], to2, &mut t);
                    }
                    self.send(&d, to);
                    continue;
                }
                held = Some((d, to, since));
            }
            let Ok((n, from)) = got else { continue };
            let Some(to) = dest(from) else { continue };
            t.came += 1;
            if self.rng.random_bool(self.imp.loss) {
                t.dropped += 1;
            } else if held.is_none() && self.rng.random_bool(self.imp.reorder) {
                t.reordered += 1;
                held = Some((buf[..n].to_vec(), to, Instant::now()));
            } else {
                self.pass(&buf[..n], to, &mut t);
            }
        }
        t
    }

    /// Sends one datagram on, twice with the duplicate probability.
    fn pass(&mut self, d: &[u8], to: SocketAddr, t: &mut Tally) {
        self.send(d, to);
        if self.rng.random_bool(self.imp.duplicate) {
            t.duplicated += 1;
            self.send(d, to);
        }
    }

    /// Sends a datagram now, or after the delay.
    fn send(&mut self, d: &[u8], to: SocketAddr) {
        if self.imp.delay.is_zero() {
            let _ = self.to.send_to(d, to);
        } else {
            let due = Instant::now() + self.imp.delay;
            self.delayed.push_back((due, d.to_vec(), to));
        }
    }

    /// Sends the delayed datagrams whose time has come; the next receive waits no
    /// longer than until the next one is due (10 ms at most).
    fn release(&mut self) {
        while let Some((due, ..)) = self.delayed.front()
            && *due <= Instant::now()
        {
            if let Some((_, d, to)) = self.delayed.pop_front() {
                let _ = self.to.send_to(&d, to);
            }
        }
        if !self.imp.delay.is_zero() {
            let wait = self
                .delayed
                .front()
                .map_or(Duration::from_millis(10), |(due, ..)| {
                    due.saturating_duration_since(Instant::now())
                });
            let wait = wait.clamp(Duration::from_micros(100), Duration::from_millis(10));
            let _ = self.from.set_read_timeout(Some(wait));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delayed_relay_holds_each_datagram_both_ways() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let delay = Duration::from_millis(30);
        let imp = Impair {
            delay,
            ..Impair::NONE
        };
        assert_eq!(imp.describe(), "30 ms delay each way");
        let relay = Relay::start(0, server.local_addr().unwrap(), imp, 1).unwrap();
        let wait = Some(Duration::from_secs(2));
        server.set_read_timeout(wait).unwrap();
        client.set_read_timeout(wait).unwrap();
        let mut buf = [0u8; 16];
        let sent = Instant::now();
        client.send_to(b"ping", relay.addr()).unwrap();
        let (n, back) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert!(sent.elapsed() >= delay, "{:?}", sent.elapsed());
        server.send_to(b"pong", back).unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], relay.addr()));
        assert!(sent.elapsed() >= 2 * delay, "{:?}", sent.elapsed());
        let (up, down) = relay.stop();
        assert_eq!((up.came, down.came, up.dropped), (1, 1, 0));
    }
}
