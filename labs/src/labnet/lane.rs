//! One direction of the link: what happens to each packet, in order:
//!
//! 1. **loss**: dropped with probability `loss`;
//! 2. **duplicate**: with probability `duplicate`, a second copy follows the first;
//! 3. **rate**: each copy waits until the link has sent the ones before it
//!    (`bits / rate` seconds each); with 100 ms already waiting, it is dropped;
//! 4. **delay ± jitter**: it then travels `delay` plus a uniform draw in
//!    `[-jitter, +jitter]`; with probability `reorder` it skips that delay instead.
//!
//! The packet is then queued by the time it leaves the link; equal times keep their
//! arrival order. The queue is the only place packets can overtake each other.
//!
//! A queued packet is copied into a buffer the lane keeps for reuse: once delivered,
//! the buffer goes back to the lane ([`Lane::recycle`]), so a busy link with a delay
//! does not allocate for every packet.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use rand::RngExt;
use rand::rngs::StdRng;

use super::impair::Impairments;

/// Beyond this much backlog at the rate limit, packets are dropped.
pub const MAX_BACKLOG: Duration = Duration::from_millis(100);

/// Without a delay, a reordered packet is held back this long.
pub const REORDER_HOLD: Duration = Duration::from_millis(1);

/// At most this many packets wait in one direction (a bound on memory).
pub const MAX_QUEUED: usize = 100_000;

/// At most this many bytes of delivered packets' buffers are kept for reuse.
const MAX_SPARE_BYTES: usize = 16 << 20;

/// A new buffer holds at least this many bytes (an Ethernet-sized packet).
const BUFFER: usize = 2048;

/// What happened to the packets of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Packets that entered the link.
    pub received: u64,
    /// Packets that left it (copies included).
    pub forwarded: u64,
    /// Packets dropped by `--loss`.
    pub lost: u64,
    /// Extra copies made by `--duplicate`.
    pub duplicated: u64,
    /// Packets sent ahead by `--reorder`.
    pub reordered: u64,
    /// Packets dropped because the queue was full (`--rate` backlog, or memory bound).
    pub overflowed: u64,
}

/// A packet waiting in the queue: when it leaves, its arrival number, how many packets
/// a wire would carry for it (a large segment: its segments), its bytes.
type Queued = Reverse<(Instant, u64, u64, Vec<u8>)>;

/// One direction of the link.
pub struct Lane {
    imp: Impairments,
    busy_until: Instant,
    queue: BinaryHeap<Queued>,
    arrivals: u64,
    spare: Vec<Vec<u8>>,
    spare_bytes: usize,
    /// Bytes in front of each packet that a wire does not carry (the virtio header).
    header: usize,
    /// What happened so far.
    pub stats: LaneStats,
}

impl Lane {
    /// A lane applying `imp` to packets that start with `header` bytes a wire does not
    /// carry (the rate does not count them).
    pub fn new(imp: Impairments, header: usize) -> Lane {
        Lane {
            imp,
            busy_until: Instant::now(),
            queue: BinaryHeap::new(),
            arrivals: 0,
            spare: Vec::new(),
            spare_bytes: 0,
            header,
            stats: LaneStats::default(),
        }
    }

    /// What this lane applies.
    pub fn impairments(&self) -> &Impairments {
        &self.imp
    }

    /// True when a packet can go straight through: nothing to apply, nothing queued.
    pub fn passes_through(&self) -> bool {
        self.imp.is_none() && self.queue.is_empty()
    }

    /// Decides the fate of `packet`, which arrived at `now`, and queues what survives
    /// (a copy of it). `wire` is how many packets a wire would carry for it (more than
    /// one for a large segment, which only a lane that acts on no single packet gets).
    pub fn admit(&mut self, now: Instant, packet: &[u8], wire: u64, rng: &mut StdRng) {
        self.stats.received += wire;
        let imp = self.imp;
        if imp.loss > 0.0 && rng.random_bool(imp.loss) {
            self.stats.lost += 1;
            return;
        }
        if imp.duplicate > 0.0 && rng.random_bool(imp.duplicate) {
            self.stats.duplicated += 1;
            self.enqueue(now, packet, wire, rng);
        }
        self.enqueue(now, packet, wire, rng);
    }

    /// Gives back the buffer of a delivered packet, for the next one to use.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if self.spare_bytes + buffer.capacity() <= MAX_SPARE_BYTES {
            self.spare_bytes += buffer.capacity();
            self.spare.push(buffer);
        }
    }

    fn enqueue(&mut self, now: Instant, data: &[u8], wire: u64, rng: &mut StdRng) {
        if self.queue.len() >= MAX_QUEUED {
            self.stats.overflowed += 1;
            return;
        }
        let imp = self.imp;
        let mut leaves = now;
        if let Some(rate) = imp.rate {
            let start = self.busy_until.max(now);
            if start - now > MAX_BACKLOG {
                self.stats.overflowed += 1;
                return;
            }
            let bits = data.len().saturating_sub(self.header) as f64 * 8.0;
            self.busy_until = start + Duration::from_secs_f64(bits / rate as f64);
            leaves = self.busy_until;
        }
        let travel = self.travel_time(rng);
        let mut packet = match self.spare.pop() {
            Some(p) => {
                self.spare_bytes -= p.capacity();
                p
            }
            None => Vec::with_capacity(BUFFER.max(data.len())),
        };
        packet.clear();
        packet.extend_from_slice(data);
        self.arrivals += 1;
        self.queue
            .push(Reverse((leaves + travel, self.arrivals, wire, packet)));
    }

    /// This packet's time on the wire: delay ± jitter, or the reorder shortcut.
    fn travel_time(&mut self, rng: &mut StdRng) -> Duration {
        let imp = self.imp;
        if imp.reorder > 0.0 && rng.random_bool(imp.reorder) {
            self.stats.reordered += 1;
            return if imp.delay.is_zero() && imp.jitter.is_zero() {
                REORDER_HOLD
            } else {
                Duration::ZERO
            };
        }
        if imp.jitter.is_zero() {
            return imp.delay;
        }
        let j = imp.jitter.as_nanos() as u64;
        let offset = rng.random_range(0..=2 * j);
        let nanos = (imp.delay.as_nanos() as u64 + offset).saturating_sub(j);
        Duration::from_nanos(nanos)
    }

    /// When the next queued packet leaves, if any is queued.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((t, _, _, _))| *t)
    }

    /// The next packet due at `now`, taken off the queue ([`Lane::recycle`] its
    /// buffer once it is delivered).
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_due()? > now {
            return None;
        }
        let Reverse((_, _, wire, packet)) = self.queue.pop()?;
        self.stats.forwarded += wire;
        Some(packet)
    }

    /// Counts a packet that went straight through (see [`Lane::passes_through`]).
    pub fn passed_through(&mut self, wire: u64) {
        self.stats.received += wire;
        self.stats.forwarded += wire;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn lane(imp: Impairments) -> (Lane, StdRng) {
        (Lane::new(imp, 0), StdRng::seed_from_u64(1))
    }

    fn drain(l: &mut Lane, at: Instant) -> Vec<u8> {
        std::iter::from_fn(|| l.pop_due(at)).map(|p| p[0]).collect()
    }

    #[test]
    fn delay_holds_packets_for_that_long() {
        let (mut l, mut rng) = lane(Impairments {
            delay: Duration::from_millis(100),
            ..Default::default()
        });
        let t0 = Instant::now();
        l.admit(t0, &[1], 1, &mut rng);
        assert!(l.pop_due(t0 + Duration::from_millis(99)).is_none());
        assert_eq!(l.pop_due(t0 + Duration::from_millis(100)), Some(vec![1]));
    }

    #[test]
    fn loss_drops_about_that_share() {
        let (mut l, mut rng) = lane(Impairments {
            loss: 0.1,
            ..Default::default()
        });
        let t0 = Instant::now();
        for _ in 0..10_000 {
            l.admit(t0, &[0], 1, &mut rng);
        }
        // 4 standard deviations of Binomial(10000, 0.1): 120.
        assert!((880..=1120).contains(&l.stats.lost), "{:?}", l.stats);
        assert_eq!(l.stats.lost + drain(&mut l, t0).len() as u64, 10_000);
    }

    #[test]
    fn reordered_packets_overtake_delayed_ones() {
        let (mut l, mut rng) = lane(Impairments {
            delay: Duration::from_millis(10),
            reorder: 0.3,
            ..Default::default()
        });
        let t0 = Instant::now();
        for i in 0..50 {
            l.admit(t0 + Duration::from_micros(i), &[i as u8], 1, &mut rng);
        }
        let order = drain(&mut l, t0 + Duration::from_secs(1));
        assert_eq!(order.len(), 50);
        assert!(order.windows(2).any(|w| w[0] > w[1]), "{order:?}");
        assert!(l.stats.reordered > 0);
    }

    #[test]
    fn duplicates_follow_their_original() {
        let (mut l, mut rng) = lane(Impairments {
            duplicate: 1.0,
            ..Default::default()
        });
        let t0 = Instant::now();
        l.admit(t0, &[7], 1, &mut rng);
        assert_eq!(drain(&mut l, t0), vec![7, 7]);
        assert_eq!(l.stats.duplicated, 1);
    }

    #[test]
    fn delivered_buffers_are_reused() {
        let (mut l, mut rng) = lane(Impairments {
            delay: Duration::from_millis(1),
            ..Default::default()
        });
        let t0 = Instant::now();
        l.admit(t0, &[1; 100], 1, &mut rng);
        let first = l.pop_due(t0 + Duration::from_secs(1)).unwrap();
        let place = first.as_ptr();
        l.recycle(first);
        l.admit(t0, &[2; 50], 1, &mut rng);
        let second = l.pop_due(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!((second.as_ptr(), second.len(), second[0]), (place, 50, 2));
    }

    #[test]
    fn the_rate_spaces_packets_and_a_long_backlog_drops() {
        let (mut l, mut rng) = lane(Impairments {
            rate: Some(8_000_000), // 1 byte per microsecond
            ..Default::default()
        });
        let t0 = Instant::now();
        for _ in 0..200 {
            l.admit(t0, &[0; 1000], 1, &mut rng); // 1 ms each
        }
        assert_eq!(l.next_due(), Some(t0 + Duration::from_millis(1)));
        assert_eq!(drain(&mut l, t0 + Duration::from_millis(10)).len(), 10);
        assert!(
            l.stats.overflowed > 90 && l.stats.overflowed < 100,
            "{:?}",
            l.stats
        );
    }

    #[test]
    fn the_rate_does_not_count_the_header_a_wire_does_not_carry() {
        let imp = Impairments {
            rate: Some(8_000_000),
            ..Default::default()
        };
        let mut l = Lane::new(imp, 10);
        let t0 = Instant::now();
        l.admit(t0, &[0; 1010], 1, &mut StdRng::seed_from_u64(1));
        assert_eq!(l.next_due(), Some(t0 + Duration::from_millis(1)));
    }

    #[test]
    fn a_large_segment_counts_as_its_packets() {
        let (mut l, mut rng) = lane(Impairments {
            delay: Duration::from_millis(1),
            ..Default::default()
        });
        let t0 = Instant::now();
        l.admit(t0, &[0; 100], 45, &mut rng);
        l.passed_through(3);
        assert_eq!(drain(&mut l, t0 + Duration::from_secs(1)).len(), 1);
        assert_eq!((l.stats.received, l.stats.forwarded), (48, 48));
    }
}
