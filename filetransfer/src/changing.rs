//! Armour: a file that changes while it is sent.
//!
//! The end-of-file segment promises a complete file. The C server reads until `read`
//! returns 0, so a file truncated meanwhile arrives shorter and nobody can tell. unplab's
//! servers read through [`SizeChecked`]: the size comes from `fstat` when the file is
//! opened, exactly that many bytes are read, and one more `read` must find the end. A
//! file that ends sooner (it shrank) or goes on (it grew) fails with
//! `file changed while being sent: NAME`, which the server sends as an error segment
//! instead of the end-of-file segment, so the client refuses the transfer.

use std::fs::File;
use std::io::{self, Read};

use unp::{Context, Error, Result};

/// A file read no further than the size it had when it was opened; see the module docs.
#[derive(Debug)]
pub struct SizeChecked<R> {
    file: R,
    size: u64,
    left: u64,
    end_checked: bool,
    name: String,
}

impl<'a> SizeChecked<&'a File> {
    /// Reads `file`, opened for the request `name`, up to the size `fstat` gives now.
    pub fn open(file: &'a File, name: &[u8]) -> Result<SizeChecked<&'a File>> {
        let size = file.metadata().context("fstat")?.len();
        Ok(SizeChecked::new(file, size, name))
    }
}

impl<R: Read> SizeChecked<R> {
    /// Reads `file`, which should hold `size` bytes; `name` is for the error message.
    pub fn new(file: R, size: u64, name: &[u8]) -> SizeChecked<R> {
        SizeChecked {
            file,
            size,
            left: size,
            end_checked: false,
            name: String::from_utf8_lossy(name).into_owned(),
        }
    }

    /// The size the file had when it was opened: the bytes a complete transfer sends.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// UNP's `readn` on the file, never past the size: fills `buf`, or less at the end
    /// of the file (0 once it is all read). Fails with `file changed while being sent:
    /// NAME`, or `read error: ...` if the file cannot be read.
    pub fn readn(&mut self, buf: &mut [u8]) -> Result<usize> {
        let want = self.left.min(buf.len() as u64) as usize;
        let n = unp::readn(&mut self.file, &mut buf[..want]).map_err(read_error)?;
        self.left -= n as u64;
        if n < want {
            return Err(self.changed()); // it ended early: it shrank
        }
        if self.left == 0 && !self.end_checked {
            self.end_checked = true;
            // One more byte must be the end of the file (else it grew).
            if unp::readn(&mut self.file, &mut [0u8; 1]).map_err(read_error)? != 0 {
                return Err(self.changed());
            }
        }
        Ok(n)
    }

    fn changed(&self) -> Error {
        Error::msg(format!("file changed while being sent: {}", self.name))
    }
}

/// `read error: Input/output error (EIO)`, the way the error segment says it.
fn read_error(err: Error) -> Error {
    match err.raw_os_error() {
        Some(code) => Error::os("read", io::Error::from_raw_os_error(code)),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{self, BUFSIZE, SEGMENT_SIZE};
    use crate::server::SEGMENTS_PER_WRITE;

    /// What the server writes for a file of `actual` bytes that `fstat` said had
    /// `size`: the steps of the lesson's ㉖/㉗ loop (`server::serve`), into a `Vec`.
    fn sent_for(actual: usize, size: u64) -> (Result<u64>, Vec<u8>) {
        let data: Vec<u8> = (0..actual).map(|i| (i % 253) as u8).collect();
        send(&data[..], size)
    }

    fn send(data: &[u8], size: u64) -> (Result<u64>, Vec<u8>) {
        let mut file = SizeChecked::new(data, size, b"f.bin");
        let (mut out, mut buf) = (Vec::new(), vec![0u8; SEGMENTS_PER_WRITE * BUFSIZE]);
        loop {
            let len = match file.readn(&mut buf) {
                Ok(len) => len,
                Err(e) => return (Err(crate::refusal::abort(&mut out, e)), out),
            };
            proto::encode_segments(&buf[..len], &mut out);
            if len < buf.len() {
                out.extend_from_slice(&proto::encode_end_of_file());
                return (Ok(file.size()), out);
            }
        }
    }

    #[test]
    fn send_file_writes_whole_segments() {
        let data: Vec<u8> = (0..(SEGMENTS_PER_WRITE * BUFSIZE + 300))
            .map(|i| (i % 251) as u8)
            .collect();
        let (sent, out) = send(&data, data.len() as u64);
        assert_eq!(sent.unwrap(), data.len() as u64);
        let mut expected = Vec::new();
        proto::encode_segments(&data, &mut expected);
        expected.extend_from_slice(&proto::encode_end_of_file());
        assert_eq!(out, expected);
    }

    #[test]
    fn a_file_that_shrinks_or_grows_while_sent_ends_with_an_error_segment() {
        let changed = proto::encode_error("file changed while being sent: f.bin");
        let big = SEGMENTS_PER_WRITE * BUFSIZE;
        for (actual, size) in [
            (100, 300),
            (0, 1),
            (big, big as u64 + 10),
            (301, 300),
            (big + 1, big as u64),
            (1, 0),
        ] {
            let (r, out) = sent_for(actual, size);
            let e = r.unwrap_err();
            assert_eq!(
                e.to_string(),
                "file changed while being sent: f.bin",
                "{actual} vs {size}"
            );
            assert_eq!(
                &out[out.len() - SEGMENT_SIZE..],
                &changed[..],
                "{actual} vs {size}"
            );
            assert!(out.len() % SEGMENT_SIZE == 0);
            // Never more data than the size promised.
            assert!(out.len() <= (size as usize).div_ceil(BUFSIZE) * SEGMENT_SIZE + SEGMENT_SIZE);
        }
        for n in [0, 1, 256, big, big + 1] {
            let (r, out) = sent_for(n, n as u64);
            assert_eq!(r.unwrap(), n as u64);
            assert_eq!(
                &out[out.len() - SEGMENT_SIZE..],
                &proto::encode_end_of_file()[..]
            );
        }
    }
}
