//! How to serve many clients: one at a time, a process per client, a thread per client —
//! or one process for all of them (I/O multiplexing).
//!
//! A server's lesson function does the socket calls itself — `socket`, `bind`,
//! `listen`, then a loop around `accept` — and hands each accepted connection to one of
//! the three skeletons below. They are the whole lesson of UNP chapters 4, 5 and 26 on
//! serving more than one client:
//!
//! | skeleton | while one client is served | costs | shares |
//! |---|---|---|---|
//! | [`one_at_a_time`] | the next client's `connect` succeeds (the kernel queues it, up to the listen backlog) but nobody reads what it sends | nothing | everything: there is only one client at a time |
//! | [`process_per_client`] | a child process serves it; the parent is back in `accept` at once | a `fork` per client; zombies unless the parent reaps (`SIGCHLD`) | nothing: each child has a *copy* of the parent's memory |
//! | [`thread_per_client`] | a thread serves it | a thread per client; nothing to reap | all memory: shared data needs a lock |
//! | `select`, `poll`, `epoll` (UNP chapter 6; `tcpcliserv::multiplex`) | the same process serves it: one loop asks the kernel which sockets are ready and makes only calls that will not block | one process, one thread; each call scans every descriptor (select, poll) or only the ready ones (epoll); one client that makes the loop block stalls everybody | everything, without locks: there is only one thread |
//!
//! The multiplexing servers do not hand a connection to a skeleton: the `select` or
//! `poll` call *is* their lesson, so each is written out in its own lesson function
//! (`tcpservselect`, `tcpservpoll`, `tcpservepoll`), with a per-connection state where a
//! client needs more than one step (`filetransfer::multiplexed`).
//!
//! [`Concurrency`] names the three, for programs that let the user choose
//! (`lotteryserver --concurrency fork`).
//!
//! All three share one policy for a failed `fork` or thread spawn: a resource shortage
//! (`EAGAIN`: too many processes or threads) closes that one client's connection, is
//! reported and paused for ([`crate::shortage`]), and the server goes on; any other
//! failure is returned to the caller. A client's failure (a reset, half a message) is
//! reported with the client's address in front and never ends the server.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, Result, err_ret, log, print_flush};
use crate::process::{ForkResult, exit_child, fork};
use crate::{shortage, sock_ntop};

pub mod pthread;

/// What a server does with one connected client until it leaves. It gets the
/// connection and the client's address as text (`127.0.0.1:54321`); the skeleton
/// closes the connection when it returns.
pub trait Service: FnOnce(&TcpStream, &str) -> Result<()> + Send + 'static {}
impl<F: FnOnce(&TcpStream, &str) -> Result<()> + Send + 'static> Service for F {}

/// How a server serves more than one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    /// [`one_at_a_time`]: the iterative server.
    #[default]
    OneAtATime,
    /// [`process_per_client`]: `fork` per client.
    ProcessPerClient,
    /// [`thread_per_client`]: a thread per client.
    ThreadPerClient,
}

/// Prints the line every unplab server starts with, `listening on [::]:10000`, with the
/// real port when the server asked for port 0, flushed at once so that a test or a
/// script waiting for it sees it.
pub fn announce(listener: &TcpListener) -> Result<()> {
    let bound = crate::sock::local_addr(listener)?;
    print_flush(format_args!("listening on {}\n", sock_ntop(&bound)))
}

/// The iterative server: serves this client completely, closes its connection, and only
/// then returns to the caller's `accept`. Logs `connection from ADDR` and `ADDR left`.
pub fn one_at_a_time(conn: TcpStream, peer: &SocketAddr, service: impl Service) {
    let peer = sock_ntop(peer);
    log(format_args!("connection from {peer}"));
    report(&peer, service(&conn, &peer));
    drop(conn); // close(connfd): FIN to the client
    log(format_args!("{peer} left"));
}

/// The concurrent server of UNP chapter 5: `fork`, and the child serves the client.
///
/// - The child closes the listening socket (it will never `accept`), runs `service`,
///   and ends with `_exit` ([`exit_child`]): status 0, or 1 after reporting the
///   service's error. It never returns into the parent's `accept` loop.
/// - The child logs `child PID serves ADDR` first: before it can exit, so before a
///   reaper's `child PID terminated`.
/// - The parent closes the connected socket — the child holds its own copy, so the
///   connection stays open until the child is done — and returns to `accept`.
///
/// Who reaps the children is the caller's choice: nobody (zombies, UNP tcpserv01), or a
/// SIGCHLD handler it installed ([`crate::signal::reap_children`]). The process must be
/// single-threaded ([`fork`] says why).
pub fn process_per_client(
    listener: &TcpListener,
    conn: TcpStream,
    peer: &SocketAddr,
    service: impl Service,
) -> Result<()> {
    // SAFETY: a forking server is single-threaded: it starts no threads, and its signal
    // handlers only call async-signal-safe functions.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // The child allocates nothing of its own here: sock_ntop's text is on the
            // stack, as is the log line (a heap allocation would copy parent pages).
            let peer = sock_ntop(peer);
            // said by the child, so always before its exit (and a reaper's `child PID
            // terminated`); the parent writes nothing after fork (each page it writes
            // while the child shares it is copied first)
            log(format_args!("child {} serves {peer}", std::process::id()));
            // close(listenfd). By descriptor number, because the listener belongs to
            // the caller's frame; _exit below never runs its destructor.
            let _ = nix::unistd::close(listener.as_raw_fd());
            // A panic in the child must end the child, not unwind into the parent's
            // accept loop (that would make a second server).
            let served = catch_unwind(AssertUnwindSafe(|| service(&conn, &peer)))
                .unwrap_or_else(|_| Err(Error::msg("the service panicked")));
            let status = i32::from(served.is_err());
            report(&peer, served);
            drop(conn);
            exit_child(status)
        }
        Ok(ForkResult::Parent { .. }) => {
            drop(conn); // close(connfd): the child has its own copy
            Ok(())
        }
        // This client cannot be served: dropping `conn` closes it.
        Err(e) => spare_or_fail(e),
    }
}

/// The threaded server of UNP chapter 26: a thread serves the client and closes its
/// connection when done. Nothing to reap; the threads share all memory, so what they
/// share must be behind a lock. Logs `thread serves ADDR`.
///
/// The thread is a detached `pthread_create` with a small stack ([`pthread`] says why
/// not `std::thread::spawn`: it costs more than the client's exchange).
pub fn thread_per_client(conn: TcpStream, peer: &SocketAddr, service: impl Service) -> Result<()> {
    let peer = sock_ntop(peer);
    log(format_args!("thread serves {peer}"));
    let created = pthread::create_detached(move || {
        let served = service(&conn, &peer);
        report(&peer, served);
    });
    // On failure the closure, and the connection in it, is dropped: closed.
    created.or_else(|e| spare_or_fail(Error::os("pthread_create", e)))
}

/// Reports a client's failure with its address in front:
/// `tcpserv04: 127.0.0.1:5555: str_echo: read error: Connection reset by peer (ECONNRESET)`.
pub fn report(peer: &str, served: Result<()>) {
    if let Err(e) = served {
        err_ret(&e.with_peer(peer));
    }
}

/// The one policy for a failed `fork` or thread spawn: a shortage pauses
/// ([`shortage::pause`]) and the server goes on; anything else is the caller's error.
fn spare_or_fail(err: Error) -> Result<()> {
    if shortage::pause(&err) {
        Ok(())
    } else {
        Err(err)
    }
}
