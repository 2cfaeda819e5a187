//! UDP packets built by hand, with correct UDP and ICMP checksums: for the tests, the
//! fuzz corpus, and anyone who wants a capture of one case (a gap, a duplicate, an ICMP
//! error, a fragment) without making it happen on a network.

use crate::packet::ip_header;
use std::net::{IpAddr, SocketAddr};

/// An IPv4 or IPv6 packet holding one UDP datagram with `payload`.
pub fn ip_udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    ip_udp_length(src, dst, length, payload)
}

/// [`ip_udp`] with the UDP length field set to `length`, right or wrong.
pub fn ip_udp_length(src: SocketAddr, dst: SocketAddr, length: u16, payload: &[u8]) -> Vec<u8> {
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&length.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut sum = pseudo_header(src.ip(), dst.ip(), 17, udp.len());
    sum = add(sum, &udp);
    // 0 means "no checksum": a sum that comes out 0 is sent as ffff (RFC 768).
    let check = match fold(sum) {
        0 => 0xffff,
        c => c,
    };
    udp[6..8].copy_from_slice(&check.to_be_bytes());
    let mut ip = ip_header(src.ip(), dst.ip(), 17, udp.len());
    ip.extend_from_slice(&udp);
    ip
}

/// The ICMP (IPv4: type 3 code 3) or ICMPv6 (type 1 code 4) "port unreachable" that
/// `host` sends back for the IP packet `quoted`, quoting as much of it as Linux does
/// (the reply fits in 576 bytes over IPv4, 1280 over IPv6).
pub fn port_unreachable(host: IpAddr, quoted: &[u8]) -> Vec<u8> {
    let v6 = quoted.first().is_some_and(|b| b >> 4 == 6);
    let (kind, code, room) = if v6 {
        (1, 4, 1280 - 48)
    } else {
        (3, 3, 576 - 28)
    };
    let to = quoted_source(quoted, v6).unwrap_or(host);
    let mut icmp = vec![kind, code, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quoted[..quoted.len().min(room)]);
    let mut sum = if v6 {
        pseudo_header(host, to, 58, icmp.len())
    } else {
        0
    };
    sum = add(sum, &icmp);
    icmp[2..4].copy_from_slice(&fold(sum).to_be_bytes());
    let mut ip = ip_header(host, to, if v6 { 58 } else { 1 }, icmp.len());
    ip.extend_from_slice(&icmp);
    ip
}

/// The IPv4 packet `packet` (built by [`ip_udp`]) as fragments of at most `size` bytes of
/// payload each (`size` a multiple of 8), all with identification `id`.
pub fn ipv4_fragments(packet: &[u8], id: u16, size: usize) -> Vec<Vec<u8>> {
    let (header, payload) = packet.split_at(20.min(packet.len()));
    pieces(payload, size)
        .map(|(offset, part, more)| {
            let mut ip = header.to_vec();
            let total = u16::try_from(20 + part.len()).unwrap_or(u16::MAX);
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip[4..6].copy_from_slice(&id.to_be_bytes());
            let field = (offset / 8) | if more { 0x2000 } else { 0 };
            ip[6..8].copy_from_slice(&field.to_be_bytes());
            ip.extend_from_slice(part);
            ip
        })
        .collect()
}

/// The IPv6 packet `packet` (built by [`ip_udp`]) as fragments of at most `size` bytes
/// of payload each (`size` a multiple of 8), each with a fragment header (RFC 8200 4.5)
/// holding identification `id`.
pub fn ipv6_fragments(packet: &[u8], id: u32, size: usize) -> Vec<Vec<u8>> {
    let (header, payload) = packet.split_at(40.min(packet.len()));
    let next = header.get(6).copied().unwrap_or(17);
    pieces(payload, size)
        .map(|(offset, part, more)| {
            let mut ip = header.to_vec();
            let len = u16::try_from(8 + part.len()).unwrap_or(u16::MAX);
            ip[4..6].copy_from_slice(&len.to_be_bytes());
            ip[6] = 44;
            let field = offset | u16::from(more);
            ip.extend_from_slice(&[next, 0]);
            ip.extend_from_slice(&field.to_be_bytes());
            ip.extend_from_slice(&id.to_be_bytes());
            ip.extend_from_slice(part);
            ip
        })
        .collect()
}

/// `payload` cut into pieces of `size` bytes (rounded down to a multiple of 8, at least
/// 8): each piece's byte offset, its bytes, and whether more follow.
fn pieces(payload: &[u8], size: usize) -> impl Iterator<Item = (u16, &[u8], bool)> {
    let size = (size / 8).max(1) * 8;
    let count = payload.len().div_ceil(size).max(1);
    (0..count).map(move |i| {
        let part = &payload[i * size..((i + 1) * size).min(payload.len())];
        let offset = u16::try_from(i * size).unwrap_or(0xfff8) & 0xfff8;
        (offset, part, i + 1 < count)
    })
}

/// The source address of the IP packet `quoted` (the host an ICMP error goes back to).
fn quoted_source(quoted: &[u8], v6: bool) -> Option<IpAddr> {
    if v6 {
        let a: [u8; 16] = quoted.get(8..24)?.try_into().ok()?;
        Some(IpAddr::from(a))
    } else {
        let a: [u8; 4] = quoted.get(12..16)?.try_into().ok()?;
        Some(IpAddr::from(a))
    }
}

/// The sum of the pseudo-header the UDP (and ICMPv6) checksum covers.
fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> u32 {
    let mut bytes = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            bytes.extend_from_slice(&s.octets());
            bytes.extend_from_slice(&d.octets());
            bytes.extend_from_slice(&[0, protocol]);
            bytes.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        }
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            bytes.extend_from_slice(&to6(s).octets());
            bytes.extend_from_slice(&to6(d).octets());
            bytes.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
            bytes.extend_from_slice(&[0, 0, 0, protocol]);
        }
    }
    add(0, &bytes)
}

/// Adds `bytes` as 16-bit big-endian words to `sum` (the Internet checksum, RFC 1071).
fn add(mut sum: u32, bytes: &[u8]) -> u32 {
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
        sum = sum.wrapping_add(u32::from(word));
    }
    sum
}

/// The one's complement of the folded sum: the checksum field.
fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
