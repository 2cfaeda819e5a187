//! The text sum protocol of UNP's tcpserv08/tcpcli08 (str_echo08.c).
//!
//! ```text
//! client → server   "2 5\n"           two decimal integers on one line
//! server → client   "7\n"             their sum, or
//! server → client   "input error\n"   when the line does not start with two integers
//! ```
//!
//! The C server reads a line with `Readline`, parses it with `sscanf(line, "%ld%ld",
//! ...)` and answers with `snprintf("%ld\n")`. [`scan_two`] follows `sscanf`'s rules
//! exactly, because they decide which lines are an "input error": leading white space is
//! skipped, each number may have a sign, anything after the second number is ignored
//! (`"2 5 apples\n"` is 7), and a number too large for a `long` saturates to
//! `i64::MAX`/`i64::MIN` as glibc's `strtol` does. The sum wraps around on overflow,
//! which is what the C program's undefined `arg1 + arg2` does on x86-64 and aarch64.
//!
//! Text needs no byte order: the same bytes mean the same numbers on every machine,
//! which is the point of comparing this protocol with [`super::sum_binary`].

use std::fmt;

use super::{Check, Message, describe_all, framed_len, quote};

/// The server's whole reply to a line that is not two integers.
pub const INPUT_ERROR: &[u8] = b"input error\n";

/// A decoded reply line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `A+B\n`
    Sum(i64),
    /// `input error\n`
    InputError,
}

/// A request: one line, `\n` included. Any line is a request; the server answers one
/// that does not start with two integers with `input error\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The line as sent.
    pub line: Vec<u8>,
}

impl Request {
    /// The request for `a + b`.
    pub fn new(a: i64, b: i64) -> Request {
        Request {
            line: encode_request(a, b),
        }
    }

    /// The two integers, as the server's `sscanf` reads them ([`scan_two`]).
    pub fn operands(&self) -> Option<(i64, i64)> {
        scan_two(&self.line)
    }

    /// What the server answers ([`reply_to`]).
    pub fn reply(&self) -> Reply {
        reply_to(&self.line)
    }
}

/// One line through its `\n`, or the line has not ended yet.
fn check_line(buf: &[u8]) -> Check {
    buf.iter()
        .position(|&b| b == b'\n')
        .map_or(Check::Incomplete, |i| Check::Complete(i + 1))
}

impl Message for Request {
    /// A request is complete with its `\n`, as for the server's `Readline`.
    fn check(buf: &[u8]) -> Check {
        check_line(buf)
    }

    fn parse(frame: &[u8]) -> Option<Request> {
        (check_line(frame) == Check::Complete(frame.len())).then(|| Request {
            line: frame.to_vec(),
        })
    }

    fn encode(&self) -> Vec<u8> {
        self.line.clone()
    }
}

impl fmt::Display for Request {
    /// `sum 3 + 4`, or `"x\n" (not two integers: input error)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operands() {
            Some((a, b)) => write!(f, "sum {a} + {b}"),
            None => write!(f, "{} (not two integers: input error)", quote(&self.line)),
        }
    }
}

impl Message for Reply {
    /// A reply is one line; a line that is neither a number nor `input error` is not one.
    fn check(buf: &[u8]) -> Check {
        match check_line(buf) {
            Check::Complete(n) if decode_reply(&buf[..n]).is_none() => Check::Invalid(n),
            other => other,
        }
    }

    fn parse(frame: &[u8]) -> Option<Reply> {
        decode_reply(frame)
    }

    fn encode(&self) -> Vec<u8> {
        encode_reply(*self)
    }
}

impl fmt::Display for Reply {
    /// The reply text quoted: `"7\n"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote(&self.encode()))
    }
}

/// The request line for `a + b`: `"a b\n"`.
pub fn encode_request(a: i64, b: i64) -> Vec<u8> {
    format!("{a} {b}\n").into_bytes()
}

/// Reads two integers from the start of `line` the way `sscanf(line, "%ld%ld", ...)`
/// does; `None` when it would convert fewer than two.
///
/// ```
/// use tcpcliserv::proto::sum_text::scan_two;
/// assert_eq!(scan_two(b"  11\t-123 junk\n"), Some((11, -123)));
/// assert_eq!(scan_two(b"2x5\n"), None);
/// ```
pub fn scan_two(line: &[u8]) -> Option<(i64, i64)> {
    let (a, rest) = scan_long(line)?;
    let (b, _) = scan_long(rest)?;
    Some((a, b))
}

/// One `%ld` conversion: white space, an optional sign, at least one decimal digit.
/// Returns the value (saturated on overflow) and the bytes after it.
fn scan_long(s: &[u8]) -> Option<(i64, &[u8])> {
    // C's isspace() in the "C" locale: space, \t, \n, \v, \f, \r.
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let mut rest = &s[start..];
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut value: i64 = 0;
    let mut saturated = false;
    for &d in &rest[..digits] {
        let d = i64::from(d - b'0');
        // Accumulate towards the sign so that i64::MIN itself is representable.
        let next = value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
        match next {
            Some(v) => value = v,
            None => saturated = true,
        }
        if saturated {
            break;
        }
    }
    if saturated {
        value = if negative { i64::MIN } else { i64::MAX };
    }
    Some((value, &rest[digits..]))
}

/// What the server answers to one request line (with or without its `\n`).
pub fn reply_to(line: &[u8]) -> Reply {
    match scan_two(line) {
        Some((a, b)) => Reply::Sum(a.wrapping_add(b)),
        None => Reply::InputError,
    }
}

/// The bytes of a reply: `"7\n"` or `"input error\n"`.
pub fn encode_reply(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Sum(s) => format!("{s}\n").into_bytes(),
        Reply::InputError => INPUT_ERROR.to_vec(),
    }
}

/// Decodes one reply line (with its `\n`); `None` if it is neither a number nor
/// `input error`.
pub fn decode_reply(line: &[u8]) -> Option<Reply> {
    let text = line.strip_suffix(b"\n")?;
    if line == INPUT_ERROR {
        return Some(Reply::InputError);
    }
    std::str::from_utf8(text).ok()?.parse().ok().map(Reply::Sum)
}

/// How many bytes at the front of a captured client→server stream are whole request
/// lines: everything through the last `\n` (0 if there is none yet). A line split over
/// two segments is complete only once its `\n` arrives, as for the server's `Readline`.
///
/// ```
/// use tcpcliserv::proto::sum_text::complete_requests;
/// assert_eq!(complete_requests(b"3 4\n5 6"), 4);
/// ```
pub fn complete_requests(stream: &[u8]) -> usize {
    framed_len::<Request>(stream)
}

/// How many bytes at the front of a captured server→client stream are whole reply
/// lines: everything through the last `\n`, as for [`complete_requests`].
pub fn complete_replies(stream: &[u8]) -> usize {
    framed_len::<Reply>(stream)
}

/// Describes the request lines in a captured client→server payload: `sum 3 + 4`, or
/// `"x\n" (not two integers: input error)`; several lines are joined with `; `.
/// `None` unless the payload is whole lines.
pub fn describe_request(payload: &[u8]) -> Option<String> {
    describe_all::<Request>(payload)
}

/// Describes a captured server→client payload: the reply text quoted, `"7\n"`.
/// `None` unless it is one or more complete, valid reply lines.
pub fn describe_reply(payload: &[u8]) -> Option<String> {
    describe_all::<Reply>(payload).map(|_| quote(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handout_transcript() {
        for (line, sum) in [("2 5\n", 7), ("4 2\n", 6), ("11 123\n", 134)] {
            assert_eq!(
                encode_reply(reply_to(line.as_bytes())),
                format!("{sum}\n").as_bytes()
            );
        }
    }

    #[test]
    fn sscanf_rules() {
        assert_eq!(scan_two(b"+3 -4"), Some((3, -4)));
        assert_eq!(scan_two(b"\r\x0b\x0c 1\n\n2\n"), Some((1, 2)));
        assert_eq!(scan_two(b"1 2 3\n"), Some((1, 2)));
        assert_eq!(scan_two(b"12abc 3\n"), None);
        assert_eq!(scan_two(b"5\n"), None);
        assert_eq!(scan_two(b"- 5 6\n"), None);
        assert_eq!(scan_two(b"0x10 1\n"), None, "%ld reads 0, then 'x' fails");
        assert_eq!(scan_two(b""), None);
        assert_eq!(scan_two(b"\n"), None);
    }

    #[test]
    fn overflow_saturates_then_wraps() {
        assert_eq!(
            scan_two(b"99999999999999999999 -99999999999999999999"),
            Some((i64::MAX, i64::MIN))
        );
        assert_eq!(
            scan_two(b"-9223372036854775808 9223372036854775807"),
            Some((i64::MIN, i64::MAX))
        );
        assert_eq!(
            reply_to(b"9223372036854775807 1\n"),
            Reply::Sum(i64::MIN),
            "wraps like the C program"
        );
    }

    #[test]
    fn input_error_reply() {
        assert_eq!(encode_reply(reply_to(b"hello\n")), b"input error\n");
        assert_eq!(decode_reply(b"input error\n"), Some(Reply::InputError));
        assert_eq!(decode_reply(b"-12\n"), Some(Reply::Sum(-12)));
        assert_eq!(decode_reply(b"12"), None);
        assert_eq!(decode_reply(b"x\n"), None);
    }

    #[test]
    fn request_round_trip() {
        for (a, b) in [(0, 0), (-1, 1), (i64::MIN, i64::MAX)] {
            assert_eq!(scan_two(&encode_request(a, b)), Some((a, b)));
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe_request(b"3 4\n").as_deref(), Some("sum 3 + 4"));
        assert_eq!(
            describe_request(b"1 2\nab\n").as_deref(),
            Some("sum 1 + 2; \"ab\\n\" (not two integers: input error)")
        );
        assert_eq!(describe_request(b"3 4"), None);
        assert_eq!(describe_reply(b"7\n").as_deref(), Some("\"7\\n\""));
        assert_eq!(
            describe_reply(b"input error\n").as_deref(),
            Some("\"input error\\n\"")
        );
        assert_eq!(describe_reply(b"7"), None);
        assert_eq!(describe_reply(b"seven\n"), None);
    }
    #[test]
    fn framing_interface() {
        assert_eq!(Request::check(b"3 4"), Check::Incomplete);
        assert_eq!(Request::check(b"3 4\n5"), Check::Complete(4));
        let req = Request::parse(b"3 4\n").unwrap();
        assert_eq!(req, Request::new(3, 4));
        assert_eq!(req.reply(), Reply::Sum(7));
        assert_eq!(Request::parse(b"3 4\n5 6\n"), None, "exactly one line");
        assert_eq!(Reply::check(b"7\nx"), Check::Complete(2));
        assert_eq!(Reply::check(b"seven\n"), Check::Invalid(6));
        assert_eq!(
            Reply::parse(&Reply::InputError.encode()),
            Some(Reply::InputError)
        );
        assert_eq!(Reply::Sum(7).to_string(), "\"7\\n\"");
    }

    #[test]
    fn framing() {
        assert_eq!(complete_requests(b"3 4"), 0);
        assert_eq!(complete_requests(b"3 4\n"), 4);
        assert_eq!(complete_requests(b"3 4\n5 6\n7"), 8);
        assert_eq!(complete_replies(b"7\n1"), 2);
        assert_eq!(
            describe_request(&b"3 4\n5 6"[..complete_requests(b"3 4\n5 6")]).as_deref(),
            Some("sum 3 + 4")
        );
    }
}
