//! One connection's two byte streams: relative sequence and acknowledgement numbers,
//! scaled windows, and the reassembled bytes the decoders read. `Conn::take` follows a
//! segment through them and asks [`super::phase`] and [`super::bookkeeping`] for the rest.
//!
//! Relative numbers follow Wireshark exactly (checked against tshark in the tests):
//! - a direction's base is its ISN when its SYN is seen (so the SYN is Seq=0 and the
//!   first data byte is Seq=1), otherwise the first sequence number seen minus one;
//! - an ACK seen before any segment of the other direction sets that direction's base
//!   to the acknowledgement number minus one;
//! - without the ACK flag the acknowledgement field is shown raw (it means nothing).
//!
//! Windows are scaled as Wireshark's `tcp.window_size` (also checked against tshark): a
//! SYN's window scale option sets its side's shift; a SYN/ACK seen without the option on
//! either side turns scaling off for both; a SYN's own window is never scaled.
//!
//! State kept per connection is a few counters and at most [`MAX_PENDING`] bytes of a
//! half-received message per direction, so memory grows with connections, not packets.

use super::analysis::{self, Flow, Seen};
use super::bookkeeping::Table;
use super::explain::Event;
use super::phase::Phase;
use super::{ConnInfo, Row};
use crate::decode::{self, Proto, Side};
use crate::packet::{Flags, Segment};

/// The most bytes of an incomplete message kept for a direction before giving up on it.
pub const MAX_PENDING: usize = 64 * 1024;

/// What a direction's SYN said about window scaling (RFC 7323 section 2).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// No SYN seen from this side.
    #[default]
    Unknown,
    /// Not in use: a SYN came without the option, or the other side's did.
    Off,
    /// The SYN offered this shift count (at most 14).
    Shift(u8),
}

/// What is known about the bytes one side sends.
#[derive(Debug, Default)]
pub(super) struct Direction {
    base: Option<u32>,
    /// Stream offset (relative seq - 1) of the next byte expected.
    next: Option<u32>,
    /// Bytes of a message not complete yet.
    pending: Vec<u8>,
    /// Highest relative sequence end sent (seq + len).
    pub(super) high: u32,
    /// The last relative Seq/Ack this side sent, a SYN counted as Seq 1 (see
    /// [`super::Bookkeeping`]).
    pub(super) last: (u32, u32),
    /// The last segment this side sent, for the quiz's rule (see [`super::bookkeeping::Sent`]).
    pub(super) sent: Option<super::bookkeeping::Sent>,
    /// Relative seq of this side's FIN.
    pub(super) fin: Option<u32>,
    /// True once this side's FIN was acknowledged and the ACK given a phase.
    pub(super) fin_acked: bool,
    /// Window scaling as this side's SYN set it.
    scale: Scale,
    /// True once this side sent a SYN.
    pub(super) syn: bool,
    /// True from this side's FIN (or a copy of it) until the other side acknowledges it.
    pub(super) fin_unacked: bool,
    /// Wireshark's analysis state for the segments this side sends.
    flow: Flow,
}

/// One connection: its two directions (client's first, see [`index`]) and where its
/// phases and tables stand.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) info: ConnInfo,
    pub(super) dirs: [Direction; 2],
    pub(super) syn_ack_seen: bool,
    pub(super) established: bool,
    pub(super) ended: bool,
    pub(super) exchange: Option<Table>,
    /// The close's table, from the first FIN on.
    pub(super) closing: Option<Table>,
    /// The server has sent data in the current exchange (its reply).
    pub(super) replied: bool,
    /// Both sides sent a SYN without ACK.
    pub(super) simultaneous_open: bool,
    /// SYN+ACKs seen in a simultaneous open.
    pub(super) synacks: u8,
    /// Both sides sent a FIN before seeing the other's.
    pub(super) simultaneous_close: bool,
    /// Time of the latest SYN, and the initial RTT (SYN to the first ACK) once known.
    syn_time: Option<i128>,
    first_rtt: Option<i128>,
    /// Who sent the first FIN, and in which frame.
    first_fin: Option<(Side, u64)>,
    /// True once data after a FIN (a half-close) has been explained.
    half_close_told: bool,
    /// The stall detector.
    watch: super::stall::Watch,
    /// The frame of the latest segment.
    pub(super) last_frame: u64,
    /// Whose rules the analysis follows where Wireshark versions differ.
    pub(super) like: super::wireshark::Like,
}

/// The index of `side`'s direction in [`Conn::dirs`].
pub(super) fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl Conn {
    /// A connection nothing is known about yet but who its ends are.
    pub(super) fn new(info: ConnInfo) -> Conn {
        Conn {
            info,
            dirs: Default::default(),
            syn_ack_seen: false,
            established: false,
            ended: false,
            exchange: None,
            closing: None,
            replied: false,
            simultaneous_open: false,
            synacks: 0,
            simultaneous_close: false,
            syn_time: None,
            first_rtt: None,
            first_fin: None,
            half_close_told: false,
            watch: Default::default(),
            last_frame: 0,
            like: Default::default(),
        }
    }

    /// Follows one segment that `side` sent: its relative numbers, window, phase, decoded
    /// payload and the table it completes.
    pub(super) fn take(&mut self, frame: u64, time_ns: i128, side: Side, seg: &Segment<'_>) -> Row {
        let me = index(side);
        let other = 1 - me;
        self.last_frame = frame;
        let f = seg.flags;
        let syn = f.has(Flags::SYN);
        let ack_flag = f.has(Flags::ACK);
        let base = *self.dirs[me].base.get_or_insert(if syn {
            seg.seq
        } else {
            seg.seq.wrapping_sub(1)
        });
        if ack_flag && self.dirs[other].base.is_none() {
            self.dirs[other].base = Some(seg.ack.wrapping_sub(1));
        }
        let seq = seg.seq.wrapping_sub(base);
        let ack = match (ack_flag, self.dirs[other].base) {
            (true, Some(b)) => seg.ack.wrapping_sub(b),
            _ => seg.ack,
        };
        let win = self.window(me, seg);
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let end = data_seq.wrapping_add(seg.len);

        let analysis = self.analyze(me, frame, time_ns, seq, ack, win, seg);
        let phase = self.phase(side, seg, ack, end);
        let events = self.events(side, frame, seg, phase);
        let decoded = (seg.len > 0).then(|| self.decode(side, seg, data_seq));
        let dir = &mut self.dirs[me];
        if dir.high == 0 || (end.wrapping_sub(dir.high) as i32) > 0 {
            dir.high = end;
        }
        // The SYN uses up its own number: after it, the side stands at Seq 1.
        dir.last = (
            if syn { seq.wrapping_add(1) } else { seq },
            if ack_flag { ack } else { 0 },
        );
        dir.sent = Some(super::bookkeeping::Sent {
            frame,
            seq,
            ack,
            len: seg.len,
            flags: f,
        });
        let closed = !self.ended && self.closed(other, ack, ack_flag);
        let ends = matches!(phase, Phase::Reset) || closed;
        if ends {
            self.ended = true;
        }
        let mut events = events;
        let resent = analysis.marks.has(analysis::Mark::Retransmission)
            || analysis.marks.has(analysis::Mark::FastRetransmission);
        let keepalive = analysis.marks.has(analysis::Mark::KeepAlive);
        let stall = self
            .watch
            .segment(time_ns, frame, side, data_seq, ack, seg.len, resent);
        if let Some(stall) = stall.filter(|_| !keepalive && !syn) {
            events.push(Event::Stall(stall));
        }
        if closed {
            events.push(Event::TimeWait(match self.first_fin {
                _ if self.simultaneous_close => None,
                Some((first, _)) => Some(first),
                None => None,
            }));
        }
        let (cut_short, table) = self.bookkeep(frame, side, seg, phase, ends);
        Row {
            frame,
            time: 0.0,
            conn: 0,
            side,
            src: seg.src,
            dst: seg.dst,
            flags: f,
            seq,
            ack,
            len: seg.len,
            win,
            win_raw: seg.win,
            phase,
            decoded,
            cut_short,
            table,
            ends,
            analysis,
            events,
        }
    }

    /// Wireshark's analysis of the segment (see [`analysis`]), with the initial RTT
    /// it needs: from the latest SYN to the first ACK without SYN.
    #[allow(clippy::too_many_arguments)]
    fn analyze(
        &mut self,
        me: usize,
        frame: u64,
        time_ns: i128,
        seq: u32,
        ack: u32,
        win: u32,
        seg: &Segment<'_>,
    ) -> analysis::Analysis {
        let f = seg.flags;
        if f.has(Flags::SYN) && !f.has(Flags::ACK) {
            self.syn_time = Some(time_ns);
        } else if f.has(Flags::ACK) && !f.has(Flags::SYN) && self.first_rtt.is_none() {
            self.first_rtt = self.syn_time.map(|t| time_ns - t);
        }
        let off = self.dirs.iter().any(|d| d.scale == Scale::Off);
        let peer_shift = match self.dirs[1 - me].scale {
            Scale::Shift(s) => Some(s),
            Scale::Off => Some(0),
            Scale::Unknown => off.then_some(0),
        };
        // Wireshark takes every segment's Ack field, relative to the peer's first Seq,
        // off the peer's unacknowledged list, even a SYN's without the ACK flag (its
        // Ack field is 0, which wraps to some far-off relative number).
        let peer_base = self.dirs[1 - me].base;
        let list_ack = match peer_base {
            Some(b) => seg.ack.wrapping_sub(b),
            None => ack,
        };
        // SACK edges number the peer's bytes: relative to its first Seq, as its Seq.
        let peer = peer_base.unwrap_or(0);
        let sack = seg.sack.map(|mut sack| {
            sack.blocks = (sack.blocks).map(|(l, r)| (l.wrapping_sub(peer), r.wrapping_sub(peer)));
            sack
        });
        let seen = Seen {
            frame,
            time_ns,
            seq,
            ack,
            list_ack,
            len: seg.len,
            flags: f,
            win,
            peer_shift,
            first_rtt_ns: self.first_rtt,
            sack,
            abs_end: seg.seq.wrapping_add(seg.len),
        };
        let [a, b] = &mut self.dirs;
        let (fwd, rev) = if me == 0 { (a, b) } else { (b, a) };
        analysis::analyze(&mut fwd.flow, &mut rev.flow, &seen, self.like)
    }

    /// What the segment tells beyond its marks: a reset, a half-close, a simultaneous
    /// open or close (the TIME_WAIT note is added when the close completes).
    fn events(&mut self, side: Side, frame: u64, seg: &Segment<'_>, phase: Phase) -> Vec<Event> {
        let mut events = Vec::new();
        match phase {
            Phase::Reset => events.push(Event::Reset {
                refused: !self.established && !self.syn_ack_seen,
            }),
            Phase::SimultaneousOpen(2) => events.push(Event::SimultaneousOpen),
            Phase::SimultaneousClose(2) => {
                if let Some((_, first)) = self.first_fin {
                    events.push(Event::SimultaneousClose { first });
                }
            }
            _ => {}
        }
        if seg.flags.has(Flags::FIN) && self.first_fin.is_none() {
            self.first_fin = Some((side, frame));
        }
        if let Some((closed, fin)) = self.first_fin
            && closed != side
            && seg.len > 0
            && self.dirs[index(side)].fin.is_none()
            && !self.half_close_told
        {
            self.half_close_told = true;
            events.push(Event::HalfClose { closed, fin });
        }
        events
    }

    /// The segment's window in bytes, after noting what a SYN says about scaling.
    fn window(&mut self, me: usize, seg: &Segment<'_>) -> u32 {
        let f = seg.flags;
        if f.has(Flags::SYN) {
            // A shift over 14 is taken as 14 (RFC 7323 2.3).
            self.dirs[me].scale = seg.wscale.map_or(Scale::Off, |s| Scale::Shift(s.min(14)));
            if f.has(Flags::ACK) {
                // Both sides must offer the option, or neither window is scaled.
                if self
                    .dirs
                    .iter()
                    .any(|d| !matches!(d.scale, Scale::Shift(_)))
                {
                    self.dirs[0].scale = Scale::Off;
                    self.dirs[1].scale = Scale::Off;
                }
            }
            self.info.window_scale = self.dirs.each_ref().map(|d| match d.scale {
                Scale::Shift(s) => Some(s),
                Scale::Off | Scale::Unknown => None,
            });
            // The window in a SYN is never scaled.
            return u32::from(seg.win);
        }
        match self.dirs[me].scale {
            Scale::Shift(s) => u32::from(seg.win) << s,
            Scale::Off | Scale::Unknown => u32::from(seg.win),
        }
    }

    fn decode(&mut self, side: Side, seg: &Segment<'_>, data_seq: u32) -> String {
        let server_port = self.info.server.port();
        let proto = *self
            .info
            .proto
            .get_or_insert_with(|| Proto::guess(server_port, side, seg.payload));
        let dir = &mut self.dirs[index(side)];
        let offset = data_seq.wrapping_sub(1);
        let expected = *dir.next.get_or_insert(offset);
        let ahead = offset.wrapping_sub(expected) as i32;
        let mut note = String::new();
        let mut payload = seg.payload;
        if ahead < 0 {
            // Some or all of these bytes were seen before.
            let seen = ahead.unsigned_abs() as usize;
            if seen >= payload.len() {
                return format!("(already seen) {}", decode::raw(payload));
            }
            payload = &payload[seen..];
        } else if ahead > 0 {
            let missing = crate::plural(ahead, "byte");
            note = format!(" ({missing} missing before this segment)");
            dir.pending.clear();
        }
        let carried = dir.pending.len();
        dir.pending.extend_from_slice(payload);
        let (mut text, used) = decode::describe(proto, side, &dir.pending);
        dir.pending.drain(..used);
        dir.next = Some(offset.wrapping_add(seg.len));
        if seg.payload.len() < seg.len as usize {
            // The snap length cut this payload: what follows cannot be reassembled.
            dir.pending.clear();
            note.push_str(" (payload cut by the capture's snap length)");
        }
        if carried > 0 && used > 0 {
            let bytes = crate::plural(carried, "byte");
            text.push_str(&format!(" (with {bytes} from an earlier segment)"));
        }
        let left = dir.pending.len();
        if left > 0 {
            let then = if text.is_empty() { "" } else { ", then " };
            let bytes = crate::plural(left, "byte");
            text.push_str(&format!("{then}{bytes} of an incomplete message"));
        }
        if left > MAX_PENDING {
            dir.pending.clear();
        }
        text + &note
    }
}
