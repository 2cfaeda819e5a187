//! One UDP flow: the lines labtrace shows (a datagram, an ICMP error about one, an IP
//! fragment), the counts each way, and what the flow's protocol remembers.

use super::explain::Mark;
use super::lab::{self, Seen, State};
use super::{proto, wire};
use crate::decode::{Proto, Side};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use wire::Reason;

/// What labtrace shows about one datagram, ICMP error or fragment of a flow.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based frame number in the file.
    pub frame: u64,
    /// Seconds since the file's first packet.
    pub time: f64,
    /// The flow's number (1-based, in order of first appearance).
    pub flow: usize,
    /// Which way it goes.
    pub side: Side,
    /// What it is.
    pub what: What,
    /// The payload column: what the datagram says in its flow's protocol.
    pub text: String,
    /// What the analysis marks on it.
    pub marks: Vec<Mark>,
    /// For an echo: the frame of its request.
    pub echo_of: Option<u64>,
}

/// The kinds of line in a flow.
#[derive(Debug, Clone, Copy)]
pub enum What {
    /// A UDP datagram.
    Datagram {
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// The UDP length field.
        length: u16,
        /// Payload bytes on the wire.
        len: usize,
        /// Payload bytes in the file.
        captured: usize,
    },
    /// An ICMP error about a datagram of the flow.
    Icmp {
        /// The host that sent it.
        from: IpAddr,
        /// The host it went to.
        to: IpAddr,
        /// Why.
        reason: Reason,
        /// The frame of the datagram it quotes.
        quotes: Option<u64>,
    },
    /// An IP fragment of a datagram of the flow.
    Fragment {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Byte offset in the datagram.
        offset: u32,
        /// Bytes it carries.
        len: usize,
    },
}

/// A flow's two ends and protocol.
#[derive(Debug, Clone)]
pub struct FlowInfo {
    /// The flow's number.
    pub id: usize,
    /// The side taken as the client.
    pub client: SocketAddr,
    /// The side taken as the server.
    pub server: SocketAddr,
    /// The protocol it is decoded as (None until a datagram with a payload).
    pub proto: Option<Proto>,
}

/// One flow: its lines (up to [`super::MAX_LINES`] over all flows) and its counts.
#[derive(Debug)]
pub struct Flow {
    /// Who and what.
    pub info: FlowInfo,
    /// Its lines in capture order.
    pub lines: Vec<Line>,
    /// Lines not kept (over [`super::MAX_LINES`]).
    pub hidden: u64,
    /// Datagrams client → server, server → client.
    pub datagrams: [u64; 2],
    /// Payload bytes client → server, server → client.
    pub bytes: [u64; 2],
    /// ICMP errors.
    pub errors: u64,
    /// IP fragments.
    pub fragments: u64,
    /// Datagrams the snap length cut.
    pub snapped: u64,
    /// Datagrams that do not look like the flow's protocol ([`super::proto::shape`]).
    pub unlike: u64,
    /// What the flow's protocol says at the end (filled by [`super::Flows::finish`]).
    pub summary: Vec<String>,
    /// Marks given at the end to earlier lines: (frame, mark).
    pub late_marks: Vec<(u64, Mark)>,
    state: Option<State>,
    /// The protocol came from `--proto`, not from a guess.
    forced: bool,
    /// The last datagrams (frame, sender, length field, first bytes), for ICMP errors.
    recent: VecDeque<(u64, SocketAddr, u16, Vec<u8>)>,
}

/// How many datagrams a flow remembers for the ICMP errors that may quote them.
const RECENT: usize = 64;

impl Flow {
    /// A flow with no line yet; its protocol's state is made now when it is known
    /// (`--proto`), else at its first datagram with a payload.
    pub(super) fn new(info: FlowInfo) -> Flow {
        Flow {
            state: info.proto.map(State::new),
            forced: info.proto.is_some(),
            info,
            lines: Vec::new(),
            hidden: 0,
            datagrams: [0; 2],
            bytes: [0; 2],
            errors: 0,
            fragments: 0,
            snapped: 0,
            unlike: 0,
            summary: Vec::new(),
            late_marks: Vec::new(),
            recent: VecDeque::new(),
        }
    }

    /// Counts a datagram `side` sent and says what it is: its protocol's text and marks,
    /// then the marks of its length (a wrong field, a snap length).
    pub(super) fn datagram(&mut self, frame: u64, side: Side, d: &wire::Datagram<'_>) -> lab::Told {
        let dir = usize::from(side == Side::Server);
        self.datagrams[dir] += 1;
        self.bytes[dir] += d.len as u64;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        let head = d.payload[..d.payload.len().min(32)].to_vec();
        self.recent.push_back((frame, d.src, d.length, head));
        let mut told = self.told(side, frame, d);
        if let (true, Some(proto)) = (told.unlike, self.info.proto) {
            self.unlike += 1;
            let again = self.unlike > 1;
            told.marks.insert(0, Mark::Unlike { proto, again });
        }
        if d.snapped() {
            self.snapped += 1;
            let (captured, len, again) = (d.payload.len(), d.len, self.snapped > 1);
            told.marks.insert(
                0,
                Mark::Snapped {
                    captured,
                    len,
                    again,
                },
            );
        }
        if let Some(bad) = d.bad_length {
            told.marks.insert(0, Mark::BadLength(bad, d.length));
        }
        told
    }

    /// Counts an ICMP error about one of the flow's datagrams; returns the frame of the
    /// datagram it quotes, which the protocol then stops waiting an answer for.
    pub(super) fn unreachable(&mut self, u: &wire::Unreachable<'_>) -> Option<u64> {
        self.errors += 1;
        let quotes = self.quoted(u.src, u.length, u.quoted);
        if let (Some(f), Some(state)) = (quotes, self.state.as_mut()) {
            state.refused(f);
        }
        quotes
    }

    /// Ends the flow: its protocol's summary, and the marks it gives earlier lines.
    pub(super) fn finish(&mut self) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let end = state.finish();
        self.summary = end.lines;
        if let (Some(proto), 1..) = (self.info.proto, self.unlike) {
            self.summary.insert(0, self.unlike_line(proto));
        }
        for (frame, mark) in end.marks {
            if let Ok(i) = self.lines.binary_search_by_key(&frame, |l| l.frame) {
                self.lines[i].marks.push(mark.clone());
            }
            self.late_marks.push((frame, mark));
        }
    }

    /// `2 of 4 datagrams do not look like udpseq (…): …`: how many, what the protocol
    /// looks like, and why they were decoded as it.
    fn unlike_line(&self, proto: Proto) -> String {
        let verb = match self.unlike {
            1 => "does",
            _ => "do",
        };
        let name = proto.name();
        let why = match self.forced {
            true => "as --proto chose (--proto auto guesses, --proto raw shows the bytes)",
            false => "as guessed from the flow's port and first datagram (--proto chooses another)",
        };
        format!(
            "{} of {} {verb} not look like {}: decoded as {name} all the same, {why}",
            self.unlike,
            crate::plural(self.datagrams[0] + self.datagrams[1], "datagram"),
            proto::shape(proto)
        )
    }

    /// What the flow's protocol says about a datagram (guessing the protocol on the
    /// first one with a payload).
    fn told(&mut self, side: Side, frame: u64, d: &wire::Datagram<'_>) -> lab::Told {
        if self.state.is_none() && !d.payload.is_empty() {
            let guessed = proto::guess(self.info.server.port(), side, d.payload, d.len);
            self.info.proto = Some(guessed);
            self.state = Some(State::new(guessed));
        }
        let seen = Seen {
            frame,
            side,
            payload: d.payload,
            len: d.len,
        };
        match self.state.as_mut() {
            Some(state) => state.datagram(&seen),
            None => lab::Told::default(),
        }
    }

    /// The frame of the datagram an ICMP error quotes: the last one from `src` with the
    /// same length field whose first bytes agree with the quoted ones.
    fn quoted(&self, src: SocketAddr, length: u16, quoted: &[u8]) -> Option<u64> {
        self.recent
            .iter()
            .rev()
            .find(|(_, from, len, head)| {
                let n = head.len().min(quoted.len());
                *from == src && *len == length && head[..n] == quoted[..n]
            })
            .map(|(frame, ..)| *frame)
    }
}
