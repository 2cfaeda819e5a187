//! The files a file-transfer check serves or asks for, and the comparison of what
//! arrived with what should have: segments of exactly 260 bytes, lengths little-endian,
//! the exact file bytes.

use std::path::Path;

use filetransfer::proto::{BUFSIZE, SEGMENT_SIZE, Segment};

use super::report::{Failure, hex};
use crate::plural;

/// The sizes the handout's checks transfer: empty, one byte, around one segment, and
/// several MiB.
pub const SIZES: [(&str, usize); 6] = [
    ("size-0", 0),
    ("size-1", 1),
    ("size-255", 255),
    ("size-256", 256),
    ("size-257", 257),
    ("size-3mib", 3 << 20),
];

/// The content of a test file of `size` bytes: every byte value, in a pattern that
/// repeats only every 251 bytes (so a segment sent twice or out of place shows).
pub fn content(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| ((i % 251) as u8) ^ ((i / 251) as u8))
        .collect()
}

/// Writes the test files `size-N` into `dir`.
pub fn make(dir: &Path) -> std::io::Result<()> {
    for (name, size) in SIZES {
        std::fs::write(dir.join(name), content(size))?;
    }
    Ok(())
}

/// Checks the bytes a server sent for a file against the file: whole 260-byte segments,
/// lengths 1–256 little-endian (0 allowed last: unplab's end-of-file segment), 256 in
/// every segment but the last, and the data equal to `want`.
pub fn check_segments(stream: &[u8], want: &[u8]) -> Result<usize, Failure> {
    let expected = format!(
        "{} of file data in 260-byte segments (4-byte little-endian length, 256-byte buffer)",
        plural(want.len(), "byte")
    );
    let fail = |got: String, why: String| Failure::new(expected.clone(), got, why);
    let whole = stream.len() / SEGMENT_SIZE;
    let mut data = Vec::with_capacity(want.len());
    let mut segments = filetransfer::proto::segments(stream);
    for k in 0..whole {
        let at = k * SEGMENT_SIZE;
        let frame = &stream[at..at + SEGMENT_SIZE];
        let seg = match segments.next() {
            Some(Ok(seg)) => seg,
            Some(Err(e)) => {
                let len = &frame[..4];
                let be = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
                let why = if (1..=BUFSIZE as i32).contains(&be) {
                    format!(
                        "the length {} is big-endian ({be}): the protocol's int is little-endian, as the C struct holds it in memory — do not htonl() it",
                        hex(len)
                    )
                } else {
                    format!(
                        "{e}: the length field must hold how many bytes of the buffer are file data"
                    )
                };
                return Err(fail(
                    format!("segment {} has length bytes {}", k + 1, hex(len)),
                    why,
                ));
            }
            None => break,
        };
        match seg {
            Segment::Data(d) => {
                if d.len() < BUFSIZE
                    && k + 1 < whole
                    && !matches!(segments.clone().next(), Some(Ok(Segment::EndOfFile)))
                {
                    return Err(fail(
                        format!("segment {} carries {}, and more segments follow", k + 1, plural(d.len(), "byte")),
                        "every segment but the last carries a full buffer of 256 bytes: read() the file until the buffer is full (or the file ends)".into(),
                    ));
                }
                data.extend_from_slice(d);
            }
            Segment::EndOfFile if k + 1 == whole => {}
            Segment::EndOfFile => {
                return Err(fail(
                    format!("segment {} has length 0, and more segments follow", k + 1),
                    "a length of 0 can only end the transfer".into(),
                ));
            }
            Segment::Error(m) => {
                return Err(fail(
                    format!("an error segment: \"{}\"", unp::printable(m)),
                    "the server refused a file that exists in its directory".into(),
                ));
            }
        }
    }
    let tail = stream.len() % SEGMENT_SIZE;
    if tail != 0 {
        return Err(fail(
            format!(
                "{}: {} and {} more ({})",
                plural(stream.len(), "byte"),
                plural(whole, "whole segment"),
                plural(tail, "byte"),
                hex(&stream[whole * SEGMENT_SIZE..])
            ),
            format!(
                "the last segment is {}: every segment is exactly 260 bytes — write(sockfd, &seg, sizeof(seg)) even when len < 256 (the bytes after len are padding)",
                plural(tail, "byte")
            ),
        ));
    }
    if data != want {
        return Err(fail(
            format!(
                "{} of data: {}",
                plural(data.len(), "byte"),
                first_difference(&data, want)
            ),
            "the data of the segments, joined, must be the file exactly".into(),
        ));
    }
    Ok(whole)
}

/// Where `got` first differs from `want`, with the bytes around it in hex.
pub fn first_difference(got: &[u8], want: &[u8]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    if at == got.len().min(want.len()) && got.len() != want.len() {
        let right = match at {
            1 => "the first byte is right".to_string(),
            n => format!("the first {n} bytes are right"),
        };
        return match got.len() > want.len() {
            true => format!(
                "{right}; then {} more than the file has",
                plural(got.len() - want.len(), "byte")
            ),
            false => format!(
                "{right}; then it ends, {} short",
                plural(want.len() - got.len(), "byte")
            ),
        };
    }
    let end = |v: &[u8]| (at + 8).min(v.len());
    format!(
        "differs from the file at byte {at}: got {}, the file has {}",
        hex(&got[at..end(got)]),
        hex(&want[at..end(want)])
    )
}
