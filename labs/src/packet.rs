//! From a captured frame to a TCP segment: strip the link layer, then IPv4 or IPv6, then
//! the TCP header (etherparse does the IP and TCP slicing). UDP takes the same first
//! steps (`sliced`) and goes on in [`crate::udp::wire`].
//!
//! | link type | value | who writes it |
//! |---|---|---|
//! | BSD loopback (NULL) | 0 | macOS `lo0`, the handout's captures |
//! | OpenBSD loopback (LOOP) | 108 | OpenBSD `lo0` |
//! | Ethernet | 1 | Linux `lo` and real interfaces |
//! | raw IP | 101 (also 12, 14, 228, 229) | tun devices, some VPNs |
//! | Linux cooked (SLL) | 113 | `tcpdump -i any` before libpcap 1.10 |
//! | Linux cooked v2 (SLL2) | 276 | `tcpdump -i any` today |

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use std::net::{IpAddr, SocketAddr};

/// TCP header flags, as the bits of byte 13 of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// FIN: the sender has no more data.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronize sequence numbers (connection setup).
    pub const SYN: u8 = 0x02;
    /// RST: abort the connection.
    pub const RST: u8 = 0x04;
    /// PSH: deliver to the application now.
    pub const PSH: u8 = 0x08;
    /// ACK: the acknowledgement field is valid.
    pub const ACK: u8 = 0x10;
    /// URG: the urgent pointer is valid.
    pub const URG: u8 = 0x20;
    /// ECE: ECN echo.
    pub const ECE: u8 = 0x40;
    /// CWR: congestion window reduced.
    pub const CWR: u8 = 0x80;

    /// True when every bit of `bits` is set.
    pub fn has(self, bits: u8) -> bool {
        self.0 & bits == bits
    }

    /// The flags in tcpdump's notation: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`, `SEW`.
    pub fn tcpdump(self) -> String {
        let mut s = String::with_capacity(6);
        for (bit, c) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::PSH, 'P'),
            (Self::RST, 'R'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
        ] {
            if self.has(bit) {
                s.push(c);
            }
        }
        if self.has(Self::ACK) {
            s.push('.');
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }
}

/// The TCP part of one packet.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Sender's address and port.
    pub src: SocketAddr,
    /// Receiver's address and port.
    pub dst: SocketAddr,
    /// Raw (absolute) sequence number.
    pub seq: u32,
    /// Raw acknowledgement number (meaningful only with ACK).
    pub ack: u32,
    /// The header flags.
    pub flags: Flags,
    /// Advertised window, as in the header (unscaled).
    pub win: u16,
    /// The window scale option's shift count, if this segment carries one (only SYN
    /// segments may; it is not looked for in others).
    pub wscale: Option<u8>,
    /// The SACK option's blocks, if the segment carries one (RFC 2018).
    pub sack: Option<Sack>,
    /// Payload length as the IP header declares it (what Wireshark calls Len).
    pub len: u32,
    /// The payload bytes that were captured (shorter than `len` if the snap length cut it).
    pub payload: &'a [u8],
}

/// A SACK option (RFC 2018): the blocks of bytes the receiver holds past its Ack, as raw
/// (absolute) sequence numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sack {
    /// (left edge, right edge) of each block; the first `count` are set.
    pub blocks: [(u32, u32); 4],
    /// How many blocks the option holds (at most 4).
    pub count: u8,
}

impl Sack {
    /// The blocks the option holds.
    pub fn blocks(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.count).min(4)]
    }
}

/// Why a packet is not a TCP segment we can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A link type labtrace does not read.
    LinkType(i32),
    /// Not IPv4/IPv6, or not TCP (ARP, UDP, ICMP, ...); on the UDP side, not UDP nor
    /// an ICMP error about a datagram.
    NotTcp,
    /// An IP fragment (TCP header not in this packet) or a header cut short.
    Broken,
}

/// Slices a frame of the given link type down to its TCP segment.
pub fn tcp_segment(linktype: i32, frame: &[u8]) -> Result<Segment<'_>, Skip> {
    let sliced = sliced(linktype, frame)?;
    let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
        return match sliced.net {
            Some(LaxNetSlice::Ipv4(_) | LaxNetSlice::Ipv6(_)) if sliced.stop_err.is_some() => {
                Err(Skip::Broken)
            }
            _ => Err(Skip::NotTcp),
        };
    };
    let (src_ip, dst_ip, ip_start, ip_end, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let start = h.slice().as_ptr() as usize;
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                start,
                start + usize::from(h.total_len()),
                ip.payload(),
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let start = h.slice().as_ptr() as usize;
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                start,
                start + 40 + usize::from(h.payload_length()),
                ip.payload(),
            )
        }
        _ => return Err(Skip::NotTcp),
    };
    let data = tcp.payload();
    let len = if payload.incomplete {
        // The capture cut the packet short: the IP header still tells the real length.
        let data_start = data.as_ptr() as usize;
        ip_end.saturating_sub(data_start.max(ip_start))
    } else {
        data.len()
    };
    Ok(Segment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: Flags(tcp.header_slice().get(13).copied().unwrap_or(0)),
        win: tcp.window_size(),
        wscale: if tcp.syn() { window_scale(&tcp) } else { None },
        sack: sack(&tcp),
        len: u32::try_from(len).unwrap_or(u32::MAX),
        payload: data,
    })
}

/// Strips the link layer of a frame of the given link type and slices what follows
/// (IPv4 or IPv6, then the transport header): the first step for TCP here and for UDP
/// in [`crate::udp::wire`].
pub(crate) fn sliced(linktype: i32, frame: &[u8]) -> Result<LaxSlicedPacket<'_>, Skip> {
    Ok(match linktype {
        1 => LaxSlicedPacket::from_ethernet(frame).map_err(|_| Skip::Broken)?,
        // BSD loopback: a 4-byte address family in the capturing host's byte order
        // (2 = AF_INET; AF_INET6 is 24, 28 or 30 on the BSDs, 10 on Linux). The IP
        // header says its own version, so the family is not needed.
        0 | 108 => from_ip(frame.get(4..).ok_or(Skip::Broken)?)?,
        101 | 12 | 14 | 228 | 229 => from_ip(frame)?,
        // Linux cooked v1: 16-byte header, protocol (an EtherType) in bytes 14..16.
        113 => from_ether_type(frame, 14, 16)?,
        // Linux cooked v2: 20-byte header, protocol in bytes 0..2.
        276 => from_ether_type(frame, 0, 20)?,
        other => return Err(Skip::LinkType(other)),
    })
}

/// The shift count of a SYN's window scale option (RFC 7323), if it has one.
fn window_scale(tcp: &etherparse::TcpSlice<'_>) -> Option<u8> {
    tcp.options_iterator().find_map(|o| match o {
        Ok(etherparse::TcpOptionElement::WindowScale(shift)) => Some(shift),
        _ => None,
    })
}

/// The segment's SACK option, if it has one.
fn sack(tcp: &etherparse::TcpSlice<'_>) -> Option<Sack> {
    tcp.options_iterator().find_map(|o| match o {
        Ok(etherparse::TcpOptionElement::SelectiveAcknowledgement(first, rest)) => {
            let mut sack = Sack::default();
            for (i, block) in std::iter::once(Some(first))
                .chain(rest)
                .flatten()
                .enumerate()
            {
                sack.blocks[i] = block;
                sack.count += 1;
            }
            Some(sack)
        }
        _ => None,
    })
}

fn from_ip(bytes: &[u8]) -> Result<LaxSlicedPacket<'_>, Skip> {
    LaxSlicedPacket::from_ip(bytes).map_err(|_| Skip::Broken)
}

fn from_ether_type(frame: &[u8], at: usize, header: usize) -> Result<LaxSlicedPacket<'_>, Skip> {
    let proto = frame.get(at..at + 2).ok_or(Skip::Broken)?;
    let rest = frame.get(header..).ok_or(Skip::Broken)?;
    let ether_type = EtherType(u16::from_be_bytes([proto[0], proto[1]]));
    Ok(LaxSlicedPacket::from_ether_type(ether_type, rest))
}

/// Builds an IPv4 or IPv6 packet holding one TCP segment (checksums left zero): for
/// tests, the fuzz corpus and the benchmark's synthetic captures.
pub fn build_ip_tcp(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    payload: &[u8],
) -> Vec<u8> {
    build_ip_tcp_wscale(src, dst, seq, ack, flags, win, None, payload)
}

/// [`build_ip_tcp`] with a window scale option (`NOP`, then kind 3, length 3, `shift`)
/// in the TCP header when `wscale` is given.
#[allow(clippy::too_many_arguments)]
pub fn build_ip_tcp_wscale(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    wscale: Option<u8>,
    payload: &[u8],
) -> Vec<u8> {
    let options: &[u8] = match &wscale {
        Some(shift) => &[1, 3, 3, *shift],
        None => &[],
    };
    let mut tcp = Vec::with_capacity(24 + payload.len());
    tcp.extend_from_slice(&src.port().to_be_bytes());
    tcp.extend_from_slice(&dst.port().to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&ack.to_be_bytes());
    tcp.push((((20 + options.len()) / 4) << 4) as u8);
    tcp.push(flags);
    tcp.extend_from_slice(&win.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]);
    tcp.extend_from_slice(options);
    tcp.extend_from_slice(payload);
    let mut ip = ip_header(src.ip(), dst.ip(), 6, tcp.len());
    ip.extend_from_slice(&tcp);
    ip
}

/// An IPv4 header (when both addresses are IPv4; checksum left zero) or an IPv6 header
/// (an IPv4 address given with an IPv6 one is written IPv4-mapped) for `len` bytes of
/// `protocol` (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6): for the packets built by hand here and
/// in [`crate::udp::build`].
pub fn ip_header(src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> Vec<u8> {
    let mut ip = Vec::with_capacity(40 + len);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + len).unwrap_or(u16::MAX);
            ip.extend_from_slice(&[0x45, 0]);
            ip.extend_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
        }
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            let plen = u16::try_from(len).unwrap_or(u16::MAX);
            ip.extend_from_slice(&[0x60, 0, 0, 0]);
            ip.extend_from_slice(&plen.to_be_bytes());
            ip.extend_from_slice(&[protocol, 64]);
            ip.extend_from_slice(&to6(s).octets());
            ip.extend_from_slice(&to6(d).octets());
        }
    }
    ip
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn flags_print_as_tcpdump_does() {
        assert_eq!(Flags(Flags::SYN).tcpdump(), "S");
        assert_eq!(Flags(Flags::SYN | Flags::ACK).tcpdump(), "S.");
        assert_eq!(Flags(Flags::ACK).tcpdump(), ".");
        assert_eq!(Flags(Flags::PSH | Flags::ACK).tcpdump(), "P.");
        assert_eq!(Flags(Flags::FIN | Flags::ACK).tcpdump(), "F.");
        assert_eq!(Flags(Flags::RST).tcpdump(), "R");
        assert_eq!(Flags(Flags::SYN | Flags::ECE | Flags::CWR).tcpdump(), "SEW");
        assert_eq!(Flags(0).tcpdump(), "none");
    }

    #[test]
    fn every_link_type_leads_to_the_same_segment() {
        let (a, b) = (addr("127.0.0.1:40000"), addr("127.0.0.1:1235"));
        let ip = build_ip_tcp(a, b, 7, 9, Flags::PSH | Flags::ACK, 512, &[0, 0, 0, 0]);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x08, 0x00]);
        eth.extend_from_slice(&ip);
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&ip);
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip);
        for (lt, frame) in [(0, &null), (1, &eth), (101, &ip), (113, &sll), (276, &sll2)] {
            let s = tcp_segment(lt, frame).unwrap_or_else(|e| panic!("{lt}: {e:?}"));
            assert_eq!(
                (s.src, s.dst, s.seq, s.ack, s.win, s.len),
                (a, b, 7, 9, 512, 4)
            );
            assert_eq!(s.flags.tcpdump(), "P.");
            assert_eq!(s.payload, &[0, 0, 0, 0]);
        }
    }

    #[test]
    fn window_scale_option_is_read_from_syns() {
        let (a, b) = (addr("127.0.0.1:40000"), addr("127.0.0.1:1235"));
        let syn = build_ip_tcp_wscale(a, b, 7, 0, Flags::SYN, 65495, Some(7), b"");
        let s = tcp_segment(101, &syn).unwrap();
        assert_eq!((s.win, s.wscale, s.len), (65495, Some(7), 0));
        let plain = build_ip_tcp(a, b, 7, 0, Flags::SYN, 65495, b"");
        assert_eq!(tcp_segment(101, &plain).unwrap().wscale, None);
        // Only a SYN's option counts.
        let ack = build_ip_tcp_wscale(a, b, 8, 1, Flags::ACK, 512, Some(7), b"x");
        let s = tcp_segment(101, &ack).unwrap();
        assert_eq!((s.wscale, s.payload), (None, &b"x"[..]));
    }

    #[test]
    fn ipv6_and_snapped_payloads() {
        let (a, b) = (addr("[::1]:40000"), addr("[::1]:1235"));
        let ip = build_ip_tcp(a, b, 1, 2, Flags::ACK, 1, b"hello world");
        let s = tcp_segment(101, &ip).unwrap();
        assert_eq!((s.src, s.len, s.payload), (a, 11, &b"hello world"[..]));
        // Cut by a small snap length: the length still comes from the IP header.
        let cut = tcp_segment(101, &ip[..ip.len() - 6]).unwrap();
        assert_eq!((cut.len, cut.payload), (11, &b"hello"[..]));
    }

    #[test]
    fn non_tcp_and_junk_are_skipped() {
        let mut udp = build_ip_tcp(addr("1.2.3.4:5"), addr("5.6.7.8:9"), 0, 0, 0, 0, b"");
        udp[9] = 17;
        assert!(tcp_segment(101, &udp).is_err());
        assert_eq!(tcp_segment(147, b"x").unwrap_err(), Skip::LinkType(147));
        for junk in [&b""[..], b"\x45", b"\x60\x00", &[0xff; 64]] {
            for lt in [0, 1, 101, 113, 276] {
                assert!(tcp_segment(lt, junk).is_err());
            }
        }
    }
}
