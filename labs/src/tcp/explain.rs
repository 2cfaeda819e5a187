//! One student sentence for each thing TCP did that a segment shows: the marks of
//! [`super::analysis`] (as Wireshark names them) and the [`Event`]s of the connection's
//! life (reset, half-close, simultaneous open and close, who ends in TIME_WAIT).

use super::Row;
use super::analysis::Mark;
use super::stall::{IdleCause, Stall};
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
    let me = who(row.side);
    let end = row.seq.wrapping_add(row.len);
    let mut out = Vec::new();
    for m in a.marks.iter() {
        let s = match m {
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
        };
        out.push(s);
    }
    for e in &row.events {
        out.push(event(*e, row));
    }
    out
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
