//! A frame's headers byte by byte, for the page's field tree: each field with the bytes
//! it occupies, named as Wireshark's display filters name it (`eth.dst`, `ip.ttl`,
//! `tcp.srcport`, `tcp.options.mss`), the link layer, IPv4 or IPv6, and TCP with its
//! options. Fields stop where the captured bytes do.

use crate::tcp::Row;

/// One field: the bytes `start..end` of the frame, what they say, and the fields inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Wireshark's name for it (`tcp.srcport`), or a layer's (`tcp`).
    pub name: String,
    /// What it says: `Source port: 42676`.
    pub label: String,
    /// Its first byte in the frame.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// The fields inside it (a layer's fields, an option's parts).
    pub children: Vec<Field>,
}

impl Field {
    /// A field without children.
    pub fn new(name: &str, start: usize, end: usize, label: String) -> Field {
        Field {
            name: name.to_string(),
            label,
            start,
            end,
            children: Vec::new(),
        }
    }
}

/// The frame's layers down to TCP, and where the TCP payload starts and ends.
pub fn headers(linktype: i32, d: &[u8], row: &Row) -> (Vec<Field>, Option<(usize, usize)>) {
    let mut layers = Vec::new();
    let Some(ip) = link(linktype, d, &mut layers) else {
        return (layers, None);
    };
    let Some((tcp, end)) = super::ip::network(d, ip, &mut layers) else {
        return (layers, None);
    };
    let payload = super::tcp::transport(d, tcp, row, &mut layers);
    (layers, payload.map(|p| (p, end.min(d.len()).max(p))))
}

/// The big-endian 16-bit number at `i`, if captured.
pub(super) fn be16(d: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]))
}

/// The big-endian 32-bit number at `i`, if captured.
pub(super) fn be32(d: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(i..i + 4)?.try_into().ok()?))
}

/// Bytes in hex, `sep` between them.
pub(super) fn hex(d: &[u8], sep: &str) -> String {
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// The link layer's fields; returns where the IP header starts.
fn link(linktype: i32, d: &[u8], out: &mut Vec<Field>) -> Option<usize> {
    let mac = |name: &str, at: usize, what: &str| -> Option<Field> {
        Some(Field::new(
            name,
            at,
            at + 6,
            format!("{what}: {}", hex(d.get(at..at + 6)?, ":")),
        ))
    };
    let (title, name, fields, ip) = match linktype {
        1 => {
            let ty = be16(d, 12)?;
            let (ip, inner) = if ty == 0x8100 {
                (18, be16(d, 16)?)
            } else {
                (14, ty)
            };
            let mut f = vec![
                mac("eth.dst", 0, "Destination")?,
                mac("eth.src", 6, "Source")?,
            ];
            f.push(Field::new(
                "eth.type",
                ip - 2,
                ip,
                format!("Type: 0x{inner:04x} ({})", ether_type(inner)),
            ));
            ("Ethernet II", "eth", f, ip)
        }
        0 | 108 => {
            let raw = d.get(0..4)?;
            let le = u32::from_le_bytes(raw.try_into().ok()?);
            let family = if le < 256 {
                le
            } else {
                u32::from_be_bytes(raw.try_into().ok()?)
            };
            let f = vec![Field::new(
                "null.family",
                0,
                4,
                format!("Family: {family} ({})", family_name(family)),
            )];
            ("BSD loopback (Null/Loopback)", "null", f, 4)
        }
        113 => {
            let proto = be16(d, 14)?;
            let f = vec![
                Field::new("sll.pkttype", 0, 2, format!("Packet type: {}", be16(d, 0)?)),
                Field::new(
                    "sll.hatype",
                    2,
                    4,
                    format!("Link-layer address type: {}", be16(d, 2)?),
                ),
                Field::new(
                    "sll.halen",
                    4,
                    6,
                    format!("Link-layer address length: {}", be16(d, 4)?),
                ),
                Field::new(
                    "sll.src.eth",
                    6,
                    14,
                    format!("Source: {}", hex(d.get(6..14)?, ":")),
                ),
                Field::new(
                    "sll.etype",
                    14,
                    16,
                    format!("Protocol: 0x{proto:04x} ({})", ether_type(proto)),
                ),
            ];
            ("Linux cooked capture v1", "sll", f, 16)
        }
        276 => {
            let proto = be16(d, 0)?;
            let f = vec![
                Field::new(
                    "sll.etype",
                    0,
                    2,
                    format!("Protocol: 0x{proto:04x} ({})", ether_type(proto)),
                ),
                Field::new("sll.reserved", 2, 4, "Reserved".to_string()),
                Field::new(
                    "sll.ifindex",
                    4,
                    8,
                    format!("Interface index: {}", be32(d, 4)?),
                ),
                Field::new(
                    "sll.hatype",
                    8,
                    10,
                    format!("Link-layer address type: {}", be16(d, 8)?),
                ),
                Field::new(
                    "sll.pkttype",
                    10,
                    11,
                    format!("Packet type: {}", d.get(10)?),
                ),
                Field::new(
                    "sll.halen",
                    11,
                    12,
                    format!("Link-layer address length: {}", d.get(11)?),
                ),
                Field::new(
                    "sll.src.eth",
                    12,
                    20,
                    format!("Source: {}", hex(d.get(12..20)?, ":")),
                ),
            ];
            ("Linux cooked capture v2", "sll", f, 20)
        }
        _ => return Some(0),
    };
    let mut layer = Field::new(name, 0, ip, title.to_string());
    layer.children = fields;
    out.push(layer);
    Some(ip)
}

fn ether_type(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x86dd => "IPv6",
        _ => "?",
    }
}

fn family_name(f: u32) -> &'static str {
    match f {
        2 => "AF_INET",
        10 | 24 | 28 | 30 => "AF_INET6",
        _ => "?",
    }
}
