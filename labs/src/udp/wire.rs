//! From a captured frame to a UDP datagram, to the ICMP error that quotes one, or to an
//! IP fragment of one: the link layer and IP as for TCP ([`crate::packet`]), then the
//! UDP header, read here and checked against the IP packet that carries it.
//!
//! ```text
//! offset  size  field (RFC 768)
//!      0     2  source port
//!      2     2  destination port
//!      4     2  length: the header's 8 bytes and the data (tshark's udp.length)
//!      6     2  checksum (0: none, allowed over IPv4 only)
//! ```
//!
//! What can be wrong, and what is done then (nothing stops the trace):
//! - the capture's snap length cut the packet: the datagram is shown with the bytes
//!   captured, and [`Datagram::len`] still says how long it was (from the headers);
//! - the length field disagrees with the IP packet ([`BadLength`]): said so, and the
//!   datagram is read as far as both allow;
//! - an IP fragment: the UDP header is in the first fragment only, and labtrace does not
//!   reassemble, so a fragment is a [`Fragment`], never decoded as a datagram.

use crate::packet::Skip;
use etherparse::{LaxIpPayloadSlice, LaxNetSlice};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The UDP header's length.
pub const HEADER: usize = 8;

/// What labtrace reads out of a frame on the UDP side.
#[derive(Debug, Clone, Copy)]
pub enum Packet<'a> {
    /// A whole UDP datagram (its payload possibly cut by the snap length).
    Datagram(Datagram<'a>),
    /// An ICMP or ICMPv6 "destination unreachable" that quotes a UDP datagram.
    Unreachable(Unreachable<'a>),
    /// An IP fragment of a UDP datagram.
    Fragment(Fragment),
}

/// One UDP datagram.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Sender's address and port.
    pub src: SocketAddr,
    /// Receiver's address and port.
    pub dst: SocketAddr,
    /// The header's length field (header included).
    pub length: u16,
    /// The payload's length: the length field minus the header, or what the IP packet
    /// holds when the field is wrong.
    pub len: usize,
    /// The payload bytes captured: `len` of them, fewer when the snap length cut the packet.
    pub payload: &'a [u8],
    /// What is wrong with the length field, if anything.
    pub bad_length: Option<BadLength>,
}

impl Datagram<'_> {
    /// True when the capture holds fewer payload bytes than the datagram had.
    pub fn snapped(&self) -> bool {
        self.payload.len() < self.len
    }
}

/// How a UDP length field disagrees with the IP packet that carries the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadLength {
    /// Less than the 8-byte header.
    Short,
    /// More than the IP packet carries (`ip`: its bytes after the IP header).
    Beyond {
        /// The bytes after the IP header.
        ip: usize,
    },
    /// Less than the IP packet carries: `extra` bytes follow the datagram.
    Trailing {
        /// The bytes after the datagram's end.
        extra: usize,
    },
}

/// Why a host answered a datagram with ICMP "destination unreachable".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Nothing receives on the port (ICMP type 3 code 3, ICMPv6 type 1 code 4).
    Port,
    /// The host (or for ICMPv6 the address) cannot be reached.
    Host,
    /// No route to the network.
    Net,
    /// A firewall refused it.
    Prohibited,
    /// Another code, as the header has it.
    Other(u8),
}

/// An ICMP error that quotes a UDP datagram (RFC 792, RFC 4443): its first bytes, IP
/// header included, come back to the sender.
#[derive(Debug, Clone, Copy)]
pub struct Unreachable<'a> {
    /// The host that sent the error.
    pub from: IpAddr,
    /// The host it went to (the quoted datagram's sender).
    pub to: IpAddr,
    /// Why.
    pub reason: Reason,
    /// True for ICMPv6.
    pub v6: bool,
    /// The quoted datagram's sender.
    pub src: SocketAddr,
    /// The quoted datagram's receiver.
    pub dst: SocketAddr,
    /// The quoted datagram's length field.
    pub length: u16,
    /// The quoted payload bytes (as many as the error carries).
    pub quoted: &'a [u8],
}

/// An IP fragment of a UDP datagram (IPv4 flags and offset, or an IPv6 fragment header).
#[derive(Debug, Clone, Copy)]
pub struct Fragment {
    /// Sender.
    pub src: IpAddr,
    /// Receiver.
    pub dst: IpAddr,
    /// The IP identification all fragments of one datagram share.
    pub id: u32,
    /// Where this fragment's bytes go in the datagram.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// The bytes this fragment carries.
    pub len: usize,
    /// In the first fragment: the datagram's ports and length field.
    pub udp: Option<(u16, u16, u16)>,
}

const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// Slices a frame of the given link type down to its UDP datagram, the ICMP error that
/// quotes one, or an IP fragment of one; anything else is a [`Skip`].
pub fn parse(linktype: i32, frame: &[u8]) -> Result<Packet<'_>, Skip> {
    let sliced = crate::packet::sliced(linktype, frame)?;
    let (src, dst, payload, declared, fragment) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let p = ip.payload();
            let start = h.slice().as_ptr() as usize;
            let end = start + usize::from(h.total_len());
            let offset = u32::from(h.fragments_offset().value()) * 8;
            let frag = (h.more_fragments() || offset != 0)
                .then(|| (u32::from(h.identification()), offset, h.more_fragments()));
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                p,
                declared(p, end),
                frag,
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let p = ip.payload();
            let end = h.slice().as_ptr() as usize + 40 + usize::from(h.payload_length());
            // (Not etherparse's iterator over the extensions: it reads past a cut header.)
            let frag = ipv6_fragment(h.next_header().0, ip.extensions().slice());
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                p,
                declared(p, end),
                frag,
            )
        }
        _ => return Err(Skip::NotTcp),
    };
    let bytes = payload.payload;
    match (payload.ip_number.0, fragment) {
        (UDP, Some((id, offset, more))) => Ok(Packet::Fragment(Fragment {
            src,
            dst,
            id,
            offset,
            more,
            len: declared,
            udp: if offset == 0 { header(bytes) } else { None },
        })),
        (_, Some(_)) => Err(Skip::NotTcp),
        (UDP, None) => datagram(src, dst, bytes, declared).map(Packet::Datagram),
        (ICMP, None) if src.is_ipv4() => unreachable(src, dst, bytes, false),
        (ICMPV6, None) if src.is_ipv6() => unreachable(src, dst, bytes, true),
        _ => Err(Skip::NotTcp),
    }
}

/// The identification, byte offset and more-fragments flag of the fragment header among
/// the IPv6 extension headers `exts` (the first of type `next`), if the packet is a
/// fragment (an offset, or more to come).
fn ipv6_fragment(mut next: u8, mut exts: &[u8]) -> Option<(u32, u32, bool)> {
    loop {
        let len = match next {
            44 => {
                let f = exts.get(..8)?;
                let field = u16::from_be_bytes([f[2], f[3]]);
                let (offset, more) = (u32::from(field >> 3) * 8, field & 1 == 1);
                let id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
                return (offset != 0 || more).then_some((id, offset, more));
            }
            // Hop-by-hop, routing, destination options: 8-byte units after the first 8.
            0 | 43 | 60 => (usize::from(*exts.get(1)?) + 1) * 8,
            // Authentication header: 4-byte units, minus 2.
            51 => (usize::from(*exts.get(1)?) + 2) * 4,
            _ => return None,
        };
        next = *exts.first()?;
        exts = exts.get(len..)?;
    }
}

/// The bytes after the IP header(s) as the IP header declares them: what was captured,
/// or, when the capture cut the packet, up to `end` (the address just after the packet).
fn declared(p: &LaxIpPayloadSlice<'_>, end: usize) -> usize {
    if p.incomplete {
        end.saturating_sub(p.payload.as_ptr() as usize)
    } else {
        p.payload.len()
    }
}

/// Source port, destination port and length field of a UDP header at the front of `b`.
fn header(b: &[u8]) -> Option<(u16, u16, u16)> {
    let h = b.get(..HEADER)?;
    let field = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    Some((field(0), field(2), field(4)))
}

/// The datagram in `bytes` (captured after the IP header), `declared` bytes long by the
/// IP header.
fn datagram(src: IpAddr, dst: IpAddr, bytes: &[u8], declared: usize) -> Result<Datagram<'_>, Skip> {
    let (sport, dport, length) = header(bytes).ok_or(Skip::Broken)?;
    let field = usize::from(length);
    let (end, bad_length) = if field < HEADER {
        (declared, Some(BadLength::Short))
    } else if field > declared {
        (declared, Some(BadLength::Beyond { ip: declared }))
    } else if field < declared {
        let extra = declared - field;
        (field, Some(BadLength::Trailing { extra }))
    } else {
        (field, None)
    };
    let len = end.saturating_sub(HEADER);
    let captured = bytes.len().min(end).max(HEADER);
    Ok(Datagram {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        length,
        len,
        payload: &bytes[HEADER..captured],
        bad_length,
    })
}

/// The "destination unreachable" in the ICMP message `bytes`, if it quotes a UDP datagram.
fn unreachable(from: IpAddr, to: IpAddr, bytes: &[u8], v6: bool) -> Result<Packet<'_>, Skip> {
    let (kind, code) = match bytes {
        [kind, code, ..] => (*kind, *code),
        _ => return Err(Skip::Broken),
    };
    let reason = match (v6, kind, code) {
        (false, 3, 3) | (true, 1, 4) => Reason::Port,
        (false, 3, 1) | (true, 1, 3) => Reason::Host,
        (false, 3, 0) | (true, 1, 0) => Reason::Net,
        (false, 3, 13) | (true, 1, 1) => Reason::Prohibited,
        (false, 3, c) | (true, 1, c) => Reason::Other(c),
        _ => return Err(Skip::NotTcp),
    };
    let quoted = bytes.get(8..).ok_or(Skip::Broken)?;
    let (src, dst, udp) = quoted_ip(quoted, v6).ok_or(Skip::NotTcp)?;
    let (sport, dport, length) = header(udp).ok_or(Skip::Broken)?;
    Ok(Packet::Unreachable(Unreachable {
        from,
        to,
        reason,
        v6,
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        length,
        quoted: &udp[HEADER..],
    }))
}

/// The addresses of the IP header an ICMP error quotes, and what follows it, if that
/// header carries UDP (an IPv6 header must be followed by UDP directly).
fn quoted_ip(b: &[u8], v6: bool) -> Option<(IpAddr, IpAddr, &[u8])> {
    if v6 {
        let h = b.get(..40)?;
        let addr = |at: usize| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&h[at..at + 16]);
            IpAddr::from(Ipv6Addr::from(a))
        };
        (h[0] >> 4 == 6 && h[6] == UDP).then(|| (addr(8), addr(24), &b[40..]))
    } else {
        let ihl = usize::from(b.first()? & 0x0f) * 4;
        let h = b.get(..ihl.max(20))?;
        let addr = |at: usize| IpAddr::from(Ipv4Addr::new(h[at], h[at + 1], h[at + 2], h[at + 3]));
        (h[0] >> 4 == 4 && ihl >= 20 && h[9] == UDP).then(|| (addr(12), addr(16), &b[ihl..]))
    }
}
