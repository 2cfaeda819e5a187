//! TCP analysis as Wireshark does it (its `tcp.analysis.*` flags): per direction the
//! next expected Seq, the last Ack and window, the segments not acknowledged yet; from
//! them each segment's marks (retransmission, duplicate ACK, zero window, …) and the
//! round-trip time of each ACK. The rules are Wireshark's, so that labtrace and tshark
//! flag the same frames (the tests check this on impaired and built captures); where
//! Wireshark 4.0, 4.4 and 4.6 differ, the version chosen decides ([`super::wireshark`]).
//! [`super::explain`] turns the marks into sentences.
//!
//! Numbers are relative (a SYN is Seq 0), so 0 means "nothing seen yet", as in
//! Wireshark. Memory per direction is bounded by [`MAX_UNACKED`] segments.

pub use super::marks::{Mark, Marks};
use super::wireshark::{self, Delta, Like, Other, Rule};
use crate::packet::{Flags, Sack};
use std::collections::VecDeque;

/// The most unacknowledged segments remembered per direction (Wireshark's limit too).
pub const MAX_UNACKED: usize = 10_000;

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
    /// What the other Wireshark version marks instead, where it differs.
    pub other: Option<Other>,
}

/// A segment sent and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unacked {
    frame: u64,
    pub(super) seq: u32,
    pub(super) next: u32,
    time_ns: i128,
    /// Sent more than once: an ACK of it is ambiguous (Karn).
    karn: bool,
}

/// One direction's analysis state (Wireshark's per-flow sequence info).
#[derive(Debug, Default)]
pub(super) struct Flow {
    pub(super) nextseq: u32,
    nextseq_time: i128,
    maxseqtobeacked: u32,
    /// `maxseqtobeacked` by the other version's rule ([`Rule::UnseenOnce`]).
    other_maxseqtobeacked: u32,
    lastack: u32,
    lastack_time: i128,
    lastnondupack: u64,
    dupacks: u32,
    window: u32,
    last_marks: Marks,
    /// The length of the segment that last raised `nextseq` ([`Rule::GapBeforeEmptySegment`]).
    last_len: u32,
    /// The SACK blocks of this side's latest segment, relative ([`Rule::SackFastRetransmission`]).
    pub(super) sack: Sack,
    /// Newest first, as Wireshark's list.
    pub(super) unacked: VecDeque<Unacked>,
}

/// `a > b` in sequence space.
pub(super) fn gt(a: u32, b: u32) -> bool {
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
    /// The SACK option, its edges relative to the peer's first Seq.
    pub sack: Option<Sack>,
    /// The raw (absolute) Seq plus Len: what Wireshark 4.4 and 4.6 compare with SACK
    /// edges.
    pub abs_end: u32,
}

/// Analyses a segment sent by `fwd`'s side; `rev` is the other direction; `like`: whose
/// rules decide where Wireshark versions differ.
pub(super) fn analyze(fwd: &mut Flow, rev: &mut Flow, s: &Seen, like: Like) -> Analysis {
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
                rev.other_maxseqtobeacked = s.ack;
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
    let mut d = Delta::default();
    acked_unseen(fwd, rev, s, &mut a, &mut d, like);
    retransmission(fwd, rev, s, &mut a, &mut d, like);
    remember(fwd, s, &a);
    acknowledge(rev, s, &mut a);
    sack_duplicate(fwd, s, &mut a, &mut d, like);
    a.other = d.other(a.marks, like);
    a
}

/// An ACK beyond what the other side was seen to send: a zero window reopening, or
/// bytes the capture missed ([`Rule::UnseenOnce`] decides which ACKs are flagged).
fn acked_unseen(fwd: &Flow, rev: &mut Flow, s: &Seen, a: &mut Analysis, d: &mut Delta, like: Like) {
    let past = |max: u32| max != 0 && gt(s.ack, max) && s.flags.has(Flags::ACK);
    let (mine, theirs) = (past(rev.maxseqtobeacked), past(rev.other_maxseqtobeacked));
    let reopens = s.ack == fwd.lastack.wrapping_add(1)
        && s.seq == fwd.nextseq
        && rev.last_marks.has(Mark::ZeroWindowProbe);
    if theirs {
        rev.other_maxseqtobeacked = match reopens {
            true => s.ack,
            false => wireshark::expected_after_unseen(rev, s.ack, like.other()),
        };
    }
    if mine && reopens {
        rev.nextseq = s.ack;
        rev.maxseqtobeacked = s.ack;
        a.marks.set(Mark::WindowUpdate);
    } else if mine {
        rev.maxseqtobeacked = wireshark::expected_after_unseen(rev, s.ack, like);
        a.marks.set(Mark::AckedUnseen);
    }
    if !reopens && mine != theirs {
        d.note(Rule::UnseenOnce, Mark::AckedUnseen, theirs);
    }
}

/// [`Rule::SackDuplicateAck`]: a window update with a SACK option is a duplicate ACK
/// (Wireshark decides it after the analysis, when it reads the options).
fn sack_duplicate(fwd: &mut Flow, s: &Seen, a: &mut Analysis, d: &mut Delta, like: Like) {
    let (update, dup) = (Mark::WindowUpdate, Mark::DuplicateAck);
    if s.sack.is_none() || !a.marks.has(update) {
        return;
    }
    if like.follows(Rule::SackDuplicateAck) {
        a.marks = a.marks.swap(update, dup);
        fwd.dupacks += 1;
        a.dup_ack = Some((fwd.dupacks, fwd.lastnondupack));
    }
    let now_dup = a.marks.has(dup);
    d.note(Rule::SackDuplicateAck, dup, !now_dup);
    d.note(Rule::SackDuplicateAck, update, now_dup);
}

/// Retransmission, fast retransmission, spurious retransmission or out-of-order: a
/// segment with data (or SYN/FIN) that does not advance the sequence number.
fn retransmission(
    fwd: &mut Flow,
    rev: &Flow,
    s: &Seen,
    a: &mut Analysis,
    d: &mut Delta,
    like: Like,
) {
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
    let (mine, rule) = resend_kind(fwd, rev, s, like);
    let (theirs, their_rule) = resend_kind(fwd, rev, s, like.other());
    a.marks.set(mine);
    if let Some(rule) = rule.or(their_rule).filter(|_| mine != theirs) {
        d.note(rule, mine, false);
        d.note(rule, theirs, true);
    }
    // Karn: an ACK of these bytes is ambiguous now, whichever copy it answers.
    let end = s.seq.wrapping_add(len);
    for u in fwd.unacked.iter_mut() {
        if mine != Mark::OutOfOrder && !gt(u.seq, s.seq) && !gt(end, u.next) {
            u.karn = true;
        }
    }
    // The copy sent first: the oldest unacknowledged segment from this Seq on, as
    // Wireshark finds it; for out-of-order, the copy that holds these bytes, if any.
    a.original = match (mine, theirs) {
        (Mark::Retransmission, _) => fwd
            .unacked
            .iter()
            .filter(|u| !gt(s.seq, u.seq))
            .map(|u| u.frame)
            .next_back(),
        (Mark::OutOfOrder, Mark::Retransmission) => {
            wireshark::seen_copy(fwd, s).map(|i| fwd.unacked[i].frame)
        }
        _ => None,
    };
}

/// What a segment that does not advance the Seq is by `like`'s rules: a fast
/// retransmission, out-of-order or a retransmission; with the [`Rule`] that decided, if
/// one did.
fn resend_kind(fwd: &Flow, rev: &Flow, s: &Seen, like: Like) -> (Mark, Option<Rule>) {
    // Fast: soon after the peer's second (or later) duplicate ACK, and what it asks for.
    let t = (s.time_ns - rev.lastack_time).max(0);
    let after_dups = t < 20_000_000 && rev.dupacks >= 2;
    if after_dups && rev.lastack == s.seq {
        return (Mark::FastRetransmission, None);
    }
    let sack_fast = Rule::SackFastRetransmission;
    if after_dups && like.follows(sack_fast) && wireshark::outside_sack(rev, s) {
        return (Mark::FastRetransmission, Some(sack_fast));
    }
    let seen = Rule::SeenCopyIsRetransmission;
    if like.follows(seen) && wireshark::seen_copy(fwd, s).is_some() {
        return (Mark::Retransmission, Some(seen));
    }
    // Out of order: it came soon after the highest segment (4.6: after the peer's last
    // ACK), sooner than a round trip.
    let ooo_thres = s.first_rtt_ns.filter(|&r| r != 0).unwrap_or(3_000_000);
    let since_ack = Rule::OutOfOrderTimedFromAck;
    let (since, timed) = match like.follows(since_ack) {
        true => (rev.lastack_time, Some(since_ack)),
        false => (fwd.nextseq_time, None),
    };
    let t = (s.time_ns - since).max(0);
    let syn_fin = s.flags.has(Flags::SYN) || s.flags.has(Flags::FIN);
    let end = s.seq.wrapping_add(s.len).wrapping_add(u32::from(syn_fin));
    if t < ooo_thres && fwd.nextseq != end {
        return (Mark::OutOfOrder, timed);
    }
    let gap = Rule::GapBeforeEmptySegment;
    if t < ooo_thres && like.follows(gap) && fwd.last_len == 0 {
        return (Mark::OutOfOrder, timed.or(Some(gap)));
    }
    (Mark::Retransmission, timed)
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
    if fwd.nextseq == 0 || gt(next, fwd.nextseq.wrapping_add(u32::from(syn_fin))) {
        fwd.last_len = s.len;
    }
    if (gt(next, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = next;
        fwd.nextseq_time = s.time_ns;
    }
    if (s.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    let other = &mut fwd.other_maxseqtobeacked;
    if (s.seq == *other || *other == 0) && !probe {
        *other = fwd.nextseq;
    }
    fwd.sack = s.sack.unwrap_or_default();
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
