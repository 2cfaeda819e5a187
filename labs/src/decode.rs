//! Protocol dispatch: which lab protocol a connection speaks, and what its bytes say.
//!
//! Each protocol is one [`Proto`] value and one arm in [`describe`]. A decoder gets the
//! bytes one side sent, in stream order, starting at a message boundary, and returns the
//! text for the complete messages at the front plus how many bytes they took; what is
//! left (half a command split over two segments) waits for the next segment.
//!
//! Every decoder comes from the crate that owns the protocol: `lottery::proto`,
//! `filetransfer::proto` and the modules of `tcpcliserv::proto`. Their framing
//! functions (`complete_requests`/`complete_replies`, [`lottery::proto::COMMAND_LEN`],
//! [`filetransfer::proto::complete_replies`]) say how many bytes are whole messages; this
//! module only dispatches and joins.

use std::fmt::Write as _;
use tcpcliserv::proto::{daytime, echo, sum_binary, sum_text};

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
    /// Lab 4's UDP echo: a line, and the same bytes back (UDP only).
    UdpEcho,
    /// Lab 4's UDP upload: a path, `ok`, 1024-byte chunks, `================END` (UDP only).
    UdpFt,
    /// Lab 4's sequence experiment: numbered 1024-byte datagrams (UDP only).
    UdpSeq,
    /// unplab's reliable transfer over UDP: 16-byte headers, ACKs (UDP only).
    Rft,
    /// Bytes as text or hex.
    Raw,
}

impl Proto {
    /// Every protocol with its name on the command line.
    pub const ALL: [(&'static str, Proto); 11] = [
        ("lottery", Proto::Lottery),
        ("ft", Proto::Ft),
        ("echo", Proto::Echo),
        ("sum08", Proto::Sum08),
        ("sum09", Proto::Sum09),
        ("daytime", Proto::Daytime),
        ("udpecho", Proto::UdpEcho),
        ("udpft", Proto::UdpFt),
        ("udpseq", Proto::UdpSeq),
        ("rft", Proto::Rft),
        ("raw", Proto::Raw),
    ];

    /// True for the protocols that run over UDP (see [`crate::udp`]).
    pub fn is_udp(self) -> bool {
        matches!(
            self,
            Proto::UdpEcho | Proto::UdpFt | Proto::UdpSeq | Proto::Rft
        )
    }

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
            // tcpcli09 sends 16 bytes at once; a lottery client sends one 4-byte command
            // and waits for the reply (16 bytes of GEN/LIST/END would be four commands).
            Side::Client if first.len() == sum_binary::REQUEST_LEN && !text => Proto::Sum09,
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
            Side::Client if text && is_sum_line(first) => Proto::Sum08,
            Side::Client if text && first.ends_with(b"\n") => Proto::Echo,
            Side::Client if text && !first.contains(&b' ') => Proto::Ft,
            Side::Client => Proto::Raw,
        }
    }
}

/// Printable ASCII ending with a line end.
fn is_text_line(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\n")
        && bytes
            .iter()
            .all(|&b| matches!(b, b'\n' | b'\r' | b'\t' | 0x20..=0x7e))
}

/// Every line is a `sum_text` request (two integers, as the server's `sscanf` reads them).
fn is_sum_line(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\n")
        && bytes
            .split_inclusive(|&b| b == b'\n')
            .all(|l| sum_text::scan_two(l).is_some())
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
        (Proto::Ft, Side::Client) => (filetransfer::proto::describe_request(stream), stream.len()),
        (Proto::Ft, Side::Server) => ft_segments(stream),
        (Proto::Echo, Side::Client) => framed(
            stream,
            echo::complete_requests,
            echo::describe_request,
            "echo",
        ),
        (Proto::Echo, Side::Server) => {
            framed(stream, echo::complete_replies, echo::describe_reply, "echo")
        }
        (Proto::Daytime, Side::Client) => framed(
            stream,
            daytime::complete_requests,
            daytime::describe_request,
            "daytime request (the client should send nothing)",
        ),
        (Proto::Daytime, Side::Server) => framed(
            stream,
            daytime::complete_replies,
            daytime::describe_reply,
            "daytime reply",
        ),
        (Proto::Sum08, Side::Client) => framed(
            stream,
            sum_text::complete_requests,
            sum_text::describe_request,
            "sum request",
        ),
        (Proto::Sum08, Side::Server) => framed(
            stream,
            sum_text::complete_replies,
            sum_text::describe_reply,
            "sum reply",
        ),
        (Proto::Sum09, Side::Client) => framed(
            stream,
            sum_binary::complete_requests,
            sum_binary::describe_request,
            "sum request",
        ),
        // Any 8 bytes are some i64: a line of text is far likelier the answer of the text
        // server (tcpserv08) to a binary client than a sum above 7 × 10^17.
        (Proto::Sum09, Side::Server) if is_text_line(stream) => (
            format!(
                "not a sum reply: {} (text, as tcpserv08 answers)",
                raw(stream)
            ),
            stream.len(),
        ),
        (Proto::Sum09, Side::Server) => framed(
            stream,
            sum_binary::complete_replies,
            sum_binary::describe_reply,
            "sum reply",
        ),
        (Proto::Raw, _) => (raw(stream), stream.len()),
        // A UDP protocol over TCP: the bytes as one datagram of it.
        (p, side) => (crate::udp::proto::describe(p, side, stream), stream.len()),
    }
}

/// The whole messages at the front of `stream` (`complete` counts their bytes) as
/// `describe` tells them, or `not a WHAT: BYTES` when `describe` does not recognise them.
fn framed(
    stream: &[u8],
    complete: fn(&[u8]) -> usize,
    describe: fn(&[u8]) -> Option<String>,
    what: &str,
) -> (String, usize) {
    let n = complete(stream).min(stream.len());
    if n == 0 {
        return (String::new(), 0);
    }
    match describe(&stream[..n]) {
        Some(text) => (text, n),
        // Not this protocol after all (a client talking to the wrong server): show all
        // the bytes as they are rather than cut them at this protocol's boundaries.
        None => (format!("not a {what}: {}", raw(stream)), stream.len()),
    }
}

/// The file server's whole 260-byte segments at the front of `stream`, as
/// `filetransfer::proto`'s framing counts and describes them; a run of equal lines is
/// written once.
fn ft_segments(stream: &[u8]) -> (String, usize) {
    use filetransfer::proto::{complete_replies, describe_replies};
    let n = complete_replies(stream);
    (join_runs(&describe_replies(&stream[..n])), n)
}

/// Bytes as a quoted string when they are text (escaped by [`unp::printable`], the one
/// escaper of peer bytes), else as hex (at most 32 bytes shown).
pub fn raw(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    }) {
        return format!("\"{}\"", unp::printable(bytes));
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
        // Peer bytes through unp::printable, as in every other decoder.
        assert_eq!(
            describe(Proto::Lottery, Side::Server, b"\x1b[2J"),
            ("\"\\x1b[2J\" (not a lottery reply)".into(), 4)
        );
    }

    #[test]
    fn file_transfer_uses_the_filetransfer_crate() {
        use filetransfer::proto::{encode_end_of_file, encode_error, encode_segments};
        assert_eq!(
            describe(Proto::Ft, Side::Client, b"/tmp/x"),
            ("path \"/tmp/x\"".into(), 6)
        );
        assert_eq!(
            describe(Proto::Ft, Side::Client, b"a\xffb").0,
            "invalid path (path is not UTF-8): \"a\\xffb\""
        );
        let mut wire = Vec::new();
        encode_segments(&[7; 600], &mut wire);
        wire.extend_from_slice(&encode_end_of_file());
        // Half a segment waits for the rest.
        assert_eq!(
            describe(Proto::Ft, Side::Server, &wire[..259]),
            (String::new(), 0)
        );
        assert_eq!(
            describe(Proto::Ft, Side::Server, &wire[..600]),
            ("2 × segment len=256".into(), 520)
        );
        assert_eq!(
            describe(Proto::Ft, Side::Server, &wire[520..]),
            (
                "segment len=88 (last data), end-of-file segment".into(),
                520
            )
        );
        let mut refused = encode_error("refused").to_vec();
        refused.extend_from_slice(&[0; 262]);
        assert_eq!(
            describe(Proto::Ft, Side::Server, &refused),
            (
                "error segment \"refused\", 260 unexpected bytes after the last segment".into(),
                520
            )
        );
        let mut bad = 300i32.to_le_bytes().to_vec();
        bad.resize(260, 0);
        assert_eq!(
            describe(Proto::Ft, Side::Server, &bad).0,
            "protocol error: segment length 300 is outside -1..=256"
        );
    }

    #[test]
    fn sums_use_the_tcpcliserv_crate() {
        assert_eq!(
            describe(Proto::Sum08, Side::Client, b"3 4\n5"),
            ("sum 3 + 4".into(), 4)
        );
        assert_eq!(
            describe(Proto::Sum08, Side::Client, b"5"),
            (String::new(), 0)
        );
        assert_eq!(
            describe(Proto::Sum08, Side::Client, b"3 4\nx\n").0,
            "sum 3 + 4; \"x\\n\" (not two integers: input error)"
        );
        assert_eq!(
            describe(Proto::Sum08, Side::Server, b"7\n1"),
            ("\"7\\n\"".into(), 2)
        );
        assert_eq!(
            describe(Proto::Sum08, Side::Server, b"seven\n"),
            ("not a sum reply: \"seven\\n\"".into(), 6)
        );
        // tcpserv08 answering tcpcli09: the whole text is shown, not 8 bytes of it.
        assert_eq!(
            describe(Proto::Sum09, Side::Server, b"input error\n"),
            (
                "not a sum reply: \"input error\\n\" (text, as tcpserv08 answers)".into(),
                12
            )
        );
        let mut bin = sum_binary::encode_request(3, -4).to_vec();
        assert_eq!(
            describe(Proto::Sum09, Side::Client, &bin[..10]),
            (String::new(), 0)
        );
        bin.extend_from_slice(&[1, 2]);
        assert_eq!(
            describe(Proto::Sum09, Side::Client, &bin),
            ("sum 3 + -4".into(), 16)
        );
        assert_eq!(
            describe(Proto::Sum09, Side::Server, &7i64.to_le_bytes()),
            ("sum = 7".into(), 8)
        );
    }

    #[test]
    fn echo_and_daytime_use_the_tcpcliserv_crate() {
        assert_eq!(
            describe(Proto::Echo, Side::Client, b"hi\n"),
            ("\"hi\\n\"".into(), 3)
        );
        assert_eq!(
            describe(Proto::Echo, Side::Server, b"no newline"),
            ("\"no newline\"".into(), 10)
        );
        let line = b"Tue Sep  5 11:04:47 2017\r\n";
        assert_eq!(
            describe(Proto::Daytime, Side::Server, &line[..10]),
            (String::new(), 0)
        );
        assert_eq!(
            describe(Proto::Daytime, Side::Server, line),
            ("daytime \"Tue Sep  5 11:04:47 2017\\r\\n\"".into(), 26)
        );
        assert_eq!(
            describe(Proto::Daytime, Side::Client, b"hello"),
            (
                "not a daytime request (the client should send nothing): \"hello\"".into(),
                5
            )
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
        // `1 2` from tcpcli09 looks like four lottery commands; it is a binary sum.
        let one_two = sum_binary::encode_request(1, 2);
        assert_eq!(Proto::guess(9877, Side::Client, &one_two), Proto::Sum09);
        assert_eq!(
            Proto::guess(1235, Side::Client, &[1, 0, 0, 0, 0, 0, 0, 0]),
            Proto::Lottery
        );
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
        assert_eq!(raw("tab\t, é\r\n".as_bytes()), "\"tab\\t, é\\r\\n\"");
        assert_eq!(raw(&[0, 1, 0xff]), "00 01 ff");
        assert!(raw(&[0; 40]).ends_with("… (40 bytes)"));
    }
}
