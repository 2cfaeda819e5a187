//! What labtrace marks on a UDP datagram, an ICMP error or a fragment, each with its
//! name in `--format json` and one sentence for a student in the text view.

use super::wire::{BadLength, Reason};
use crate::decode::Proto;
use std::net::SocketAddr;

/// One thing worth telling about a line of a UDP flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// The snap length cut the datagram: `captured` of `len` payload bytes are in the file.
    Snapped {
        /// Payload bytes captured.
        captured: usize,
        /// Payload bytes the datagram had.
        len: usize,
        /// Not the flow's first datagram cut: the text view says it once a flow.
        again: bool,
    },
    /// The UDP length field (`field`) disagrees with the IP packet.
    BadLength(BadLength, u16),
    /// The datagram does not look like the protocol it is decoded as (chosen with
    /// `--proto`, or guessed from the flow's port and first datagram).
    Unlike {
        /// The flow's protocol.
        proto: Proto,
        /// Not the flow's first such datagram: the text view says it once a flow.
        again: bool,
    },
    /// An echo cut to 255 bytes, of request `of`.
    CutEcho {
        /// The request's frame.
        of: u64,
    },
    /// A server datagram that matches no request waiting for its echo.
    NotAnEcho,
    /// A request whose echo the capture does not have (known at the end).
    NoEcho,
    /// Sequence numbers skipped: `from` to `to`, none seen yet; `after` was the
    /// highest number before this datagram (-1: none).
    Missing {
        /// The first one missing.
        from: i64,
        /// The last one missing.
        to: i64,
        /// The highest number seen before.
        after: i64,
    },
    /// A number lower than one already seen, seen for the first time: reordered.
    Late {
        /// The number of this datagram.
        seq: i64,
        /// The highest number seen before it.
        after: i64,
    },
    /// A second copy of sequence number `seq`, made by the network.
    Duplicate {
        /// The number.
        seq: i64,
        /// The frame of the first copy, when known.
        of: Option<u64>,
    },
    /// An rft packet sent again by the client (same sequence number, new timestamp).
    Retransmission {
        /// The sequence number.
        seq: u32,
        /// The frame that first carried it.
        of: u64,
    },
    /// An rft ACK that repeats the previous ACK's number (`count`: 1 for the first repeat).
    DupAck {
        /// The repeated next-expected number.
        seq: u32,
        /// How many times it was repeated so far.
        count: u32,
        /// The frame it answers, when that was a copy the network made.
        copy: Option<u64>,
    },
    /// An ICMP "destination unreachable" for the datagram of frame `quotes` (sent to `dst`).
    Unreachable {
        /// Why.
        reason: Reason,
        /// The frame of the datagram quoted, if the capture has it.
        quotes: Option<u64>,
        /// Where that datagram went.
        dst: SocketAddr,
    },
    /// An IP fragment: `first` holds the UDP header (`length`: the datagram's length field).
    Fragment {
        /// Byte offset in the datagram.
        offset: u32,
        /// No more fragments follow.
        last: bool,
        /// The UDP length field, in a first fragment.
        length: Option<u16>,
    },
    /// A path of the course's upload with no answer in the capture (known at the end).
    NoAnswer,
    /// The last datagram of an upload whose `================END` the capture does not have.
    NoEnd,
}

impl Mark {
    /// The name in `--format json`'s `analysis` list.
    pub fn name(&self) -> &'static str {
        match self {
            Mark::Snapped { .. } => "snapped",
            Mark::BadLength(..) => "bad_length",
            Mark::Unlike { .. } => "not_proto",
            Mark::CutEcho { .. } => "cut_echo",
            Mark::NotAnEcho => "not_an_echo",
            Mark::NoEcho => "no_echo",
            Mark::Missing { .. } => "missing",
            Mark::Late { .. } => "out_of_order",
            Mark::Duplicate { .. } => "duplicate",
            Mark::Retransmission { .. } => "retransmission",
            Mark::DupAck { .. } => "duplicate_ack",
            Mark::Unreachable { reason, .. } => match reason {
                Reason::Port => "port_unreachable",
                Reason::Host => "host_unreachable",
                Reason::Net => "net_unreachable",
                Reason::Prohibited => "prohibited",
                Reason::Other(_) => "unreachable",
            },
            Mark::Fragment { .. } => "ip_fragment",
            Mark::NoAnswer => "no_answer",
            Mark::NoEnd => "no_end",
        }
    }

    /// True for a mark the text view does not repeat under every line (a flow's second
    /// and later datagrams cut by the snap length, or unlike its protocol).
    pub fn repeated(&self) -> bool {
        matches!(
            self,
            Mark::Snapped { again: true, .. } | Mark::Unlike { again: true, .. }
        )
    }

    /// A short label, for the right-hand side of a ladder.
    pub fn label(&self) -> String {
        match self {
            Mark::Missing { from, to, .. } if from == to => format!("{from} missing"),
            Mark::Missing { from, to, .. } => format!("{from}–{to} missing"),
            Mark::Late { .. } => "out of order".into(),
            Mark::Unlike { proto, .. } => format!("not {}", proto.name()),
            Mark::DupAck { count, .. } => format!("dup ACK {count}"),
            m => m.name().replace('_', " "),
        }
    }

    /// The sentence the text view writes under the line.
    pub fn sentence(&self) -> String {
        match self {
            Mark::Snapped { captured, len, .. } => format!("the capture kept {captured} of this datagram's {}: the capture's snap length (tcpdump -s, labnet --snaplen) cut the rest, which was on the wire (said once a flow; the summary counts them)", crate::plural(len, "byte")),
            Mark::BadLength(BadLength::Short, n) => format!("the UDP length field says {n}, less than the 8-byte header itself: a malformed datagram, which the receiving kernel drops"),
            Mark::BadLength(BadLength::Beyond { ip }, n) => format!("the UDP length field says {n} bytes, but the IP packet carries only {ip}: a malformed datagram, which the receiving kernel drops"),
            Mark::BadLength(BadLength::Trailing { extra }, n) => format!("{} the datagram inside the IP packet: the UDP length field ({n}) ends the datagram, and the receiver never sees them", match extra { 1 => "1 byte follows".to_string(), e => format!("{e} bytes follow") }),
            Mark::Unlike { proto, .. } => format!("this datagram does not look like {}: it is decoded as {} all the same (said once a flow; the summary counts them)", super::proto::shape(*proto), proto.name()),
            Mark::CutEcho { of } => format!("the echo of #{of}, cut to 255 bytes: the server's recvfrom reads at most BUFFERSIZE-1 = 255 bytes and drops the rest of a longer datagram without a word"),
            Mark::NotAnEcho => "no request waiting for its echo has these bytes: the server changed them, or answers a request the capture does not have".into(),
            Mark::NoEcho => "no echo of this request in the capture: the request or its echo was lost (or the capture ended first); a client without a timeout waits in recvfrom forever (UNP 8.4)".into(),
            Mark::Missing { from, to, after } => {
                let (which, they, come) = match from == to {
                    true => (format!("datagram {from} missing"), "it was", "comes"),
                    false => (format!("datagrams {from}–{to} missing"), "they were", "come"),
                };
                let follows = match after {
                    -1 => "is the first in the capture".to_string(),
                    a => format!("follows {a}"),
                };
                format!("{which}: {} {follows}; {they} lost before the capture point, or {come} later, reordered", to + 1)
            }
            Mark::Late { seq, after } => format!("datagram {seq} comes after {after}: it was overtaken on the way (reordered)"),
            Mark::Duplicate { seq, of: Some(of) } => format!("the same packet as #{of} (seq {seq}), timestamp and all: a copy the network made, not a retransmission; the server drops it and ACKs again"),
            Mark::Duplicate { seq, of: None } => format!("a second copy of datagram {seq}: the network duplicated it, and UDP delivers both"),
            Mark::Retransmission { seq, of } => format!("seq {seq} again, first sent in #{of}, with a new timestamp: the client's timer ran out or three duplicate ACKs came, so it sent the packet again"),
            Mark::DupAck { seq, count, copy: Some(of) } => format!("duplicate ACK {count} of seq {seq}: it answers #{of}, a copy the network made, so nothing is missing; the client counts it all the same"),
            Mark::DupAck { seq, count, copy: None } => format!("duplicate ACK {count} of seq {seq}: packet {seq} has not arrived, later ones have; the third duplicate makes the client resend it at once (fast retransmit)"),
            Mark::Unreachable { reason, quotes, dst } => unreachable(*reason, *quotes, *dst),
            Mark::Fragment { offset: 0, length: Some(n), .. } => format!("the first IP fragment of a UDP datagram of {n} bytes (length field): labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)"),
            Mark::Fragment { offset, last, .. } => format!("an IP fragment at byte {offset}{}: labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)", if *last { ", the last one" } else { "" }),
            Mark::NoAnswer => "no answer to this path in the capture: the path or the answer was lost, and the client waits in recvfrom forever".into(),
            Mark::NoEnd => "no ================END after this in the capture: the server waits for it forever (the C server; unplab's gives up after --idle)".into(),
        }
    }
}

/// The sentence of an ICMP "destination unreachable".
fn unreachable(reason: Reason, quotes: Option<u64>, dst: SocketAddr) -> String {
    let what = match quotes {
        Some(f) => format!("#{f}"),
        None => format!("a datagram to {dst} that the capture does not have"),
    };
    let (name, cause, errno) = match reason {
        Reason::Port => (
            "port unreachable",
            format!("nothing receives on {dst}"),
            "ECONNREFUSED",
        ),
        Reason::Host => (
            "host unreachable",
            format!("no way to the host {}", dst.ip()),
            "EHOSTUNREACH",
        ),
        Reason::Net => (
            "network unreachable",
            format!("no route to {}", dst.ip()),
            "ENETUNREACH",
        ),
        Reason::Prohibited => (
            "administratively prohibited",
            "a firewall refused the datagram".to_string(),
            "EHOSTUNREACH or EACCES",
        ),
        Reason::Other(c) => {
            return format!(
                "the host answered {what} with ICMP destination unreachable (code {c}): it could not be delivered; a connected UDP socket learns it from its next call's error, an unconnected one is never told (UNP 8.11)"
            );
        }
    };
    format!(
        "{cause}, so the host answered {what} with ICMP {name}; a connected UDP socket gets it as {errno} on its next call, an unconnected one is never told (UNP 8.11)"
    )
}
