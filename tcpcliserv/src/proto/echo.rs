//! The echo protocols: UNP's str_echo/str_cli and the Lab 3 EchoServer/EchoClient pair.
//!
//! ```text
//! client → server   any bytes ("hello\n")
//! server → client   the same bytes, in the same order ("hello\n")
//! ```
//!
//! There is no framing: the server writes back whatever each `read` returned, until the
//! client closes. UNP's client (str_cli) sends one line and reads one line back, so for
//! it a message is a line. The lab's EchoClient sends a message without terminator and
//! reads the reply with one `read`; its server reads at most [`LAB_BUFSIZE`] bytes at a
//! time and prints them. A message longer than that comes back in pieces, which is why
//! unplab's `echoclient` reads until it has as many bytes as it sent.

use std::fmt;

use super::{Check, Message, describe_all, framed_len, quote};

/// The lab EchoServer's buffer: the most it reads (and echoes) in one go.
pub const LAB_BUFSIZE: usize = 256;

/// An echo message, request or reply alike: whatever bytes one side sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(pub Vec<u8>);

impl Message for Payload {
    /// Echo has no framing: whatever arrived is a whole message (nothing is not one).
    fn check(buf: &[u8]) -> Check {
        match buf.len() {
            0 => Check::Incomplete,
            n => Check::Complete(n),
        }
    }

    fn parse(frame: &[u8]) -> Option<Payload> {
        Some(Payload(frame.to_vec()))
    }

    fn encode(&self) -> Vec<u8> {
        self.0.clone()
    }
}

impl fmt::Display for Payload {
    /// The bytes quoted: `"hello\n"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote(&self.0))
    }
}

/// The server's reply to `request`: the same bytes.
pub fn reply_to(request: &[u8]) -> &[u8] {
    request
}

/// The text the lab's server prints after `Data Received: ` and its client after
/// `Echo from Server: `: the bytes without a trailing line end or the NUL some C
/// clients send with the string, made printable by [`unp::printable`] (text and
/// UTF-8 as they are, control characters and invalid bytes as escapes such as `\n`,
/// `\x1b`), so what a peer sent always stays on one line and never reaches the terminal
/// as an escape sequence.
///
/// ```
/// use tcpcliserv::proto::echo::display_text;
/// assert_eq!(display_text(b"hello\r\n"), "hello");
/// assert_eq!(display_text(b"hi\n1.2.3.4:5 left\x1b[2J\n"), r"hi\n1.2.3.4:5 left\x1b[2J");
/// ```
pub fn display_text(message: &[u8]) -> String {
    let end = message
        .iter()
        .rposition(|b| !matches!(b, b'\n' | b'\r' | 0))
        .map_or(0, |i| i + 1);
    unp::printable(&message[..end])
}

/// Describes a captured client→server payload: the bytes quoted, `"hello\n"`.
/// `None` for an empty payload.
pub fn describe_request(payload: &[u8]) -> Option<String> {
    describe_all::<Payload>(payload)
}

/// Describes a captured server→client payload: the bytes quoted (an echo reply is
/// whatever was sent). `None` for an empty payload.
pub fn describe_reply(payload: &[u8]) -> Option<String> {
    describe_all::<Payload>(payload)
}

/// How many bytes at the front of a captured client→server stream are whole requests:
/// all of them, since echo has no framing (whatever arrived is what the server echoes).
pub fn complete_requests(stream: &[u8]) -> usize {
    framed_len::<Payload>(stream)
}

/// How many bytes at the front of a captured server→client stream are whole replies:
/// all of them, as for [`complete_requests`].
pub fn complete_replies(stream: &[u8]) -> usize {
    framed_len::<Payload>(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_is_identity() {
        assert_eq!(reply_to(b"a\x00b\n"), b"a\x00b\n");
    }

    #[test]
    fn display_trims_line_end_and_nul() {
        assert_eq!(display_text(b"hello\r\n"), "hello");
        assert_eq!(display_text(b"hello\0"), "hello");
        assert_eq!(display_text(b"a b"), "a b");
        assert_eq!(display_text(b"\n"), "");
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe_request(b"hi\n").as_deref(), Some("\"hi\\n\""));
        assert_eq!(describe_reply(b""), None);
    }
    #[test]
    fn framing_interface() {
        assert_eq!(Payload::check(b""), Check::Incomplete);
        assert_eq!(Payload::check(b"hi"), Check::Complete(2));
        let p = Payload::parse(b"hi\n").unwrap();
        assert_eq!(p.encode(), b"hi\n");
        assert_eq!(p.to_string(), "\"hi\\n\"");
    }

    #[test]
    fn every_byte_is_complete() {
        assert_eq!(complete_requests(b"half a li"), 9);
        assert_eq!(complete_replies(b""), 0);
    }
}
