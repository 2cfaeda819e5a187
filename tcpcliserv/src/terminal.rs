//! Armour: what a peer sends reaching the user's terminal.
//!
//! A client prints the server's bytes. A hostile server could send escape sequences
//! (`\x1b[2J` clears the screen, `\x1b]0;...\x07` retitles the window) or bytes that are
//! not text. The clients print every reply through [`printable_text`]: each line through
//! [`unp::printable`], the one escaper of peer bytes, with its line end kept, so replies
//! still print as the lines they are.

use std::io::Write;

use unp::Result;

/// Writes bytes to stdout and flushes.
pub fn print_bytes(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(unp::error::stdout_error)
}

/// Text from a peer as a terminal may show it: each line through [`unp::printable`],
/// its line end (`\n` or `\r\n`) kept as it is.
///
/// ```
/// use tcpcliserv::terminal::printable_text;
/// assert_eq!(printable_text(b"hello\n"), "hello\n");
/// assert_eq!(printable_text(b"a\x1b[2J\tb\r\nc"), "a\\x1b[2J\\tb\r\nc");
/// ```
pub fn printable_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        let (text, end) = if let Some(t) = piece.strip_suffix(b"\r\n") {
            (t, "\r\n")
        } else if let Some(t) = piece.strip_suffix(b"\n") {
            (t, "\n")
        } else {
            (piece, "")
        };
        out.push_str(&unp::printable(text));
        out.push_str(end);
    }
    out
}

/// Prints a stream of peer bytes that arrives in pieces (daytime's reads) with
/// [`printable_text`]. A piece may end in the middle of a UTF-8 character or between
/// `\r` and `\n`; those last few bytes are held back until the next piece, so the
/// output is the same however TCP split the stream.
#[derive(Debug, Default)]
pub struct TextPrinter {
    held: Vec<u8>,
}

impl TextPrinter {
    /// Prints what of `bytes` can be printed now (stdout, flushed).
    pub fn print(&mut self, bytes: &[u8]) -> Result<()> {
        self.held.extend_from_slice(bytes);
        let keep = match std::str::from_utf8(&self.held) {
            // An incomplete character at the end (at most 3 bytes): wait for the rest.
            Err(e) if e.error_len().is_none() => self.held.len() - e.valid_up_to(),
            _ => usize::from(self.held.ends_with(b"\r")),
        };
        let ready = self.held.len() - keep;
        let text = printable_text(&self.held[..ready]);
        self.held.drain(..ready);
        print_bytes(text.as_bytes())
    }

    /// Prints what was held back: the stream has ended.
    pub fn finish(&mut self) -> Result<()> {
        let text = printable_text(&self.held);
        self.held.clear();
        print_bytes(text.as_bytes())
    }
}
