//! The TCP header's fields and its options (MSS, window scale, SACK, timestamps, ...).

use super::frame::{Field, be16, be32, hex};
use crate::tcp::Row;

/// The TCP header's fields, relative numbers from `row`; returns where the payload starts.
pub(super) fn transport(d: &[u8], t: usize, row: &Row, out: &mut Vec<Field>) -> Option<usize> {
    let hl = usize::from(d.get(t + 12)? >> 4) * 4;
    let ack_note = if row.flags.has(crate::packet::Flags::ACK) {
        format!("{} (relative), raw {}", row.ack, be32(d, t + 8)?)
    } else {
        format!(
            "{} (raw; no ACK flag: the field means nothing)",
            be32(d, t + 8)?
        )
    };
    let flags = row.flags;
    let mut f = vec![
        Field::new(
            "tcp.srcport",
            t,
            t + 2,
            format!("Source port: {}", be16(d, t)?),
        ),
        Field::new(
            "tcp.dstport",
            t + 2,
            t + 4,
            format!("Destination port: {}", be16(d, t + 2)?),
        ),
        Field::new(
            "tcp.seq",
            t + 4,
            t + 8,
            format!(
                "Sequence number: {} (relative), raw {}",
                row.seq,
                be32(d, t + 4)?
            ),
        ),
        Field::new(
            "tcp.ack",
            t + 8,
            t + 12,
            format!("Acknowledgement number: {ack_note}"),
        ),
        Field::new(
            "tcp.hdr_len",
            t + 12,
            t + 13,
            format!("Header length: {hl} bytes"),
        ),
        Field::new(
            "tcp.flags",
            t + 13,
            t + 14,
            format!(
                "Flags: 0x{:02x} [{}] ({})",
                flags.0,
                flags.tcpdump(),
                flag_names(flags.0)
            ),
        ),
        Field::new(
            "tcp.window_size_value",
            t + 14,
            t + 16,
            format!(
                "Window: {} (scaled: {})",
                be16(d, t + 14)?,
                crate::plural(row.win, "byte")
            ),
        ),
        Field::new(
            "tcp.checksum",
            t + 16,
            t + 18,
            format!("Checksum: 0x{:04x}", be16(d, t + 16)?),
        ),
        Field::new(
            "tcp.urgent_pointer",
            t + 18,
            t + 20,
            format!("Urgent pointer: {}", be16(d, t + 18)?),
        ),
    ];
    if hl > 20 {
        let mut opts = Field::new(
            "tcp.options",
            t + 20,
            t + hl,
            format!("Options ({} bytes)", hl - 20),
        );
        opts.children = options(d, t + 20, t + hl);
        f.push(opts);
    }
    let mut layer = Field::new(
        "tcp",
        t,
        t + hl,
        format!("Transmission Control Protocol, {} → {}", row.src, row.dst),
    );
    layer.children = f;
    out.push(layer);
    Some(t + hl)
}

fn flag_names(bits: u8) -> String {
    let names = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
    let set: Vec<&str> = (0..8)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| names[i])
        .collect();
    if set.is_empty() {
        "none".to_string()
    } else {
        set.join(", ")
    }
}

/// The TCP options between `at` and `end`, each with its kind, length and value.
fn options(d: &[u8], mut at: usize, end: usize) -> Vec<Field> {
    let mut out = Vec::new();
    while at < end {
        let Some(&kind) = d.get(at) else { break };
        if kind == 0 {
            out.push(Field::new(
                "tcp.option_kind",
                at,
                end,
                "End of option list (and padding)".to_string(),
            ));
            break;
        }
        if kind == 1 {
            out.push(Field::new(
                "tcp.options.nop",
                at,
                at + 1,
                "No-operation (NOP)".to_string(),
            ));
            at += 1;
            continue;
        }
        let len = usize::from(d.get(at + 1).copied().unwrap_or(0)).max(2);
        let value = |i: usize| d.get(at + i..at + len).unwrap_or_default();
        let (name, label) = match (kind, len) {
            (2, 4) => (
                "tcp.options.mss",
                format!(
                    "Maximum segment size: {}",
                    crate::plural(be16(d, at + 2).unwrap_or(0), "byte")
                ),
            ),
            (3, 3) => {
                let shift = d.get(at + 2).copied().unwrap_or(0);
                (
                    "tcp.options.wscale",
                    format!("Window scale: shift {shift} (× {})", 1u32 << shift.min(14)),
                )
            }
            (4, 2) => ("tcp.options.sack_perm", "SACK permitted".to_string()),
            (5, _) => (
                "tcp.options.sack",
                format!("SACK: {} block(s)", (len - 2) / 8),
            ),
            (8, 10) => (
                "tcp.options.timestamp",
                format!(
                    "Timestamps: TSval {}, TSecr {}",
                    be32(d, at + 2).unwrap_or(0),
                    be32(d, at + 6).unwrap_or(0)
                ),
            ),
            _ => (
                "tcp.options.unknown",
                format!(
                    "Option kind {kind}, {}: {}",
                    crate::plural(len, "byte"),
                    hex(value(2), " ")
                ),
            ),
        };
        let mut opt = Field::new(name, at, (at + len).min(end), label);
        opt.children = vec![
            Field::new("tcp.option_kind", at, at + 1, format!("Kind: {kind}")),
            Field::new("tcp.option_len", at + 1, at + 2, format!("Length: {len}")),
        ];
        out.push(opt);
        at += len;
    }
    out
}
