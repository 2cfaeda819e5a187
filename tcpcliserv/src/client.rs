//! The clients' shared parts: UNP's str_cli and its variants, and the Lab 3 EchoClient.
//!
//! All read the user's lines from `input` (stdin in the programs) and print replies on
//! stdout, flushed at once.

use std::io::BufRead;
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

#[cfg(any(target_os = "macos", target_os = "ios"))]
use unp::Context;
use unp::{Error, LineReader, Result, readn, writen, writen_fd};

use crate::proto::{Message, echo, sum_binary, sum_text};
use crate::terminal::{print_bytes, printable_text};

/// How [`str_cli`] writes each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineWrite {
    /// UNP's str_cli: the whole line at once (`writen`).
    Whole,
    /// UNP's str_cli11 (section 5.13): the first byte, a one-second pause, the rest,
    /// with plain `write(2)` ([`unp::writen_fd`]) so that writing to a reset connection
    /// really raises SIGPIPE.
    InTwo,
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
/// back, print it. At end of input, return (the caller closes the connection).
///
/// If the server closes first, the read returns EOF and the error is UNP's
/// `str_cli: server terminated prematurely`. A last input line without `\n` is sent
/// as is, followed by a half-close (FIN), so the reply ends at the server's FIN instead
/// of waiting forever for a newline. Control characters in a reply are printed as
/// escapes ([`printable_text`]); its line end is kept.
pub fn str_cli(mut input: impl BufRead, conn: &TcpStream, how: LineWrite) -> Result<()> {
    let mut reader = LineReader::new(conn);
    let mut line = Vec::new();
    let mut reply = Vec::new();
    while next_line(&mut input, &mut line)?.is_some() {
        match how {
            // write(): the line to the server
            LineWrite::Whole => writen(&mut &*conn, &line)?,
            // str_cli11: if the server's end died, the first write draws an RST and
            // the second raises SIGPIPE
            LineWrite::InTwo => {
                let (first, rest) = line.split_at(1.min(line.len()));
                writen_fd(conn, first)?;
                thread::sleep(Duration::from_secs(1));
                writen_fd(conn, rest)?;
            }
        }
        let unterminated = !line.ends_with(b"\n");
        if unterminated {
            unp::sock::shutdown(conn, Shutdown::Write)?; // FIN: no `\n` will come
        }
        // readline(): the echo, through its `\n`; EOF means the server went away
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

/// Makes writes on `conn` raise SIGPIPE like a C socket's, where the system allows
/// turning that off: on macOS socket2 sets `SO_NOSIGPIPE` on every socket it creates,
/// and this clears it. On Linux there is nothing to undo ([`unp::write_fd`] is enough).
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
        let request = sum_binary::Request { arg1: a, arg2: b };
        // write(): 16 bytes, two little-endian i64
        writen(&mut &*conn, &request.encode())?;
        let mut reply = [0u8; sum_binary::REPLY_LEN];
        // readn(): exactly 8 bytes, the sum
        if readn(&mut &*conn, &mut reply)? < reply.len() {
            return Err(premature());
        }
        let reply = sum_binary::Reply::parse(&reply).ok_or_else(premature)?;
        print_bytes(format!("{}\n", reply.sum).as_bytes())?;
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
        // write(): the text, without terminator
        writen(&mut &*conn, text)?;
        let mut reply = vec![0u8; text.len()];
        // readn(): as many bytes as were sent (the server echoes 256 at a time)
        if readn(&mut &*conn, &mut reply)? < reply.len() {
            return Err(Error::msg("server terminated prematurely"));
        }
        print_bytes(format!("Echo from Server: {}\n", echo::display_text(&reply)).as_bytes())?;
    }
    Ok(())
}
