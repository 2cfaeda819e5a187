//! The file-transfer wire format of Lab 3 Practice 4: pure encode and decode, no sockets.
//!
//! ```text
//! client -> server   the path, raw bytes, one write, no terminator, at most 255 bytes
//! server -> client   segments of exactly 260 bytes, [end-of-file segment,] then FIN:
//!
//!   0        4                                            260
//!   +--------+---------------------------------------------+
//!   | length |  buf: 256 bytes; the first `length` are data |
//!   +--------+---------------------------------------------+
//!     i32, little-endian (the C struct's `int` in host order)
//! ```
//!
//! The C server fills `buf` with one `read(2)` of the file, so every segment but the last
//! carries 256 bytes, and the bytes after `length` are whatever the buffer held before:
//! a reader must ignore them. An empty file is answered with no segment at all.
//!
//! unplab's extensions (see `docs/protocols/filetransfer.md`):
//!
//! - a segment with `length == -1` is an *error segment*; its buffer holds a message
//!   (UTF-8, ended by a NUL byte or by the end of the buffer), and it is the last segment;
//! - a segment with `length == 0` is the *end-of-file segment*: unplab's servers end every
//!   successful transfer with it, so that a client can tell a complete file from a
//!   server that died on a segment boundary (the FIN looks the same). The C server never
//!   sends it (its loop stops when `read` returns 0), and the C client writes its 0 bytes.
//!
//! Any other length outside `1..=256` is a protocol error.
//!
//! # The framing interface
//!
//! TCP is a byte stream: a `read` returns whatever has arrived, a piece of a segment or
//! several segments. This module is the one place that knows where a segment ends:
//!
//! | question | answer |
//! |---|---|
//! | is the front of this buffer a complete segment, incomplete, or invalid? | [`check`] |
//! | what does a complete one say? | [`parse`], and [`segments`] for every complete one in a buffer |
//! | the bytes for file data, the end, an error | [`encode_segments`], [`encode_piece`], [`encode_end_of_file`], [`encode_error`] |
//! | one line about a segment, for logs and captures | `Display` of [`Segment`] and [`ProtoError`] |
//!
//! The server encodes with it, the client (`fetch`) reassembles with [`segments`], and
//! the capture explainer (labtrace) counts and describes with [`complete_replies`] and
//! [`describe_replies`]. The request (the path) is in [`request`].

use std::fmt;

pub mod request;

pub use request::{MAX_PATH_LEN, RequestError, decode_request, describe_request, encode_request};

/// The size of a segment's data buffer (`BUFSIZE` in the C programs).
pub const BUFSIZE: usize = 256;

/// The size of one segment on the wire: a 4-byte length and the buffer.
pub const SEGMENT_SIZE: usize = 4 + BUFSIZE;

/// The length that marks an error segment.
pub const ERROR_LENGTH: i32 = -1;

/// The length that marks the end-of-file segment.
pub const END_OF_FILE_LENGTH: i32 = 0;

/// Byte offsets of a segment's fields.
mod field {
    use std::ops::Range;
    /// `int len`, little-endian.
    pub const LENGTH: Range<usize> = 0..4;
    /// `char buf[BUFSIZE]`.
    pub const BUF: Range<usize> = 4..super::SEGMENT_SIZE;
}

/// One decoded segment, borrowing its bytes from the 260-byte frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// File data: the first `length` bytes of the buffer (1 to 256 of them).
    Data(&'a [u8]),
    /// The end-of-file segment (length 0): the file is complete, the FIN follows.
    EndOfFile,
    /// An error segment (length -1): the message bytes, without the terminating NUL.
    Error(&'a [u8]),
}

impl Segment<'_> {
    /// The message of an error segment as text (invalid UTF-8 replaced); `None` for data.
    pub fn error_message(&self) -> Option<String> {
        match self {
            Segment::Data(_) | Segment::EndOfFile => None,
            Segment::Error(m) => Some(String::from_utf8_lossy(m).into_owned()),
        }
    }

    /// True for a data segment shorter than [`BUFSIZE`]: the file's last data (the C
    /// server's `read` of the file returned less than a full buffer only at its end).
    pub fn is_short(&self) -> bool {
        matches!(self, Segment::Data(d) if d.len() < BUFSIZE)
    }
}

impl fmt::Display for Segment<'_> {
    /// `segment len=256`, `segment len=88 (last data)`, `end-of-file segment`,
    /// `error segment "refused: symbolic link"` (the message escaped by
    /// [`unp::printable`]: it comes from the peer).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Data(d) if self.is_short() => write!(f, "segment len={} (last data)", d.len()),
            Segment::Data(d) => write!(f, "segment len={}", d.len()),
            Segment::EndOfFile => f.write_str("end-of-file segment"),
            Segment::Error(m) => write!(f, "error segment \"{}\"", unp::printable(m)),
        }
    }
}

/// A segment that breaks the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    /// The length field is outside -1..=256.
    BadLength(i32),
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::BadLength(n) => {
                write!(f, "protocol error: segment length {n} is outside -1..=256")
            }
        }
    }
}

impl std::error::Error for ProtoError {}

/// What the front of a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A whole segment: its first [`SEGMENT_SIZE`] bytes can be [`parse`]d.
    Complete,
    /// Fewer than [`SEGMENT_SIZE`] bytes: wait for more.
    Incomplete,
    /// A whole segment that breaks the protocol.
    Invalid(ProtoError),
}

/// Is the front of `buf` a complete segment, an incomplete one, or an invalid one?
pub fn check(buf: &[u8]) -> Framing {
    match buf.first_chunk::<SEGMENT_SIZE>().map(parse) {
        None => Framing::Incomplete,
        Some(Ok(_)) => Framing::Complete,
        Some(Err(e)) => Framing::Invalid(e),
    }
}

/// The length field of a frame (its first 4 bytes, little-endian).
pub fn segment_length(frame: &[u8; SEGMENT_SIZE]) -> i32 {
    let mut len = [0u8; 4];
    len.copy_from_slice(&frame[field::LENGTH]);
    i32::from_le_bytes(len)
}

/// Decodes one 260-byte frame. The bytes after `length` are ignored, as they must be.
pub fn parse(frame: &[u8; SEGMENT_SIZE]) -> Result<Segment<'_>, ProtoError> {
    let buf = &frame[field::BUF];
    match segment_length(frame) {
        ERROR_LENGTH => {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(BUFSIZE);
            Ok(Segment::Error(&buf[..end]))
        }
        END_OF_FILE_LENGTH => Ok(Segment::EndOfFile),
        n @ 1..=256 => Ok(Segment::Data(&buf[..n as usize])),
        n => Err(ProtoError::BadLength(n)),
    }
}

/// The complete segments at the front of `buf`, parsed one after another; what is left
/// (less than a segment) is [`Segments::rest`].
pub fn segments(buf: &[u8]) -> Segments<'_> {
    Segments { buf }
}

/// The iterator of [`segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    buf: &'a [u8],
}

impl<'a> Segments<'a> {
    /// The bytes after the segments taken so far: after the last one, the start of an
    /// incomplete segment (empty if the buffer ended on a segment boundary).
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (frame, rest) = self.buf.split_first_chunk::<SEGMENT_SIZE>()?;
        self.buf = rest;
        Some(parse(frame))
    }
}

/// How many bytes at the front of a captured server-to-client stream (starting at a
/// segment boundary) are whole segments.
pub fn complete_replies(stream: &[u8]) -> usize {
    let mut all = segments(stream);
    all.by_ref().for_each(drop);
    stream.len() - all.rest().len()
}

/// One line per segment of a captured server-to-client stream ([`Segment`]'s
/// `Display`, or the [`ProtoError`]). An end-of-file segment, an error segment or a
/// protocol error ends the stream: the bytes after one are counted, not decoded
/// (`260 unexpected bytes after the last segment`). An incomplete segment at the end is
/// left out: give it whole segments ([`complete_replies`]).
pub fn describe_replies(stream: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut all = segments(stream);
    while let Some(segment) = all.next() {
        let last = !matches!(segment, Ok(Segment::Data(_)));
        lines.push(match segment {
            Ok(s) => s.to_string(),
            Err(e) => e.to_string(),
        });
        if last {
            let trailing = all.rest().len();
            if trailing > 0 {
                lines.push(format!(
                    "{trailing} unexpected bytes after the last segment"
                ));
            }
            break;
        }
    }
    lines
}

/// Encodes a data segment into `frame`; the buffer after the data is zero-filled.
///
/// # Panics
/// If `data` is longer than [`BUFSIZE`] (a bug in the caller, never peer input).
pub fn encode_data(data: &[u8], frame: &mut [u8; SEGMENT_SIZE]) {
    assert!(data.len() <= BUFSIZE, "a segment holds at most 256 bytes");
    frame[field::LENGTH].copy_from_slice(&(data.len() as i32).to_le_bytes());
    let buf = &mut frame[field::BUF];
    buf[..data.len()].copy_from_slice(data);
    buf[data.len()..].fill(0);
}

/// Appends the segments that carry `data` to `out`: 256 bytes each, the last one short
/// (none at all for empty `data`). This is the server's hot path: one buffer of many
/// segments is written with one system call.
pub fn encode_segments(data: &[u8], out: &mut Vec<u8>) {
    let mut frame = [0u8; SEGMENT_SIZE];
    out.reserve(data.len().div_ceil(BUFSIZE) * SEGMENT_SIZE);
    for chunk in data.chunks(BUFSIZE) {
        encode_data(chunk, &mut frame);
        out.extend_from_slice(&frame);
    }
}

/// The wire bytes for the next piece of a file, in `out` (cleared first): the segments
/// that carry `data` ([`encode_segments`]), and after the file's `last` piece unplab's
/// end-of-file segment, so that it rides in the same `write`.
pub fn encode_piece(data: &[u8], last: bool, out: &mut Vec<u8>) {
    out.clear();
    encode_segments(data, out);
    if last {
        out.extend_from_slice(&encode_end_of_file());
    }
}

/// The end-of-file segment: length 0 (`00 00 00 00`) and 256 zero bytes of padding.
/// unplab's servers send it after the last data segment of every successful transfer.
pub const fn encode_end_of_file() -> [u8; SEGMENT_SIZE] {
    [0u8; SEGMENT_SIZE] // END_OF_FILE_LENGTH is 0: all zero bytes
}

/// True if `frame` is the end-of-file segment (length 0; the padding is not looked at).
pub fn is_end_of_file(frame: &[u8; SEGMENT_SIZE]) -> bool {
    segment_length(frame) == END_OF_FILE_LENGTH
}

/// Encodes an error segment carrying `message`, cut to 255 bytes (at a character
/// boundary) so that a NUL always ends it, as a C reader expects of a string.
pub fn encode_error(message: &str) -> [u8; SEGMENT_SIZE] {
    let mut end = message.len().min(BUFSIZE - 1);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut frame = [0u8; SEGMENT_SIZE];
    frame[field::LENGTH].copy_from_slice(&ERROR_LENGTH.to_le_bytes());
    frame[field::BUF][..end].copy_from_slice(&message.as_bytes()[..end]);
    frame
}

#[cfg(test)]
mod tests;
