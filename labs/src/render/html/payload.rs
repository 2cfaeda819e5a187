//! A segment's payload byte by byte, in the lab protocol its connection speaks, with the
//! field names of the Wireshark dissector (`wireshark/unplab.lua`): `unplab.lottery.command`,
//! `unplab.ft.length`, `unplab.sum.a`, ...
//!
//! Fixed-size messages (lottery commands, file segments, binary sums) are cut where
//! the stream's byte count says they start, so a message split over two TCP segments
//! shows as its end in one and its start in the other. Text is cut into lines.

use super::frame::Field;
use crate::decode::{Proto, Side};
use tcpcliserv::proto::sum_text;

/// The payload's fields: `bytes` sit at `at` in the frame and at `offset` in the stream
/// `side` sends (0 = its first byte).
pub fn fields(proto: Option<Proto>, side: Side, offset: u32, bytes: &[u8], at: usize) -> Field {
    let end = at + bytes.len();
    let (title, children) = match (proto.unwrap_or(Proto::Raw), side) {
        (Proto::Lottery, Side::Client) => {
            ("Lottery commands", framed(4, offset, bytes, at, command))
        }
        (Proto::Lottery, Side::Server) => ("Lottery reply", vec![reply(bytes, at)]),
        (Proto::Ft, Side::Client) => (
            "File transfer request",
            vec![text("unplab.ft.path", "Path", bytes, at)],
        ),
        (Proto::Ft, Side::Server) => (
            "File transfer segments",
            framed(260, offset, bytes, at, segment),
        ),
        (Proto::Sum09, Side::Client) => (
            "Binary sum requests",
            framed(16, offset, bytes, at, request09),
        ),
        (Proto::Sum09, Side::Server) => {
            ("Binary sum replies", framed(8, offset, bytes, at, reply09))
        }
        (Proto::Sum08, _) => ("Text sums", lines(bytes, at, |l, a| sum_line(side, l, a))),
        (Proto::Echo, _) => (
            "Echo",
            lines(bytes, at, |l, a| text("unplab.echo.text", "Text", l, a)),
        ),
        (Proto::Daytime, _) => (
            "Daytime",
            lines(bytes, at, |l, a| {
                text("unplab.daytime.text", "Date and time", l, a)
            }),
        ),
        // The UDP protocols never reach a TCP segment's page (the page shows TCP only).
        (Proto::Raw | Proto::UdpEcho | Proto::UdpFt | Proto::UdpSeq | Proto::Rft, _) => {
            ("Data", vec![text("data.data", "Data", bytes, at)])
        }
    };
    let mut layer = Field::new(
        "unplab",
        at,
        end,
        format!("{title} ({})", crate::plural(bytes.len(), "byte")),
    );
    layer.children = children;
    layer
}

/// Bytes as the page quotes them: text escaped, or hex.
fn shown(bytes: &[u8]) -> String {
    crate::decode::raw(bytes)
}

fn text(name: &str, what: &str, bytes: &[u8], at: usize) -> Field {
    Field::new(
        name,
        at,
        at + bytes.len(),
        format!("{what}: {}", shown(bytes)),
    )
}

/// Messages of `size` bytes, the first starting where the stream's count is a multiple
/// of `size`; `each` describes a whole one.
fn framed(
    size: usize,
    offset: u32,
    bytes: &[u8],
    at: usize,
    each: fn(&[u8], usize) -> Field,
) -> Vec<Field> {
    let mut out = Vec::new();
    let head = (size - offset as usize % size) % size;
    let head = head.min(bytes.len());
    if head > 0 {
        out.push(Field::new(
            "unplab.continued",
            at,
            at + head,
            format!(
                "End of a message begun in an earlier segment ({})",
                crate::plural(head, "byte")
            ),
        ));
    }
    for (i, chunk) in bytes[head..].chunks(size).enumerate() {
        let start = at + head + i * size;
        if chunk.len() == size {
            out.push(each(chunk, start));
        } else {
            out.push(Field::new(
                "unplab.partial",
                start,
                start + chunk.len(),
                format!(
                    "Start of a message ({} of {size} bytes), the rest in a later segment",
                    chunk.len()
                ),
            ));
        }
    }
    out
}

fn le32(b: &[u8]) -> i32 {
    i32::from_le_bytes([0, 1, 2, 3].map(|i| b.get(i).copied().unwrap_or(0)))
}

fn le64(b: &[u8]) -> i64 {
    i64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7].map(|i| b.get(i).copied().unwrap_or(0)))
}

fn command(b: &[u8], at: usize) -> Field {
    let frame = lottery::proto::Frame::parse(b);
    let value = le32(b);
    Field::new(
        "unplab.lottery.command",
        at,
        at + 4,
        format!("Command: {frame} ({value}, 4 bytes little-endian)"),
    )
}

/// A reply, with each number in it (the new one, or the six slots) as a field.
fn reply(bytes: &[u8], at: usize) -> Field {
    let known = lottery::proto::Reply::parse(bytes).is_some();
    let mut f = text("unplab.lottery.reply", "Reply", bytes, at);
    if !known {
        f.label.push_str(" (not a lottery reply)");
        return f;
    }
    let from = bytes
        .iter()
        .position(|&b| b == b':')
        .map_or(bytes.len(), |p| p + 1);
    let mut i = from;
    while i < bytes.len() {
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            i += 1;
            continue;
        }
        let n = String::from_utf8_lossy(&bytes[i..i + digits]).into_owned();
        f.children.push(Field::new(
            "unplab.lottery.number",
            at + i,
            at + i + digits,
            format!("Number: {n}"),
        ));
        i += digits;
    }
    f
}

/// A 260-byte file segment: its length, then data and padding (or an error message).
fn segment(b: &[u8], at: usize) -> Field {
    let n = le32(b);
    let kind = match n {
        -1 => "error segment",
        0 => "end-of-file segment",
        1..=255 => "last data segment",
        256 => "data segment",
        _ => "protocol error: length outside -1..=256",
    };
    let mut f = Field::new(
        "unplab.ft.segment",
        at,
        at + 260,
        format!("File segment: {kind}"),
    );
    f.children.push(Field::new(
        "unplab.ft.length",
        at,
        at + 4,
        format!("Length: {n} (4 bytes little-endian)"),
    ));
    let body = b.get(4..).unwrap_or_default();
    let data = usize::try_from(n).unwrap_or(0).min(body.len());
    if n == -1 {
        let text = body.split(|&c| c == 0).next().unwrap_or_default();
        f.children.push(Field::new(
            "unplab.ft.error",
            at + 4,
            at + 4 + text.len() + 1,
            format!("Error message: {} (ended by a NUL byte)", shown(text)),
        ));
    } else if data > 0 {
        f.children.push(Field::new(
            "unplab.ft.data",
            at + 4,
            at + 4 + data,
            format!("File data ({})", crate::plural(data, "byte")),
        ));
    }
    let pad = if n == -1 { 0 } else { data };
    if n != -1 && pad < body.len() {
        f.children.push(Field::new(
            "unplab.ft.padding",
            at + 4 + pad,
            at + 260,
            format!(
                "Padding ({}, to ignore)",
                crate::plural(body.len() - pad, "byte")
            ),
        ));
    }
    f
}

fn request09(b: &[u8], at: usize) -> Field {
    let (a, c) = (le64(b), le64(b.get(8..).unwrap_or_default()));
    let mut f = Field::new(
        "unplab.sum.request",
        at,
        at + 16,
        format!("Request: sum {a} + {c}"),
    );
    f.children = vec![
        Field::new(
            "unplab.sum.a",
            at,
            at + 8,
            format!("A: {a} (8 bytes little-endian)"),
        ),
        Field::new(
            "unplab.sum.b",
            at + 8,
            at + 16,
            format!("B: {c} (8 bytes little-endian)"),
        ),
    ];
    f
}

fn reply09(b: &[u8], at: usize) -> Field {
    Field::new(
        "unplab.sum.sum",
        at,
        at + 8,
        format!("Sum: {} (8 bytes little-endian)", le64(b)),
    )
}

/// The payload cut after each line end; `each` describes a line.
fn lines(bytes: &[u8], at: usize, each: impl Fn(&[u8], usize) -> Field) -> Vec<Field> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        out.push(each(line, at + start));
        start += line.len();
    }
    out
}

/// A tcpserv08 line: `A B` from the client, `A+B` or `input error` from the server.
fn sum_line(side: Side, line: &[u8], at: usize) -> Field {
    let mut f = text("unplab.sum.line", "Line", line, at);
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < line.len() && tokens.len() < 2 {
        let len = line[i..]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace())
            .count();
        if len > 0 {
            tokens.push((i, len));
        }
        i += len.max(1);
    }
    match side {
        Side::Client if sum_text::scan_two(line).is_some() => {
            for ((i, len), name) in tokens.into_iter().zip(["unplab.sum.a", "unplab.sum.b"]) {
                let value = String::from_utf8_lossy(&line[i..i + len]).into_owned();
                f.children.push(Field::new(
                    name,
                    at + i,
                    at + i + len,
                    format!("{}: {value}", &name[11..].to_uppercase()),
                ));
            }
        }
        Side::Server if sum_text::decode_reply(line).is_some() && tokens.len() == 1 => {
            let (i, len) = tokens[0];
            let value = String::from_utf8_lossy(&line[i..i + len]).into_owned();
            f.children.push(Field::new(
                "unplab.sum.sum",
                at + i,
                at + i + len,
                format!("Sum: {value}"),
            ));
        }
        _ => {}
    }
    f
}
