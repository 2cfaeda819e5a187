//! The lottery server, the handout's `LotteryServer.c`: [`serve`] is the lesson, the
//! socket calls in the handout's order with its blanks marked; below it, what it calls
//! in one line each.
//!
//! | blank | in [`serve`] |
//! |---|---|
//! | ① `socket()` | [`unp::socket`] |
//! | ② `bind()` | [`unp::bind`] |
//! | ③ `listen()` | [`unp::listen`] |
//! | ④ `accept()` | [`unp::accept`], called again when a signal interrupted it |
//! | ⑤ `read()` | [`unp::readn`] of the 4 bytes of a command |
//! | ⑥ `write()` | [`unp::writen`] of the reply text |
//! | `close()` | [`unp::close`] of the connection after END; the iterative server then closes the listening socket and ends |
//!
//! What the three ways of serving teach (Requirement 4 of the handout; the skeletons are
//! [`unp::serve`]'s):
//! - **one at a time** (the handout's server): a second client's `connect` succeeds,
//!   because the kernel completes the handshake and queues the connection (the listen
//!   backlog), but nobody `read`s its commands until the first client leaves: its GEN
//!   waits, unanswered.
//! - **a process per client** (`--concurrency fork`): each child has its own draw, a
//!   *copy* of the parent's memory: processes share nothing unless told to.
//! - **a thread per client** (`--concurrency thread`): all threads share one draw
//!   behind a mutex ([`crate::draw::Draws`]).
//!
//! Every command answered is logged (`127.0.0.1:54321: GEN -> ...`), so the log grows
//! with what clients send. The iterative server has no idle timeout, on purpose: a
//! client that connects and sends nothing blocks everyone behind it, the lesson of
//! Requirement 4. No client ends the server by misbehaving: half a command or a reset
//! is reported with the client's address, and the server goes on. None of the three
//! exits when the process runs short of descriptors or processes (`EMFILE`, `EAGAIN`):
//! it reports it, closes the client it could not serve, pauses and goes on
//! ([`unp::shortage`]). Logs go through [`unp::log`], so a server whose stdout went away
//! keeps serving.

use std::net::{SocketAddr, TcpListener, TcpStream};

use socket2::Socket;
use unp::addr::explain_privileged_port;
use unp::serve::Concurrency;
use unp::{Error, Result};

use crate::draw::{Draws, Seeding, SessionDraw};
use crate::proto::{COMMAND_LEN, Frame, Reply, ReplyText};

/// The handout's server, and its two concurrent variants.
///
/// Listens on `servaddr` (`unp::addr::wildcard(PORT)` is C's `INADDR_ANY`: `[::]:PORT`,
/// which takes IPv4 and IPv6 clients alike), calls `announce` once listening (the
/// program prints `listening on [::]:10000`, with the real port for port 0), and serves
/// each client the way `how` says: one at a time, where END closes the connection and
/// ends the program (a client that leaves without END does not: the next one sees the
/// same draw); or a process or a thread per client, where END ends only that session.
pub fn serve(
    servaddr: SocketAddr,
    how: Concurrency,
    seeding: Seeding,
    announce: impl FnOnce(&TcpListener) -> Result<()>,
) -> Result<()> {
    // ① socket(): a TCP endpoint, no address yet
    let listenfd: Socket = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // ② bind(): claim the port; a second server on it gets EADDRINUSE
    unp::bind(&listenfd, &servaddr)
        .map_err(|e| explain_privileged_port(e, servaddr.port(), EXAMPLE))?;
    // ③ listen(): from now on the kernel completes handshakes and queues them
    let listener: TcpListener = unp::listen(listenfd)?;
    announce(&listener)?; // `listening on [::]:10000`
    let draws = Draws::new(how, seeding)?; // one draw for all clients, or one per child
    if how == Concurrency::ProcessPerClient {
        unp::signal::reap_children()?; // no zombies: a SIGCHLD handler reaps each child
    }
    loop {
        // ④ accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr): (TcpStream, SocketAddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if e.is_interrupted() => continue, // a signal interrupted accept: call it again
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        let draws = draws.clone();
        // The session: read a command, write its reply, until END or until the client leaves.
        let session = move |connfd: &TcpStream, peer: &str| -> Result<Ended> {
            let mut draw = draws.for_session()?; // a forked child makes its own draw here
            loop {
                let mut recv_msg = [0u8; COMMAND_LEN];
                // One read is not one message: TCP may hand over 2 bytes now and 2 later,
                // so readn reads until it has all 4 (or the client closed the connection).
                // ⑤ read(): the command, 4 bytes
                let n: usize = unp::readn(&mut &*connfd, &mut recv_msg)?;
                let send_msg: ReplyText = match answer(peer, &recv_msg[..n], &mut draw)? {
                    Answer::Reply(text) => text,             // GEN, LIST, an unknown command
                    Answer::Over(ended) => return Ok(ended), // END, or the client left
                };
                // ⑥ write(): the reply text, in one write, no terminator
                unp::writen(&mut &*connfd, send_msg.as_bytes())?;
            }
        };
        match how {
            Concurrency::OneAtATime => {
                let peer = unp::sock_ntop(&cliaddr);
                unp::log(format_args!("connection from {peer}"));
                let ended = session(&connfd, &peer);
                unp::close(connfd)?; // close(connfd): FIN to the client
                if was_end(&peer, ended) {
                    unp::close(listener)?; // END ends the program: close(listenfd)
                    return Ok(());
                }
            }
            Concurrency::ProcessPerClient => {
                let service = move |c: &TcpStream, p: &str| session(c, p).map(drop);
                unp::serve::process_per_client(&listener, connfd, &cliaddr, service)?;
            }
            Concurrency::ThreadPerClient => {
                let service = move |c: &TcpStream, p: &str| session(c, p).map(drop);
                unp::serve::thread_per_client(connfd, &cliaddr, service)?;
            }
        }
    }
}

/// A command line that works, for the message about a privileged port.
const EXAMPLE: &str = "lotteryserver 10000";

/// How a session ended, when nothing went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client sent END.
    End,
    /// The client closed the connection between two commands, without END.
    Left,
}

/// What the server does with the bytes of one `readn`.
// The reply text is on the stack on purpose (Reply::encode says why): not boxed.
#[allow(clippy::large_enum_variant)]
enum Answer {
    /// Write this reply.
    Reply(ReplyText),
    /// End the session.
    Over(Ended),
}

/// The answer to what one `readn` returned, logged: the reply to GEN, LIST or an
/// unknown command (`127.0.0.1:54321: GEN -> New number generated: 32`); the end of the
/// session at END (`127.0.0.1:54321: END`, no reply) or at EOF between two commands.
/// EOF in the middle of a command is an error, the client's: it is reported with the
/// client's address and ends only this session.
fn answer(peer: &str, recv_msg: &[u8], draw: &mut SessionDraw) -> Result<Answer> {
    let frame = Frame::parse(recv_msg);
    let reply = match frame {
        Frame::Command(command) => draw.answer(command),
        Frame::Invalid(code) => Some(Reply::Unknown(code)),
        Frame::Incomplete(0) => {
            unp::log(format_args!("{peer}: closed the connection without END"));
            return Ok(Answer::Over(Ended::Left));
        }
        Frame::Incomplete(n) => {
            return Err(Error::msg(format!(
                "connection closed after {n} of {COMMAND_LEN} bytes of a command"
            )));
        }
    };
    let Some(reply) = reply else {
        unp::log(format_args!("{peer}: END"));
        return Ok(Answer::Over(Ended::End));
    };
    let text = reply.encode();
    unp::log(format_args!("{peer}: {frame} -> {text}"));
    Ok(Answer::Reply(text))
}

/// True if the session ended with END; a broken session is reported on stderr
/// (`lotteryserver: 127.0.0.1:5555: readn error: Connection reset by peer (ECONNRESET)`).
fn was_end(peer: &str, session: Result<Ended>) -> bool {
    match session {
        Ok(ended) => ended == Ended::End,
        Err(e) => {
            unp::serve::report(peer, Err(e));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Command;

    /// Heap allocations are counted (per thread) in this test binary.
    #[global_allocator]
    static ALLOC: testkit::Counting = testkit::Counting;

    /// A forked child's session makes its draw, reads commands, logs and answers on the
    /// stack: an allocation would copy the parent's heap pages for every client (fork
    /// mode lost ~10 % of its connections/s to it against UNP's C tcpserv04).
    #[test]
    fn a_forked_childs_session_allocates_nothing() {
        unp::log(format_args!("stdout exists, as after `listening on`"));
        let draws = Draws::new(Concurrency::ProcessPerClient, Seeding::Os).unwrap();
        let before = testkit::allocations();
        let mut draw = draws.for_session().unwrap();
        let sent = [Command::Gen, Command::List, Command::Gen].map(|command| {
            match answer("127.0.0.1:5", &command.encode(), &mut draw).unwrap() {
                Answer::Reply(send_msg) => send_msg,
                Answer::Over(ended) => panic!("{command} ended the session: {ended:?}"),
            }
        });
        let unknown = answer("127.0.0.1:5", &7i32.to_le_bytes(), &mut draw).unwrap();
        let end = answer("127.0.0.1:5", &Command::End.encode(), &mut draw).unwrap();
        let made = testkit::allocations() - before;
        assert!(
            sent[0].starts_with("New number generated: "),
            "{:?}",
            sent[0]
        );
        assert!(sent[1].starts_with("numbers: "), "{:?}", sent[1]);
        assert!(matches!(unknown, Answer::Reply(t) if t == "Unknown command: 7"));
        assert!(matches!(end, Answer::Over(Ended::End)));
        assert_eq!(made, 0, "allocations in a child's session");
    }
}
