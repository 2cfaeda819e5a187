//! Where a segment stands in the connection's life, as the handout names the steps: the
//! three-way handshake, data and its ACKs, the four-segment FIN/ACK close, a reset.

use super::conn::{Conn, index};
use crate::decode::Side;
use crate::packet::{Flags, Segment};

/// Where a segment stands in the connection's life, as the handout names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// SYN, SYN+ACK, ACK: `handshake 1/3` .. `handshake 3/3`.
    Handshake(u8),
    /// A segment carrying payload.
    Data,
    /// A segment resending payload already seen.
    Retransmission,
    /// A pure acknowledgement.
    Ack,
    /// FIN, its ACK, the other FIN, its ACK: `close 1/4` .. `close 4/4`.
    Close(u8),
    /// The second FIN, acknowledging the first in the same segment: steps 2 and 3 of
    /// the close at once (`close 2+3/4`), as a peer that closes at once does.
    CloseAckAndFin,
    /// A FIN sent again.
    FinAgain,
    /// RST.
    Reset,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Phase::Handshake(n) => write!(f, "handshake {n}/3"),
            Phase::Data => f.write_str("data"),
            Phase::Retransmission => f.write_str("retransmission"),
            Phase::Ack => f.write_str("ACK"),
            Phase::Close(n) => write!(f, "close {n}/4"),
            Phase::CloseAckAndFin => f.write_str("close 2+3/4"),
            Phase::FinAgain => f.write_str("close (FIN again)"),
            Phase::Reset => f.write_str("reset"),
        }
    }
}

impl Conn {
    /// The phase of a segment `side` sent, noting the FINs and the handshake on the way.
    /// `ack` is the segment's relative Ack, `end` the relative Seq after its payload.
    pub(super) fn phase(&mut self, side: Side, seg: &Segment<'_>, ack: u32, end: u32) -> Phase {
        let f = seg.flags;
        let me = index(side);
        let other = 1 - me;
        if f.has(Flags::RST) {
            return Phase::Reset;
        }
        if f.has(Flags::SYN) {
            if f.has(Flags::ACK) {
                self.syn_ack_seen = true;
                return Phase::Handshake(2);
            }
            return Phase::Handshake(1);
        }
        if f.has(Flags::FIN) {
            if self.dirs[me].fin.is_some() {
                return Phase::FinAgain;
            }
            self.dirs[me].fin = Some(end);
            let acks_fin = self.ack_other_fin(other, ack);
            return if acks_fin {
                Phase::CloseAckAndFin
            } else if self.dirs[other].fin.is_some() {
                Phase::Close(3)
            } else {
                Phase::Close(1)
            };
        }
        if seg.len > 0 {
            self.established = true;
            let high = self.dirs[me].high;
            return if high != 0 && (end.wrapping_sub(high) as i32) <= 0 {
                Phase::Retransmission
            } else {
                Phase::Data
            };
        }
        if side == Side::Client && self.syn_ack_seen && !self.established {
            self.established = true;
            return Phase::Handshake(3);
        }
        self.established = true;
        if self.ack_other_fin(other, ack) {
            return if self.dirs[me].fin.is_some() {
                Phase::Close(4)
            } else {
                Phase::Close(2)
            };
        }
        Phase::Ack
    }

    /// True when `ack` newly acknowledges the other side's FIN.
    fn ack_other_fin(&mut self, other: usize, ack: u32) -> bool {
        let d = &mut self.dirs[other];
        match d.fin {
            Some(fin) if !d.fin_acked && ack == fin.wrapping_add(1) => {
                d.fin_acked = true;
                true
            }
            _ => false,
        }
    }
}
