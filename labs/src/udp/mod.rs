//! UDP in a capture: datagrams grouped into *flows* (one per pair of address and port),
//! the ICMP errors that answer them, and what the lab's UDP protocols say.
//!
//! | module | what it teaches |
//! |---|---|
//! | [`wire`] | the 8-byte UDP header, its length checked against IP's; ICMP "unreachable" quoting a datagram; IP fragments |
//! | [`proto`] | which lab protocol a flow speaks (by port, then by content), and what one datagram says |
//! | [`lab`] | the echo's requests paired with their echoes; the course's upload, chunk by chunk |
//! | [`numbered`] | sequence numbers: gaps, reordering, copies; rft's retransmissions and duplicate ACKs |
//! | [`flow`] | one flow: its lines, its counts each way, its protocol's state |
//! | [`explain`] | one student sentence per mark |
//! | [`build`] | UDP packets, ICMP errors and fragments built by hand (tests, fuzzing) |
//!
//! UDP has no connection: no handshake names a client, and no close ends a flow. The
//! side that sent a flow's first datagram is its client, unless the other side's port
//! says it is a server (`--port`, a lab program's default port, or a port below 1024);
//! every flow is told at the end of the capture, after the TCP connections.

pub mod build;
pub mod explain;
pub mod flow;
pub mod lab;
pub mod numbered;
pub mod proto;
#[cfg(test)]
mod tests;
pub mod wire;

pub use flow::{Flow, FlowInfo, Line, What};

use crate::decode::{Proto, Side};
use explain::Mark;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use wire::{Packet, Reason};

/// The most lines all flows keep for the text view (about 100 bytes each); the counts
/// and the analysis go on beyond it, and `--format json` shows every datagram.
pub const MAX_LINES: usize = 100_000;

/// The most fragmented datagrams whose first fragment names the flow of the next ones.
const FRAGMENTED: usize = 4096;

/// Follows every UDP flow of a capture.
pub struct Flows {
    proto: Option<Proto>,
    port: Option<u16>,
    keys: HashMap<(SocketAddr, SocketAddr), usize>,
    flows: Vec<Flow>,
    fragments: HashMap<(IpAddr, IpAddr, u32), usize>,
    held: usize,
    dropped_ports: Vec<u16>,
    /// UDP datagrams, ICMP errors and fragments shown.
    pub shown: u64,
    /// Fragments that belong to no flow (their first fragment is not in the capture).
    pub unplaced: u64,
}

impl Flows {
    /// Flows decoded as `proto` (None: guessed per flow), only those with `port` if given.
    pub fn new(proto: Option<Proto>, port: Option<u16>) -> Flows {
        Flows {
            proto,
            port,
            keys: HashMap::new(),
            flows: Vec::new(),
            fragments: HashMap::new(),
            held: 0,
            dropped_ports: Vec::new(),
            shown: 0,
            unplaced: 0,
        }
    }

    /// The flows, by number.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    /// The ports of the datagrams the port filter dropped (as [`crate::tcp::Tracker::dropped_ports`]).
    pub fn dropped_ports(&self) -> &[u16] {
        &self.dropped_ports
    }

    /// UDP datagrams shown.
    pub fn datagrams(&self) -> u64 {
        self.flows
            .iter()
            .map(|f| f.datagrams[0] + f.datagrams[1])
            .sum()
    }

    /// ICMP errors shown.
    pub fn errors(&self) -> u64 {
        self.flows.iter().map(|f| f.errors).sum()
    }

    /// IP fragments shown.
    pub fn fragment_count(&self) -> u64 {
        self.flows.iter().map(|f| f.fragments).sum()
    }

    /// Takes one packet; `None` when the port filter drops it, or for a fragment of no
    /// flow seen (counted in [`Flows::unplaced`]).
    pub fn packet(&mut self, frame: u64, time: f64, p: &Packet<'_>) -> Option<Line> {
        let (flow, side, what, text, marks, echo_of) = match p {
            Packet::Datagram(d) => {
                let (id, side) = self.flow_of(d.src, d.dst)?;
                let told = self.flows[id - 1].datagram(frame, side, d);
                let what = What::Datagram {
                    src: d.src,
                    dst: d.dst,
                    length: d.length,
                    len: d.len,
                    captured: d.payload.len(),
                };
                (id, side, what, told.text, told.marks, told.echo_of)
            }
            Packet::Unreachable(u) => {
                let (id, side) = self.flow_of(u.src, u.dst)?;
                // The error goes back to the datagram's sender: the other side's direction.
                let side = match side {
                    Side::Client => Side::Server,
                    Side::Server => Side::Client,
                };
                let quotes = self.flows[id - 1].unreachable(u);
                let what = What::Icmp {
                    from: u.from,
                    to: u.to,
                    reason: u.reason,
                    quotes,
                };
                let text = match quotes {
                    Some(f) => format!("ICMP {} for #{f}", reason_name(u.reason)),
                    None => format!("ICMP {} for a datagram to {}", reason_name(u.reason), u.dst),
                };
                let mark = Mark::Unreachable {
                    reason: u.reason,
                    quotes,
                    dst: u.dst,
                };
                (id, side, what, text, vec![mark], None)
            }
            Packet::Fragment(f) => {
                let key = (f.src, f.dst, f.id);
                let (id, side) = match f.udp {
                    Some((sport, dport, _)) => {
                        let at = self.flow_of(
                            SocketAddr::new(f.src, sport),
                            SocketAddr::new(f.dst, dport),
                        )?;
                        if self.fragments.len() < FRAGMENTED {
                            self.fragments.insert(key, at.0);
                        }
                        at
                    }
                    None => {
                        let Some(&id) = self.fragments.get(&key) else {
                            self.unplaced += 1;
                            return None;
                        };
                        let flow = &self.flows[id - 1];
                        let side = if flow.info.client.ip() == f.src {
                            Side::Client
                        } else {
                            Side::Server
                        };
                        (id, side)
                    }
                };
                self.flows[id - 1].fragments += 1;
                let what = What::Fragment {
                    src: f.src,
                    dst: f.dst,
                    offset: f.offset,
                    len: f.len,
                };
                let text = format!(
                    "IP fragment @{}{}",
                    f.offset,
                    if f.more {
                        ", more follow"
                    } else {
                        ", the last"
                    }
                );
                let mark = Mark::Fragment {
                    offset: f.offset,
                    last: !f.more,
                    length: f.udp.map(|u| u.2),
                };
                (id, side, what, text, vec![mark], None)
            }
        };
        self.keep(Line {
            frame,
            time,
            flow,
            side,
            what,
            text,
            marks,
            echo_of,
        })
    }

    /// Counts a line and keeps it for the text view while there is room.
    fn keep(&mut self, line: Line) -> Option<Line> {
        self.shown += 1;
        let flow = &mut self.flows[line.flow - 1];
        if self.held < MAX_LINES {
            self.held += 1;
            flow.lines.push(line.clone());
        } else {
            flow.hidden += 1;
        }
        Some(line)
    }

    /// The flow of a datagram from `src` to `dst` (made if new), and which side sent
    /// it; `None` when the port filter drops it.
    fn flow_of(&mut self, src: SocketAddr, dst: SocketAddr) -> Option<(usize, Side)> {
        if let Some(p) = self.port
            && src.port() != p
            && dst.port() != p
        {
            for port in [src.port(), dst.port()] {
                if self.dropped_ports.len() < crate::tcp::MAX_DROPPED_PORTS
                    && !self.dropped_ports.contains(&port)
                {
                    self.dropped_ports.push(port);
                }
            }
            return None;
        }
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let id = match self.keys.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.flows.len() + 1;
                let (client, server) = if self.server_sent(src, dst) {
                    (dst, src)
                } else {
                    (src, dst)
                };
                self.flows.push(Flow::new(FlowInfo {
                    id,
                    client,
                    server,
                    proto: self.proto,
                }));
                self.keys.insert(key, id);
                id
            }
        };
        let side = if self.flows[id - 1].info.client == src {
            Side::Client
        } else {
            Side::Server
        };
        Some((id, side))
    }

    /// True when the first datagram of a flow, from `src` to `dst`, was the server's.
    fn server_sent(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        let named = |a: SocketAddr| {
            self.port == Some(a.port())
                || (self.port.is_none() && proto::by_port(a.port()).is_some())
        };
        match (named(src), named(dst)) {
            (true, false) => true,
            (false, true) => false,
            _ => src.port() < 1024 && dst.port() >= 1024,
        }
    }

    /// Ends the capture: each flow's protocol says what it still has to say.
    pub fn finish(&mut self) {
        for flow in &mut self.flows {
            flow.finish();
        }
    }
}

/// How the text view names an ICMP error's reason.
pub fn reason_name(reason: Reason) -> String {
    match reason {
        Reason::Port => "port unreachable".into(),
        Reason::Host => "host unreachable".into(),
        Reason::Net => "network unreachable".into(),
        Reason::Prohibited => "administratively prohibited".into(),
        Reason::Other(c) => format!("destination unreachable (code {c})"),
    }
}
