//! The lottery server: one session per connection, served one of three ways.
//!
//! The handout's `LotteryServer.c`, blank by blank:
//!
//! | blank | here |
//! |---|---|
//! | ① `socket()`, ② `bind()`, ③ `listen()` | [`unp::addr::listen_announced`] (socket, SO_REUSEADDR, bind, listen) |
//! | ④ `accept()` | [`unp::accept`] in [`serve_iterative`], [`serve_forking`], [`serve_threads`] |
//! | ⑤ `read()` | [`unp::readn`] of 4 bytes in [`session`] |
//! | ⑥ `write()` | [`unp::writen`] of the reply text in [`session`] |
//!
//! What the three ways teach (Requirement 4 of the handout):
//! - **iterative** (the handout's server): one client at a time. A second client's
//!   `connect` succeeds, because the kernel completes the handshake and queues the
//!   connection (the listen backlog), but nobody `read`s its commands until the first
//!   client leaves: its GEN waits, unanswered.
//! - **fork**: one child process per client. Each child gets a *copy* of the parent's
//!   memory, so each client has its own draw: processes share nothing unless told to.
//! - **thread**: one thread per client, all sharing one draw behind a mutex.
//!
//! Every command answered is logged (`127.0.0.1:54321: GEN -> ...`), so the log grows
//! with what clients send. The iterative server has no idle timeout, on purpose: a
//! client that connects and sends nothing blocks everyone behind it, the lesson of
//! Requirement 4. None of the three exits when the process runs short of descriptors or
//! processes (`EMFILE`, `EAGAIN`): it reports it, closes the client it could not serve,
//! pauses and goes on. Logs go through [`unp::log`], so a server whose stdout went away
//! keeps serving.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use unp::process::{ForkResult, exit_child, fork};
use unp::{Error, Result, err_msg, readn, writen};

use crate::draw::Draw;
use crate::proto::{COMMAND_LEN, Command, Reply, Request, decode_command};

/// How the server handles more than one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    /// One client at a time; END ends the program (the handout's server).
    #[default]
    Iterative,
    /// A child process per client, each with its own draw; END ends that session.
    Fork,
    /// A thread per client, one shared draw; END ends that session.
    Thread,
}

/// Where the numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeding {
    /// The same numbers every run (docs, tests).
    Fixed(u64),
    /// Seeded from the operating system.
    Os,
}

impl Seeding {
    /// A fresh draw.
    pub fn new_draw(self) -> Result<Draw> {
        match self {
            Seeding::Fixed(seed) => Ok(Draw::seeded(seed)),
            Seeding::Os => Draw::from_os(),
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client sent END.
    End,
    /// The client closed the connection between two commands, without END.
    Closed,
    /// The session broke: half a command, a reset, a failed write. The text says how.
    Broken(String),
}

/// Serves one client: reads 4-byte commands and answers each, until END, EOF or an error.
///
/// `draw` is called with a function that answers a command from the draw; it may lock
/// a shared draw for just that moment (thread mode). `peer` names the client in the log
/// lines this prints: `127.0.0.1:54321: GEN -> New number generated: 32`.
///
/// Nothing the client does ends the server from here: a bad command gets
/// `Unknown command: N`, and a broken connection is reported as [`SessionEnd::Broken`].
pub fn session(
    conn: &TcpStream,
    peer: &str,
    mut draw: impl FnMut(Command) -> Option<Reply>,
) -> Result<SessionEnd> {
    loop {
        let mut bytes = [0u8; COMMAND_LEN];
        let n = match readn(&mut &*conn, &mut bytes) {
            Ok(n) => n,
            Err(e) => return Ok(SessionEnd::Broken(e.to_string())),
        };
        match n {
            0 => return Ok(SessionEnd::Closed),
            COMMAND_LEN => {}
            n => {
                return Ok(SessionEnd::Broken(format!(
                    "connection closed after {n} of {COMMAND_LEN} bytes of a command"
                )));
            }
        }
        let (name, reply) = match decode_command(bytes) {
            Request::Known(Command::End) => {
                unp::log(format_args!("{peer}: END"));
                return Ok(SessionEnd::End);
            }
            Request::Known(c) => (c.name().to_string(), draw(c)),
            Request::Unknown(code) => (format!("command {code}"), Some(Reply::Unknown(code))),
        };
        let Some(reply) = reply else { continue };
        let text = reply.encode();
        unp::log(format_args!("{peer}: {name} -> {text}"));
        // The reply goes out in one write, as the C server's; see proto's notes on
        // why the client can read it with one read.
        if let Err(e) = writen(&mut &*conn, text.as_bytes()) {
            return Ok(SessionEnd::Broken(e.to_string()));
        }
    }
}

/// Prints how a session ended (a broken one on stderr) and says whether it was END.
fn report(peer: &str, end: &SessionEnd) {
    match end {
        SessionEnd::End => {}
        SessionEnd::Closed => unp::log(format_args!("{peer}: closed the connection without END")),
        SessionEnd::Broken(why) => err_msg(format_args!("{peer}: {why}")),
    }
}

/// Accepts a connection; `None` when the caller should just call again: a signal
/// interrupted `accept` (the SIGCHLD of a finished child in fork mode), or the process
/// ran short of a resource (`accept error: Too many open files (EMFILE)`: every client
/// holds a descriptor), which is reported before a pause ([`unp::sock::pause_if_shortage`]). The pending
/// connections wait in the kernel's queue meanwhile; the server never exits for it.
fn accept(listener: &TcpListener) -> Result<Option<(TcpStream, String)>> {
    let accepted = unp::sock::accept_or_pause(listener)?;
    Ok(accepted.map(|(conn, peer)| (conn, unp::sock_ntop(&peer))))
}

/// The handout's server: one client at a time, one draw for the server's whole life;
/// END closes the connection and ends the program. A client that leaves without END
/// does not end it: the next client is accepted and sees the same draw.
pub fn serve_iterative(listener: TcpListener, seeding: Seeding) -> Result<()> {
    let mut draw = seeding.new_draw()?;
    loop {
        let Some((conn, peer)) = accept(&listener)? else {
            continue;
        };
        unp::log(format_args!("connection from {peer}"));
        let end = session(&conn, &peer, |c| draw.answer(c))?;
        report(&peer, &end);
        if end == SessionEnd::End {
            unp::sock::close(conn)?;
            unp::sock::close(listener)?;
            return Ok(());
        }
    }
}

/// One child process per client, each with a draw of its own; children are reaped as
/// they exit (no zombies). END ends only that client's session. A child's error line
/// names its client (`lotteryserver: 127.0.0.1:5555: ...`). When `fork` fails for want
/// of processes (`EAGAIN`), that client's connection is closed, and the server pauses
/// and goes on.
///
/// With a fixed seed every child starts the same sequence (reproducible sessions);
/// otherwise each child seeds itself from the OS *after* the fork. Seeding before the
/// fork would hand every child a copy of the same generator state, and every client
/// would draw the same numbers.
pub fn serve_forking(listener: TcpListener, seeding: Seeding) -> Result<()> {
    unp::signal::reap_children()?;
    loop {
        let Some((conn, peer)) = accept(&listener)? else {
            continue;
        };
        // SAFETY: in fork mode the server is single-threaded (no thread is ever
        // started), and the reaper's handler only calls waitpid.
        let forked = match unsafe { fork() } {
            Ok(f) => f,
            Err(e) => {
                drop(conn); // this client cannot be served: it sees the connection close
                unp::sock::pause_if_shortage(e)?;
                continue;
            }
        };
        match forked {
            ForkResult::Child => {
                drop(listener); // the child closes the listening socket
                let status = match child_session(&conn, &peer, seeding) {
                    Ok(()) => 0,
                    Err(e) => {
                        // Error::msg ignores with_detail: put the address in front.
                        err_msg(format_args!("{peer}: {e}"));
                        1
                    }
                };
                exit_child(status)
            }
            ForkResult::Parent { child } => {
                drop(conn); // the parent closes the connected socket
                unp::log(format_args!("child {child} serves {peer}"));
            }
        }
    }
}

fn child_session(conn: &TcpStream, peer: &str, seeding: Seeding) -> Result<()> {
    let mut draw = seeding.new_draw()?;
    let end = session(conn, peer, |c| draw.answer(c))?;
    report(peer, &end);
    Ok(())
}

/// One thread per client, all sharing one draw under a mutex; END ends only that
/// client's session. Six numbers in all, whoever asks: the seventh GEN from any client
/// gets `Full`.
pub fn serve_threads(listener: TcpListener, seeding: Seeding) -> Result<()> {
    let shared = Arc::new(Mutex::new(seeding.new_draw()?));
    loop {
        let Some((conn, peer)) = accept(&listener)? else {
            continue;
        };
        unp::log(format_args!("thread serves {peer}"));
        let draw = Arc::clone(&shared);
        let spawned = thread::Builder::new().spawn(move || {
            let answer = |c| {
                // A session that panicked cannot leave the draw half-updated (each
                // update is one assignment), so a poisoned lock is still usable.
                let mut d = draw.lock().unwrap_or_else(PoisonError::into_inner);
                d.answer(c)
            };
            match session(&conn, &peer, answer) {
                Ok(end) => report(&peer, &end),
                Err(e) => err_msg(format_args!("{peer}: {e}")),
            }
        });
        if let Err(e) = spawned {
            // Out of threads: the closure and its connection are dropped (this client
            // sees the close); keep serving the others.
            if let Err(e) = unp::sock::pause_if_shortage(Error::os("pthread_create", e)) {
                unp::err_ret(&e);
            }
        }
    }
}

/// Runs the server the way `concurrency` says.
pub fn serve(listener: TcpListener, concurrency: Concurrency, seeding: Seeding) -> Result<()> {
    match concurrency {
        Concurrency::Iterative => serve_iterative(listener, seeding),
        Concurrency::Fork => serve_forking(listener, seeding),
        Concurrency::Thread => serve_threads(listener, seeding),
    }
}
