//! Stalls: the idle gaps inside a connection, and their causes. The one a student
//! meets first is Nagle's algorithm meeting the delayed ACK: a program that writes a
//! message in two small `write()`s without `TCP_NODELAY` sends the first piece at once,
//! Nagle holds the second until the first is acknowledged, and the receiver, which got
//! half a message and has nothing to reply yet, delays its ACK (about 40 ms on Linux).
//! On the wire: a small segment, a silence, a pure ACK, and at once the next piece.

use crate::decode::Side;

/// A silence at least this long is told as an idle gap (ns).
pub const IDLE_GAP_NS: i128 = 200_000_000;
/// A delayed ACK takes at least this long (ns); Linux's is 40 ms, others up to 200 ms.
const DELAYED_ACK_MIN_NS: i128 = 20_000_000;
/// ...and at most this (RFC 1122: 500 ms).
const DELAYED_ACK_MAX_NS: i128 = 500_000_000;
/// A segment smaller than this is "small" for Nagle (below any usual MSS).
const SMALL: u32 = 536;

/// Why a connection stood still before a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Nagle + delayed ACK: the sender's small segment (`small`) waited `wait_ms` for
    /// the peer's delayed ACK (`ack`) before this next piece could go.
    NagleDelayedAck {
        /// The small segment that was waiting for its ACK.
        small: u64,
        /// The delayed ACK.
        ack: u64,
        /// Milliseconds between them.
        wait_ms: u32,
    },
    /// Nothing for `ms` milliseconds, then this segment; `why` names who was waiting.
    Idle {
        /// Milliseconds of silence.
        ms: u32,
        /// What the silence most likely was.
        why: IdleCause,
    },
}

/// What an idle gap most likely was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleCause {
    /// The sender resends: its retransmission timer ran out.
    Timeout,
    /// The server answers the client's request: it was working on the answer.
    Answering,
}

/// What the stall detector remembers of a connection.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// The previous segment: time, sender, length, Ack, frame.
    last: Option<(i128, Side, u32, u32, u64)>,
    /// Per side: the latest data segment (time, frame, relative end, length).
    data: [Option<(i128, u64, u32, u32)>; 2],
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl Watch {
    /// Takes a segment `side` sent; returns the stall that ended with it, if any.
    /// `resent`: the analysis marked it as a retransmission.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn segment(
        &mut self,
        time_ns: i128,
        frame: u64,
        side: Side,
        seq: u32,
        ack: u32,
        len: u32,
        resent: bool,
    ) -> Option<Stall> {
        let me = index(side);
        let mut found = None;
        if let Some((t, who, plen, pack, pframe)) = self.last {
            let gap = time_ns - t;
            let ms = |ns: i128| u32::try_from(ns / 1_000_000).unwrap_or(u32::MAX);
            if let Some((dt, dframe, dend, dlen)) = self.data[me]
                && len > 0
                && who != side
                && plen == 0
                && pack == dend
                && dlen < SMALL
                && !resent
            {
                // The previous segment was the peer's pure ACK of our small segment,
                // and this next piece followed it at once.
                let wait = t - dt;
                let prompt = gap <= (wait / 4).max(2_000_000);
                if (DELAYED_ACK_MIN_NS..=DELAYED_ACK_MAX_NS).contains(&wait) && prompt {
                    found = Some(Stall::NagleDelayedAck {
                        small: dframe,
                        ack: pframe,
                        wait_ms: ms(wait),
                    });
                }
            }
            // Only gaps inside an exchange: a resend, or the server's answer to a
            // request; a silence between exchanges is the user's, not TCP's.
            let asked = match (self.data[0], self.data[1]) {
                (Some(c), Some(s)) => c.0 > s.0,
                (Some(_), None) => true,
                _ => false,
            };
            let why = if resent {
                Some(IdleCause::Timeout)
            } else if side == Side::Server && len > 0 && asked {
                Some(IdleCause::Answering)
            } else {
                None
            };
            if let Some(why) = why.filter(|_| found.is_none() && gap >= IDLE_GAP_NS) {
                found = Some(Stall::Idle { ms: ms(gap), why });
            }
        }
        if len > 0 {
            self.data[me] = Some((time_ns, frame, seq.wrapping_add(len), len));
        }
        self.last = Some((time_ns, side, len, ack, frame));
        found
    }
}
