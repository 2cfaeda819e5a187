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

use std::fmt;

/// How many bytes a command takes on the wire.
pub const COMMAND_LEN: usize = 4;

/// The longest reply the C client can hold (its buffer is 256 bytes with a NUL).
pub const MAX_REPLY: usize = 255;

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

/// What a server made of four command bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// One of the three commands.
    Known(Command),
    /// Any other number; the server answers [`Reply::Unknown`].
    Unknown(i32),
}

/// Decodes the four bytes a client sent.
pub fn decode_command(bytes: [u8; COMMAND_LEN]) -> Request {
    let code = i32::from_le_bytes(bytes);
    match Command::from_code(code) {
        Some(c) => Request::Known(c),
        None => Request::Unknown(code),
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
    /// The reply's text, exactly as it goes on the wire (no terminator).
    pub fn encode(&self) -> String {
        self.to_string()
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

/// Describes bytes a client sent, for a trace: `GEN`, `LIST END`, `unknown command 7`,
/// `partial command (2 of 4 bytes)`. `bytes` must start at a command boundary (offset a
/// multiple of 4 in the client's stream).
pub fn describe_client(bytes: &[u8]) -> String {
    let mut parts = Vec::new();
    for chunk in bytes.chunks(COMMAND_LEN) {
        match <[u8; COMMAND_LEN]>::try_from(chunk) {
            Ok(four) => parts.push(match decode_command(four) {
                Request::Known(c) => c.name().to_string(),
                Request::Unknown(code) => format!("unknown command {code}"),
            }),
            Err(_) => parts.push(format!(
                "partial command ({} of {COMMAND_LEN} bytes)",
                chunk.len()
            )),
        }
    }
    parts.join(" ")
}

/// Describes bytes the server sent, for a trace: the reply text in quotes
/// (`"New number generated: 8"`), marked when it is not one of the protocol's replies.
pub fn describe_server(bytes: &[u8]) -> String {
    let shown = String::from_utf8_lossy(bytes);
    if Reply::parse(bytes).is_some() {
        format!("{shown:?}")
    } else {
        format!("{shown:?} (not a lottery reply)")
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
            assert_eq!(decode_command(c.encode()), Request::Known(c));
        }
        assert_eq!(decode_command([7, 0, 0, 0]), Request::Unknown(7));
        assert_eq!(decode_command([0, 0, 0, 1]), Request::Unknown(16_777_216));
        assert_eq!(decode_command([0xff; 4]), Request::Unknown(-1));
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
            assert_eq!(Reply::parse(r.encode().as_bytes()), Some(r));
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
    }
}
