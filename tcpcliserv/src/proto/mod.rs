//! The wire protocols of the chapter 1 and 5 programs, one module each, with pure
//! encode/decode functions and no sockets.
//!
//! Every module also has `describe_request(&[u8]) -> Option<String>` and
//! `describe_reply(&[u8]) -> Option<String>`: a short human description of a payload as
//! it was captured on the wire (`sum 3 + 4`, `"7\n"`), or `None` when the bytes are not
//! a complete message of that protocol. The capture explainer (`labtrace`) uses them.
//!
//! A capture does not cut a stream at message boundaries: one TCP segment may carry half
//! a request, or a request and a half. So every module also has
//! `complete_requests(&[u8]) -> usize` and `complete_replies(&[u8]) -> usize`: how many
//! bytes at the front of a captured stream (starting at a message boundary) are whole
//! messages. Those bytes go to `describe_*`; the rest waits for the next segment.
//!
//! | module | programs | request | reply |
//! |---|---|---|---|
//! | [`daytime`] | `daytimetcpsrv`, `daytimetcpcli` | nothing (connecting is the request) | `Tue Sep  5 11:04:47 2017\r\n`, then FIN |
//! | [`echo`] | `tcpserv01`…`tcpservthread`, `tcpcli01`…`tcpcli11`, `echoserver`, `echoclient` | any bytes | the same bytes |
//! | [`sum_text`] | `tcpserv08`, `tcpcli08` | `A B\n` | `A+B\n` or `input error\n` |
//! | [`sum_binary`] | `tcpserv09`, `tcpcli09` | 16 bytes: two little-endian `i64` | 8 bytes: their sum |

pub mod daytime;
pub mod echo;
pub mod sum_binary;
pub mod sum_text;

/// Longest payload [`quote`] shows before it cuts the text short.
pub const QUOTE_MAX: usize = 64;

/// Shows bytes as a quoted string the way a student would type them: printable ASCII as
/// is, `\n`, `\r`, `\t`, `\\`, `\"`, and `\xNN` for anything else. Payloads longer than
/// [`QUOTE_MAX`] bytes are cut, with the full length added: `"xxxx…" (300 bytes)`.
///
/// ```
/// assert_eq!(tcpcliserv::proto::quote(b"7\n"), "\"7\\n\"");
/// ```
pub fn quote(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(QUOTE_MAX)];
    let mut s = String::with_capacity(shown.len() + 2);
    s.push('"');
    for &b in shown {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > shown.len() {
        s.push_str(&format!("…\" ({} bytes)", bytes.len()));
    } else {
        s.push('"');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote(b"a\"b\\\r\n\t\x00\xff"), r#""a\"b\\\r\n\t\x00\xff""#);
        let long = vec![b'x'; 100];
        let q = quote(&long);
        assert!(q.ends_with("…\" (100 bytes)"), "{q}");
        assert_eq!(q.matches('x').count(), QUOTE_MAX);
    }
}
