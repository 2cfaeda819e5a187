//! Connection tracking: which segments belong together, who is client and server, and
//! what labtrace shows about each segment (a [`Row`]).
//!
//! | module | what it teaches |
//! |---|---|
//! | [`conn`] | one connection's two byte streams: relative Seq/Ack as Wireshark shows them, scaled windows, the reassembled bytes the decoders read |
//! | [`phase`] | where a segment stands in the connection's life: handshake, data, ACK, close, reset |
//! | [`analysis`] | Wireshark's `tcp.analysis.*` marks and the RTT of each ACK, by Wireshark's rules |
//! | [`marks`] | the marks, named as Wireshark's flags |
//! | [`wireshark`] | where Wireshark 4.0 and 4.4 mark differently: the version, its five rules |
//! | [`explain`] | one student sentence per mark and per event of the connection's life |
//! | [`stall`] | idle gaps inside a connection and their cause: Nagle + delayed ACK, a timeout, a slow answer |
//! | [`bookkeeping`] | the handout's Server/Client Seq/Ack tables, one per data exchange and one for the close |
//!
//! This module holds the [`Tracker`], the table of a capture's connections, and the rows
//! it hands the views.

pub mod analysis;
pub mod bookkeeping;
pub mod conn;
pub mod explain;
pub mod marks;
pub mod phase;
pub mod stall;
#[cfg(test)]
mod tests;
pub mod wireshark;

pub use bookkeeping::{Bookkeeping, MAX_TABLE_ROWS, Sent, Table, TableKind, TableRow};
pub use conn::MAX_PENDING;
pub use phase::Phase;

use crate::decode::{Proto, Side};
use crate::packet::{Flags, Segment};
use conn::Conn;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

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
    /// Wireshark's analysis of the segment: its marks and the RTT of what it acknowledges.
    pub analysis: analysis::Analysis,
    /// What else the segment tells: a reset, a half-close, a simultaneous open or
    /// close, who ends in TIME_WAIT.
    pub events: Vec<explain::Event>,
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

/// Follows every TCP connection of a capture.
pub struct Tracker {
    proto: Option<Proto>,
    port: Option<u16>,
    conns: HashMap<(SocketAddr, SocketAddr), usize>,
    /// The connections not released yet, by number.
    list: HashMap<usize, Conn>,
    /// How many connections were seen.
    count: usize,
    /// Ended connections, oldest first, kept a while for their stragglers (a last
    /// duplicate ACK), then released: memory follows open connections, not the file.
    ended: VecDeque<usize>,
    first_ns: Option<i128>,
    /// Ports of the segments the port filter dropped, in order of first appearance.
    dropped_ports: Vec<u16>,
    /// Whose rules the analysis follows where Wireshark versions differ.
    like: wireshark::Like,
}

/// How many ended connections are kept before the oldest is released.
pub const KEEP_ENDED: usize = 256;

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
            list: HashMap::new(),
            count: 0,
            ended: VecDeque::new(),
            first_ns: None,
            dropped_ports: Vec::new(),
            like: wireshark::Like::default(),
        }
    }

    /// The tracker, marking segments as Wireshark `like` does where versions differ
    /// (see [`wireshark`]; without this, as the newer one).
    pub fn like(mut self, like: wireshark::Like) -> Tracker {
        self.like = like;
        self
    }

    /// The ports of the segments the port filter dropped (both ends, in order of first
    /// appearance, at most [`MAX_DROPPED_PORTS`]): what to suggest when it kept nothing.
    pub fn dropped_ports(&self) -> &[u16] {
        &self.dropped_ports
    }

    /// The connection with number `id`.
    pub fn conn(&self, id: usize) -> Option<&ConnInfo> {
        self.list.get(&id).map(|c| &c.info)
    }

    /// How many connections were seen.
    pub fn connections(&self) -> usize {
        self.count
    }

    /// Notes that connection `id` ended and was shown: once [`KEEP_ENDED`] newer ones
    /// have ended, it is released (a segment on its addresses then starts a new one).
    pub fn release(&mut self, id: usize) {
        self.ended.push_back(id);
        while self.ended.len() > KEEP_ENDED {
            let Some(old) = self.ended.pop_front() else {
                break;
            };
            if let Some(c) = self.list.remove(&old) {
                let (a, b) = (c.info.client, c.info.server);
                let key = if a <= b { (a, b) } else { (b, a) };
                if self.conns.get(&key) == Some(&old) {
                    self.conns.remove(&key);
                }
            }
        }
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
            Some(&id) if !(fresh_syn && self.list.get(&id).is_none_or(|c| c.ended)) => id,
            _ => {
                self.count += 1;
                let id = self.count;
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
                let mut conn = Conn::new(ConnInfo {
                    id,
                    client,
                    server,
                    proto: self.proto,
                    window_scale: [None; 2],
                });
                conn.like = self.like;
                self.list.insert(id, conn);
                self.conns.insert(key, id);
                id
            }
        };
        let conn = self.list.get_mut(&id)?;
        let side = if seg.src == conn.info.client {
            Side::Client
        } else {
            Side::Server
        };
        let mut row = conn.take(frame, time_ns, side, seg);
        row.time = (time_ns - first) as f64 / 1e9;
        row.conn = id;
        Some(row)
    }

    /// The exchanges and closes still open, as [`Tracker::finish`] lists them, left in
    /// place (for a second view of the same trace).
    pub fn open_tables(&self) -> Vec<(usize, Table)> {
        let mut open: Vec<&Conn> = self.list.values().collect();
        open.sort_by_key(|c| c.info.id);
        open.into_iter()
            .flat_map(|c| {
                let id = c.info.id;
                [c.exchange.clone(), c.closing.clone()]
                    .into_iter()
                    .flatten()
                    .map(move |t| (id, t))
            })
            .collect()
    }

    /// The connections the capture shows no end of, neither a FIN nor a RST (see
    /// [`explain::NO_CLOSE`]), by number, each with the frame of its last segment.
    pub fn unclosed(&self) -> Vec<(usize, u64)> {
        let mut open: Vec<(usize, u64)> = self
            .list
            .values()
            .filter(|c| !c.ended && c.dirs.iter().all(|d| d.fin.is_none()))
            .map(|c| (c.info.id, c.last_frame))
            .collect();
        open.sort_unstable();
        open
    }

    /// Ends the capture: the exchanges and closes still open, per connection, as final
    /// tables (a connection's exchange before its close).
    pub fn finish(&mut self) -> Vec<(usize, Table)> {
        let open = self.open_tables();
        for c in self.list.values_mut() {
            c.exchange = None;
            c.closing = None;
        }
        open
    }
}
