//! The wire protocols of the chapter 1 and 5 programs, one module each, with pure
//! functions and no sockets.
//!
//! Every message type implements one framing interface, [`Message`]:
//!
//! - [`Message::check`]: is the front of a buffer a whole message ([`Check::Complete`]),
//!   not yet ([`Check::Incomplete`]: TCP may cut anywhere, wait for more), or bytes that
//!   are no message of this protocol ([`Check::Invalid`]);
//! - [`Message::parse`] and [`Message::encode`]: the value and its bytes on the wire;
//! - `Display`: a one-line description, `sum 3 + 4`, `"7\n"`.
//!
//! The servers and clients parse and encode with it; the capture explainer (`labtrace`)
//! uses the per-module functions built on it: `complete_requests(&[u8]) -> usize` and
//! `complete_replies` (how many bytes at the front of a captured stream are whole
//! messages; the rest waits for the next segment, see [`framed_len`]), and
//! `describe_request(&[u8]) -> Option<String>` and `describe_reply` (the messages'
//! descriptions, or `None` when the bytes are not whole messages of that protocol, see
//! [`describe_all`]).
//!
//! | module | programs | request | reply |
//! |---|---|---|---|
//! | [`daytime`] | `daytimetcpsrv`, `daytimetcpcli` | nothing (connecting is the request) | `Tue Sep  5 11:04:47 2017\r\n`, then FIN |
//! | [`echo`] | `tcpserv01`…`tcpservthread`, `tcpcli01`…`tcpcli11`, `echoserver`, `echoclient` | any bytes | the same bytes |
//! | [`sum_text`] | `tcpserv08`, `tcpcli08` | `A B\n` | `A+B\n` or `input error\n` |
//! | [`sum_binary`] | `tcpserv09`, `tcpcli09` | 16 bytes: two little-endian `i64` | 8 bytes: their sum |

use std::fmt;

pub mod daytime;
pub mod echo;
pub mod sum_binary;
pub mod sum_text;

/// Where the front of a buffer stands in a protocol's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The first `n` bytes are one whole message.
    Complete(usize),
    /// Not a whole message yet: more bytes must arrive.
    Incomplete,
    /// The first `n` bytes are one unit of the framing (a line, say) that is not a
    /// message of this protocol: a peer speaking something else.
    Invalid(usize),
}

/// One message of a wire protocol, in one direction: the framing interface.
pub trait Message: Sized + fmt::Display {
    /// Is the front of `buf` a whole message, not yet one, or not one at all?
    fn check(buf: &[u8]) -> Check;

    /// The message in `frame`, the bytes [`Message::check`] called complete; `None`
    /// when they are not exactly one message.
    fn parse(frame: &[u8]) -> Option<Self>;

    /// The bytes on the wire.
    fn encode(&self) -> Vec<u8>;
}

/// How many bytes at the front of `stream` (starting at a message boundary) are whole
/// units of `M`'s framing, valid or not; what follows is the start of a message whose
/// end has not arrived yet.
pub fn framed_len<M: Message>(stream: &[u8]) -> usize {
    let mut done = 0;
    while let Check::Complete(n) | Check::Invalid(n) = M::check(&stream[done..]) {
        if n == 0 {
            break;
        }
        done += n;
    }
    done
}

/// The messages `payload` consists of, each as its `Display` shows it, joined with
/// `; `; `None` unless `payload` is one or more whole, valid messages of `M`.
pub fn describe_all<M: Message>(payload: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let Check::Complete(n @ 1..) = M::check(rest) else {
            return None;
        };
        parts.push(M::parse(rest.get(..n)?)?.to_string());
        rest = &rest[n..];
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Longest payload [`quote`] shows before it cuts the text short.
pub const QUOTE_MAX: usize = 64;

/// Shows bytes as a quoted string for labtrace, escaped by the one escaper of peer
/// bytes, [`unp::printable`] (`\n`, `\x1b`, `\xff`; UTF-8 text as it is). Payloads
/// longer than [`QUOTE_MAX`] bytes are cut, with the full length added:
/// `"xxxx…" (300 bytes)`.
///
/// ```
/// assert_eq!(tcpcliserv::proto::quote(b"7\n"), "\"7\\n\"");
/// ```
pub fn quote(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(QUOTE_MAX)];
    let text = unp::printable(shown);
    if bytes.len() > shown.len() {
        format!("\"{text}…\" ({} bytes)", bytes.len())
    } else {
        format!("\"{text}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote(b"a\r\n\t\x00\x1b\xff"), r#""a\r\n\t\0\x1b\xff""#);
        let long = vec![b'x'; 100];
        let q = quote(&long);
        assert!(q.ends_with("…\" (100 bytes)"), "{q}");
        assert_eq!(q.matches('x').count(), QUOTE_MAX);
    }
}
