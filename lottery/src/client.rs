//! The lottery client, the handout's `LotteryClient.c`: [`run`] is the lesson, the
//! socket calls in the handout's order with its blanks marked; below it, the prompt,
//! the printing of replies and the explanations of a server gone away.
//!
//! | blank | in [`run`] |
//! |---|---|
//! | ⑦ `socket()` | [`unp::socket`], for each address of the server until one connects |
//! | ⑧ `connect()` | [`unp::connect`] |
//! | ⑨ `write()` | [`unp::writen`] of the 4 bytes of [`Command::encode`] |
//! | ⑩ `read()` | one [`unp::read`] of at most 255 bytes: the reply |
//! | `close()` | [`unp::close`] after END |

use std::io::{BufRead, ErrorKind, IsTerminal};
use std::net::TcpStream;

use socket2::Socket;
use unp::{Error, Result, err_msg, print_flush};

use crate::proto::{Command, MAX_REPLY};

/// The prompt, exactly as the handout's client prints it.
pub const PROMPT: &str = "Command (0:GEN 1:LIST 2:END): ";

/// The handout's client: connects to `host` (an IPv4 or IPv6 literal, or a name) on
/// `port`, then prompts for commands on `input` (the keyboard, or a pipe), sends each
/// and prints its reply, until END. End of input counts as END ([`read_command`]).
pub fn run(host: &str, port: u16, input: &mut impl BufRead) -> Result<()> {
    // getaddrinfo(): a name may have several addresses (::1 and 127.0.0.1); try each
    let sockfd: TcpStream = 'connected: {
        let mut failure = None;
        for servaddr in unp::addr::resolve(host, port)? {
            // ⑦ socket(): a TCP endpoint of the address's family, IPv4 or IPv6
            let sockfd: Socket = unp::socket(&servaddr)?;
            // ⑧ connect(): the three-way handshake, SYN, SYN-ACK, ACK
            let handshake: Result<()> = unp::connect(&sockfd, &servaddr);
            match handshake {
                Ok(()) => break 'connected sockfd.into(),
                Err(e) => failure = Some(e), // refused, unreachable: try the next address
            }
        }
        return Err(failure.unwrap_or_else(|| Error::msg(format!("no address for {host}"))));
    };
    loop {
        let send_msg: Command = read_command(input)?; // prompt; bad input is asked again
        // ⑨ write(): the command, 4 bytes in one write
        unp::writen(&mut &sockfd, &send_msg.encode()).map_err(server_gone)?;
        if send_msg == Command::End {
            break; // no reply to END: the server closes its end
        }
        let mut recv_msg = [0u8; MAX_REPLY];
        // ⑩ read(): the reply is what one read returns (no length, no terminator)
        let len: usize = unp::read(&mut &sockfd, &mut recv_msg).map_err(server_gone)?;
        print_reply(&recv_msg[..len])?; // 0 bytes: the server closed instead of replying
    }
    // close(sockfd): FIN to the server
    unp::close(sockfd)
}

/// Prompts on stdout and reads one command from `input`:
///
/// - `0`/`1`/`2` and `GEN`/`LIST`/`END` in any case are accepted; anything else is
///   reported on stderr with what is accepted, and the prompt returns (nothing is sent).
///   An empty line just prompts again.
/// - End of input (Ctrl-D, the end of a piped file) counts as END: the client sends END
///   and ends with status 0, so the server is never left waiting on a client that is
///   gone.
pub fn read_command(input: &mut impl BufRead) -> Result<Command> {
    let mut line = String::new();
    loop {
        print_flush(format_args!("{PROMPT}"))?;
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| Error::os("read", e).with_detail("stdin"))?;
        if read == 0 {
            if std::io::stdin().is_terminal() {
                print_flush(format_args!("\n"))?;
            }
            return Ok(Command::End);
        }
        if line.trim().is_empty() {
            continue;
        }
        match Command::parse_input(&line) {
            Ok(command) => return Ok(command),
            Err(bad) => err_msg(bad),
        }
    }
}

/// Prints a reply on its own line. Control characters a server sends (escape
/// sequences, line breaks) are shown as escapes ([`unp::printable`]), never handed to
/// the terminal. An empty reply is the end of file: the server closed the connection
/// instead of replying, an error.
pub fn print_reply(reply: &[u8]) -> Result<()> {
    if reply.is_empty() {
        return Err(Error::msg(format!("{GONE}: it closed the connection")));
    }
    print_flush(format_args!("{}\n", unp::printable(reply)))
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
