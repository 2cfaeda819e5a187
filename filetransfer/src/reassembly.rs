//! Armour: a read is not a segment, and a FIN is not the end of the file.
//!
//! The C FTClient reads with `read(sockfd, &segment, sizeof segment)` and trusts that
//! each call returns one whole segment. TCP promises no such thing: past about 100 KiB
//! reads start returning pieces, and the client writes a length taken from the middle of
//! the data. [`Reassembly`] instead takes whatever a `read` returned, hands out the data
//! of the complete segments ([`crate::proto::segments`]) and keeps an incomplete one for
//! the next read.
//!
//! A FIN alone does not say "the file is complete": a server killed on a segment
//! boundary closes exactly like one that finished. [`Reassembly::at_close`] therefore
//! accepts a transfer only if it ended with unplab's end-of-file segment, or with a short
//! data segment (how the C FTServer ends a file whose size is not a multiple of 256), or
//! if the user trusts the close (`--trust-close`, for the C FTServer's other files).

use unp::{Error, Result};

use crate::proto::{self, BUFSIZE, SEGMENT_SIZE, Segment};

/// How many segments the client asks the socket for per `read(2)` (260 KiB).
pub const SEGMENTS_PER_READ: usize = 1024;

/// How a stream of segments ended, as far as it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// No segment yet.
    Nothing,
    /// The last segment carried 256 bytes: more may have been meant to follow.
    Full,
    /// The last segment was short: the end of the file, as the C server sends it.
    Short,
    /// unplab's end-of-file segment: complete; only the FIN may follow.
    EndOfFile,
}

/// The bytes a client has read and not yet handed out as segments, and what the stream
/// has shown so far.
#[derive(Debug)]
pub struct Reassembly {
    buf: Vec<u8>,
    /// `buf[start..end]`: read, not yet handed out (an incomplete segment).
    start: usize,
    end: usize,
    total: u64,
    seen: Seen,
    trust_close: bool,
}

impl Reassembly {
    /// A stream at its start. With `trust_close`, [`Reassembly::at_close`] accepts any
    /// close on a segment boundary (the handout's C FTServer sends no end-of-file
    /// segment).
    pub fn new(trust_close: bool) -> Reassembly {
        Reassembly {
            buf: vec![0u8; SEGMENTS_PER_READ * SEGMENT_SIZE],
            start: 0,
            end: 0,
            total: 0,
            seen: Seen::Nothing,
            trust_close,
        }
    }

    /// Where the next `read` goes: the free space after the incomplete segment kept
    /// from the last read (moved to the front first).
    pub fn unfilled(&mut self) -> &mut [u8] {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        &mut self.buf[self.end..]
    }

    /// Takes the `n` bytes just read into [`Reassembly::unfilled`] and returns the data
    /// of every segment they complete. Fails on an error segment (with the server's
    /// message, escaped), a length outside -1..=256, or anything after the end-of-file
    /// segment.
    pub fn filled(&mut self, n: usize) -> Result<impl Iterator<Item = &[u8]>> {
        if self.seen == Seen::EndOfFile && n > 0 {
            return Err(after_end_of_file());
        }
        self.end += n;
        let mut all = proto::segments(&self.buf[self.start..self.end]);
        for segment in all.by_ref() {
            if self.seen == Seen::EndOfFile {
                return Err(after_end_of_file());
            }
            match segment.map_err(|e| Error::msg(e.to_string()))? {
                Segment::Data(d) => {
                    self.total += d.len() as u64;
                    self.seen = if d.len() < BUFSIZE {
                        Seen::Short
                    } else {
                        Seen::Full
                    };
                }
                Segment::EndOfFile => self.seen = Seen::EndOfFile,
                // Escaped: the text comes from the peer and must not drive the terminal
                // (ESC sequences) or forge lines.
                Segment::Error(m) => {
                    return Err(Error::msg(format!("server error: {}", unp::printable(m))));
                }
            }
        }
        let whole = self.start..self.end - all.rest().len();
        if self.seen == Seen::EndOfFile && whole.end != self.end {
            return Err(after_end_of_file());
        }
        self.start = whole.end;
        let data = proto::segments(&self.buf[whole]).filter_map(|s| match s {
            Ok(Segment::Data(d)) => Some(d),
            _ => None,
        });
        Ok(data)
    }

    /// The file bytes received so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The server closed: is the file complete? Returns its size, or why the transfer
    /// must be refused: a stream that ends inside a segment, or after a full segment or
    /// no segment at all without the end-of-file segment (unless trusting the close).
    pub fn at_close(&self) -> Result<u64> {
        let left = self.end - self.start;
        if left != 0 {
            return Err(Error::msg(format!(
                "the server closed the connection in the middle of a segment ({left} of {SEGMENT_SIZE} bytes)"
            )));
        }
        let total = self.total;
        match self.seen {
            Seen::EndOfFile | Seen::Short => Ok(total),
            _ if self.trust_close => Ok(total),
            Seen::Full => Err(cut_short(format!(
                "the server closed the connection after {total} bytes, at the end of a full \
                 segment, without an end-of-file segment"
            ))),
            Seen::Nothing => Err(cut_short(
                "the server closed the connection without sending any segment, not even an \
                 end-of-file segment"
                    .to_string(),
            )),
        }
    }
}

/// The error for a stream that ended without a sign that the file was complete.
fn cut_short(what: String) -> Error {
    Error::msg(format!(
        "{what}: the transfer may have been cut short (the handout's C FTServer sends \
         no end-of-file segment: for such a server, --trust-close accepts a transfer \
         that ends with the server's close)"
    ))
}

fn after_end_of_file() -> Error {
    Error::msg("protocol error: data after the end-of-file segment")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Hands out its bytes `step` at a time, like a TCP stream cut at odd places.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn wire_of(data: &[u8], end_of_file: bool) -> Vec<u8> {
        let mut wire = Vec::new();
        proto::encode_segments(data, &mut wire);
        if end_of_file {
            wire.extend_from_slice(&proto::encode_end_of_file());
        }
        wire
    }

    /// What the client keeps of `wire` read `step` bytes at a time: the steps of the
    /// lesson's ㊲/㊳ loop (`fetch::fetch`), into a `Vec`.
    fn receive_all(wire: &[u8], step: usize, trust_close: bool) -> Result<Vec<u8>> {
        let (mut conn, mut stream) = (Trickle(wire, step), Reassembly::new(trust_close));
        let mut out = Vec::new();
        loop {
            let len = unp::read(&mut conn, stream.unfilled())?;
            if len == 0 {
                break;
            }
            for data in stream.filled(len)? {
                out.extend_from_slice(data);
            }
            assert_eq!(stream.total(), out.len() as u64);
        }
        let n = stream.at_close()?;
        assert_eq!(n, out.len() as u64);
        Ok(out)
    }

    #[test]
    fn receive_reassembles_frames_cut_anywhere() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        for end_of_file in [true, false] {
            let wire = wire_of(&data, end_of_file);
            for step in [1, 13, 259, 260, 261, 4096, 1 << 20] {
                let out = receive_all(&wire, step, false).unwrap();
                assert_eq!(out, data, "step {step}, end_of_file {end_of_file}");
            }
        }
    }

    #[test]
    fn a_close_after_a_full_segment_or_no_segment_needs_the_end_of_file_segment() {
        for data in [&[9u8; 512][..], &[]] {
            // unplab's server: the marker says the file is complete.
            assert_eq!(receive_all(&wire_of(data, true), 100, false).unwrap(), data);
            // Without it the close may be a crash on a segment boundary.
            let e = receive_all(&wire_of(data, false), 100, false).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("may have been cut short"), "{text}");
            assert!(text.contains("--trust-close"), "{text}");
            // Unless the user trusts the close (the C FTServer).
            assert_eq!(receive_all(&wire_of(data, false), 100, true).unwrap(), data);
        }
        let e = receive_all(&wire_of(&[1; 512], false), 1000, false).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "the server closed the connection after 512 bytes, at the end of a full \
                 segment, without an end-of-file segment"
            ),
            "{e}"
        );
    }

    #[test]
    fn nothing_may_follow_the_end_of_file_segment() {
        let mut wire = wire_of(b"abc", true);
        proto::encode_segments(b"more", &mut wire);
        for step in [1, 260, 1000] {
            let e = receive_all(&wire, step, true).unwrap_err();
            assert_eq!(
                e.to_string(),
                "protocol error: data after the end-of-file segment",
                "step {step}"
            );
        }
        let mut wire = wire_of(b"abc", true);
        wire.push(0);
        let e = receive_all(&wire, 1000, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "protocol error: data after the end-of-file segment"
        );
    }

    #[test]
    fn receive_fails_on_a_cut_segment_and_on_an_error_segment() {
        let wire = wire_of(&[1; 300], true);
        let cut = &wire[..400];
        let e = receive_all(cut, 100, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server closed the connection in the middle of a segment (140 of 260 bytes)"
        );
        let mut wire = wire_of(&[1; 10], false);
        wire.extend_from_slice(&proto::encode_error("No such file or directory: x"));
        let e = receive_all(&wire, 1000, true).unwrap_err();
        assert_eq!(e.to_string(), "server error: No such file or directory: x");
    }
}
