//! The daytime protocol (RFC 867) as UNP's intro/daytimetcpsrv.c speaks it.
//!
//! ```text
//! client → server   (nothing: connecting is the request)
//! server → client   "Tue Sep  5 11:04:47 2017\r\n"   then the server closes (FIN)
//! ```
//!
//! The C server formats the time with `snprintf(buff, sizeof(buff), "%.24s\r\n",
//! ctime(&ticks))`: the 24 characters of `ctime(3)` (weekday, month, day of month padded
//! with a space to two columns, `hh:mm:ss`, four-digit year) and CR LF, as RFC 867's
//! "one line of ASCII" is conventionally ended on the network. The client reads until
//! EOF: the server's close, not a length or a terminator, marks the end of the reply.

use std::fmt;

use super::{Check, Message, quote};

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date and time of day, as `struct tm` holds it after `localtime_r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    /// The year, e.g. 2017.
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day of the month 1–31.
    pub day: u8,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–60 (60 for a leap second).
    pub second: u8,
    /// Day of the week, 0 = Sunday.
    pub weekday: u8,
}

impl fmt::Display for CivilTime {
    /// The 24 characters of `ctime(3)`: `Tue Sep  5 11:04:47 2017`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wd = WEEKDAYS.get(usize::from(self.weekday)).unwrap_or(&"???");
        let mon = MONTHS
            .get(usize::from(self.month).wrapping_sub(1))
            .unwrap_or(&"???");
        write!(
            f,
            "{wd} {mon} {:2} {:02}:{:02}:{:02} {}",
            self.day, self.hour, self.minute, self.second, self.year
        )
    }
}

/// A reply: one line of ASCII ended by `\r\n` (or a bare `\n`, which some daytime
/// servers send). The client sends nothing, so there is no request type: connecting is
/// the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The line as sent, line end included.
    pub line: String,
}

impl Reply {
    /// What the server sends at time `t` ([`encode_reply`]).
    pub fn at(t: &CivilTime) -> Reply {
        let line = format!("{:.24}\r\n", t.to_string());
        Reply { line }
    }

    /// The text without its line end.
    pub fn text(&self) -> &str {
        let line = self.line.strip_suffix('\n').unwrap_or(&self.line);
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// The time, if the text is in `ctime` format ([`parse_ctime`]).
    pub fn time(&self) -> Option<CivilTime> {
        parse_ctime(self.text())
    }
}

impl Message for Reply {
    /// Complete with the line's `\n`; a line that is not ASCII text is not a reply.
    fn check(buf: &[u8]) -> Check {
        match buf.iter().position(|&b| b == b'\n') {
            None => Check::Incomplete,
            Some(i) if decode_reply(&buf[..=i]).is_some() => Check::Complete(i + 1),
            Some(i) => Check::Invalid(i + 1),
        }
    }

    fn parse(frame: &[u8]) -> Option<Reply> {
        decode_reply(frame)?;
        let line = std::str::from_utf8(frame).ok()?.to_string();
        Some(Reply { line })
    }

    fn encode(&self) -> Vec<u8> {
        self.line.clone().into_bytes()
    }
}

impl fmt::Display for Reply {
    /// `daytime "Tue Sep  5 11:04:47 2017\r\n"`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "daytime {}", quote(self.line.as_bytes()))
    }
}

/// The server's reply: `ctime` cut to 24 characters (`%.24s`), then `\r\n`.
pub fn encode_reply(t: &CivilTime) -> Vec<u8> {
    Reply::at(t).encode()
}

/// The text of a reply without its line end, if it is one line of ASCII ended by
/// `\r\n` (or a bare `\n`, which some daytime servers send).
pub fn decode_reply(payload: &[u8]) -> Option<&str> {
    let body = payload
        .strip_suffix(b"\r\n")
        .or_else(|| payload.strip_suffix(b"\n"))?;
    if body.contains(&b'\n') || !body.is_ascii() {
        return None;
    }
    std::str::from_utf8(body).ok()
}

/// Parses the `ctime` text back (the inverse of [`CivilTime`]'s `Display`); `None` for
/// another format.
pub fn parse_ctime(text: &str) -> Option<CivilTime> {
    let b = text.as_bytes();
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    let weekday = WEEKDAYS.iter().position(|d| *d == &text[0..3])?;
    let month = MONTHS.iter().position(|m| *m == &text[4..7])? + 1;
    let num = |s: &str| s.trim_start().parse::<u8>().ok();
    let mut hms = text[11..19].split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    Some(CivilTime {
        year: text[20..24].parse().ok()?,
        month: u8::try_from(month).ok()?,
        day: num(&text[8..10])?,
        hour: num(h)?,
        minute: num(m)?,
        second: num(s)?,
        weekday: u8::try_from(weekday).ok()?,
    })
}

/// A daytime client sends nothing: an empty payload is described as
/// `no request (connecting is the request)`; any bytes are not daytime (`None`).
pub fn describe_request(payload: &[u8]) -> Option<String> {
    payload
        .is_empty()
        .then(|| "no request (connecting is the request)".to_string())
}

/// Describes a captured reply: `daytime "Tue Sep  5 11:04:47 2017\r\n"`; `None` unless
/// it is one ASCII line.
pub fn describe_reply(payload: &[u8]) -> Option<String> {
    Reply::parse(payload).map(|r| r.to_string())
}

/// How many bytes at the front of a captured client→server stream are whole requests:
/// all of them. A daytime client sends nothing, so any byte it does send is complete
/// as far as framing goes, and [`describe_request`] then says it is not daytime.
pub fn complete_requests(stream: &[u8]) -> usize {
    stream.len()
}

/// How many bytes at the front of a captured server→client stream are a whole reply:
/// the line through its `\n`, or 0 while the line end has not arrived.
///
/// ```
/// use tcpcliserv::proto::daytime::complete_replies;
/// assert_eq!(complete_replies(b"Tue Sep  5 11:04"), 0);
/// assert_eq!(complete_replies(b"Tue Sep  5 11:04:47 2017\r\n"), 26);
/// ```
pub fn complete_replies(stream: &[u8]) -> usize {
    match Reply::check(stream) {
        Check::Complete(n) | Check::Invalid(n) => n,
        Check::Incomplete => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handout_time() -> CivilTime {
        CivilTime {
            year: 2017,
            month: 9,
            day: 5,
            hour: 11,
            minute: 4,
            second: 47,
            weekday: 2,
        }
    }

    #[test]
    fn handout_line_byte_for_byte() {
        assert_eq!(
            encode_reply(&handout_time()),
            b"Tue Sep  5 11:04:47 2017\r\n"
        );
        let two_digit_day = CivilTime {
            day: 25,
            hour: 0,
            weekday: 1,
            month: 12,
            ..handout_time()
        };
        assert_eq!(
            encode_reply(&two_digit_day),
            b"Mon Dec 25 00:04:47 2017\r\n"
        );
    }

    #[test]
    fn decode_and_parse_round_trip() {
        let t = handout_time();
        let reply = encode_reply(&t);
        let text = decode_reply(&reply).unwrap();
        assert_eq!(text, "Tue Sep  5 11:04:47 2017");
        assert_eq!(parse_ctime(text), Some(t));
        assert_eq!(parse_ctime("Tue Sep  5 11:04:47 17"), None);
        assert_eq!(decode_reply(b"no line end"), None);
        assert_eq!(decode_reply(b"two\nlines\r\n"), None);
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe_reply(b"Tue Sep  5 11:04:47 2017\r\n").as_deref(),
            Some(r#"daytime "Tue Sep  5 11:04:47 2017\r\n""#)
        );
        assert!(describe_request(b"").is_some());
        assert_eq!(describe_request(b"x"), None);
        assert_eq!(describe_reply(b"\xff\r\n"), None);
    }
    #[test]
    fn framing_interface() {
        let reply = Reply::at(&handout_time());
        let wire = reply.encode();
        assert_eq!(Reply::check(&wire[..25]), Check::Incomplete);
        assert_eq!(Reply::check(&wire), Check::Complete(26));
        assert_eq!(Reply::check(b"\xff\r\nx"), Check::Invalid(3));
        assert_eq!(Reply::parse(&wire), Some(reply.clone()));
        assert_eq!(reply.text(), "Tue Sep  5 11:04:47 2017");
        assert_eq!(reply.time(), Some(handout_time()));
        assert_eq!(
            reply.to_string(),
            r#"daytime "Tue Sep  5 11:04:47 2017\r\n""#
        );
    }

    #[test]
    fn framing() {
        let reply = b"Tue Sep  5 11:04:47 2017\r\n";
        for cut in 0..reply.len() {
            assert_eq!(complete_replies(&reply[..cut]), 0, "cut at {cut}");
        }
        let mut two = reply.to_vec();
        two.extend_from_slice(b"more");
        assert_eq!(complete_replies(&two), reply.len());
        assert_eq!(complete_requests(b"xy"), 2);
    }
}
