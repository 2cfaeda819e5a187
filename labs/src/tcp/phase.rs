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
    /// A simultaneous close (RFC 9293 figure 13): the FINs crossed, so the close has
    /// four segments FIN, FIN, ACK, ACK; `2` is the FIN that crossed the first one
    /// (`simul. close 2/4`), `3` and `4` the ACKs of the two FINs.
    SimultaneousClose(u8),
    /// A pure ACK in a close whose FINs are both acknowledged already: it answers a
    /// FIN sent again.
    AckAgain,
    /// A simultaneous open (RFC 9293 figure 7): the SYNs crossed; `2` is the second
    /// SYN, `3` and `4` the two SYN+ACKs (`simul. open 2/4`).
    SimultaneousOpen(u8),
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
            Phase::SimultaneousClose(n) => write!(f, "simul. close {n}/4"),
            Phase::AckAgain => f.write_str("close (ACK again)"),
            Phase::SimultaneousOpen(n) => write!(f, "simul. open {n}/4"),
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
            return self.syn_phase(me, f.has(Flags::ACK));
        }
        if f.has(Flags::FIN) {
            self.dirs[me].fin_unacked = true;
            if self.dirs[me].fin.is_some() {
                if self.simultaneous_close && self.ack_other_fin(other, ack) {
                    return Phase::SimultaneousClose(self.fins_acked() + 2);
                }
                return Phase::FinAgain;
            }
            self.dirs[me].fin = Some(end);
            let acks_fin = self.ack_other_fin(other, ack);
            return if acks_fin {
                Phase::CloseAckAndFin
            } else if self.dirs[other].fin.is_some() && !self.dirs[other].fin_acked {
                // This side closed before it saw the other side's FIN.
                self.simultaneous_close = true;
                Phase::SimultaneousClose(2)
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
            return if self.simultaneous_close {
                Phase::SimultaneousClose(self.fins_acked() + 2)
            } else if self.dirs[me].fin.is_some() {
                Phase::Close(4)
            } else {
                Phase::Close(2)
            };
        }
        if self.dirs.iter().all(|d| d.fin_acked) {
            return Phase::AckAgain;
        }
        Phase::Ack
    }

    /// The phase of a SYN (`synack`: with the ACK flag): the handshake's first two
    /// steps, or a simultaneous open's, where both sides send a SYN without ACK.
    fn syn_phase(&mut self, me: usize, synack: bool) -> Phase {
        let other = 1 - me;
        self.dirs[me].syn = true;
        if synack {
            self.syn_ack_seen = true;
            if self.simultaneous_open {
                self.synacks += 1;
                // Two SYN+ACKs and the connection is open: no third segment.
                self.established = self.synacks >= 2;
                return Phase::SimultaneousOpen(self.synacks + 2);
            }
            return Phase::Handshake(2);
        }
        if self.dirs[other].syn && !self.syn_ack_seen {
            self.simultaneous_open = true;
            return Phase::SimultaneousOpen(2);
        }
        Phase::Handshake(1)
    }

    /// How many of the two FINs are acknowledged.
    fn fins_acked(&self) -> u8 {
        self.dirs.iter().filter(|d| d.fin_acked).count() as u8
    }

    /// Notes that `ack`, sent by the side opposite `other`, acknowledges the latest
    /// copy of `other`'s FIN; true once both FINs are sent and their latest copies
    /// acknowledged: the connection is over.
    pub(super) fn closed(&mut self, other: usize, ack: u32, ack_flag: bool) -> bool {
        let d = &mut self.dirs[other];
        if let Some(fin) = d.fin
            && ack_flag
            && !(ack.wrapping_sub(fin.wrapping_add(1)) as i32).is_negative()
        {
            d.fin_unacked = false;
        }
        self.dirs.iter().all(|d| d.fin.is_some() && !d.fin_unacked)
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
