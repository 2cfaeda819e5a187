//! What each server does with one connected client, from its first byte to its FIN: the
//! per-client services of UNP chapter 5 and the Lab 3 EchoServer.
//!
//! A server's lesson function (in `src/bin/`) does `socket`, `bind`, `listen` and the
//! `accept` loop, and hands each connection to one of these: in a forked child
//! (tcpserv01…04, 08, 09), a thread (tcpservthread) or in the loop itself (echoserver).
//!
//! | service | protocol | UNP source |
//! |---|---|---|
//! | [`str_echo`] | [`echo`]: every byte back | tcpcliserv/str_echo.c |
//! | [`str_echo08`] | [`sum_text`]: `A B\n` → `A+B\n` | tcpcliserv/str_echo08.c |
//! | [`str_echo09`] | [`sum_binary`]: 16 bytes → 8 bytes | tcpcliserv/str_echo09.c |
//! | [`lab_echo`] | [`echo`], printing `Data Received: ...` | Lab 3 EchoServer.c |
//! | [`echo_ready`] | [`echo`], one `read` per readiness (select, poll, epoll) | tcpcliserv/tcpservselect01.c |
//! | [`echo_line`] | [`echo`] by `readline`: the one-byte DoS of a select server | UNP 6.8 |

use std::io;
use std::net::TcpStream;

use unp::{Error, LineReader, MAXLINE, Result, readn, writen};

use crate::proto::{Message, echo, sum_binary, sum_text};

/// UNP's `str_echo`: writes back every byte the client sends, until it closes.
///
/// [`unp::read`] calls `read` again when a signal handler interrupted it (UNP's `goto
/// again`); any other error ends this client: `str_echo: read error: Connection reset by
/// peer (ECONNRESET)` when the client aborted with RST.
pub fn str_echo(conn: &TcpStream) -> Result<()> {
    let mut buf = [0u8; MAXLINE];
    loop {
        // read(): what has arrived, at most MAXLINE bytes; 0 is the client's FIN
        let n = unp::read(&mut &*conn, &mut buf).map_err(|e| named("str_echo", e))?;
        if n == 0 {
            return Ok(());
        }
        // write(): the same bytes back
        writen(&mut &*conn, echo::reply_to(&buf[..n]))?;
    }
}

/// UNP's `err_sys("str_echo: read error")`: the failed call named after the function it
/// failed in. The errno is kept.
fn named(function: &str, err: Error) -> Error {
    match err.raw_os_error() {
        Some(code) => Error::os(
            format!("{function}: {}", err.call()),
            io::Error::from_raw_os_error(code),
        ),
        None => err,
    }
}

/// UNP's str_echo08: reads `A B\n` lines and answers `A+B\n` or `input error\n`
/// ([`sum_text`]). A last line without `\n` before the client's FIN is answered too.
///
/// A line longer than [`MAXLINE`] (no `\n` in its first `MAXLINE` bytes) gets one
/// `input error\n`, and the rest of it, up to its `\n`, is read and discarded: one line,
/// one reply, however long the line (the C server answers each `MAXLINE` piece).
pub fn str_echo08(conn: &TcpStream) -> Result<()> {
    let mut reader = LineReader::new(conn);
    let mut line = Vec::new();
    let mut discarding = false;
    // readline(): one request line, `\n` included; 0 at the client's FIN
    while reader.read_line(&mut line)? > 0 {
        let complete = line.ends_with(b"\n");
        if discarding {
            discarding = !complete; // the tail of an over-long line: no reply
            continue;
        }
        let reply = if !complete && line.len() >= MAXLINE {
            discarding = true;
            sum_text::Reply::InputError
        } else {
            sum_text::reply_to(&line)
        };
        // write(): `A+B\n` or `input error\n`
        writen(&mut &*conn, &reply.encode())?;
    }
    Ok(())
}

/// UNP's str_echo09: reads 16-byte requests and answers 8-byte sums ([`sum_binary`]).
///
/// A client that closes in the middle of a request ends the service with an error
/// naming the short count (the C server would add up leftover garbage instead).
pub fn str_echo09(conn: &TcpStream) -> Result<()> {
    let mut req = [0u8; sum_binary::REQUEST_LEN];
    loop {
        // readn(): exactly 16 bytes, however TCP split them; 0 at the client's FIN
        match readn(&mut &*conn, &mut req)? {
            0 => return Ok(()),
            sum_binary::REQUEST_LEN => {}
            n => {
                return Err(Error::msg(format!(
                    "str_echo09: client closed after {n} of {} bytes of a request",
                    sum_binary::REQUEST_LEN
                )));
            }
        }
        let request = sum_binary::Request::parse(&req)
            .ok_or_else(|| Error::msg("str_echo09: not a request"))?;
        // write(): the 8-byte sum
        writen(&mut &*conn, &request.reply().encode())?;
    }
}

/// The Lab 3 EchoServer's service: reads at most 256 bytes, prints
/// `Data Received: TEXT`, writes the same bytes back; until the client closes.
///
/// TEXT is [`echo::display_text`]: control characters the client sent are shown as
/// escapes, so a client can neither forge a log line nor drive the terminal.
pub fn lab_echo(conn: &TcpStream) -> Result<()> {
    let mut buf = [0u8; echo::LAB_BUFSIZE];
    loop {
        // read(): at most 256 bytes; 0 is the client's FIN
        let n = unp::read(&mut &*conn, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let message = &buf[..n];
        unp::log(format_args!(
            "Data Received: {}",
            echo::display_text(message)
        ));
        // write(): the same bytes back
        writen(&mut &*conn, echo::reply_to(message))?;
    }
}

/// What [`echo_ready`] and [`echo_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echoed {
    /// Bytes were echoed; the client may send more.
    Open,
    /// The client's FIN (read returned 0): close the connection.
    Closed,
}

/// One step of `str_echo`, for a server that multiplexes (select, poll, epoll): the
/// kernel said `conn` is readable, so ONE `read` returns at once — with data, or 0 at
/// the client's FIN — and the same bytes go back (UNP tcpservselect01's
/// `Read`/`Writen`). Never a second read: that one could block the whole server.
pub fn echo_ready(conn: &TcpStream) -> Result<Echoed> {
    let mut buf = [0u8; MAXLINE];
    // read(): won't block, the kernel said something is there; 0 is the client's FIN
    let n = unp::read(&mut &*conn, &mut buf).map_err(|e| named("str_echo", e))?;
    if n == 0 {
        return Ok(Echoed::Closed);
    }
    // write(): the same bytes back
    writen(&mut &*conn, echo::reply_to(&buf[..n]))?;
    Ok(Echoed::Open)
}

/// The wrong way to serve a ready client (UNP 6.8): `readline`, one byte at a time
/// until `\n`, then the line back. select said *a byte* is there, not a line: a client
/// that sends one byte and no newline keeps this read waiting, and the whole server
/// with it — every other client, and `accept`, wait too.
pub fn echo_line(conn: &TcpStream) -> Result<Echoed> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        // read(): blocks when the client sent part of a line and stopped
        if unp::read(&mut &*conn, &mut byte).map_err(|e| named("readline", e))? == 0 {
            break;
        }
        line.push(byte[0]);
    }
    if line.is_empty() {
        return Ok(Echoed::Closed);
    }
    writen(&mut &*conn, echo::reply_to(&line))?;
    Ok(Echoed::Open)
}
