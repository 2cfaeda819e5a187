//! One student sentence for each thing TCP did that a segment shows: the marks of
//! [`super::analysis`] (as Wireshark names them) and the [`Event`]s of the connection's
//! life (reset, half-close, simultaneous open and close, who ends in TIME_WAIT). Where
//! the other Wireshark version marks the segment differently, the sentence says what
//! that version calls it, and why.

use super::analysis::Mark;
use super::stall::{IdleCause, Stall};
use super::wireshark::{Other, Rule};
use super::{Phase, Row};
use crate::decode::Side;
use crate::packet::Flags;

/// Something in a connection's life that a segment shows, beyond its phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// RST: `refused` when it answers a SYN (nobody listens on the port).
    Reset {
        /// True when the connection never opened.
        refused: bool,
    },
    /// Data after the other side's FIN: that side closed only its sending direction.
    HalfClose {
        /// The side that sent the FIN.
        closed: Side,
        /// The FIN's frame.
        fin: u64,
    },
    /// The second SYN of a simultaneous open.
    SimultaneousOpen,
    /// The FIN that crossed the first FIN (frame `first`).
    SimultaneousClose {
        /// The first FIN's frame.
        first: u64,
    },
    /// The close is complete: this side waits in TIME_WAIT (`None`: both do).
    TimeWait(Option<Side>),
    /// The connection stood still before this segment.
    Stall(Stall),
}

impl Event {
    /// The event's name in the JSON view.
    pub fn name(self) -> &'static str {
        match self {
            Event::Reset { .. } => "reset",
            Event::HalfClose { .. } => "half_close",
            Event::SimultaneousOpen => "simultaneous_open",
            Event::SimultaneousClose { .. } => "simultaneous_close",
            Event::TimeWait(Some(Side::Client)) => "time_wait_client",
            Event::TimeWait(Some(Side::Server)) => "time_wait_server",
            Event::TimeWait(None) => "time_wait_both",
            Event::Stall(Stall::NagleDelayedAck { .. }) => "stall_nagle_delayed_ack",
            Event::Stall(Stall::Idle { .. }) => "idle_gap",
        }
    }
}

fn who(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}

/// The sentences explaining a segment's marks and events, in order.
pub fn sentences(row: &Row) -> Vec<String> {
    let a = &row.analysis;
    let mut out = Vec::new();
    let mut noted = false;
    for m in a.marks.iter() {
        let mut s = variant(m, row).unwrap_or_else(|| plain(m, row));
        if let Some(o) = a.other.filter(|o| !noted && !o.marks.has(m)) {
            s.push_str(&other_note(o, row));
            noted = true;
        }
        out.push(s);
    }
    for e in &row.events {
        out.push(event(*e, row));
    }
    out
}

/// The sentence for mark `m` on `row`, in the common case.
fn plain(m: Mark, row: &Row) -> String {
    let a = &row.analysis;
    let me = who(row.side);
    let end = row.seq.wrapping_add(row.len);
    match m {
        Mark::Retransmission => {
            let before = a
                .original
                .map_or(String::new(), |f| format!(" (first in #{f})"));
            let what = match (row.len, row.flags.has(Flags::SYN)) {
                (0, true) => "its SYN".to_string(),
                (0, false) => "its FIN".to_string(),
                _ => format!("bytes {}..{end}", row.seq),
            };
            format!(
                "retransmission: the {me} sends {what} again{before}: it had no ACK for it yet (its retransmission timer ran out, or the ACK was lost)"
            )
        }
        Mark::FastRetransmission => format!(
            "fast retransmission: duplicate ACKs asked for Seq {} again and again, so the {me} resends it at once instead of waiting for its timer",
            row.seq
        ),
        Mark::SpuriousRetransmission => format!(
            "spurious retransmission: the {me} resends bytes up to {end}, which the receiver had already acknowledged: the copy was not needed"
        ),
        Mark::OutOfOrder => format!(
            "out-of-order: Seq {} is below bytes already seen, but it came too soon to be a retransmission: the network delivered it late",
            row.seq
        ),
        Mark::PreviousNotCaptured => format!(
            "previous segment not captured: Seq {} skips bytes the capture never showed (lost before the capture point, or not captured)",
            row.seq
        ),
        Mark::AckedUnseen => format!(
            "ACKed unseen segment: Ack {} covers bytes the capture never showed: they reached the {me}, but not the capture",
            row.ack
        ),
        Mark::DuplicateAck => {
            let (n, of) = a.dup_ack.unwrap_or((1, 0));
            format!(
                "duplicate ACK #{n} (of #{of}): the {me} repeats Ack {} with nothing new: it still expects byte {} (a segment after a gap, or a copy of one it has, came in)",
                row.ack, row.ack
            )
        }
        Mark::ZeroWindow => format!(
            "zero window: the {me}'s receive buffer is full (win 0): its application is not reading, and the other side must stop sending"
        ),
        Mark::ZeroWindowProbe => format!(
            "zero window probe: the {me} sends one byte into the closed window to ask whether it has opened yet"
        ),
        Mark::ZeroWindowProbeAck => {
            format!("zero window probe ACK: the {me} answers the probe; its window is still 0")
        }
        Mark::WindowUpdate => format!(
            "window update: same Seq and Ack, only a new window ({}): the {me}'s application read data and made room",
            row.win
        ),
        Mark::WindowFull => format!(
            "window full: this segment fills the receiver's advertised window to its last byte; the {me} must wait for an ACK before sending more"
        ),
        Mark::KeepAlive => format!(
            "keep-alive: after a long silence the {me} sends a segment one byte below its next Seq, to make the peer answer and prove it is still there"
        ),
        Mark::KeepAliveAck => {
            format!("keep-alive ACK: the {me} answers the keep-alive: it is still there")
        }
    }
}

/// A sentence in place of the plain one where that would mislead: a SYN+ACK of a
/// simultaneous open that Wireshark marks, and a mark that one Wireshark version sets
/// by a rule the other has not.
fn variant(m: Mark, row: &Row) -> Option<String> {
    let (a, me) = (&row.analysis, who(row.side));
    let simultaneous = matches!(row.phase, Phase::SimultaneousOpen(3 | 4));
    if simultaneous && matches!(m, Mark::Retransmission | Mark::OutOfOrder) {
        return Some(format!(
            "{}: Wireshark's name for this SYN+ACK, as its Seq repeats the {me}'s own SYN: in a simultaneous open each side answers the other's SYN with a SYN+ACK on its first Seq again, so nothing was lost or reordered",
            word(m).trim_start_matches("a ")
        ));
    }
    let o = a.other.filter(|o| !o.marks.has(m))?;
    Some(match (m, o.rule) {
        (Mark::OutOfOrder, _) => format!(
            "out-of-order: Seq {} is below bytes already seen and came within a round trip of them: the network delivered it late, or the {me} sent it again early",
            row.seq
        ),
        (Mark::FastRetransmission, Rule::SackFastRetransmission) => format!(
            "fast retransmission: the receiver's duplicate ACKs carried SACK blocks (the bytes it holds past a gap), so the {me} resends bytes {}..{} at once instead of waiting for its timer",
            row.seq,
            row.seq.wrapping_add(row.len)
        ),
        (Mark::DuplicateAck, Rule::SackDuplicateAck) => {
            let (n, of) = a.dup_ack.unwrap_or((1, 0));
            format!(
                "duplicate ACK #{n} (of #{of}): the {me} repeats Ack {}: it still expects byte {}; its SACK blocks list the bytes it holds past the gap, and its window changed too",
                row.ack, row.ack
            )
        }
        _ => return None,
    })
}

/// What the other Wireshark version calls the segment, and why: ` (Wireshark 4.0 calls
/// it out-of-order: …)`.
fn other_note(o: Other, row: &Row) -> String {
    let instead: Vec<&str> = (o.marks.iter())
        .filter(|m| !row.analysis.marks.has(*m))
        .map(word)
        .collect();
    let says = match instead.is_empty() {
        true => "does not flag it".to_string(),
        false => format!("calls it {}", instead.join(" and ")),
    };
    let v = o.like.name();
    // Why the other version says what it says: it follows the rule, or it does not.
    let why = match (o.rule, o.like.follows(o.rule)) {
        (Rule::SackDuplicateAck, true) => format!(
            "it carries SACK blocks, and {v} counts such an ACK as a duplicate whatever its window, as RFC 5681 §2 allows"
        ),
        (Rule::SackDuplicateAck, false) => format!(
            "its window changed, and to {v} an ACK with a new window is never a duplicate, SACK blocks or not"
        ),
        (Rule::SackFastRetransmission, true) => {
            "it came within 20 ms of the receiver's duplicate ACKs, and those carried SACK blocks"
                .to_string()
        }
        (Rule::SackFastRetransmission, false) => format!(
            "{v} counts as fast only a resend of the very byte the duplicate ACKs ask for"
        ),
        (Rule::SeenCopyIsRetransmission, true) => format!(
            "the capture already showed these bytes{}, not acknowledged yet: this is a copy",
            (row.analysis.original).map_or(String::new(), |f| format!(" in #{f}"))
        ),
        (Rule::SeenCopyIsRetransmission, false) => format!(
            "it came within a round trip of the newest segment, and {v} does not look for an earlier copy"
        ),
        (Rule::GapBeforeEmptySegment, true) => {
            "it came soon and fills the gap below the highest Seq, which a segment without data had set"
                .to_string()
        }
        (Rule::GapBeforeEmptySegment, false) => format!(
            "{v} takes a segment that ends exactly at the highest Seq so far for a resend"
        ),
        (Rule::UnseenOnce, true) => {
            "the bytes it covers that the capture missed were flagged at an earlier ACK already"
                .to_string()
        }
        (Rule::UnseenOnce, false) => format!(
            "after an earlier ACKed-unseen note, {v} counts every byte sent up to then as seen, gaps included"
        ),
        (Rule::OutOfOrderTimedFromAck, true) => format!(
            "{v} times \"within a round trip\" from the peer's last ACK, not from the newest segment"
        ),
        (Rule::OutOfOrderTimedFromAck, false) => format!(
            "{v} times \"within a round trip\" from the newest segment, not from the peer's last ACK"
        ),
    };
    format!(" (Wireshark {v} {says}: {why})")
}

/// A mark's name in a sentence: `a retransmission`, `out-of-order`.
fn word(m: Mark) -> &'static str {
    match m {
        Mark::Retransmission => "a retransmission",
        Mark::FastRetransmission => "a fast retransmission",
        Mark::SpuriousRetransmission => "a spurious retransmission",
        Mark::OutOfOrder => "out-of-order",
        Mark::PreviousNotCaptured => "previous segment not captured",
        Mark::AckedUnseen => "an ACKed unseen segment",
        Mark::DuplicateAck => "a duplicate ACK",
        Mark::ZeroWindow => "a zero window",
        Mark::ZeroWindowProbe => "a zero window probe",
        Mark::ZeroWindowProbeAck => "a zero window probe ACK",
        Mark::WindowUpdate => "a window update",
        Mark::WindowFull => "window full",
        Mark::KeepAlive => "a keep-alive",
        Mark::KeepAliveAck => "a keep-alive ACK",
    }
}

fn event(e: Event, row: &Row) -> String {
    let me = who(row.side);
    match e {
        Event::Reset { refused: true } => format!(
            "reset: nobody listens on port {}: the kernel refuses the connection and connect() fails with ECONNREFUSED",
            row.src.port()
        ),
        Event::Reset { refused: false } => format!(
            "reset: the {me} aborts the connection instead of closing it (close() with unread data, SO_LINGER 0, or a segment for a connection it does not know); the peer's next read() fails with ECONNRESET"
        ),
        Event::HalfClose { closed, fin } => format!(
            "half-close: the {}'s FIN (#{fin}) closed only its sending direction (shutdown(SHUT_WR)); the {me} can still send, and does",
            who(closed)
        ),
        Event::SimultaneousOpen => format!(
            "simultaneous open: the {me} sent its own SYN before it saw the other's: both SYNs crossed, each side answers with SYN+ACK, and no third ACK is needed"
        ),
        Event::SimultaneousClose { first } => format!(
            "simultaneous close: this FIN crossed the FIN of #{first}: each side closed before it heard of the other's close, so both will end in TIME_WAIT"
        ),
        Event::TimeWait(Some(side)) => {
            let other = match side {
                Side::Client => "server",
                Side::Server => "client",
            };
            format!(
                "TIME_WAIT: the {} closed first (active close), so it waits 2×MSL (60 s on Linux) in TIME_WAIT, ready to resend this last ACK; the {other} is CLOSED now",
                who(side)
            )
        }
        Event::Stall(Stall::NagleDelayedAck { small, ack, wait_ms }) => format!(
            "stall: Nagle + delayed ACK: the {me}'s small segment #{small} waited {wait_ms} ms for its ACK (#{ack}): Nagle's algorithm holds back a small write while data is unacknowledged, and the peer delayed its ACK hoping to send it with a reply; this piece went out only then (fix: one write per message, or TCP_NODELAY)"
        ),
        Event::Stall(Stall::Idle { ms, why }) => {
            let cause = match why {
                IdleCause::Timeout => format!(
                    "the {me} waited for an ACK that never came, until its retransmission timer ran out"
                ),
                IdleCause::Answering => format!(
                    "the {me}'s application took that long to answer (working, or waiting on something else)"
                ),
            };
            format!("idle {ms} ms before this segment: {cause}")
        }
        Event::TimeWait(None) => {
            "TIME_WAIT: both sides closed at once (simultaneous close), so both wait 2×MSL (60 s on Linux) in TIME_WAIT".to_string()
        }
    }
}

/// The sentence after the last segment of a connection that the capture shows neither
/// closing (no FIN) nor reset (no RST).
pub const NO_CLOSE: &str = "no FIN or RST in the capture: the capture ended while the connection was still open, or the close was not captured";

/// True if the segment carries anything [`sentences`] would explain.
pub fn has_notes(row: &Row) -> bool {
    !row.analysis.marks.is_empty() || !row.events.is_empty()
}

/// The names of the segment's marks and events, as the JSON view lists them.
pub fn names(row: &Row) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = row.analysis.marks.iter().map(Mark::tshark).collect();
    v.extend(row.events.iter().map(|e| e.name()));
    v
}
