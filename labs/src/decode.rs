//! Protocol dispatch: which lab protocol a connection speaks, and what its bytes say.
//!
//! Each protocol is one [`Proto`] value and one arm in [`describe`]. A decoder gets the
//! bytes one side sent, in stream order, starting at a message boundary, and returns the
//! text for the complete messages at the front plus how many bytes they took; what is
//! left (half a command split over two segments) waits for the next segment.
//!
//! The lottery decoder calls `lottery::proto`. The others are marked LOCAL FALLBACK:
//! a few lines each, to be replaced by calls into the `tcpcliserv` and `filetransfer`
//! crates' `proto` modules.

use std::fmt::Write as _;

/// Which side sent some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The side that connected (sent the SYN).
    Client,
    /// The side that accepted.
    Server,
}

/// The protocols labtrace can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// Lab 3 Practice 3: 4-byte commands, text replies.
    Lottery,
    /// Lab 3 Practice 4: a path, then 260-byte segments.
    Ft,
    /// UNP echo: the server sends back what it reads.
    Echo,
    /// UNP tcpserv08: `A B\n` → `A+B\n`.
    Sum08,
    /// UNP tcpserv09: two little-endian i64 → their sum.
    Sum09,
    /// RFC 867: the server sends one line of date and time.
    Daytime,
    /// Bytes as text or hex.
    Raw,
}

impl Proto {
    /// Every protocol with its name on the command line.
    pub const ALL: [(&'static str, Proto); 7] = [
        ("lottery", Proto::Lottery),
        ("ft", Proto::Ft),
        ("echo", Proto::Echo),
        ("sum08", Proto::Sum08),
        ("sum09", Proto::Sum09),
        ("daytime", Proto::Daytime),
        ("raw", Proto::Raw),
    ];

    /// The protocol's command-line name.
    pub fn name(self) -> &'static str {
        Proto::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("raw", |(n, _)| n)
    }

    /// Guesses the protocol from the server's port and the first bytes a side sent.
    pub fn guess(server_port: u16, side: Side, first: &[u8]) -> Proto {
        match (server_port, side) {
            (13, _) => return Proto::Daytime,
            (7, _) => return Proto::Echo,
            _ => {}
        }
        let text = first
            .iter()
            .all(|&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b));
        match side {
            // The server spoke first: daytime's one line.
            // A capture that starts mid-connection: the lottery's replies are distinctive.
            Side::Server if lottery::proto::Reply::parse(first).is_some() => Proto::Lottery,
            Side::Server if text && first.ends_with(b"\n") => Proto::Daytime,
            Side::Server => Proto::Raw,
            // Commands 0..2 as little-endian i32; a short first segment may hold only
            // the start of one.
            Side::Client
                if !first.is_empty()
                    && first
                        .chunks(4)
                        .all(|c| c[0] <= 2 && c[1..].iter().all(|&b| b == 0)) =>
            {
                Proto::Lottery
            }
            Side::Client if first.len() == 16 && !text => Proto::Sum09,
            Side::Client if text && is_sum_line(first) => Proto::Sum08,
            Side::Client if text && first.ends_with(b"\n") => Proto::Echo,
            Side::Client if text && !first.contains(&b' ') => Proto::Ft,
            Side::Client => Proto::Raw,
        }
    }
}

fn is_sum_line(bytes: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return false;
    };
    s.ends_with('\n') && s.lines().all(|l| parse_two(l).is_some())
}

fn parse_two(line: &str) -> Option<(i64, i64)> {
    let mut it = line.split_whitespace();
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    it.next().is_none().then_some((a, b))
}

/// Describes the complete messages at the front of `stream` (bytes `side` sent, from a
/// message boundary on); returns the description (empty if nothing is complete yet) and
/// how many bytes it covers.
pub fn describe(proto: Proto, side: Side, stream: &[u8]) -> (String, usize) {
    match (proto, side) {
        (Proto::Lottery, Side::Client) => {
            let whole = stream.len() / lottery::proto::COMMAND_LEN * lottery::proto::COMMAND_LEN;
            if whole == 0 {
                return (String::new(), 0);
            }
            (lottery::proto::describe_client(&stream[..whole]), whole)
        }
        // The lottery client takes whatever one read returns as one reply.
        (Proto::Lottery, Side::Server) => (lottery::proto::describe_server(stream), stream.len()),
        (Proto::Ft, Side::Client) => (ft_fallback::path(stream), stream.len()),
        (Proto::Ft, Side::Server) => ft_fallback::segments(stream),
        (Proto::Echo, _) => text_fallback::lines(stream, "line"),
        (Proto::Daytime, _) => text_fallback::lines(stream, "time"),
        (Proto::Sum08, Side::Client) => sum_fallback::text_requests(stream),
        (Proto::Sum08, Side::Server) => text_fallback::lines(stream, "reply"),
        (Proto::Sum09, Side::Client) => sum_fallback::binary_requests(stream),
        (Proto::Sum09, Side::Server) => sum_fallback::binary_replies(stream),
        (Proto::Raw, _) => (raw(stream), stream.len()),
    }
}

/// Bytes as a quoted string when they are text, else as hex (at most 32 bytes shown).
pub fn raw(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    }) {
        return format!("{:?}", String::from_utf8_lossy(bytes));
    }
    let mut s = String::new();
    for (i, b) in bytes.iter().take(32).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    if bytes.len() > 32 {
        let _ = write!(s, " … ({} bytes)", bytes.len());
    }
    s
}

/// Joins descriptions, writing a run of equal ones once with a count: `4 × segment len=256`.
fn join_runs(parts: &[String]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < parts.len() {
        let run = parts[i..].iter().take_while(|p| **p == parts[i]).count();
        if !out.is_empty() {
            out.push_str(", ");
        }
        if run > 1 {
            let _ = write!(out, "{run} × ");
        }
        out.push_str(&parts[i]);
        i += run;
    }
    out
}

/// LOCAL FALLBACK for echo/daytime/sum08 replies: replace with `tcpcliserv::proto` calls.
mod text_fallback {
    /// Complete lines, each quoted; a text without a newline is shown whole (daytime and
    /// echo peers may write without one).
    pub fn lines(stream: &[u8], what: &str) -> (String, usize) {
        let end = stream
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(stream.len(), |i| i + 1);
        let parts: Vec<String> = stream[..end]
            .split_inclusive(|&b| b == b'\n')
            .map(|l| format!("{what} {:?}", String::from_utf8_lossy(l)))
            .collect();
        (parts.join(", "), end)
    }
}

/// LOCAL FALLBACK for sum08/sum09 requests and sum09 replies: replace with
/// `tcpcliserv::proto` calls.
mod sum_fallback {
    use super::parse_two;

    pub fn text_requests(stream: &[u8]) -> (String, usize) {
        let Some(end) = stream.iter().rposition(|&b| b == b'\n').map(|i| i + 1) else {
            return (String::new(), 0);
        };
        let parts: Vec<String> = String::from_utf8_lossy(&stream[..end])
            .lines()
            .map(|l| match parse_two(l) {
                Some((a, b)) => format!("sum {a} + {b}"),
                None => format!("bad request {l:?}"),
            })
            .collect();
        (parts.join(", "), end)
    }

    fn i64_at(b: &[u8]) -> i64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        i64::from_le_bytes(a)
    }

    pub fn binary_requests(stream: &[u8]) -> (String, usize) {
        let n = stream.len() / 16 * 16;
        let parts: Vec<String> = stream[..n]
            .chunks(16)
            .map(|c| format!("sum {} + {}", i64_at(c), i64_at(&c[8..])))
            .collect();
        (parts.join(", "), n)
    }

    pub fn binary_replies(stream: &[u8]) -> (String, usize) {
        let n = stream.len() / 8 * 8;
        let parts: Vec<String> = stream[..n]
            .chunks(8)
            .map(|c| format!("result {}", i64_at(c)))
            .collect();
        (parts.join(", "), n)
    }
}

/// LOCAL FALLBACK for the file transfer: replace with `filetransfer::proto` calls.
mod ft_fallback {
    /// Bytes in one segment: a 4-byte LE signed length and a 256-byte buffer.
    const SEGMENT: usize = 260;

    pub fn path(stream: &[u8]) -> String {
        format!("path {:?}", String::from_utf8_lossy(stream))
    }

    pub fn segments(stream: &[u8]) -> (String, usize) {
        let n = stream.len() / SEGMENT * SEGMENT;
        let parts: Vec<String> = stream[..n]
            .chunks(SEGMENT)
            .map(|s| {
                let len = i32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                if len < 0 {
                    let msg = &s[4..4 + (len.unsigned_abs() as usize).min(256)];
                    let msg = msg.split(|&b| b == 0).next().unwrap_or(msg);
                    format!("error {:?} (last segment)", String::from_utf8_lossy(msg))
                } else {
                    format!("segment len={len}")
                }
            })
            .collect();
        (super::join_runs(&parts), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lottery_uses_the_lottery_crate() {
        assert_eq!(
            describe(Proto::Lottery, Side::Client, &[0, 0, 0, 0]),
            ("GEN".into(), 4)
        );
        assert_eq!(
            describe(Proto::Lottery, Side::Client, &[1, 0]),
            (String::new(), 0)
        );
        assert_eq!(
            describe(Proto::Lottery, Side::Client, &[1, 0, 0, 0, 2, 0]),
            ("LIST".into(), 4)
        );
        assert_eq!(
            describe(Proto::Lottery, Side::Server, b"New number generated: 8"),
            ("\"New number generated: 8\"".into(), 23)
        );
    }

    #[test]
    fn fallbacks_describe_the_lab_messages() {
        assert_eq!(
            describe(Proto::Ft, Side::Client, b"/tmp/x").0,
            "path \"/tmp/x\""
        );
        let mut seg = 256i32.to_le_bytes().to_vec();
        seg.resize(260, b'a');
        let mut two = seg.repeat(2);
        let mut err = (-9i32).to_le_bytes().to_vec();
        err.extend_from_slice(b"no such f");
        err.resize(260, 0);
        two.extend_from_slice(&err);
        two.extend_from_slice(&[1, 2]);
        assert_eq!(
            describe(Proto::Ft, Side::Server, &two),
            (
                "2 × segment len=256, error \"no such f\" (last segment)".into(),
                780
            )
        );
        assert_eq!(
            describe(Proto::Sum08, Side::Client, b"3 4\n5").0,
            "sum 3 + 4"
        );
        assert_eq!(describe(Proto::Sum08, Side::Client, b"3 4\n5").1, 4);
        let mut bin = 3i64.to_le_bytes().to_vec();
        bin.extend_from_slice(&(-4i64).to_le_bytes());
        assert_eq!(
            describe(Proto::Sum09, Side::Client, &bin),
            ("sum 3 + -4".into(), 16)
        );
        assert_eq!(
            describe(Proto::Sum09, Side::Server, &7i64.to_le_bytes()).0,
            "result 7"
        );
        assert_eq!(
            describe(Proto::Echo, Side::Client, b"hi\n").0,
            "line \"hi\\n\""
        );
    }

    #[test]
    fn guessing_from_first_bytes() {
        assert_eq!(
            Proto::guess(1235, Side::Client, &[0, 0, 0, 0]),
            Proto::Lottery
        );
        assert_eq!(Proto::guess(1235, Side::Client, b"/etc/hosts"), Proto::Ft);
        assert_eq!(Proto::guess(9877, Side::Client, b"3 4\n"), Proto::Sum08);
        assert_eq!(
            Proto::guess(9877, Side::Client, b"hello there\n"),
            Proto::Echo
        );
        let mut bin = 3i64.to_le_bytes().to_vec();
        bin.extend_from_slice(&(-4i64).to_le_bytes());
        assert_eq!(Proto::guess(9877, Side::Client, &bin), Proto::Sum09);
        assert_eq!(
            Proto::guess(9999, Side::Server, b"Mon Jan  1 00:00:00 2024\r\n"),
            Proto::Daytime
        );
        assert_eq!(Proto::guess(13, Side::Client, b""), Proto::Daytime);
        assert_eq!(Proto::guess(9999, Side::Client, &[0xff, 1, 2]), Proto::Raw);
    }

    #[test]
    fn raw_is_text_or_hex() {
        assert_eq!(raw(b"hi\n"), "\"hi\\n\"");
        assert_eq!(raw(&[0, 1, 0xff]), "00 01 ff");
        assert!(raw(&[0; 40]).ends_with("… (40 bytes)"));
    }
}
