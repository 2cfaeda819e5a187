//! TCP analysis as Wireshark does it (its `tcp.analysis.*` flags): per direction the
//! next expected Seq, the last Ack and window, the segments not acknowledged yet; from
//! them each segment's marks (retransmission, duplicate ACK, zero window, …) and the
//! round-trip time of each ACK. The rules are Wireshark's, so that labtrace and tshark
//! flag the same frames (the tests check this on impaired and built captures);
//! [`super::explain`] turns the marks into sentences.
//!
//! Numbers are relative (a SYN is Seq 0), so 0 means "nothing seen yet", as in
//! Wireshark. Memory per direction is bounded by [`MAX_UNACKED`] segments.

use crate::packet::Flags;
use std::collections::VecDeque;

/// The most unacknowledged segments remembered per direction (Wireshark's limit too).
pub const MAX_UNACKED: usize = 10_000;

/// One mark of the analysis; [`Marks`] holds a set of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Mark {
    /// Bytes sent again after the retransmission timer ran out (`tcp.analysis.retransmission`).
    Retransmission = 1,
    /// Bytes sent again after duplicate ACKs (`tcp.analysis.fast_retransmission`).
    FastRetransmission = 1 << 1,
    /// Bytes sent again that the receiver had already acknowledged.
    SpuriousRetransmission = 1 << 2,
    /// Older bytes that arrived soon after newer ones (`tcp.analysis.out_of_order`).
    OutOfOrder = 1 << 3,
    /// Bytes before this segment are not in the capture (`tcp.analysis.lost_segment`).
    PreviousNotCaptured = 1 << 4,
    /// This ACK covers bytes the capture never showed (`tcp.analysis.ack_lost_segment`).
    AckedUnseen = 1 << 5,
    /// The same Ack and window again, no data (`tcp.analysis.duplicate_ack`).
    DuplicateAck = 1 << 6,
    /// The sender advertises a window of 0 (`tcp.analysis.zero_window`).
    ZeroWindow = 1 << 7,
    /// One byte into a zero window (`tcp.analysis.zero_window_probe`).
    ZeroWindowProbe = 1 << 8,
    /// The answer to a zero window probe (`tcp.analysis.zero_window_probe_ack`).
    ZeroWindowProbeAck = 1 << 9,
    /// Same Seq and Ack, a new window (`tcp.analysis.window_update`).
    WindowUpdate = 1 << 10,
    /// The data reaches the edge of the peer's window (`tcp.analysis.window_full`).
    WindowFull = 1 << 11,
    /// 0 or 1 byte one below the next Seq (`tcp.analysis.keep_alive`).
    KeepAlive = 1 << 12,
    /// The answer to a keep-alive (`tcp.analysis.keep_alive_ack`).
    KeepAliveAck = 1 << 13,
}

impl Mark {
    /// Every mark, in the order the notes list them.
    pub const ALL: [Mark; 14] = [
        Mark::Retransmission,
        Mark::FastRetransmission,
        Mark::SpuriousRetransmission,
        Mark::OutOfOrder,
        Mark::PreviousNotCaptured,
        Mark::AckedUnseen,
        Mark::DuplicateAck,
        Mark::ZeroWindow,
        Mark::ZeroWindowProbe,
        Mark::ZeroWindowProbeAck,
        Mark::WindowUpdate,
        Mark::WindowFull,
        Mark::KeepAlive,
        Mark::KeepAliveAck,
    ];

    /// The name of tshark's field for this mark, after `tcp.analysis.` (also the name
    /// labtrace's JSON uses).
    pub fn tshark(self) -> &'static str {
        match self {
            Mark::Retransmission => "retransmission",
            Mark::FastRetransmission => "fast_retransmission",
            Mark::SpuriousRetransmission => "spurious_retransmission",
            Mark::OutOfOrder => "out_of_order",
            Mark::PreviousNotCaptured => "lost_segment",
            Mark::AckedUnseen => "ack_lost_segment",
            Mark::DuplicateAck => "duplicate_ack",
            Mark::ZeroWindow => "zero_window",
            Mark::ZeroWindowProbe => "zero_window_probe",
            Mark::ZeroWindowProbeAck => "zero_window_probe_ack",
            Mark::WindowUpdate => "window_update",
            Mark::WindowFull => "window_full",
            Mark::KeepAlive => "keep_alive",
            Mark::KeepAliveAck => "keep_alive_ack",
        }
    }
}

/// A set of [`Mark`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks(u16);

impl Marks {
    /// True if `m` is in the set.
    pub fn has(self, m: Mark) -> bool {
        self.0 & m as u16 != 0
    }
    fn set(&mut self, m: Mark) {
        self.0 |= m as u16;
    }
    /// True if the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The marks in the set, in [`Mark::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Mark> {
        Mark::ALL.into_iter().filter(move |m| self.has(*m))
    }
}

/// What the analysis found about one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Analysis {
    /// The marks.
    pub marks: Marks,
    /// For a duplicate ACK: how many in a row (1 for the first), and the frame of the
    /// ACK they repeat.
    pub dup_ack: Option<(u32, u64)>,
    /// For a segment that acknowledges one: that segment's frame and the time between
    /// them in seconds (tshark's `tcp.analysis.acks_frame` and `ack_rtt`).
    pub acks: Option<(u64, f64)>,
    /// True when the segment acknowledged was sent more than once: its RTT is ambiguous
    /// (Karn's rule: not used for the estimator).
    pub ambiguous: bool,
    /// For a retransmission: the frame of the earliest copy still unacknowledged.
    pub original: Option<u64>,
}

/// A segment sent and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
struct Unacked {
    frame: u64,
    seq: u32,
    next: u32,
    time_ns: i128,
    karn: bool,
}

/// One direction's analysis state (Wireshark's per-flow sequence info).
#[derive(Debug, Default)]
pub(super) struct Flow {
    nextseq: u32,
    nextseq_time: i128,
    maxseqtobeacked: u32,
    lastack: u32,
    lastack_time: i128,
    lastnondupack: u64,
    dupacks: u32,
    window: u32,
    last_marks: Marks,
    /// Newest first, as Wireshark's list.
    unacked: VecDeque<Unacked>,
}

/// `a > b` in sequence space.
fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// What the analysis needs to know about one segment.
pub(super) struct Seen {
    pub frame: u64,
    pub time_ns: i128,
    pub seq: u32,
    pub ack: u32,
    /// The Ack field relative to the peer's first Seq whether or not the ACK flag is
    /// set: what Wireshark clears the peer's unacknowledged list with.
    pub list_ack: u32,
    pub len: u32,
    pub flags: Flags,
    /// The window in bytes, scaled.
    pub win: u32,
    /// The receiving side's window scale shift, `None` if unknown (no SYN seen).
    pub peer_shift: Option<u8>,
    /// The connection's initial RTT (SYN to the handshake's ACK), in ns, once known.
    pub first_rtt_ns: Option<i128>,
}

/// Analyses a segment sent by `fwd`'s side; `rev` is the other direction.
pub(super) fn analyze(fwd: &mut Flow, rev: &mut Flow, s: &Seen) -> Analysis {
    let mut a = Analysis::default();
    let m = &mut a.marks;
    let f = s.flags;
    let (syn, fin, rst) = (f.has(Flags::SYN), f.has(Flags::FIN), f.has(Flags::RST));
    let control = syn || fin || rst;
    'fwd: {
        if s.len == 1 && s.seq == fwd.nextseq && rev.window == 0 {
            m.set(Mark::ZeroWindowProbe);
            break 'fwd;
        }
        if s.win == 0 && !control {
            m.set(Mark::ZeroWindow);
        }
        if fwd.nextseq != 0 && gt(s.seq, fwd.nextseq) && !rst {
            m.set(Mark::PreviousNotCaptured);
        }
        if s.len <= 1 && s.seq == fwd.nextseq.wrapping_sub(1) && !control {
            m.set(Mark::KeepAlive);
        }
        let same = s.seq == fwd.nextseq && s.ack == fwd.lastack && !control;
        if s.len == 0 && s.win != 0 && s.win != fwd.window && same {
            m.set(Mark::WindowUpdate);
        }
        // Windows are kept scaled; the peer's scaling must be known (its SYN seen).
        if s.peer_shift.is_some()
            && s.len > 0
            && !control
            && s.seq.wrapping_add(s.len) == rev.lastack.wrapping_add(rev.window)
        {
            m.set(Mark::WindowFull);
        }
        let repeat = s.len == 0 && s.win != 0 && s.win == fwd.window && same;
        if repeat && rev.last_marks.has(Mark::KeepAlive) {
            m.set(Mark::KeepAliveAck);
            break 'fwd;
        }
        if s.len == 0
            && s.win == 0
            && fwd.window == 0
            && s.seq == fwd.nextseq
            && (s.ack == fwd.lastack || s.ack == fwd.lastack.wrapping_add(1))
            && rev.last_marks.has(Mark::ZeroWindowProbe)
            && !control
        {
            m.set(Mark::ZeroWindowProbeAck);
            if s.ack == fwd.lastack.wrapping_add(1) {
                rev.nextseq = s.ack;
                rev.maxseqtobeacked = s.ack;
            }
            break 'fwd;
        }
        if repeat {
            fwd.dupacks += 1;
            m.set(Mark::DuplicateAck);
            a.dup_ack = Some((fwd.dupacks, fwd.lastnondupack));
        }
    }
    if s.ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacks = 0;
    }
    if rev.maxseqtobeacked != 0 && gt(s.ack, rev.maxseqtobeacked) && f.has(Flags::ACK) {
        acked_unseen(fwd, rev, s, m);
    }
    retransmission(fwd, rev, s, &mut a);
    remember(fwd, s, &a);
    acknowledge(rev, s, &mut a);
    a
}

/// An ACK beyond what the other side was seen to send: a zero window reopening, or
/// bytes the capture missed.
fn acked_unseen(fwd: &Flow, rev: &mut Flow, s: &Seen, m: &mut Marks) {
    if s.ack == fwd.lastack.wrapping_add(1)
        && s.seq == fwd.nextseq
        && rev.last_marks.has(Mark::ZeroWindowProbe)
    {
        rev.nextseq = s.ack;
        rev.maxseqtobeacked = s.ack;
        m.set(Mark::WindowUpdate);
        return;
    }
    // From here on, only an ACK beyond everything seen so far is flagged again.
    rev.maxseqtobeacked = rev.nextseq;
    m.set(Mark::AckedUnseen);
}

/// Retransmission, fast retransmission, spurious retransmission or out-of-order: a
/// segment with data (or SYN/FIN) that does not advance the sequence number.
fn retransmission(fwd: &mut Flow, rev: &Flow, s: &Seen, a: &mut Analysis) {
    let (syn_fin, len) = (s.flags.has(Flags::SYN) || s.flags.has(Flags::FIN), s.len);
    if !(len > 0 || syn_fin) || a.marks.has(Mark::KeepAlive) {
        return;
    }
    let mut not_advanced = fwd.nextseq != 0 && gt(fwd.nextseq, s.seq);
    if len > 1 && fwd.nextseq.wrapping_sub(1) == s.seq {
        not_advanced = false;
    }
    if len > 0 && rev.lastack != 0 && !gt(s.seq.wrapping_add(len), rev.lastack) {
        a.marks.set(Mark::SpuriousRetransmission);
        return;
    }
    if !not_advanced {
        return;
    }
    let t = (s.time_ns - rev.lastack_time).max(0);
    if t < 20_000_000 && rev.dupacks >= 2 && rev.lastack == s.seq {
        a.marks.set(Mark::FastRetransmission);
        return;
    }
    // Out of order: it came soon after the highest segment, sooner than a round trip.
    let ooo_thres = s.first_rtt_ns.filter(|&r| r != 0).unwrap_or(3_000_000);
    let t = (s.time_ns - fwd.nextseq_time).max(0);
    let end = s.seq.wrapping_add(len);
    if t < ooo_thres && fwd.nextseq != end.wrapping_add(u32::from(syn_fin)) {
        a.marks.set(Mark::OutOfOrder);
        return;
    }
    a.marks.set(Mark::Retransmission);
    a.original = fwd
        .unacked
        .iter()
        .filter(|u| !gt(s.seq, u.seq))
        .map(|u| u.frame)
        .next_back();
}

/// Notes what the segment sent: its bytes as unacknowledged, the highest Seq, its Ack
/// and window.
fn remember(fwd: &mut Flow, s: &Seen, a: &Analysis) {
    let syn_fin = s.flags.has(Flags::SYN) || s.flags.has(Flags::FIN);
    let mut next = s.seq.wrapping_add(s.len);
    if syn_fin {
        next = next.wrapping_add(1);
    }
    let resent = [
        Mark::Retransmission,
        Mark::FastRetransmission,
        Mark::SpuriousRetransmission,
    ];
    if (s.len > 0 || syn_fin) && fwd.unacked.len() < MAX_UNACKED {
        fwd.unacked.push_front(Unacked {
            frame: s.frame,
            seq: s.seq,
            next,
            time_ns: s.time_ns,
            karn: resent.iter().any(|m| a.marks.has(*m)),
        });
    }
    let probe = a.marks.has(Mark::ZeroWindowProbe);
    if (gt(next, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = next;
        fwd.nextseq_time = s.time_ns;
    }
    if (s.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = s.win;
    fwd.lastack = s.ack;
    fwd.lastack_time = s.time_ns;
    fwd.last_marks = a.marks;
}

/// Removes what the segment's Ack covers from the other side's unacknowledged list,
/// noting the RTT of the segment it acknowledges.
fn acknowledge(rev: &mut Flow, s: &Seen, a: &mut Analysis) {
    let ack = s.list_ack;
    let mut i = 0;
    while i < rev.unacked.len() {
        let u = &mut rev.unacked[i];
        if ack == u.next {
            a.acks = Some((u.frame, (s.time_ns - u.time_ns) as f64 / 1e9));
            a.ambiguous = u.karn;
        } else if gt(ack, u.seq) && !gt(ack, u.next) {
            u.seq = ack;
            a.acks = Some((u.frame, (s.time_ns - u.time_ns) as f64 / 1e9));
            a.ambiguous = u.karn;
            i += 1;
            continue;
        } else if gt(u.next, ack) {
            i += 1;
            continue;
        }
        rev.unacked.remove(i);
    }
}
