//! The binary sum protocol of UNP's tcpserv09/tcpcli09 (str_echo09.c, str_cli09.c).
//!
//! ```text
//! client → server   16 bytes   arg1: i64 little-endian | arg2: i64 little-endian
//! server → client    8 bytes   sum:  i64 little-endian (arg1 + arg2, wrapping)
//! ```
//!
//! The C programs write `struct args { long arg1; long arg2; }` and `struct result { long
//! sum; }` straight from memory, so the bytes are whatever the host uses: 8-byte longs
//! in little-endian order on the x86-64 and aarch64 machines of the lab. That is UNP's
//! own lesson (section 5.18): it breaks between a big-endian and a little-endian host, or
//! between a 32-bit and a 64-bit `long`. unplab fixes the format to the bytes the lab's
//! C programs actually send, written explicitly little-endian, so the two interoperate.

use std::fmt;

use super::{Check, Message, describe_all, framed_len};

/// Bytes in a request: two 8-byte integers.
pub const REQUEST_LEN: usize = 16;
/// Bytes in a reply: one 8-byte integer.
pub const REPLY_LEN: usize = 8;

/// A request: add `arg1` and `arg2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The first operand.
    pub arg1: i64,
    /// The second operand.
    pub arg2: i64,
}

/// A reply: the sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// `arg1 + arg2`, wrapping.
    pub sum: i64,
}

/// `len` bytes make one message; fewer are its start (as the server's `Readn` waits).
fn check_fixed(buf: &[u8], len: usize) -> Check {
    if buf.len() >= len {
        Check::Complete(len)
    } else {
        Check::Incomplete
    }
}

impl Message for Request {
    /// Every 16 bytes are a request: any bits are two integers.
    fn check(buf: &[u8]) -> Check {
        check_fixed(buf, REQUEST_LEN)
    }

    fn parse(frame: &[u8]) -> Option<Request> {
        let (arg1, arg2) = decode_request(frame.try_into().ok()?);
        Some(Request { arg1, arg2 })
    }

    fn encode(&self) -> Vec<u8> {
        encode_request(self.arg1, self.arg2).to_vec()
    }
}

impl fmt::Display for Request {
    /// `sum 3 + 4`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sum {} + {}", self.arg1, self.arg2)
    }
}

impl Message for Reply {
    /// Every 8 bytes are a reply.
    fn check(buf: &[u8]) -> Check {
        check_fixed(buf, REPLY_LEN)
    }

    fn parse(frame: &[u8]) -> Option<Reply> {
        Some(Reply {
            sum: decode_reply(frame.try_into().ok()?),
        })
    }

    fn encode(&self) -> Vec<u8> {
        encode_reply(self.sum).to_vec()
    }
}

impl fmt::Display for Reply {
    /// `sum = 7`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sum = {}", self.sum)
    }
}

impl Request {
    /// What the server answers: the sum, wrapping as the C `arg1 + arg2` does in practice.
    pub fn reply(&self) -> Reply {
        Reply {
            sum: sum(self.arg1, self.arg2),
        }
    }
}

/// The request for `arg1 + arg2`.
pub fn encode_request(arg1: i64, arg2: i64) -> [u8; REQUEST_LEN] {
    let mut buf = [0u8; REQUEST_LEN];
    buf[..8].copy_from_slice(&arg1.to_le_bytes());
    buf[8..].copy_from_slice(&arg2.to_le_bytes());
    buf
}

/// The two arguments of a request.
pub fn decode_request(buf: &[u8; REQUEST_LEN]) -> (i64, i64) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&buf[..8]);
    b.copy_from_slice(&buf[8..]);
    (i64::from_le_bytes(a), i64::from_le_bytes(b))
}

/// The sum the server computes: wrapping, as the C `arg1 + arg2` does in practice.
pub fn sum(arg1: i64, arg2: i64) -> i64 {
    arg1.wrapping_add(arg2)
}

/// The reply carrying `sum`.
pub fn encode_reply(sum: i64) -> [u8; REPLY_LEN] {
    sum.to_le_bytes()
}

/// The sum in a reply.
pub fn decode_reply(buf: &[u8; REPLY_LEN]) -> i64 {
    i64::from_le_bytes(*buf)
}

/// How many bytes at the front of a captured client→server stream are whole requests:
/// the largest multiple of [`REQUEST_LEN`] (a request split over two segments waits for
/// its second part, as the server's `Readn` does).
pub fn complete_requests(stream: &[u8]) -> usize {
    framed_len::<Request>(stream)
}

/// How many bytes at the front of a captured server→client stream are whole replies:
/// the largest multiple of [`REPLY_LEN`].
pub fn complete_replies(stream: &[u8]) -> usize {
    framed_len::<Reply>(stream)
}

/// Describes a captured client→server payload: `sum 3 + 4` for each whole 16-byte
/// request, joined with `; `. `None` if the length is not a non-zero multiple of 16.
pub fn describe_request(payload: &[u8]) -> Option<String> {
    describe_all::<Request>(payload)
}

/// Describes a captured server→client payload: `sum = 7` for each 8-byte reply.
/// `None` if the length is not a non-zero multiple of 8.
pub fn describe_reply(payload: &[u8]) -> Option<String> {
    describe_all::<Reply>(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_little_endian_longs() {
        assert_eq!(
            encode_request(3, -1),
            [
                3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
            ]
        );
        assert_eq!(encode_reply(258), [2, 1, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn round_trip_and_wrapping() {
        for (a, b) in [(0, 0), (11, 123), (i64::MAX, 1), (i64::MIN, -1)] {
            assert_eq!(decode_request(&encode_request(a, b)), (a, b));
            assert_eq!(decode_reply(&encode_reply(sum(a, b))), a.wrapping_add(b));
        }
        assert_eq!(sum(i64::MAX, 1), i64::MIN);
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe_request(&encode_request(3, 4)).as_deref(),
            Some("sum 3 + 4")
        );
        let mut two = encode_request(1, 2).to_vec();
        two.extend_from_slice(&encode_request(-5, 5));
        assert_eq!(
            describe_request(&two).as_deref(),
            Some("sum 1 + 2; sum -5 + 5")
        );
        assert_eq!(describe_request(&[0u8; 15]), None);
        assert_eq!(describe_reply(&encode_reply(7)).as_deref(), Some("sum = 7"));
        assert_eq!(describe_reply(&[1, 2, 3]), None);
        assert_eq!(describe_reply(&[]), None);
    }
    #[test]
    fn framing_interface() {
        let req = Request { arg1: 3, arg2: -4 };
        let wire = req.encode();
        assert_eq!(Request::check(&wire[..15]), Check::Incomplete);
        assert_eq!(Request::check(&wire), Check::Complete(16));
        assert_eq!(Request::parse(&wire), Some(req));
        assert_eq!(Request::parse(&wire[..8]), None);
        assert_eq!(req.reply(), Reply { sum: -1 });
        assert_eq!(Reply::parse(&req.reply().encode()), Some(Reply { sum: -1 }));
        assert_eq!(req.to_string(), "sum 3 + -4");
        assert_eq!(req.reply().to_string(), "sum = -1");
    }

    #[test]
    fn framing() {
        assert_eq!(complete_requests(&[0; 15]), 0);
        assert_eq!(complete_requests(&[0; 33]), 32);
        assert_eq!(complete_replies(&[0; 7]), 0);
        assert_eq!(complete_replies(&[0; 17]), 16);
    }
}
