//! Reading and writing a byte stream the UNP way: `readn`, `writen`, `readline`.
//!
//! TCP delivers a stream of bytes, not messages: one `write` of 260 bytes may arrive as
//! one `read` of 260, or as 200 then 60, depending on segment sizes, timing and buffer
//! space. A program that needs *n* bytes therefore loops, which is what [`readn`] does;
//! a program that needs one line reads until `\n`, which is what [`LineReader`] does.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::os::fd::AsFd;

use crate::MAXLINE;
use crate::error::{Context, Error, Result};

/// `read(2)`: reads what the peer has sent so far, at most `buf.len()` bytes; 0 means
/// the peer closed its side (EOF: its FIN arrived).
///
/// Adds UNP's `again:` loop — a read interrupted by a signal handler (`EINTR`) is simply
/// called again — and the context `read error: ...`. One read is *not* one message: TCP
/// may hand over part of what the peer wrote, or two writes at once (see [`readn`]).
pub fn read(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => return r.map_err(|e| Error::os("read", e)),
        }
    }
}

/// Plain `write(2)` on a descriptor, as the C programs' `Write`; returns the count.
///
/// Why not `std::io::Write`: on Linux std's `TcpStream` sends with
/// `send(..., MSG_NOSIGNAL)`, which never raises SIGPIPE (and Rust programs ignore
/// SIGPIPE anyway). UNP's SIGPIPE lessons (tcpcli11, tsigpipe) need the C behaviour.
pub fn write_fd(fd: &impl AsFd, buf: &[u8]) -> Result<usize> {
    nix::unistd::write(fd, buf).context("write")
}

/// [`write_fd`] until all of `buf` is written: UNP's `writen` over plain `write(2)`,
/// `EINTR` retried.
pub fn writen_fd(fd: &impl AsFd, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match nix::unistd::write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::errno("writen", e)),
        }
    }
    Ok(())
}

/// UNP's `readn`: reads until `buf` is full or the peer closed the connection.
///
/// Returns the number of bytes read: `buf.len()`, or fewer if EOF came first (0 if the
/// peer had closed before anything arrived). EOF is never an error here; the caller
/// compares the count. Interrupted reads (`EINTR`) are retried, as in UNP.
pub fn readn(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("readn", e)),
        }
    }
    Ok(filled)
}

/// UNP's `writen`: writes all of `buf` or fails.
///
/// A plain `write(2)` on a socket may write only part of the buffer; this loops (std's
/// `write_all`) and retries `EINTR`. A peer that has gone away shows up as `EPIPE` or
/// `ECONNRESET`, as an error rather than a death by SIGPIPE: Rust programs start with
/// SIGPIPE ignored, and std's `TcpStream` writes with `send(MSG_NOSIGNAL)` on Linux
/// (socket2 sets `SO_NOSIGPIPE` on macOS). A program that wants to *show* SIGPIPE, like
/// UNP's tsigpipe, must restore the default action and write with plain `write(2)`.
pub fn writen(writer: &mut impl Write, buf: &[u8]) -> Result<()> {
    writer.write_all(buf).map_err(|e| Error::os("writen", e))
}

/// UNP's `readline`, with the buffer owned by one connection instead of UNP's static
/// one (which mixes bytes of different descriptors and is not thread-safe).
///
/// Reads through an internal buffer, so a line costs one `read(2)` per buffer-full, not
/// one per byte (UNP's first, slow readline), and bytes after the newline stay buffered
/// for the next call.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: BufReader<R>,
    max: usize,
}

impl<R: Read> LineReader<R> {
    /// A reader whose lines are at most [`MAXLINE`] bytes.
    pub fn new(inner: R) -> Self {
        Self::with_max(inner, MAXLINE)
    }

    /// A reader whose lines are at most `max` bytes (at least 1).
    pub fn with_max(inner: R, max: usize) -> Self {
        LineReader {
            inner: BufReader::with_capacity(max.max(1), inner),
            max: max.max(1),
        }
    }

    /// Reads one line into `line` (replacing its contents), up to and including `\n`.
    ///
    /// Returns the number of bytes read: 0 at EOF. A line longer than the maximum comes
    /// back in pieces of `max` bytes without the newline, and the next call continues it,
    /// so no byte is lost (UNP's readline does the same with `maxlen - 1`). The last line
    /// of a stream may lack its `\n`. `EINTR` is retried.
    pub fn read_line(&mut self, line: &mut Vec<u8>) -> Result<usize> {
        line.clear();
        let max = self.max as u64;
        (&mut self.inner)
            .take(max)
            .read_until(b'\n', line)
            .map_err(|e| Error::os("readline", e))
    }

    /// The bytes already read from the descriptor but not yet returned (UNP's
    /// `readlinebuf`): what a program must not lose when it switches to plain reads.
    pub fn buffered(&self) -> &[u8] {
        self.inner.buffer()
    }

    /// The underlying reader, e.g. to write a reply on the same `TcpStream`.
    pub fn get_ref(&self) -> &R {
        self.inner.get_ref()
    }

    /// The underlying reader; buffered bytes are dropped.
    pub fn into_inner(self) -> R {
        self.inner.into_inner()
    }
}

impl<R: Read> Read for LineReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its data in the chunk sizes given, to mimic TCP
    /// delivering a stream in arbitrary pieces.
    struct Chunked {
        data: Vec<u8>,
        pos: usize,
        sizes: Vec<usize>,
        call: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let want = self.sizes[self.call % self.sizes.len()];
            self.call += 1;
            let n = want.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn chunked(data: &[u8], sizes: &[usize]) -> Chunked {
        Chunked {
            data: data.to_vec(),
            pos: 0,
            sizes: sizes.to_vec(),
            call: 0,
        }
    }

    #[test]
    fn read_returns_what_one_read_gives_and_zero_at_eof() {
        let mut r = chunked(b"hello world", &[5, 6]);
        let mut buf = [0u8; 64];
        assert_eq!(read(&mut r, &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(read(&mut r, &mut buf).unwrap(), 6);
        assert_eq!(read(&mut r, &mut buf).unwrap(), 0);
    }

    #[test]
    fn read_calls_again_after_eintr_and_names_itself_on_errors() {
        struct Flaky(u8);
        impl Read for Flaky {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                match self.0 {
                    1 | 2 => Err(io::Error::from(ErrorKind::Interrupted)),
                    3 => {
                        buf[0] = b'x';
                        Ok(1)
                    }
                    _ => Err(io::Error::from_raw_os_error(nix::libc::ECONNRESET)),
                }
            }
        }
        let mut r = Flaky(0);
        let mut buf = [0u8; 4];
        assert_eq!(read(&mut r, &mut buf).unwrap(), 1);
        let err = read(&mut r, &mut buf).unwrap_err();
        assert_eq!(
            err.to_string(),
            "read error: Connection reset by peer (ECONNRESET)"
        );
    }

    #[test]
    fn readn_gathers_chunks_and_stops_short_at_eof() {
        let mut r = chunked(b"abcdefghij", &[3, 1, 2]);
        let mut buf = [0u8; 8];
        assert_eq!(readn(&mut r, &mut buf).unwrap(), 8);
        assert_eq!(&buf, b"abcdefgh");
        assert_eq!(readn(&mut r, &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ij");
        assert_eq!(readn(&mut r, &mut buf).unwrap(), 0);
    }

    #[test]
    fn readline_across_chunk_boundaries() {
        let mut lr = LineReader::new(
            chunked(b"he", &[1])
                .chain(&b"llo\nwor"[..])
                .chain(chunked(b"ld\n\nlast", &[2, 3])),
        );
        let mut line = Vec::new();
        let mut lines = Vec::new();
        while lr.read_line(&mut line).unwrap() > 0 {
            lines.push(String::from_utf8(line.clone()).unwrap());
        }
        assert_eq!(lines, ["hello\n", "world\n", "\n", "last"]);
    }

    #[test]
    fn overlong_line_comes_back_in_pieces_without_loss() {
        let mut data = vec![b'x'; 10];
        data.extend_from_slice(b"\nok\n");
        let mut lr = LineReader::with_max(chunked(&data, &[3]), 4);
        let mut line = Vec::new();
        let mut pieces = Vec::new();
        while lr.read_line(&mut line).unwrap() > 0 {
            pieces.push(String::from_utf8(line.clone()).unwrap());
        }
        assert_eq!(pieces, ["xxxx", "xxxx", "xx\n", "ok\n"]);
    }

    #[test]
    fn default_maximum_is_maxline() {
        let data = vec![b'y'; MAXLINE + 5];
        let mut lr = LineReader::new(&data[..]);
        let mut line = Vec::new();
        assert_eq!(lr.read_line(&mut line).unwrap(), MAXLINE);
        assert_eq!(lr.read_line(&mut line).unwrap(), 5);
    }
}
