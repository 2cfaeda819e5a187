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
//! [`describe_request`] and [`SegmentDescriber`] turn captured payloads into one-line
//! descriptions, for the capture explainer.

use std::fmt;

/// The size of a segment's data buffer (`BUFSIZE` in the C programs).
pub const BUFSIZE: usize = 256;

/// The size of one segment on the wire: a 4-byte length and the buffer.
pub const SEGMENT_SIZE: usize = 4 + BUFSIZE;

/// The longest path a request may carry: the C server reads at most 256 bytes into a
/// 256-byte array and then writes a terminating NUL at `recv_msg[len]`.
pub const MAX_PATH_LEN: usize = BUFSIZE - 1;

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

/// The length field of a frame (its first 4 bytes, little-endian).
pub fn segment_length(frame: &[u8; SEGMENT_SIZE]) -> i32 {
    let mut len = [0u8; 4];
    len.copy_from_slice(&frame[field::LENGTH]);
    i32::from_le_bytes(len)
}

/// Decodes one 260-byte frame. The bytes after `length` are ignored, as they must be.
pub fn decode_segment(frame: &[u8; SEGMENT_SIZE]) -> Result<Segment<'_>, ProtoError> {
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

/// A request the server refuses before looking at the file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestError {
    /// No bytes at all.
    Empty,
    /// More than [`MAX_PATH_LEN`] bytes (the count is what arrived, at most 256 when read
    /// by a server).
    TooLong(usize),
    /// The bytes are not UTF-8.
    NotUtf8,
    /// A NUL byte inside the path (a C server would silently cut the path there).
    ContainsNul,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Empty => f.write_str("empty path"),
            RequestError::TooLong(n) => {
                write!(f, "path too long ({n} bytes, at most {MAX_PATH_LEN})")
            }
            RequestError::NotUtf8 => f.write_str("path is not UTF-8"),
            RequestError::ContainsNul => f.write_str("path contains a NUL byte"),
        }
    }
}

impl std::error::Error for RequestError {}

/// The request bytes for `path`: the path itself, checked as the server will check it.
pub fn encode_request(path: &str) -> Result<&[u8], RequestError> {
    decode_request(path.as_bytes()).map(str::as_bytes)
}

/// The path a request carries, if it is one the server accepts to look up.
pub fn decode_request(bytes: &[u8]) -> Result<&str, RequestError> {
    if bytes.is_empty() {
        return Err(RequestError::Empty);
    }
    if bytes.len() > MAX_PATH_LEN {
        return Err(RequestError::TooLong(bytes.len()));
    }
    if bytes.contains(&0) {
        return Err(RequestError::ContainsNul);
    }
    std::str::from_utf8(bytes).map_err(|_| RequestError::NotUtf8)
}

/// A one-line description of a captured request payload: `path "/tmp/x"`, or what is
/// wrong with it (`invalid path (path is not UTF-8): "a\xFFb"`).
pub fn describe_request(bytes: &[u8]) -> String {
    match decode_request(bytes) {
        Ok(path) => format!("path {path:?}"),
        Err(e) => format!("invalid path ({e}): \"{}\"", bytes.escape_ascii()),
    }
}

/// Describes a server-to-client byte stream segment by segment, whatever the points at
/// which the capture split it (TCP segments rarely line up with 260-byte frames).
///
/// ```
/// use filetransfer::proto::{SegmentDescriber, encode_segments};
/// use filetransfer::proto::encode_end_of_file;
/// let mut wire = Vec::new();
/// encode_segments(&[7u8; 300], &mut wire);
/// wire.extend_from_slice(&encode_end_of_file());
/// let mut d = SegmentDescriber::new();
/// let mut lines = d.feed(&wire[..100]); // nothing complete yet
/// lines.extend(d.feed(&wire[100..]));
/// assert_eq!(
///     lines,
///     ["segment len=256", "segment len=44 (last data)", "end-of-file segment"]
/// );
/// assert_eq!(d.finish(), None);
/// ```
#[derive(Debug, Default, Clone)]
pub struct SegmentDescriber {
    pending: Vec<u8>,
    ended: bool,
    trailing: usize,
}

impl SegmentDescriber {
    /// A describer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next captured bytes and returns one line per segment they complete:
    /// `segment len=256`, `segment len=88 (last data)` (a short segment, which a server
    /// only sends at the end of the file), `end-of-file segment` (unplab's marker of a
    /// complete transfer), `error segment "refused: ..."`, or
    /// `protocol error: segment length 300 is outside -1..=256`. Bytes after an
    /// end-of-file segment, an error segment or a protocol error are counted, not decoded
    /// (see [`Self::finish`]).
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        while !bytes.is_empty() {
            if self.ended {
                self.trailing += bytes.len();
                break;
            }
            let want = SEGMENT_SIZE - self.pending.len();
            let take = want.min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            let Ok(frame) = <&[u8; SEGMENT_SIZE]>::try_from(self.pending.as_slice()) else {
                break; // incomplete: wait for more bytes
            };
            lines.push(match decode_segment(frame) {
                Ok(Segment::Data(d)) if d.len() < BUFSIZE => {
                    format!("segment len={} (last data)", d.len())
                }
                Ok(Segment::Data(d)) => format!("segment len={}", d.len()),
                Ok(Segment::EndOfFile) => {
                    self.ended = true;
                    "end-of-file segment".to_string()
                }
                Ok(Segment::Error(m)) => {
                    self.ended = true;
                    format!("error segment {:?}", String::from_utf8_lossy(m))
                }
                Err(e) => {
                    self.ended = true;
                    e.to_string()
                }
            });
            self.pending.clear();
        }
        lines
    }

    /// What is left at the end of the stream, if anything: an incomplete segment
    /// (`incomplete segment: 130 of 260 bytes`) or bytes after the last segment.
    pub fn finish(&self) -> Option<String> {
        if self.trailing > 0 {
            Some(format!(
                "{} unexpected bytes after the last segment",
                self.trailing
            ))
        } else if !self.pending.is_empty() {
            Some(format!(
                "incomplete segment: {} of {SEGMENT_SIZE} bytes",
                self.pending.len()
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: i32, fill: u8) -> [u8; SEGMENT_SIZE] {
        let mut f = [fill; SEGMENT_SIZE];
        f[..4].copy_from_slice(&len.to_le_bytes());
        f
    }

    #[test]
    fn data_segment_round_trip_and_layout() {
        let mut f = [0xAAu8; SEGMENT_SIZE];
        encode_data(b"hello", &mut f);
        assert_eq!(&f[..4], &[5, 0, 0, 0]); // little-endian length
        assert_eq!(&f[4..9], b"hello");
        assert!(f[9..].iter().all(|&b| b == 0));
        assert_eq!(decode_segment(&f), Ok(Segment::Data(b"hello")));
    }

    #[test]
    fn garbage_after_length_is_ignored() {
        let f = frame(3, b'Z');
        assert_eq!(decode_segment(&f), Ok(Segment::Data(b"ZZZ")));
        assert_eq!(decode_segment(&frame(1, 9)), Ok(Segment::Data(b"\x09")));
        assert_eq!(
            decode_segment(&frame(256, 1)),
            Ok(Segment::Data(&[1u8; 256]))
        );
    }

    #[test]
    fn lengths_outside_the_range_are_protocol_errors() {
        for n in [257, -2, i32::MIN, i32::MAX, 260] {
            assert_eq!(decode_segment(&frame(n, 0)), Err(ProtoError::BadLength(n)));
        }
        assert_eq!(
            ProtoError::BadLength(300).to_string(),
            "protocol error: segment length 300 is outside -1..=256"
        );
    }

    #[test]
    fn end_of_file_segment_is_length_zero_and_zero_padding() {
        let f = encode_end_of_file();
        assert_eq!(&f[..4], &[0, 0, 0, 0]);
        assert!(f[4..].iter().all(|&b| b == 0));
        assert!(is_end_of_file(&f));
        assert_eq!(decode_segment(&f), Ok(Segment::EndOfFile));
        // Recognized by its length alone, whatever a peer leaves in the padding.
        assert!(is_end_of_file(&frame(0, 0xEE)));
        assert_eq!(decode_segment(&frame(0, 0xEE)), Ok(Segment::EndOfFile));
        assert!(!is_end_of_file(&frame(1, 0)));
        assert!(!is_end_of_file(&frame(-1, 0)));
        assert!(!Segment::EndOfFile.is_short());
        assert!(Segment::Data(b"x").is_short());
        assert!(!Segment::Data(&[0; 256]).is_short());
    }

    #[test]
    fn error_segment_round_trip() {
        let f = encode_error("No such file or directory: x.txt");
        assert_eq!(&f[..4], &[0xFF; 4]);
        let seg = decode_segment(&f).unwrap();
        assert_eq!(seg, Segment::Error(b"No such file or directory: x.txt"));
        assert_eq!(
            seg.error_message().as_deref(),
            Some("No such file or directory: x.txt")
        );
    }

    #[test]
    fn long_error_message_is_cut_at_a_char_boundary_and_nul_ended() {
        let msg = "é".repeat(200); // 400 bytes
        let f = encode_error(&msg);
        assert_eq!(f[SEGMENT_SIZE - 1], 0);
        let Segment::Error(m) = decode_segment(&f).unwrap() else {
            panic!("not an error segment")
        };
        assert_eq!(m.len(), 254);
        assert!(std::str::from_utf8(m).is_ok());
        // A C peer that fills the whole buffer without a NUL is read to the end.
        let full = frame(-1, b'e');
        assert_eq!(decode_segment(&full), Ok(Segment::Error(&[b'e'; 256])));
    }

    #[test]
    fn encode_segments_splits_in_256_byte_pieces() {
        let data: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        encode_segments(&data, &mut out);
        assert_eq!(out.len(), 3 * SEGMENT_SIZE);
        let lens: Vec<i32> = out
            .chunks_exact(SEGMENT_SIZE)
            .map(|c| segment_length(c.try_into().unwrap()))
            .collect();
        assert_eq!(lens, [256, 256, 88]);
        let mut back = Vec::new();
        for c in out.chunks_exact(SEGMENT_SIZE) {
            match decode_segment(c.try_into().unwrap()).unwrap() {
                Segment::Data(d) => back.extend_from_slice(d),
                other => panic!("not data: {other:?}"),
            }
        }
        assert_eq!(back, data);
        out.clear();
        encode_segments(b"", &mut out);
        assert!(out.is_empty());
        encode_segments(&[1; 512], &mut out);
        assert_eq!(out.len(), 2 * SEGMENT_SIZE);
    }

    #[test]
    fn requests_are_checked() {
        assert_eq!(decode_request(b"/tmp/x"), Ok("/tmp/x"));
        assert_eq!(decode_request(b""), Err(RequestError::Empty));
        assert_eq!(decode_request(&[b'a'; 255]).map(str::len), Ok(255));
        assert_eq!(
            decode_request(&[b'a'; 256]),
            Err(RequestError::TooLong(256))
        );
        assert_eq!(decode_request(b"a\xffb"), Err(RequestError::NotUtf8));
        assert_eq!(decode_request(b"a\0b"), Err(RequestError::ContainsNul));
        assert_eq!(encode_request("x.txt"), Ok(&b"x.txt"[..]));
        assert!(encode_request(&"a".repeat(300)).is_err());
    }

    #[test]
    fn describe_request_quotes_the_path() {
        assert_eq!(describe_request(b"/tmp/x"), r#"path "/tmp/x""#);
        assert_eq!(
            describe_request(b"a\xffb"),
            r#"invalid path (path is not UTF-8): "a\xffb""#
        );
    }

    #[test]
    fn describer_works_on_any_split() {
        let mut wire = Vec::new();
        encode_segments(&[3u8; 600], &mut wire);
        wire.extend_from_slice(&encode_end_of_file());
        let expected = [
            "segment len=256",
            "segment len=256",
            "segment len=88 (last data)",
            "end-of-file segment",
        ];
        for step in [1, 7, 259, 260, 261, 1000] {
            let mut d = SegmentDescriber::new();
            let lines: Vec<String> = wire.chunks(step).flat_map(|c| d.feed(c)).collect();
            assert_eq!(lines, expected, "split every {step} bytes");
            assert_eq!(d.finish(), None);
        }
    }

    #[test]
    fn describer_shows_error_segments_and_bytes_after_the_end() {
        let mut d = SegmentDescriber::new();
        let mut wire = encode_error("refused: outside the served directory").to_vec();
        assert_eq!(
            d.feed(&wire),
            ["error segment \"refused: outside the served directory\""]
        );
        assert_eq!(d.finish(), None);
        let mut d = SegmentDescriber::new();
        wire = encode_end_of_file().to_vec();
        encode_segments(b"late", &mut wire);
        assert_eq!(d.feed(&wire), ["end-of-file segment"]);
        assert_eq!(
            d.finish().as_deref(),
            Some("260 unexpected bytes after the last segment")
        );
    }

    #[test]
    fn describer_reports_leftovers_and_bad_lengths() {
        let mut d = SegmentDescriber::new();
        assert!(d.feed(&frame(256, 0)[..130]).is_empty());
        assert_eq!(
            d.finish().as_deref(),
            Some("incomplete segment: 130 of 260 bytes")
        );
        let mut d = SegmentDescriber::new();
        let mut wire = frame(300, 0).to_vec();
        wire.extend_from_slice(&[0; 10]);
        assert_eq!(
            d.feed(&wire),
            ["protocol error: segment length 300 is outside -1..=256"]
        );
        assert_eq!(
            d.finish().as_deref(),
            Some("10 unexpected bytes after the last segment")
        );
    }
}
