//! The lottery client: prompt, send one 4-byte command, print one reply.
//!
//! The handout's `LotteryClient.c`, blank by blank:
//!
//! | blank | here |
//! |---|---|
//! | ⑦ `socket()`, ⑧ `connect()` | [`unp::tcp_connect`] (socket + connect, IPv4, IPv6 or a name) |
//! | ⑨ `write()` | [`unp::writen`] of [`Command::encode`] in [`run`] |
//! | ⑩ `read()` | one `read` of at most 255 bytes in [`read_reply`] |

use std::io::{BufRead, ErrorKind, IsTerminal, Read};
use std::net::TcpStream;

use unp::{Error, Result, err_msg, print_flush, writen};

use crate::proto::{Command, MAX_REPLY};

/// The prompt, exactly as the handout's client prints it.
pub const PROMPT: &str = "Command (0:GEN 1:LIST 2:END): ";

/// The client's loop over `input` (the keyboard, or a pipe): prompt, read a line, send
/// the command, print the reply, until END.
///
/// - `0`/`1`/`2` and `GEN`/`LIST`/`END` in any case are accepted; anything else is
///   reported on stderr with what is accepted, nothing is sent, and the prompt returns.
///   An empty line just prompts again.
/// - End of input counts as END: the client sends END and ends with status 0, so the
///   server is never left waiting on a client that is gone.
/// - A server that closes the connection or resets it ends the client with an error.
pub fn run(conn: &TcpStream, input: &mut impl BufRead) -> Result<()> {
    let mut line = String::new();
    loop {
        print_flush(format_args!("{PROMPT}"))?;
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| Error::os("read", e).with_detail("stdin"))?;
        let command = if read == 0 {
            // End of input (Ctrl-D, or the end of a piped file).
            if std::io::stdin().is_terminal() {
                print_flush(format_args!("\n"))?;
            }
            Command::End
        } else if line.trim().is_empty() {
            continue;
        } else {
            match Command::parse_input(&line) {
                Ok(c) => c,
                Err(bad) => {
                    err_msg(bad);
                    continue;
                }
            }
        };
        writen(&mut &*conn, &command.encode()).map_err(server_gone)?;
        if command == Command::End {
            // No reply to END: the server closes its end; we close ours.
            return Ok(());
        }
        let reply = read_reply(conn)?;
        // The reply as text; control characters a server sends (escape sequences,
        // line breaks) are shown as escapes, never handed to the terminal.
        print_flush(format_args!("{}\n", unp::error::printable(&reply)))?;
    }
}

/// Reads one reply with one `read` of at most [`MAX_REPLY`] bytes, as the C client does.
///
/// The protocol marks no end of a reply, so "what one read returns" is the reply. The
/// client sends nothing until this reply arrives, so there is never more than one reply
/// in flight; see [`crate::proto`] for when TCP could still split one.
pub fn read_reply(conn: &TcpStream) -> Result<Vec<u8>> {
    let mut buf = [0u8; MAX_REPLY];
    loop {
        match (&mut &*conn).read(&mut buf) {
            Ok(0) => return Err(Error::msg(format!("{GONE}: it closed the connection"))),
            Ok(n) => return Ok(buf[..n].to_vec()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(server_gone(Error::os("read", e))),
        }
    }
}

/// What the client says when the server went away instead of replying.
const GONE: &str = "the server ended this session without a reply (did another client send END, or was the server stopped?)";

/// Explains the errors that mean the server is gone: a reset (the server ended while
/// this client still waited in its listen queue: closing a listening socket resets the
/// connections nobody accepted) or a broken pipe; others are returned as they are.
fn server_gone(err: Error) -> Error {
    match err.kind() {
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted => {
            Error::msg(format!("{GONE}: {err}"))
        }
        _ => err,
    }
}
