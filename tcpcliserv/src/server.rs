//! The servers' shared parts: listening, the per-client services (str_echo and the two
//! sum services) and the three ways of serving many clients (fork, thread, one at a
//! time).
//!
//! The numbered programs differ only in what their `main` installs before calling
//! [`serve_forking`]: tcpserv01 nothing, tcpserv02 a SIGCHLD handler that calls `wait`
//! once, tcpserv04 one that loops on `waitpid`. Compare the three `main`s side by side.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use unp::process::{ForkResult, exit_child, fork};
use unp::{Error, LineReader, MAXLINE, Result, err_msg, readn, writen};

use crate::proto::{echo, sum_binary, sum_text};

/// What a server does with one connected client, until the client leaves.
pub type Service = fn(&TcpStream) -> Result<()>;

/// Listens on every local address (IPv6 and IPv4) on `port` and prints the one line
/// every unplab server starts with: `listening on [::]:9877` (the real port when `port`
/// is 0).
///
/// `hint` says how to choose another port and is added to a "permission denied" error
/// (see [`unp::addr::explain_privileged_port`]).
pub fn listen(port: u16, hint: &str) -> Result<TcpListener> {
    unp::addr::listen_announced(port, hint)
}

/// UNP's `str_echo`: writes back every byte the client sends, until it closes.
///
/// A `read` interrupted by a signal handler (`EINTR`) is simply called again (UNP's
/// `goto again`); any other error ends this client: `str_echo: read error: Connection
/// reset by peer (ECONNRESET)` when the client aborted with RST.
pub fn str_echo(conn: &TcpStream) -> Result<()> {
    let mut buf = [0u8; MAXLINE];
    loop {
        match (&mut &*conn).read(&mut buf) {
            Ok(0) => return Ok(()), // the client closed: FIN
            Ok(n) => writen(&mut &*conn, echo::reply_to(&buf[..n]))?,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("str_echo: read", e)),
        }
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
    while reader.read_line(&mut line)? > 0 {
        let complete = line.ends_with(b"\n");
        if discarding {
            discarding = !complete; // the tail of an over-long line: no reply
            continue;
        }
        let reply = if !complete && line.len() >= MAXLINE {
            discarding = true;
            sum_text::encode_reply(sum_text::Reply::InputError)
        } else {
            sum_text::encode_reply(sum_text::reply_to(&line))
        };
        writen(&mut &*conn, &reply)?;
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
        let (a, b) = sum_binary::decode_request(&req);
        writen(
            &mut &*conn,
            &sum_binary::encode_reply(sum_binary::sum(a, b)),
        )?;
    }
}

/// Accepts one connection; `Ok(None)` when the caller should just call again: a signal
/// handler interrupted `accept`, or the process ran short of a resource.
///
/// The first is the lesson of UNP's tcpserv04: a handler installed without `SA_RESTART`
/// (or on a system that does not restart `accept`) makes the blocked `accept` fail with
/// `EINTR`. It is not an error, just "call accept again"; a server that treats it as
/// fatal dies the first time a child exits.
///
/// The second: out of descriptors (`EMFILE`: every client holds one), `accept` fails
/// although nothing is wrong with the listening socket. The error is reported and the
/// server pauses ([`unp::sock::pause_if_shortage`]); the connection stays queued in the kernel and is
/// accepted once a client leaves. Exiting instead would let a few hundred idle clients
/// stop the server for everyone.
pub fn accept_restarting(listener: &TcpListener) -> Result<Option<(TcpStream, SocketAddr)>> {
    unp::sock::accept_or_pause(listener)
}

/// Reports a service error with the client's address in front, so that the lines of
/// many clients can be told apart: `tcpserv04: 127.0.0.1:5555: str_echo: read error:
/// Connection reset by peer (ECONNRESET)`.
pub fn client_error(peer: &str, err: &Error) {
    err_msg(format_args!("{peer}: {err}"));
}

/// The concurrent server of UNP chapter 5: one child process per client.
///
/// For each connection: `fork`; the child closes the listening socket, runs `service`
/// and exits (`_exit`, status 1 after printing the error, with the client's address,
/// if the service failed); the parent closes the connected socket and goes back to
/// `accept`. The parent prints `child PID serves ADDR` so the children can be found in
/// `ps`. When `fork` fails for want of processes (`EAGAIN`: the `RLIMIT_NPROC` limit), the
/// parent reports it, closes that client's connection, pauses and goes on.
///
/// Who reaps the children is up to the caller: nobody (tcpserv01, zombies), or the
/// SIGCHLD handler it installed ([`crate::sigchld`]).
///
/// The caller's process must be single-threaded (see [`unp::process::fork`]).
pub fn serve_forking(listener: TcpListener, service: Service) -> Result<()> {
    loop {
        let Some((conn, peer)) = accept_restarting(&listener)? else {
            continue; // EINTR: a child exited while we were blocked in accept
        };
        // SAFETY: the forking servers are single-threaded: they start no threads, and
        // their signal handlers only call async-signal-safe functions.
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
                let status = match service(&conn) {
                    Ok(()) => 0,
                    Err(e) => {
                        client_error(&unp::sock_ntop(&peer), &e);
                        1
                    }
                };
                drop(conn);
                exit_child(status)
            }
            ForkResult::Parent { child } => {
                drop(conn); // the parent closes the connected socket
                unp::log(format_args!(
                    "child {child} serves {}",
                    unp::sock_ntop(&peer)
                ));
            }
        }
    }
}

/// The threaded server (UNP chapter 26, threads/tcpserv01.c): one thread per client.
///
/// No process is created, so there is nothing to reap and no zombie can exist; the
/// connection is owned by the thread and closed when it ends. When no thread can be
/// created (`pthread_create error: ... (EAGAIN)`), that client's connection is closed
/// and the server pauses and goes on.
pub fn serve_threads(listener: TcpListener, service: Service) -> Result<()> {
    loop {
        let Some((conn, peer)) = accept_restarting(&listener)? else {
            continue;
        };
        let peer_text = unp::sock_ntop(&peer);
        unp::log(format_args!("thread serves {peer_text}"));
        let spawned = thread::Builder::new().spawn(move || {
            if let Err(e) = service(&conn) {
                client_error(&peer_text, &e);
            }
        });
        // On failure the closure, and with it the connection, is dropped: closed.
        if let Err(e) = spawned {
            unp::sock::pause_if_shortage(Error::os("pthread_create", e))?;
        }
    }
}

/// The iterative server: serves one client completely, then accepts the next.
/// A second client's connection completes (the kernel queues it, up to the backlog)
/// but nobody reads what it sends until the first client leaves.
pub fn serve_iterative(listener: TcpListener, service: Service) -> Result<()> {
    loop {
        let Some((conn, peer)) = accept_restarting(&listener)? else {
            continue;
        };
        let peer_text = unp::sock_ntop(&peer);
        unp::log(format_args!("connection from {peer_text}"));
        if let Err(e) = service(&conn) {
            client_error(&peer_text, &e);
        }
        drop(conn);
        unp::log(format_args!("{peer_text} left"));
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
        let n = match (&mut &*conn).read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("read", e)),
        };
        let message = &buf[..n];
        unp::log(format_args!(
            "Data Received: {}",
            echo::display_text(message)
        ));
        writen(&mut &*conn, echo::reply_to(message))?;
    }
}
