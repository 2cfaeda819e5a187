//! Many clients, one process, one thread: I/O multiplexing (UNP chapter 6, the course's
//! Lab 4, and Linux's epoll).
//!
//! A forking or threaded server blocks in `read` for each client in its own process or
//! thread. A multiplexing server instead asks the kernel *which* descriptors are ready
//! — the listening socket (a connection is waiting to be accepted) or a connected one
//! (data, or the client's FIN, is waiting to be read) — and then makes only calls that
//! will not block. One loop, one process, no fork, no thread:
//!
//! | call | lesson function | the kernel is told | costs per call |
//! |---|---|---|---|
//! | `select` | [`select::tcpservselect`] | a bit set of descriptors, rebuilt every time (the call overwrites it) | all descriptors up to the highest; at most `FD_SETSIZE` (1024) |
//! | `poll` | [`poll::tcpservpoll`] | an array of `pollfd` (descriptor, events in, `revents` out) | all descriptors in the array; no fixed limit |
//! | `epoll_wait` | `epoll::tcpservepoll` (Linux) | nothing new: the interest list lives in the kernel (`epoll_ctl` once per client) | only the ready ones |
//!
//! What each does with a ready client is [`serve_ready`]: one `read` (it will not block:
//! the kernel said something is there) and the same bytes back. Calling UNP's
//! `readline` there instead waits for a newline that may never come: one client that
//! sends a byte and no newline stops the server for everybody (UNP 6.8's denial of
//! service; `tcpservselect01 --readline` shows it).
//!
//! The timeout is the course's lesson ([`Wait`]): wait forever (`NULL`, `INFTIM`), a few
//! seconds, or not at all — then the loop spins and burns a whole CPU core doing nothing.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use nix::poll::PollTimeout;
use nix::sys::time::{TimeVal, TimeValLike};

use crate::service::{self, Echoed};

#[cfg(target_os = "linux")]
pub mod epoll;
pub mod poll;
pub mod select;

/// How long `select`/`poll` may sleep when no descriptor is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Until a descriptor is ready: select's `NULL` timeout, poll's `INFTIM` (-1).
    Forever,
    /// At most this long; zero means "do not wait at all": return at once (polling).
    For(Duration),
}

impl Wait {
    /// Parses `forever`, `0`, `5s` or `1000ms` (a bare number is seconds).
    pub fn parse(text: &str) -> Result<Wait, String> {
        let t = text.trim();
        if t == "forever" {
            return Ok(Wait::Forever);
        }
        let (digits, ms) = match t.strip_suffix("ms") {
            Some(d) => (d, true),
            None => (t.strip_suffix('s').unwrap_or(t), false),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{text:?}: expected forever, 0, SECONDSs or MILLISms"))?;
        Ok(Wait::For(if ms {
            Duration::from_millis(n)
        } else {
            Duration::from_secs(n)
        }))
    }

    /// The course's line before each `select`: `Wait forever!`, `Wait 5 sec!`,
    /// `Do not wait at all!`.
    pub fn select_line(&self) -> String {
        match self {
            Wait::Forever => "Wait forever!".into(),
            Wait::For(d) if d.is_zero() => "Do not wait at all!".into(),
            Wait::For(d) => format!("Wait {} sec!", d.as_secs_f64()),
        }
    }

    /// The course's line before each `poll`: `Wait forever!`, `Wait 1000 msec!`,
    /// `Do not wait at all!`.
    pub fn poll_line(&self) -> String {
        match self {
            Wait::For(d) if !d.is_zero() => format!("Wait {} msec!", d.as_millis()),
            _ => self.select_line(),
        }
    }

    /// select's `struct timeval *`: `None` is the NULL pointer (wait forever).
    pub fn timeval(&self) -> Option<TimeVal> {
        match self {
            Wait::Forever => None,
            Wait::For(d) => Some(TimeVal::microseconds(
                i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            )),
        }
    }

    /// poll's timeout in milliseconds: -1 (INFTIM) for ever, capped at `i32::MAX` ms.
    pub fn poll_timeout(&self) -> PollTimeout {
        match self {
            Wait::Forever => PollTimeout::NONE,
            Wait::For(d) => PollTimeout::try_from(*d).unwrap_or(PollTimeout::MAX),
        }
    }
}

/// How a multiplexing server behaves, beyond the book's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The `select`/`poll` timeout.
    pub wait: Wait,
    /// Print the course's lines around each call (`Wait forever!`, `select positive
    /// count: N`, `timeout!`), as tcpservselect02–04 and tcpservpoll02–04 do.
    pub course_lines: bool,
    /// Read a ready client with `readline` (blocks until a newline: the DoS of UNP 6.8)
    /// instead of one `read`.
    pub readline: bool,
}

impl Options {
    /// The course's numbered programs: this timeout, and the course's lines.
    pub fn course(wait: Wait) -> Options {
        Options {
            wait,
            course_lines: true,
            readline: false,
        }
    }
}

/// One connected client: the socket and its address as text, for the log.
#[derive(Debug)]
pub struct Client {
    /// The connected socket.
    pub conn: TcpStream,
    /// `127.0.0.1:54321`.
    pub peer: String,
}

impl Client {
    /// A client just accepted; logs `connection from ADDR`.
    pub fn accepted(conn: TcpStream, peer: &SocketAddr) -> Client {
        let peer = unp::sock_ntop(peer);
        unp::log(format_args!("connection from {peer}"));
        Client {
            conn,
            peer: peer.into(),
        }
    }
}

/// Serves a client that `select`/`poll`/`epoll` said is readable: one `read` and the
/// same bytes back (or, with `readline`, a whole line — which may block). Returns
/// whether the client stays: at its FIN or on an error (reported, `ADDR: str_echo:
/// read error: ...`) the caller drops it, which closes the socket; logs `ADDR left`.
pub fn serve_ready(client: &Client, opts: &Options) -> bool {
    let served = if opts.readline {
        service::echo_line(&client.conn)
    } else {
        service::echo_ready(&client.conn)
    };
    match served {
        Ok(Echoed::Open) => return true,
        Ok(Echoed::Closed) => {}
        Err(e) => unp::serve::report(&client.peer, Err(e)),
    }
    unp::log(format_args!("{} left", client.peer));
    false
}

/// Prints a course line when `opts` asks for them.
pub fn course_line(opts: &Options, line: impl FnOnce() -> String) {
    if opts.course_lines {
        unp::log(format_args!("{}", line()));
    }
}

/// The course's lines after `select`/`poll` returned `nready`:
/// `CALL positive count: N`, and `timeout!` when nothing was ready.
pub fn course_count(opts: &Options, call: &str, nready: i32) {
    course_line(opts, || format!("{call} positive count: {nready}"));
    if nready == 0 {
        course_line(opts, || "timeout!".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_parse_and_print_the_course_lines() {
        let five = Wait::parse("5s").unwrap();
        assert_eq!(five.select_line(), "Wait 5 sec!");
        let ms = Wait::parse("1000ms").unwrap();
        assert_eq!(ms.poll_line(), "Wait 1000 msec!");
        assert_eq!(Wait::parse("forever").unwrap().poll_line(), "Wait forever!");
        let zero = Wait::parse("0").unwrap();
        assert_eq!(zero.select_line(), "Do not wait at all!");
        assert_eq!(i32::from(zero.poll_timeout()), 0);
        assert_eq!(i32::from(Wait::Forever.poll_timeout()), -1);
        assert!(Wait::parse("soon").is_err());
    }
}
