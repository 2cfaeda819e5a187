//! The lottery wire protocol of Lab 3 Practice 3, as pure encode/decode (no sockets).
//!
//! ```text
//! client → server   4 bytes: a signed 32-bit command, little-endian
//!                   00 00 00 00  GEN    draw one more number
//!                   01 00 00 00  LIST   list the six slots
//!                   02 00 00 00  END    no reply: the server closes the connection
//! server → client   ASCII text, no terminator, one write, at most 255 bytes
//!                   "New number generated: 32"
//!                   "Full"                         (six numbers already drawn)
//!                   "numbers: 32 5 22 0 0 0"       (undrawn slots print as 0)
//!                   "Unknown command: 7"           (unplab's answer to other values)
//! ```
//!
//! The C programs write the `int` in the host's byte order, which is little-endian on
//! every machine the lab runs on (x86-64, Apple and other ARM64). That is a portability
//! bug in the C code (a big-endian peer would read GEN as 0 but LIST as 16777216);
//! unplab writes little-endian explicitly so that it talks to the C programs byte for
//! byte on any host.
//!
//! The replies carry no length and no terminator: the client reads "whatever one
//! `read` returns" and takes it as one reply. That works because the client sends one
//! command and waits for its reply before sending the next, and on loopback (or any
//! uncongested network) 255 bytes written at once arrive in one segment. TCP itself has
//! no message boundaries: a slow link or a small receive window could split a reply in
//! two, and the client would print half of it.
//!
//! The interface every reader of the protocol uses (server, client, labtrace):
//!
//! | | client → server | server → client |
//! |---|---|---|
//! | complete, incomplete or invalid | [`Frame::parse`] | [`Reply::parse`] (what one `read` returned) |
//! | encode | [`Command::encode`] | [`Reply::encode`] |
//! | one line | `Display` of [`Frame`], [`Command`] | `Display` of [`Reply`] |

use std::fmt::{self, Write};

/// How many bytes a command takes on the wire.
pub const COMMAND_LEN: usize = 4;

/// The longest reply the C client can hold (its buffer is 256 bytes with a NUL).
pub const MAX_REPLY: usize = 255;

/// A reply's text as [`Reply::encode`] makes it: the C server's `char send_msg[256]`.
pub type ReplyText = unp::StackText<MAX_REPLY>;

/// How many numbers one draw holds.
pub const SLOTS: usize = 6;

/// The smallest and largest number that can be drawn.
pub const NUMBER_RANGE: std::ops::RangeInclusive<u8> = 1..=45;

/// A command the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// 0: draw one more number (or answer `Full`).
    Gen,
    /// 1: list the six slots.
    List,
    /// 2: end the session; the server closes the connection without a reply.
    End,
}

impl Command {
    /// The command's number on the wire (and on the client's keyboard).
    pub fn code(self) -> i32 {
        match self {
            Command::Gen => 0,
            Command::List => 1,
            Command::End => 2,
        }
    }

    /// The command with this number, if there is one.
    pub fn from_code(code: i32) -> Option<Command> {
        match code {
            0 => Some(Command::Gen),
            1 => Some(Command::List),
            2 => Some(Command::End),
            _ => None,
        }
    }

    /// The four bytes the client writes: `00 00 00 00` for GEN.
    pub fn encode(self) -> [u8; COMMAND_LEN] {
        self.code().to_le_bytes()
    }

    /// The command's name, as the handout writes it: `GEN`, `LIST`, `END`.
    pub fn name(self) -> &'static str {
        match self {
            Command::Gen => "GEN",
            Command::List => "LIST",
            Command::End => "END",
        }
    }

    /// Reads what a user typed at the client's prompt: `0`/`1`/`2` or the name in any
    /// case, surrounded by any white space.
    pub fn parse_input(typed: &str) -> Result<Command, BadInput> {
        let word = typed.trim();
        if let Ok(code) = word.parse::<i64>() {
            return i32::try_from(code)
                .ok()
                .and_then(Command::from_code)
                .ok_or_else(|| BadInput(word.to_string()));
        }
        match word.to_ascii_uppercase().as_str() {
            "GEN" => Ok(Command::Gen),
            "LIST" => Ok(Command::List),
            "END" => Ok(Command::End),
            _ => Err(BadInput(word.to_string())),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something typed at the prompt that is not a command; holds what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            write!(f, "empty input")?;
        } else {
            write!(f, "unknown command {:?}", self.0)?;
        }
        write!(f, "; type 0 or GEN, 1 or LIST, 2 or END")
    }
}

/// What the bytes at the front of a client's stream hold: the framing of the protocol,
/// one place for the server (after `readn`) and labtrace (on captured segments).
///
/// ```
/// use lottery::proto::{Command, Frame};
/// assert_eq!(Frame::parse(&[1, 0, 0, 0]), Frame::Command(Command::List));
/// assert_eq!(Frame::parse(&[7, 0, 0, 0]), Frame::Invalid(7));
/// assert_eq!(Frame::parse(&[0, 0]), Frame::Incomplete(2));
/// assert_eq!(Frame::parse(&[0, 0]).to_string(), "partial command (2 of 4 bytes)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Four bytes holding one of the three commands.
    Command(Command),
    /// Four bytes holding any other number; the server answers [`Reply::Unknown`].
    Invalid(i32),
    /// Fewer than four bytes (this many): read more; at EOF, half a command.
    Incomplete(usize),
}

impl Frame {
    /// Frames the bytes at the front of `buf`, which starts at a command boundary (an
    /// offset that is a multiple of 4 in the client's stream). Bytes after the first
    /// four belong to the next frame.
    pub fn parse(buf: &[u8]) -> Frame {
        let Some(&four) = buf.first_chunk::<COMMAND_LEN>() else {
            return Frame::Incomplete(buf.len());
        };
        let code = i32::from_le_bytes(four);
        match Command::from_code(code) {
            Some(c) => Frame::Command(c),
            None => Frame::Invalid(code),
        }
    }

    /// How many bytes of the buffer the frame takes: 4, or 0 while incomplete.
    pub fn len(self) -> usize {
        match self {
            Frame::Incomplete(_) => 0,
            _ => COMMAND_LEN,
        }
    }

    /// True while the frame is incomplete (it takes no bytes yet).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// One line, for logs and traces: `GEN`, `unknown command 7`,
/// `partial command (2 of 4 bytes)`.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frame::Command(c) => write!(f, "{c}"),
            Frame::Invalid(code) => write!(f, "unknown command {code}"),
            Frame::Incomplete(n) => write!(f, "partial command ({n} of {COMMAND_LEN} bytes)"),
        }
    }
}

/// A reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `New number generated: N`
    NewNumber(u8),
    /// `Full`
    Full,
    /// `numbers: a b c d e f` (0 for a slot not drawn yet)
    Numbers([u8; SLOTS]),
    /// `Unknown command: N` (unplab's answer to a value that is no command)
    Unknown(i32),
}

impl Reply {
    /// The reply's text, exactly as it goes on the wire (no terminator): the C server's
    /// `sprintf(send_msg, ...)`, into a buffer on the stack as there ([`ReplyText`]; a
    /// forked child that allocated would copy heap pages for every client).
    pub fn encode(&self) -> ReplyText {
        let mut send_msg = ReplyText::new();
        // The longest reply, `Unknown command: -2147483648`, is 28 bytes: it fits.
        let _ = write!(send_msg, "{self}");
        send_msg
    }

    /// Parses a reply's bytes; `None` if they are not one of the four forms.
    pub fn parse(bytes: &[u8]) -> Option<Reply> {
        let text = std::str::from_utf8(bytes).ok()?;
        if text == "Full" {
            return Some(Reply::Full);
        }
        if let Some(n) = text.strip_prefix("New number generated: ") {
            return canonical(n).map(Reply::NewNumber);
        }
        if let Some(n) = text.strip_prefix("Unknown command: ") {
            return canonical(n).map(Reply::Unknown);
        }
        let list = text.strip_prefix("numbers: ")?;
        let mut slots = [0u8; SLOTS];
        let mut parts = list.split(' ');
        for slot in &mut slots {
            *slot = canonical(parts.next()?)?;
        }
        parts.next().is_none().then_some(Reply::Numbers(slots))
    }
}

/// Parses a decimal number only if it is written the way `%d` writes it.
fn canonical<T: std::str::FromStr + ToString>(s: &str) -> Option<T> {
    let v: T = s.parse().ok()?;
    (v.to_string() == s).then_some(v)
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::NewNumber(n) => write!(f, "New number generated: {n}"),
            Reply::Full => f.write_str("Full"),
            Reply::Numbers(s) => write!(
                f,
                "numbers: {} {} {} {} {} {}",
                s[0], s[1], s[2], s[3], s[4], s[5]
            ),
            Reply::Unknown(code) => write!(f, "Unknown command: {code}"),
        }
    }
}

/// Describes bytes a client sent, for a trace: each frame's line joined with spaces,
/// `GEN`, `LIST END`, `unknown command 7`, `partial command (2 of 4 bytes)`. `bytes`
/// must start at a command boundary.
pub fn describe_client(bytes: &[u8]) -> String {
    let frames: Vec<String> = bytes
        .chunks(COMMAND_LEN)
        .map(|chunk| Frame::parse(chunk).to_string())
        .collect();
    frames.join(" ")
}

/// Describes bytes the server sent, for a trace: the reply text in quotes
/// (`"New number generated: 8"`), marked when it is not one of the protocol's replies.
/// A reply has no length and no terminator: what one `read` returns is the reply. Peer
/// bytes are made printable by [`unp::printable`] (ESC shows as `\x1b`).
pub fn describe_server(bytes: &[u8]) -> String {
    let shown = unp::printable(bytes);
    if Reply::parse(bytes).is_some() {
        format!("\"{shown}\"")
    } else {
        format!("\"{shown}\" (not a lottery reply)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_four_little_endian_bytes() {
        assert_eq!(Command::Gen.encode(), [0, 0, 0, 0]);
        assert_eq!(Command::List.encode(), [1, 0, 0, 0]);
        assert_eq!(Command::End.encode(), [2, 0, 0, 0]);
        for c in [Command::Gen, Command::List, Command::End] {
            assert_eq!(Frame::parse(&c.encode()), Frame::Command(c));
        }
        assert_eq!(Frame::parse(&[7, 0, 0, 0]), Frame::Invalid(7));
        assert_eq!(Frame::parse(&[0, 0, 0, 1]), Frame::Invalid(16_777_216));
        assert_eq!(Frame::parse(&[0xff; 4]), Frame::Invalid(-1));
    }

    #[test]
    fn keyboard_input_accepts_numbers_and_names() {
        for (typed, want) in [
            ("0", Command::Gen),
            (" 1\n", Command::List),
            ("2", Command::End),
            ("gen", Command::Gen),
            ("List", Command::List),
            ("END", Command::End),
        ] {
            assert_eq!(Command::parse_input(typed), Ok(want), "{typed:?}");
        }
        for bad in ["foo", "9", "-1", "", "0 1", "99999999999", "GENX"] {
            assert!(Command::parse_input(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Command::parse_input("foo").unwrap_err().to_string(),
            "unknown command \"foo\"; type 0 or GEN, 1 or LIST, 2 or END"
        );
    }

    #[test]
    fn replies_print_as_the_c_server_does() {
        assert_eq!(Reply::NewNumber(32).encode(), "New number generated: 32");
        assert_eq!(Reply::Full.encode(), "Full");
        assert_eq!(
            Reply::Numbers([32, 5, 22, 0, 0, 0]).encode(),
            "numbers: 32 5 22 0 0 0"
        );
        assert_eq!(Reply::Unknown(-3).encode(), "Unknown command: -3");
    }

    #[test]
    fn replies_round_trip_and_reject_near_misses() {
        for r in [
            Reply::NewNumber(45),
            Reply::Full,
            Reply::Numbers([1, 2, 3, 4, 5, 45]),
            Reply::Unknown(i32::MIN),
        ] {
            assert_eq!(Reply::parse(r.encode().as_bytes()), Some(r.clone()));
            assert_eq!(
                r.encode(),
                r.to_string().as_str(),
                "encode is the whole text"
            );
        }
        for bad in [
            &b"Full\n"[..],
            b"numbers: 1 2 3",
            b"numbers: 1 2 3 4 5 6 7",
            b"New number generated: 08",
            b"New number generated: 300",
            b"",
            b"\xff",
        ] {
            assert_eq!(Reply::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn trace_descriptions() {
        assert_eq!(describe_client(&[0, 0, 0, 0]), "GEN");
        assert_eq!(describe_client(&[1, 0, 0, 0, 2, 0, 0, 0]), "LIST END");
        assert_eq!(
            describe_client(&[9, 0, 0, 0, 1, 0]),
            "unknown command 9 partial command (2 of 4 bytes)"
        );
        assert_eq!(
            describe_server(b"New number generated: 8"),
            "\"New number generated: 8\""
        );
        assert_eq!(describe_server(b"hello"), "\"hello\" (not a lottery reply)");
        assert_eq!(
            describe_server(b"\x1b[2Jhi\n"),
            "\"\\x1b[2Jhi\\n\" (not a lottery reply)"
        );
    }

    #[test]
    fn framing_complete_incomplete_invalid() {
        assert_eq!(Frame::parse(&[]), Frame::Incomplete(0));
        assert_eq!(Frame::parse(&[1, 0, 0]), Frame::Incomplete(3));
        assert_eq!(
            Frame::parse(&[1, 0, 0, 0, 9]),
            Frame::Command(Command::List)
        );
        assert_eq!(Frame::parse(&[1, 0, 0]).len(), 0);
        assert_eq!(Frame::parse(&[9, 0, 0, 0]).len(), COMMAND_LEN);
        assert_eq!(Frame::Command(Command::Gen).to_string(), "GEN");
        assert_eq!(Frame::Invalid(-1).to_string(), "unknown command -1");
    }
}
