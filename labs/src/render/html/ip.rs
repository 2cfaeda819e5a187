//! The IPv4 or IPv6 header's fields, with IPv6's extension headers.

use super::frame::{Field, be16, be32};

/// The IP header's fields; returns where the TCP header starts and where the IP packet
/// ends (by its length fields).
pub(super) fn network(d: &[u8], o: usize, out: &mut Vec<Field>) -> Option<(usize, usize)> {
    let version = d.get(o)? >> 4;
    let ip = |a: &[u8]| -> String {
        match a.len() {
            4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(a).unwrap_or_default()).to_string(),
            _ => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(a).unwrap_or_default()).to_string(),
        }
    };
    let (title, fields, tcp, end) = if version == 4 {
        let hl = usize::from(d.get(o)? & 0x0f) * 4;
        let total = usize::from(be16(d, o + 2)?);
        let frag = be16(d, o + 6)?;
        let mut f = vec![
            Field::new(
                "ip.hdr_len",
                o,
                o + 1,
                format!("Version: 4, header length: {hl} bytes"),
            ),
            Field::new(
                "ip.dsfield",
                o + 1,
                o + 2,
                format!("Differentiated services: 0x{:02x}", d.get(o + 1)?),
            ),
            Field::new("ip.len", o + 2, o + 4, format!("Total length: {total}")),
            Field::new(
                "ip.id",
                o + 4,
                o + 6,
                format!("Identification: 0x{:04x}", be16(d, o + 4)?),
            ),
            Field::new(
                "ip.flags",
                o + 6,
                o + 8,
                format!(
                    "Flags: {}{}, fragment offset: {}",
                    if frag & 0x4000 != 0 {
                        "DF (don't fragment)"
                    } else {
                        "none"
                    },
                    if frag & 0x2000 != 0 {
                        ", MF (more fragments)"
                    } else {
                        ""
                    },
                    frag & 0x1fff
                ),
            ),
            Field::new(
                "ip.ttl",
                o + 8,
                o + 9,
                format!("Time to live: {}", d.get(o + 8)?),
            ),
            Field::new(
                "ip.proto",
                o + 9,
                o + 10,
                format!("Protocol: {} (TCP)", d.get(o + 9)?),
            ),
            Field::new(
                "ip.checksum",
                o + 10,
                o + 12,
                format!("Header checksum: 0x{:04x}", be16(d, o + 10)?),
            ),
            Field::new(
                "ip.src",
                o + 12,
                o + 16,
                format!("Source: {}", ip(d.get(o + 12..o + 16)?)),
            ),
            Field::new(
                "ip.dst",
                o + 16,
                o + 20,
                format!("Destination: {}", ip(d.get(o + 16..o + 20)?)),
            ),
        ];
        if hl > 20 {
            f.push(Field::new(
                "ip.options",
                o + 20,
                o + hl,
                format!("Options ({} bytes)", hl - 20),
            ));
        }
        ("Internet Protocol version 4", f, o + hl, o + total)
    } else if version == 6 {
        let plen = usize::from(be16(d, o + 4)?);
        let mut f = vec![
            Field::new(
                "ipv6.flow",
                o,
                o + 4,
                format!(
                    "Version: 6, traffic class, flow label: 0x{:08x}",
                    be32(d, o)?
                ),
            ),
            Field::new("ipv6.plen", o + 4, o + 6, format!("Payload length: {plen}")),
            Field::new(
                "ipv6.nxt",
                o + 6,
                o + 7,
                format!("Next header: {}", d.get(o + 6)?),
            ),
            Field::new(
                "ipv6.hlim",
                o + 7,
                o + 8,
                format!("Hop limit: {}", d.get(o + 7)?),
            ),
            Field::new(
                "ipv6.src",
                o + 8,
                o + 24,
                format!("Source: {}", ip(d.get(o + 8..o + 24)?)),
            ),
            Field::new(
                "ipv6.dst",
                o + 24,
                o + 40,
                format!("Destination: {}", ip(d.get(o + 24..o + 40)?)),
            ),
        ];
        // Extension headers (hop-by-hop, routing, fragment, destination options).
        let (mut next, mut at) = (*d.get(o + 6)?, o + 40);
        while matches!(next, 0 | 43 | 44 | 60) {
            let len = if next == 44 {
                8
            } else {
                (usize::from(*d.get(at + 1)?) + 1) * 8
            };
            f.push(Field::new(
                "ipv6.ext",
                at,
                at + len,
                format!("Extension header {next} ({len} bytes)"),
            ));
            next = *d.get(at)?;
            at += len;
        }
        ("Internet Protocol version 6", f, at, o + 40 + plen)
    } else {
        return None;
    };
    let mut layer = Field::new(
        if version == 4 { "ip" } else { "ipv6" },
        o,
        tcp,
        title.to_string(),
    );
    layer.children = fields;
    out.push(layer);
    Some((tcp, end))
}
