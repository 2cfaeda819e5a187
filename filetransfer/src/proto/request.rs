//! The request: the path the client wants, as raw bytes.
//!
//! ```text
//! client -> server   /home/ancl/temp1          (one write, no terminator, no length)
//! ```
//!
//! The server takes whatever its first `read(2)` of at most 256 bytes returns: the C
//! client sends the path in one small `write`, which arrives in one piece on any real
//! network.

use std::fmt;

use super::BUFSIZE;

/// The longest path a request may carry: the C server reads at most 256 bytes into a
/// 256-byte array and then writes a terminating NUL at `recv_msg[len]`.
pub const MAX_PATH_LEN: usize = BUFSIZE - 1;

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
/// wrong with it (`invalid path (path is not UTF-8): "a\xffb"`). The bytes are escaped
/// by [`unp::printable`]: they come from the peer.
pub fn describe_request(bytes: &[u8]) -> String {
    let shown = unp::printable(bytes);
    match decode_request(bytes) {
        Ok(_) => format!("path \"{shown}\""),
        Err(e) => format!("invalid path ({e}): \"{shown}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Escaped as every log line is: ESC cannot reach the reader's terminal.
        assert_eq!(describe_request(b"a\x1b[2J"), r#"path "a\x1b[2J""#);
    }
}
