//! Connection tracking: which segments belong together, who is client and server,
//! relative sequence and acknowledgement numbers, the phase of each segment, the
//! reassembled byte streams the decoders read, and the handout's bookkeeping table.
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

use crate::decode::{self, Proto, Side};
use crate::packet::{Flags, Segment};
use std::collections::HashMap;
use std::net::SocketAddr;

/// The most bytes of an incomplete message kept for a direction before giving up on it.
pub const MAX_PENDING: usize = 64 * 1024;

/// The most rows a bookkeeping table keeps (a bulk transfer is one long exchange).
pub const MAX_TABLE_ROWS: usize = 8;

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

/// Where each side stands, as the handout's Server Seq / Server Ack / Client Seq /
/// Client Ack tables list it.
///
/// The definition: **a side's Seq and Ack are the (relative) Seq and Ack fields of the
/// last segment that side sent, where a SYN counts as Seq 1** (the SYN uses up
/// sequence number 0), so the handshake leaves both sides at Seq 1 Ack 1. Ack is 0
/// until the side has sent a segment with the ACK flag.
///
/// Why the SYN rule: after a Linux handshake the server's last segment is its SYN/ACK
/// (Seq=0 Ack=1); macOS sends one more `[TCP Window Update]` ACK (Seq=1 Ack=1), which
/// the handout's capture shows. Counting the SYN as Seq 1 gives the handout's first two
/// tables on both systems: after the client sends "0" (Seq=1 Len=4), 1/1/1/1; after the
/// server's ACK (Seq=1 Ack=5), 1/5/1/1.
///
/// The handout's tables 3 and 4 do not follow any one definition, and labtrace does not
/// copy them. After the server's reply (Seq=1 Ack=5 Len=23) it gives the client Seq 5
/// Ack 23, values the client has not sent yet (its next segment says Seq=5 Ack=24);
/// after that ACK it gives the server Seq 23, its next sequence number (which is 24,
/// 1 + 23). labtrace shows, by the definition above, 1/5/1/1 after the reply and
/// 1/5/5/24 after the client's ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bookkeeping {
    /// Server's Seq.
    pub server_seq: u32,
    /// Server's Ack.
    pub server_ack: u32,
    /// Client's Seq.
    pub client_seq: u32,
    /// Client's Ack.
    pub client_ack: u32,
}

/// One row of a bookkeeping table: which segment, and the table after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// The segment's frame number.
    pub frame: u64,
    /// Who sent it.
    pub side: Side,
    /// Its flags in tcpdump notation.
    pub flags: String,
    /// Its payload length.
    pub len: u32,
    /// The table after it.
    pub book: Bookkeeping,
}

/// What a bookkeeping table follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// A data exchange: a request, its reply and their ACKs (the handout's step 2).
    Exchange,
    /// The FIN/ACK close (the handout's step 3), with a reset that ends it.
    Close,
}

/// A finished data exchange or close: the rows of the handout's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// What the table follows.
    pub kind: TableKind,
    /// The first rows (at most [`MAX_TABLE_ROWS`]).
    pub rows: Vec<TableRow>,
    /// How many more segments the exchange had.
    pub more: usize,
    /// The table after the exchange's last segment.
    pub last: Bookkeeping,
}

/// Everything labtrace shows about one TCP segment.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based frame number in the file.
    pub frame: u64,
    /// Seconds since the first packet of the file.
    pub time: f64,
    /// The connection's number (1-based, in order of first appearance).
    pub conn: usize,
    /// Who sent the segment.
    pub side: Side,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// The flags.
    pub flags: Flags,
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgement number (raw when the ACK flag is off, as Wireshark does).
    pub ack: u32,
    /// Payload length.
    pub len: u32,
    /// Advertised window in bytes, scaled as Wireshark's `tcp.window_size`: the header's
    /// value shifted left by the sender's window scale when both SYNs agreed on scaling
    /// (a SYN's own window is never scaled); the header's value when scaling is off or
    /// unknown (the SYNs are not in the capture).
    pub win: u32,
    /// The window field as in the header (Wireshark's `tcp.window_size_value`).
    pub win_raw: u16,
    /// The phase label.
    pub phase: Phase,
    /// What the payload says, if the segment has one.
    pub decoded: Option<String>,
    /// A data exchange that this segment cut short (a FIN or a reset before the
    /// exchange settled); the table does not include this segment.
    pub cut_short: Option<Table>,
    /// The data exchange or close that this segment completed, this segment included.
    pub table: Option<Table>,
    /// True when this segment ends the connection (last ACK of the close, or a reset).
    pub ends: bool,
}

/// What a connection is, for headers.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The connection's number.
    pub id: usize,
    /// The side that connected.
    pub client: SocketAddr,
    /// The side that accepted.
    pub server: SocketAddr,
    /// The protocol its payload was decoded as (None until data is seen).
    pub proto: Option<Proto>,
    /// The window scale shift count applied to the windows the client and the server
    /// send (in that order): `Some` once the side's SYN offered it and, if the SYN/ACK
    /// was seen, both sides did (Wireshark does the same).
    pub window_scale: [Option<u8>; 2],
}

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

#[derive(Debug, Default)]
struct Direction {
    base: Option<u32>,
    /// Stream offset (relative seq - 1) of the next byte expected.
    next: Option<u32>,
    /// Bytes of a message not complete yet.
    pending: Vec<u8>,
    /// Highest relative sequence end sent (seq + len).
    high: u32,
    /// The last relative Seq/Ack this side sent, a SYN counted as Seq 1 (see
    /// [`Bookkeeping`]).
    last: (u32, u32),
    /// Relative seq of this side's FIN.
    fin: Option<u32>,
    /// True once this side's FIN was acknowledged and the ACK given a phase.
    fin_acked: bool,
    /// Window scaling as this side's SYN set it.
    scale: Scale,
}

#[derive(Debug)]
struct Conn {
    info: ConnInfo,
    dirs: [Direction; 2],
    syn_ack_seen: bool,
    established: bool,
    ended: bool,
    exchange: Option<Table>,
    /// The close's table, from the first FIN on.
    closing: Option<Table>,
    /// The server has sent data in the current exchange (its reply).
    replied: bool,
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// Follows every TCP connection of a capture.
pub struct Tracker {
    proto: Option<Proto>,
    port: Option<u16>,
    conns: HashMap<(SocketAddr, SocketAddr), usize>,
    list: Vec<Conn>,
    first_ns: Option<i128>,
    /// Ports of the segments the port filter dropped, in order of first appearance.
    dropped_ports: Vec<u16>,
}

/// The most ports [`Tracker::dropped_ports`] remembers.
pub const MAX_DROPPED_PORTS: usize = 12;

impl Tracker {
    /// A tracker that decodes with `proto` (None = guess per connection) and, when `port`
    /// is given, keeps only segments to or from that port.
    ///
    /// The port does not decide who is the server: the side that sent the SYN is the
    /// client. Only for a connection whose handshake is not in the capture is the side
    /// with `port` taken as the server (without a filter: the side with the lower port).
    pub fn new(proto: Option<Proto>, port: Option<u16>) -> Tracker {
        Tracker {
            proto,
            port,
            conns: HashMap::new(),
            list: Vec::new(),
            first_ns: None,
            dropped_ports: Vec::new(),
        }
    }

    /// The ports of the segments the port filter dropped (both ends, in order of first
    /// appearance, at most [`MAX_DROPPED_PORTS`]): what to suggest when it kept nothing.
    pub fn dropped_ports(&self) -> &[u16] {
        &self.dropped_ports
    }

    /// The connection with number `id`.
    pub fn conn(&self, id: usize) -> Option<&ConnInfo> {
        self.list.get(id.checked_sub(1)?).map(|c| &c.info)
    }

    /// How many connections were seen.
    pub fn connections(&self) -> usize {
        self.list.len()
    }

    /// Notes the time of a packet that is not TCP, so times stay relative to the file's
    /// first packet.
    pub fn saw_packet(&mut self, time_ns: i128) {
        self.first_ns.get_or_insert(time_ns);
    }

    /// Takes one segment; `None` if the port filter drops it.
    pub fn segment(&mut self, frame: u64, time_ns: i128, seg: &Segment<'_>) -> Option<Row> {
        let first = *self.first_ns.get_or_insert(time_ns);
        if let Some(p) = self.port
            && seg.src.port() != p
            && seg.dst.port() != p
        {
            for port in [seg.src.port(), seg.dst.port()] {
                if self.dropped_ports.len() < MAX_DROPPED_PORTS
                    && !self.dropped_ports.contains(&port)
                {
                    self.dropped_ports.push(port);
                }
            }
            return None;
        }
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let fresh_syn = seg.flags.has(Flags::SYN) && !seg.flags.has(Flags::ACK);
        let id = match self.conns.get(&key) {
            // A SYN on a finished connection's addresses is a new connection.
            Some(&id) if !(fresh_syn && self.list[id - 1].ended) => id,
            _ => {
                let id = self.list.len() + 1;
                let client_sent = if seg.flags.has(Flags::SYN) {
                    !seg.flags.has(Flags::ACK)
                } else if let Some(p) = self.port {
                    seg.dst.port() == p
                } else {
                    seg.dst.port() < seg.src.port()
                };
                let (client, server) = if client_sent {
                    (seg.src, seg.dst)
                } else {
                    (seg.dst, seg.src)
                };
                self.list.push(Conn {
                    info: ConnInfo {
                        id,
                        client,
                        server,
                        proto: self.proto,
                        window_scale: [None; 2],
                    },
                    dirs: Default::default(),
                    syn_ack_seen: false,
                    established: false,
                    ended: false,
                    exchange: None,
                    closing: None,
                    replied: false,
                });
                self.conns.insert(key, id);
                id
            }
        };
        let conn = &mut self.list[id - 1];
        let side = if seg.src == conn.info.client {
            Side::Client
        } else {
            Side::Server
        };
        let mut row = conn.take(frame, side, seg);
        row.time = (time_ns - first) as f64 / 1e9;
        row.conn = id;
        Some(row)
    }

    /// Ends the capture: the exchanges and closes still open, per connection, as final
    /// tables (a connection's exchange before its close).
    pub fn finish(&mut self) -> Vec<(usize, Table)> {
        self.list
            .iter_mut()
            .flat_map(|c| {
                let id = c.info.id;
                [c.exchange.take(), c.closing.take()]
                    .into_iter()
                    .flatten()
                    .map(move |t| (id, t))
            })
            .collect()
    }
}

impl Conn {
    fn take(&mut self, frame: u64, side: Side, seg: &Segment<'_>) -> Row {
        let me = index(side);
        let other = 1 - me;
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

        let phase = self.phase(side, seg, seq, ack, end);
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
        let ends = matches!(phase, Phase::Reset)
            || (phase == Phase::Close(4) && self.dirs.iter().all(|d| d.fin_acked));
        if ends {
            self.ended = true;
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
        }
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

    fn phase(&mut self, side: Side, seg: &Segment<'_>, _seq: u32, ack: u32, end: u32) -> Phase {
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
            note = format!(" ({ahead} bytes missing before this segment)");
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
            text.push_str(&format!(" (with {carried} bytes from an earlier segment)"));
        }
        let left = dir.pending.len();
        if left > 0 {
            if !text.is_empty() {
                text.push_str(", then ");
            }
            text.push_str(&format!("{left} bytes of an incomplete message"));
        }
        if left > MAX_PENDING {
            dir.pending.clear();
        }
        text + &note
    }

    /// Adds the segment to the table it belongs to: the current data exchange, or the
    /// close. Returns the exchange the segment cut short and the table it completed.
    fn bookkeep(
        &mut self,
        frame: u64,
        side: Side,
        seg: &Segment<'_>,
        phase: Phase,
        ends: bool,
    ) -> (Option<Table>, Option<Table>) {
        let book = Bookkeeping {
            server_seq: self.dirs[1].last.0,
            server_ack: self.dirs[1].last.1,
            client_seq: self.dirs[0].last.0,
            client_ack: self.dirs[0].last.1,
        };
        let row = TableRow {
            frame,
            side,
            flags: seg.flags.tcpdump(),
            len: seg.len,
            book,
        };
        match phase {
            Phase::Data | Phase::Retransmission | Phase::Ack => {}
            Phase::Close(_) | Phase::CloseAckAndFin | Phase::FinAgain | Phase::Reset => {
                self.replied = false;
                let cut = self.exchange.take();
                // A reset outside a close ends the connection without a close table.
                if phase != Phase::Reset || self.closing.is_some() {
                    push(&mut self.closing, TableKind::Close, row);
                }
                let done = if ends { self.closing.take() } else { None };
                return (cut, done);
            }
            Phase::Handshake(_) => {
                self.replied = false;
                return (self.exchange.take(), None);
            }
        }
        if self.exchange.is_none() && seg.len == 0 {
            return (None, None);
        }
        push(&mut self.exchange, TableKind::Exchange, row);
        if side == Side::Server && seg.len > 0 {
            self.replied = true;
        }
        // The exchange (request, reply and their ACKs, as in the handout) is over when
        // the server has replied and each side has acknowledged all the other sent.
        let settled = seg.len == 0
            && self.replied
            && book.client_ack == self.dirs[1].high
            && book.server_ack == self.dirs[0].high;
        if settled {
            self.replied = false;
            (None, self.exchange.take())
        } else {
            (None, None)
        }
    }
}

/// Appends `row` to the table in `slot`, starting one of `kind` if there is none; past
/// [`MAX_TABLE_ROWS`] rows only counts it and keeps its numbers as the table's last.
fn push(slot: &mut Option<Table>, kind: TableKind, row: TableRow) {
    let t = slot.get_or_insert(Table {
        kind,
        rows: Vec::new(),
        more: 0,
        last: row.book,
    });
    t.last = row.book;
    if t.rows.len() < MAX_TABLE_ROWS {
        t.rows.push(row);
    } else {
        t.more += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8) -> Segment<'static> {
        Segment {
            src,
            dst,
            seq,
            ack,
            flags: Flags(flags),
            win: 100,
            wscale: None,
            len: 0,
            payload: b"",
        }
    }

    fn with_data(mut g: Segment<'static>, data: &'static [u8]) -> Segment<'static> {
        g.len = data.len() as u32;
        g.payload = data;
        g
    }

    /// The handout's session (ports 59538 → 1235, its ISNs) as Linux sends it: no window
    /// update after the handshake. Its tables 1 and 2 come out exactly; its close goes
    /// from 37/171 to 38/172 for the client.
    #[test]
    fn the_handouts_tables_on_a_linux_handshake() {
        let (c, s): (SocketAddr, SocketAddr) = (
            "127.0.0.1:59538".parse().unwrap(),
            "127.0.0.1:1235".parse().unwrap(),
        );
        let (ci, si) = (0xc136_865au32, 0x19d1_2af0u32);
        let (a, p, f, sy) = (Flags::ACK, Flags::PSH, Flags::FIN, Flags::SYN);
        let reply = b"New number generated: 8";
        let mut t = Tracker::new(None, None);
        let mut rows = Vec::new();
        for g in [
            seg(c, s, ci, 0, sy),
            seg(s, c, si, ci + 1, sy | a),
            seg(c, s, ci + 1, si + 1, a),
            with_data(seg(c, s, ci + 1, si + 1, p | a), &[0; 4]),
            seg(s, c, si + 1, ci + 5, a),
            with_data(seg(s, c, si + 1, ci + 5, p | a), reply),
            seg(c, s, ci + 5, si + 24, a),
            // Skip to the handout's close: the client's FIN at Seq=37 Ack=171.
            seg(c, s, ci + 37, si + 171, f | a),
            seg(s, c, si + 171, ci + 38, a),
            seg(s, c, si + 171, ci + 38, f | a),
            seg(c, s, ci + 38, si + 172, a),
        ] {
            rows.push(t.segment(rows.len() as u64 + 1, 0, &g).unwrap());
        }
        let book = |t: &Table| -> Vec<[u32; 4]> {
            t.rows
                .iter()
                .map(|r| {
                    let b = r.book;
                    [b.server_seq, b.server_ack, b.client_seq, b.client_ack]
                })
                .collect()
        };
        let data = rows[6].table.as_ref().expect("the exchange's table");
        assert_eq!(data.kind, TableKind::Exchange);
        assert_eq!(
            book(data),
            [[1, 1, 1, 1], [1, 5, 1, 1], [1, 5, 1, 1], [1, 5, 5, 24]]
        );
        let close = rows[10].table.as_ref().expect("the close's table");
        assert_eq!(close.kind, TableKind::Close);
        assert_eq!(
            book(close),
            [
                [1, 5, 37, 171],
                [171, 38, 37, 171],
                [171, 38, 37, 171],
                [171, 38, 38, 172]
            ]
        );
        assert!(rows.iter().all(|r| r.cut_short.is_none()));
    }

    /// Without the handshake, the port filter's side is the server, whichever port is
    /// higher; with it, the SYN decides.
    #[test]
    fn the_port_decides_the_server_only_without_a_syn() {
        let (lo, hi): (SocketAddr, SocketAddr) = (
            "127.0.0.1:1235".parse().unwrap(),
            "127.0.0.1:59538".parse().unwrap(),
        );
        let mut t = Tracker::new(None, Some(59538));
        let row = t.segment(1, 0, &seg(lo, hi, 100, 200, Flags::ACK)).unwrap();
        assert_eq!(row.side, Side::Client);
        assert_eq!(t.conn(1).unwrap().server, hi);
        let mut t = Tracker::new(None, Some(59538));
        let row = t.segment(1, 0, &seg(hi, lo, 100, 0, Flags::SYN)).unwrap();
        assert_eq!(row.side, Side::Client);
        assert_eq!(t.conn(1).unwrap().server, lo);
        let other: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        assert!(t.segment(2, 0, &seg(other, lo, 1, 0, Flags::SYN)).is_none());
        assert_eq!(t.dropped_ports(), [40000, 1235]);
    }

    #[test]
    fn a_fin_that_acknowledges_the_other_fin_is_close_2_and_3() {
        let (c, s): (SocketAddr, SocketAddr) = (
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:9877".parse().unwrap(),
        );
        let (a, f, sy) = (Flags::ACK, Flags::FIN, Flags::SYN);
        let mut t = Tracker::new(None, None);
        let phases: Vec<String> = [
            seg(c, s, 10, 0, sy),
            seg(s, c, 50, 11, sy | a),
            seg(c, s, 11, 51, a),
            seg(c, s, 11, 51, f | a),
            seg(s, c, 51, 12, f | a),
            seg(c, s, 12, 52, a),
        ]
        .iter()
        .enumerate()
        .map(|(i, g)| t.segment(i as u64 + 1, 0, g).unwrap().phase.to_string())
        .collect();
        assert_eq!(
            phases,
            [
                "handshake 1/3",
                "handshake 2/3",
                "handshake 3/3",
                "close 1/4",
                "close 2+3/4",
                "close 4/4"
            ]
        );
    }
}
