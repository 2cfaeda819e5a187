//! The clients' shared parts: UNP's str_cli and its variants, and the Lab 3 EchoClient.
//!
//! All read the user's lines from `input` (stdin in the programs) and print replies on
//! stdout, flushed at once.

use std::io::{BufRead, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use unp::{Context, Error, LineReader, Result, readn, writen};

use crate::proto::{echo, sum_binary, sum_text};

/// How a client puts one line on the wire (str_cli writes it at once; str_cli11 in two
/// parts).
pub type SendLine = fn(&TcpStream, &[u8]) -> Result<()>;

/// Writes bytes to stdout and flushes.
fn print_bytes(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(unp::error::stdout_error)
}

/// Text from a peer as a terminal may show it: each line through
/// [`unp::error::printable`], its line end (`\n` or `\r\n`) kept as it is.
///
/// ```
/// use tcpcliserv::client::printable_text;
/// assert_eq!(printable_text(b"hello\n"), "hello\n");
/// assert_eq!(printable_text(b"a\x1b[2J\tb\r\nc"), "a\\x1b[2J\\tb\r\nc");
/// ```
pub fn printable_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        let (text, end) = if let Some(t) = piece.strip_suffix(b"\r\n") {
            (t, "\r\n")
        } else if let Some(t) = piece.strip_suffix(b"\n") {
            (t, "\n")
        } else {
            (piece, "")
        };
        out.push_str(&unp::error::printable(text));
        out.push_str(end);
    }
    out
}

/// Prints a stream of peer bytes that arrives in pieces (daytime's reads) with
/// [`printable_text`]. A piece may end in the middle of a UTF-8 character or between
/// `\r` and `\n`; those last few bytes are held back until the next piece, so the
/// output is the same however TCP split the stream.
#[derive(Debug, Default)]
pub struct TextPrinter {
    held: Vec<u8>,
}

impl TextPrinter {
    /// Prints what of `bytes` can be printed now (stdout, flushed).
    pub fn print(&mut self, bytes: &[u8]) -> Result<()> {
        self.held.extend_from_slice(bytes);
        let keep = match std::str::from_utf8(&self.held) {
            // An incomplete character at the end (at most 3 bytes): wait for the rest.
            Err(e) if e.error_len().is_none() => self.held.len() - e.valid_up_to(),
            _ => usize::from(self.held.ends_with(b"\r")),
        };
        let ready = self.held.len() - keep;
        let text = printable_text(&self.held[..ready]);
        self.held.drain(..ready);
        print_bytes(text.as_bytes())
    }

    /// Prints what was held back: the stream has ended.
    pub fn finish(&mut self) -> Result<()> {
        let text = printable_text(&self.held);
        self.held.clear();
        print_bytes(text.as_bytes())
    }
}

fn premature() -> Error {
    Error::msg("str_cli: server terminated prematurely")
}

/// Reads the next line of `input` (with its `\n`, if it has one); `None` at EOF.
fn next_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<Option<()>> {
    line.clear();
    let n = input
        .read_until(b'\n', line)
        .map_err(|e| Error::os("read", e).with_detail("stdin"))?;
    Ok((n > 0).then_some(()))
}

/// UNP's `str_cli`: for each line of `input`, write it to the server, read one line
/// back, print it. At end of input, return (the caller's exit closes the connection).
///
/// If the server closes first, the read returns EOF and the error is UNP's
/// `str_cli: server terminated prematurely`. A last input line without `\n` is sent
/// as is, followed by a half-close (FIN), so the reply ends at the server's FIN instead
/// of waiting forever for a newline. Control characters in a reply are printed as
/// escapes ([`printable_text`]); its line end is kept.
pub fn str_cli(input: impl BufRead, conn: &TcpStream) -> Result<()> {
    str_cli_with(input, conn, send_whole)
}

fn send_whole(conn: &TcpStream, line: &[u8]) -> Result<()> {
    writen(&mut &*conn, line)
}

/// [`str_cli`] with the way each line is sent given by `send`.
pub fn str_cli_with(mut input: impl BufRead, conn: &TcpStream, send: SendLine) -> Result<()> {
    let mut reader = LineReader::new(conn);
    let mut line = Vec::new();
    let mut reply = Vec::new();
    while next_line(&mut input, &mut line)?.is_some() {
        send(conn, &line)?;
        let unterminated = !line.ends_with(b"\n");
        if unterminated {
            unp::sock::shutdown(conn, Shutdown::Write)?;
        }
        if reader.read_line(&mut reply)? == 0 {
            return Err(premature());
        }
        print_bytes(printable_text(&reply).as_bytes())?;
        if unterminated {
            break;
        }
    }
    Ok(())
}

/// UNP's str_cli11: writes the first byte of each line, sleeps one second, writes the
/// rest. If the server's end died in between, the first write draws an RST and the
/// second one raises SIGPIPE (UNP section 5.13). Uses `write(2)` ([`write_fd`]) so that
/// the signal is really raised.
pub fn send_in_two(conn: &TcpStream, line: &[u8]) -> Result<()> {
    let (first, rest) = line.split_at(1.min(line.len()));
    writen_fd(conn, first)?;
    thread::sleep(Duration::from_secs(1));
    writen_fd(conn, rest)
}

/// One plain `write(2)` on the socket, as the C programs' `Write`; returns the count.
///
/// Why not `std::io::Write`: on Linux std's `TcpStream` sends with
/// `send(..., MSG_NOSIGNAL)`, which never raises SIGPIPE, and Rust programs ignore
/// SIGPIPE anyway. The SIGPIPE demos (tcpcli11, tsigpipe) need the C behaviour.
pub fn write_fd(conn: &TcpStream, buf: &[u8]) -> Result<usize> {
    nix::unistd::write(conn, buf).context("write")
}

/// [`write_fd`] until all of `buf` is written (UNP's `writen` over `write(2)`).
pub fn writen_fd(conn: &TcpStream, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match nix::unistd::write(conn, buf) {
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::errno("writen", e)),
        }
    }
    Ok(())
}

/// Makes writes on `conn` raise SIGPIPE like a C socket's, where the system allows
/// turning that off: on macOS socket2 sets `SO_NOSIGPIPE` on every socket it creates,
/// and this clears it. On Linux there is nothing to undo ([`write_fd`] is enough).
pub fn allow_sigpipe(conn: &TcpStream) -> Result<()> {
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    socket2::SockRef::from(conn)
        .set_nosigpipe(false)
        .context("setsockopt SO_NOSIGPIPE")?;
    let _ = conn;
    Ok(())
}

/// UNP's str_cli09: reads `A B` lines, sends each as a 16-byte binary request, prints
/// the 8-byte sum. A line that is not two integers prints `invalid input: LINE` and is
/// not sent.
pub fn str_cli09(mut input: impl BufRead, conn: &TcpStream) -> Result<()> {
    let mut line = Vec::new();
    while next_line(&mut input, &mut line)?.is_some() {
        let Some((a, b)) = sum_text::scan_two(&line) else {
            let mut msg = b"invalid input: ".to_vec();
            msg.extend_from_slice(&line);
            if !msg.ends_with(b"\n") {
                msg.push(b'\n');
            }
            print_bytes(&msg)?;
            continue;
        };
        writen(&mut &*conn, &sum_binary::encode_request(a, b))?;
        let mut reply = [0u8; sum_binary::REPLY_LEN];
        if readn(&mut &*conn, &mut reply)? < reply.len() {
            return Err(premature());
        }
        print_bytes(format!("{}\n", sum_binary::decode_reply(&reply)).as_bytes())?;
    }
    Ok(())
}

/// The Lab 3 EchoClient, by lines: sends each typed line (without its line end, as the
/// C client sends a string without terminator), reads back as many bytes as it sent and
/// prints `Echo from Server: TEXT`. Empty lines are skipped; end of input ends the
/// client normally.
pub fn lab_echo_client(mut input: impl BufRead, conn: &TcpStream) -> Result<()> {
    let mut line = Vec::new();
    while next_line(&mut input, &mut line)?.is_some() {
        let text = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(&line);
        if text.is_empty() {
            continue;
        }
        writen(&mut &*conn, text)?;
        let mut reply = vec![0u8; text.len()];
        if readn(&mut &*conn, &mut reply)? < reply.len() {
            return Err(Error::msg("server terminated prematurely"));
        }
        print_bytes(format!("Echo from Server: {}\n", echo::display_text(&reply)).as_bytes())?;
    }
    Ok(())
}
