//! Errors the UNP way: every failure names the call that failed and the OS error.
//!
//! UNP's `err_sys("bind error")` prints `bind error: Address already in use` and exits.
//! Here a wrapper returns [`Error`] instead, the error travels up with `?`, and the one
//! runner, [`run`], prints it in the same shape and exits 1:
//!
//! ```text
//! lotteryserver: bind error: Address already in use (EADDRINUSE)
//! ```
//!
//! The symbolic errno name in parentheses is unplab's addition: it is what a student
//! searches the man page for (`man 2 bind`, section ERRORS).
//!
//! | UNP (lib/error.c) | unplab |
//! |---|---|
//! | `err_sys(fmt)` — print with errno, exit 1 | return [`Error`] (from a wrapper, or [`Error::os`]); [`run`] prints it |
//! | `err_quit(fmt)` — print, exit 1 | return [`Error::msg`] |
//! | `err_ret(fmt)` — print with errno, go on | [`err_ret`] |
//! | `err_msg(fmt)` — print, go on | [`err_msg`] |

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;

use nix::errno::Errno;

use crate::text::StackText;

/// `Result` with [`Error`]: what every wrapper in this crate returns.
pub type Result<T> = std::result::Result<T, Error>;

/// A failed call: its name, an optional detail (an address, a path), optionally the
/// peer it concerns, and the cause. Adding a detail or a peer keeps the errno.
#[derive(Debug)]
pub struct Error {
    call: Cow<'static, str>,
    detail: Option<String>,
    peer: Option<String>,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    /// A system call failed; the `io::Error` carries errno (or std's own description).
    Io(io::Error),
    /// No errno: a usage error, a protocol violation, "server terminated prematurely".
    Message(String),
}

impl Error {
    /// An error from a failed system call named `call`.
    pub fn os(call: impl Into<Cow<'static, str>>, err: io::Error) -> Error {
        Error {
            call: call.into(),
            detail: None,
            peer: None,
            cause: Cause::Io(err),
        }
    }

    /// An error from the current `errno` (after a raw libc call returned -1).
    pub fn last_os(call: impl Into<Cow<'static, str>>) -> Error {
        Error::os(call, io::Error::last_os_error())
    }

    /// An error from a [`nix`] call.
    pub fn errno(call: impl Into<Cow<'static, str>>, errno: Errno) -> Error {
        Error::os(call, io::Error::from_raw_os_error(errno as i32))
    }

    /// A message without errno, like UNP's `err_quit`: printed as `PROGRAM: MESSAGE`.
    pub fn msg(message: impl Into<String>) -> Error {
        Error {
            call: Cow::Borrowed(""),
            detail: None,
            peer: None,
            cause: Cause::Message(message.into()),
        }
    }

    /// Adds what the call was about: `open error for x.txt: No such file ...`; on a
    /// message without a call: `MESSAGE (x.txt)`.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Error {
        self.detail = Some(detail.into());
        self
    }

    /// Names the peer the failure concerns, printed in front so that the lines of many
    /// clients can be told apart: `127.0.0.1:5555: read error: Connection reset by peer
    /// (ECONNRESET)`. The errno is kept ([`Error::raw_os_error`]).
    pub fn with_peer(mut self, peer: impl Into<String>) -> Error {
        self.peer = Some(peer.into());
        self
    }

    /// The peer named by [`Error::with_peer`], if any.
    pub fn peer(&self) -> Option<&str> {
        self.peer.as_deref()
    }

    /// The name of the failed call (`"bind"`); empty for [`Error::msg`].
    pub fn call(&self) -> &str {
        &self.call
    }

    /// The OS error number, if the cause was a failed system call.
    pub fn raw_os_error(&self) -> Option<i32> {
        match &self.cause {
            Cause::Io(e) => e.raw_os_error(),
            Cause::Message(_) => None,
        }
    }

    /// The symbolic errno name (`"EADDRINUSE"`), if there is an OS error.
    pub fn errno_name(&self) -> Option<String> {
        self.raw_os_error().map(errno_name)
    }

    /// The kind of the underlying I/O error (`Other` for messages).
    pub fn kind(&self) -> io::ErrorKind {
        match &self.cause {
            Cause::Io(e) => e.kind(),
            Cause::Message(_) => io::ErrorKind::Other,
        }
    }

    /// True if this is a failed write to standard output (see [`stdout_error`]).
    pub fn is_stdout(&self) -> bool {
        self.call == "write" && self.detail.as_deref() == Some(STDOUT)
    }

    /// True if the call was interrupted by a signal handler (EINTR).
    pub fn is_interrupted(&self) -> bool {
        self.raw_os_error() == Some(Errno::EINTR as i32)
    }
}

/// The symbolic name of an errno value, `"EADDRINUSE"` for 98 on Linux.
pub fn errno_name(code: i32) -> String {
    match Errno::from_raw(code) {
        Errno::UnknownErrno => format!("errno {code}"),
        e => format!("{e:?}"),
    }
}

/// The text `strerror(3)` gives for an errno value, without Rust's "(os error N)" suffix.
pub fn strerror(code: i32) -> &'static str {
    Errno::from_raw(code).desc()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.peer {
            write!(f, "{p}: ")?;
        }
        match &self.cause {
            Cause::Message(m) => match &self.detail {
                Some(d) => write!(f, "{m} ({d})"),
                None => f.write_str(m),
            },
            Cause::Io(e) => {
                write!(f, "{} error", self.call)?;
                if let Some(d) = &self.detail {
                    write!(f, " for {d}")?;
                }
                match e.raw_os_error() {
                    Some(code) => write!(f, ": {} ({})", strerror(code), errno_name(code)),
                    None => write!(f, ": {e}"),
                }
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Io(e) => Some(e),
            Cause::Message(_) => None,
        }
    }
}

/// Attaches the name of the call to a `std::io::Result`, turning it into [`Result`].
///
/// ```
/// use unp::Context;
/// let err = std::fs::File::open("/nonexistent/x").context("open").unwrap_err();
/// assert_eq!(err.to_string(), "open error: No such file or directory (ENOENT)");
/// ```
pub trait Context<T> {
    /// Names the call whose failure this is.
    fn context(self, call: &'static str) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn context(self, call: &'static str) -> Result<T> {
        self.map_err(|e| Error::os(call, e))
    }
}

impl<T> Context<T> for std::result::Result<T, Errno> {
    fn context(self, call: &'static str) -> Result<T> {
        self.map_err(|e| Error::errno(call, e))
    }
}

static PROGRAM: OnceLock<String> = OnceLock::new();

/// The program's name as messages print it: the last component of `argv[0]`.
pub fn program_name() -> &'static str {
    PROGRAM.get_or_init(|| {
        std::env::args_os()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "unp".to_string())
    })
}

/// UNP's `err_msg`: print `PROGRAM: MESSAGE` on stderr and go on.
///
/// The line is built first and written with one `write(2)`, so that the lines of
/// several processes sharing one stderr (a forking server's children) do not interleave
/// in the middle.
pub fn err_msg(message: impl fmt::Display) {
    let _ = io::stdout().flush();
    let line = format!("{}: {message}\n", program_name());
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// A server's log line on stdout, flushed at once, written with one `write(2)`.
///
/// Errors are ignored on purpose: a server whose stdout went away (its terminal closed,
/// the reader of a pipe exited) keeps serving its clients; only the log is lost. Compare
/// [`print_flush`], for a client's output, where such an error must end the program.
///
/// A line that fits in 256 bytes is built on the stack: a forking server logs right
/// after `fork`, when every page it writes is first copied (copy-on-write), and a heap
/// allocation there would cost page copies on every connection.
pub fn log(args: fmt::Arguments<'_>) {
    let short = StackText::<256>::format(format_args!("{args}\n"));
    let long;
    let line = match &short {
        Ok(text) => text.as_bytes(),
        Err(_) => {
            long = format!("{args}\n");
            long.as_bytes()
        }
    };
    let mut out = io::stdout().lock();
    let _ = out.write_all(line).and_then(|()| out.flush());
}

/// Peer bytes made safe to print on a terminal or in a log line, on one line.
///
/// Printable text and ordinary UTF-8 stay as they are (`héllo` prints `héllo`); control
/// characters are shown as escapes: `\n`, `\r`, `\t`, `\0`, other C0 bytes and DEL as
/// `\x1b`, C1 controls and the bidirectional overrides as `\u{9b}`; a byte that is not
/// UTF-8 as `\xff`. So a peer can neither start a new log line of its own (`hi\n127.0.0.1:1 left`)
/// nor send escape sequences to the terminal (`\x1b[2J` clears the screen, `\x1b]0;..\x07`
/// retitles the window). Backslashes are not doubled: the result is for reading, not for
/// decoding back.
///
/// ```
/// assert_eq!(unp::error::printable(b"hi\n127.0.0.1:1 left"), r"hi\n127.0.0.1:1 left");
/// assert_eq!(unp::error::printable("\x1b[2Jgrüß\t".as_bytes()), r"\x1b[2Jgrüß\t");
/// ```
pub fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                '\u{0}'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
                c if c.is_control() || is_bidi_control(c) => {
                    out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The Unicode controls that reorder the text around them on screen (U+202A..U+202E,
/// U+2066..U+2069): a peer could make a line read differently from what it holds.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// UNP's `err_ret`: print a non-fatal error (with its errno) on stderr and go on.
///
/// Servers use it for a failure that concerns one client only: the client reset the
/// connection, sent half a command; the server logs it and serves the next one.
pub fn err_ret(err: &Error) {
    err_msg(err);
}

/// The one `main` every unplab program has: run `body`, report its error the UNP way.
///
/// On `Err`: stdout is flushed, `PROGRAM: ERROR` goes to stderr, and the process exits
/// with status 1. A broken pipe while writing to stdout (`prog | head -1`) is not an
/// error: the program exits quietly with status 0, as `cat` would.
///
/// ```no_run
/// // fn main() {
/// unp::run(|| {
///     let (listener, addr) = unp::tcp_listen(None, 10000)?;
///     println!("listening on {addr}");
///     # drop(listener);
///     Ok(())
/// })
/// // }
/// ```
pub fn run(body: impl FnOnce() -> Result<()>) -> ! {
    let result = body();
    let flushed = io::stdout().flush();
    match result {
        Ok(()) => match flushed {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                err_msg(stdout_error(e));
                std::process::exit(1)
            }
            _ => std::process::exit(0),
        },
        Err(e) if e.is_stdout() && e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            err_msg(&e);
            std::process::exit(1)
        }
    }
}

/// Wraps an error from writing to stdout, so that [`run`] can treat a broken pipe
/// (the reader went away) as a quiet exit.
pub fn stdout_error(err: io::Error) -> Error {
    Error::os("write", err).with_detail(STDOUT)
}

const STDOUT: &str = "stdout";

/// Writes formatted text to stdout and flushes it, for prompts and replies that must
/// appear before the program blocks; errors go through [`stdout_error`].
pub fn print_flush(args: fmt::Arguments<'_>) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_prints_call_strerror_and_name() {
        let e = Error::errno("bind", Errno::EADDRINUSE);
        assert_eq!(
            e.to_string(),
            "bind error: Address already in use (EADDRINUSE)"
        );
        assert_eq!(e.errno_name().as_deref(), Some("EADDRINUSE"));
        assert_eq!(e.call(), "bind");
    }

    #[test]
    fn detail_goes_after_the_call() {
        let e = Error::errno("open", Errno::ENOENT).with_detail("x.txt");
        assert_eq!(
            e.to_string(),
            "open error for x.txt: No such file or directory (ENOENT)"
        );
    }

    #[test]
    fn a_peer_goes_in_front_and_keeps_the_errno() {
        let e = Error::errno("read", Errno::ECONNRESET).with_peer("127.0.0.1:5555");
        assert_eq!(
            e.to_string(),
            "127.0.0.1:5555: read error: Connection reset by peer (ECONNRESET)"
        );
        assert_eq!(e.raw_os_error(), Some(Errno::ECONNRESET as i32));
        assert_eq!(e.peer(), Some("127.0.0.1:5555"));
    }

    #[test]
    fn a_message_shows_its_detail() {
        let e = Error::msg("no address found").with_detail("nowhere.invalid");
        assert_eq!(e.to_string(), "no address found (nowhere.invalid)");
        let e = e.with_peer("[::1]:7");
        assert_eq!(e.to_string(), "[::1]:7: no address found (nowhere.invalid)");
    }

    #[test]
    fn message_prints_as_is() {
        let e = Error::msg("str_cli: server terminated prematurely");
        assert_eq!(e.to_string(), "str_cli: server terminated prematurely");
        assert_eq!(e.raw_os_error(), None);
    }

    #[test]
    fn io_error_without_errno_keeps_its_text() {
        let e = Error::os(
            "readn",
            io::Error::new(io::ErrorKind::UnexpectedEof, "early eof"),
        );
        assert_eq!(e.to_string(), "readn error: early eof");
    }

    #[test]
    fn printable_keeps_text_and_escapes_controls() {
        assert_eq!(printable(b"hello world"), "hello world");
        assert_eq!(printable("héllo, 世界".as_bytes()), "héllo, 世界");
        assert_eq!(printable(b"a\nb\r\tc\0"), r"a\nb\r\tc\0");
        assert_eq!(
            printable(b"\x1b[2J\x1b]0;pwned\x07\x7f"),
            r"\x1b[2J\x1b]0;pwned\x07\x7f"
        );
        // C1 CSI (U+009B) and a right-to-left override, both valid UTF-8.
        assert_eq!(
            printable("\u{9b}2J\u{202e}x".as_bytes()),
            r"\u{9b}2J\u{202e}x"
        );
        // Bytes that are not UTF-8, and a sequence cut short at the end.
        assert_eq!(printable(b"\xffok\xe4\xb8"), r"\xffok\xe4\xb8");
        assert_eq!(printable(b""), "");
        assert!(!printable(&(0u8..=255).collect::<Vec<_>>()).contains(|c: char| c.is_control()));
    }

    #[test]
    fn eintr_is_recognised() {
        assert!(Error::errno("accept", Errno::EINTR).is_interrupted());
        assert!(!Error::errno("accept", Errno::EAGAIN).is_interrupted());
    }
}
