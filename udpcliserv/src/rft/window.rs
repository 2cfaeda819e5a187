//! The sender's window: the packets sent and not yet acknowledged, their
//! retransmission timer (one, for the oldest, as TCP's), duplicate-ACK counting for
//! fast retransmit, and the RTT estimator fed by echoed timestamps.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use unp::{Error, Result};

use super::proto::{Kind, Packet};
use super::rtt::Rtt;

/// Give up after this many timeouts in a row without progress.
pub const MAX_TIMEOUTS: u32 = 12;
/// Duplicate ACKs that trigger a fast retransmit (TCP's 3).
const DUPACKS: u32 = 3;

struct Entry {
    kind: Kind,
    seq: u32,
    payload: Vec<u8>,
    sent: Instant,
}

/// Counts of what the window did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Packets sent, retransmissions included.
    pub sent: u64,
    /// Retransmissions after a timeout.
    pub timeouts: u64,
    /// Retransmissions after three duplicate ACKs.
    pub fast: u64,
}

/// Packets in flight, oldest first.
pub struct Window {
    size: usize,
    entries: VecDeque<Entry>,
    next_seq: u32,
    acked: u32,
    dupacks: u32,
    timeouts_in_a_row: u32,
    epoch: Instant,
    /// The retransmission timeout.
    pub rtt: Rtt,
    /// What happened so far.
    pub counts: Counts,
}

impl Window {
    /// An empty window of `size` packets.
    pub fn new(size: usize, rtt: Rtt) -> Window {
        let (epoch, entries) = (Instant::now(), VecDeque::new());
        Window {
            size: size.max(1),
            entries,
            next_seq: 0,
            acked: 0,
            dupacks: 0,
            timeouts_in_a_row: 0,
            epoch,
            rtt,
            counts: Counts::default(),
        }
    }

    /// True if another packet may be sent now.
    pub fn has_room(&self) -> bool {
        self.entries.len() < self.size
    }

    /// True when everything sent is acknowledged.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The next sequence number the peer expects (everything below it arrived).
    pub fn acked(&self) -> u32 {
        self.acked
    }

    /// Queues a packet with the next sequence number; returns it, ready to send.
    pub fn push(&mut self, kind: Kind, payload: Vec<u8>) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push_back(Entry {
            kind,
            seq,
            payload,
            sent: Instant::now(),
        });
        self.emit(self.entries.len() - 1)
    }

    /// The bytes of entry `i`, stamped now (its timer restarts).
    fn emit(&mut self, i: usize) -> Vec<u8> {
        self.counts.sent += 1;
        let stamp = self.epoch.elapsed().as_micros() as u64;
        let e = &mut self.entries[i];
        e.sent = Instant::now();
        Packet::new(e.kind, e.seq, stamp, &e.payload).emit()
    }

    /// How long until the oldest packet must be sent again (at least 100 µs).
    pub fn time_left(&self) -> Duration {
        let left = self.entries.front().map_or(self.rtt.rto(), |e| {
            (e.sent + self.rtt.rto()).saturating_duration_since(Instant::now())
        });
        left.max(Duration::from_micros(100))
    }

    /// An ACK of everything below `next`, echoing `stamp`: measures the round trip,
    /// slides the window; returns the oldest packet again after the third duplicate.
    pub fn on_ack(&mut self, next: u32, stamp: u64) -> Option<Vec<u8>> {
        let now = self.epoch.elapsed().as_micros() as u64;
        if let Some(rtt) = now.checked_sub(stamp) {
            self.rtt.sample(Duration::from_micros(rtt));
        }
        if next > self.acked {
            (self.acked, self.dupacks, self.timeouts_in_a_row) = (next, 0, 0);
            while self.entries.front().is_some_and(|e| e.seq < next) {
                self.entries.pop_front();
            }
            return None;
        }
        self.dupacks += 1;
        if self.dupacks == DUPACKS && !self.entries.is_empty() {
            self.counts.fast += 1;
            return Some(self.emit(0));
        }
        None
    }

    /// The timer of the oldest packet ran out: back off, and send it again; an error
    /// after [`MAX_TIMEOUTS`] in a row.
    pub fn on_timeout(&mut self) -> Result<Vec<u8>> {
        self.timeouts_in_a_row += 1;
        if self.timeouts_in_a_row > MAX_TIMEOUTS || self.entries.is_empty() {
            return Err(Error::msg(format!(
                "no answer from the server after {MAX_TIMEOUTS} retransmissions"
            )));
        }
        self.rtt.backoff();
        self.counts.timeouts += 1;
        Ok(self.emit(0))
    }
}
