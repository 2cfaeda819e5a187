//! Armour: peers that go silent, dribble, or stop reading.
//!
//! An iterative server serves one connection at a time, so one client that never sends
//! its path, or that stops reading the file halfway, would hold every other client in
//! the listen queue. Two limits, set on each connection in one line
//! ([`Timeouts::apply`]):
//!
//! - `--request-timeout` (1 s): the path must arrive this soon after `accept`. A client
//!   program sends it right after `connect`, so it is normally there before `accept`
//!   returns; a connection that sends nothing holds the clients queued behind it for
//!   this long, no longer.
//! - `--timeout` (30 s): a `write` of segments may wait this long for the client to make
//!   room ([`Limited`]).
//!
//! The clients give up on a server that sends less than one segment's worth of bytes
//! (260) within `--timeout` (30 s) of the last one ([`Paced`]): a silent server, and one
//! that dribbles a byte now and then, which a plain read timeout (`SO_RCVTIMEO`, restarted
//! by every byte) would wait for forever.
//!
//! **What an iterative server can promise** a client queued behind others: it is served
//! before its own `--timeout` runs out if the connections ahead of it take less than
//! that in total: each silent one at most `--request-timeout`, so with the defaults up
//! to 29 silent connections ahead (30 s / 1 s), plus the time of the transfers ahead.
//! Nothing more: a client that keeps opening silent connections keeps the others
//! waiting. A server that serves each client in its own process or thread has no such
//! limit; the client's message says so when it gives up without having received a byte.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, IntoRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use unp::{Context, Error, Result};

use crate::proto::SEGMENT_SIZE;

/// How long a server waits for the path after `accept` (`--request-timeout`).
///
/// A client program sends the path right after `connect`, in the packet after the
/// handshake's last one, so it has normally arrived before `accept` returns; 1 s also
/// covers a retransmission of a lost packet. It is much shorter than the client's own
/// timeout (30 s): the iterative server serves one connection at a time, and a client
/// queued behind silent ones must be served before it gives up (see the module docs).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// A server's two timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long to wait for the path after `accept`.
    pub request: Duration,
    /// How long a `write` of segments may block (a client that stopped reading).
    pub data: Duration,
}

impl From<Duration> for Timeouts {
    /// One duration for data stalls; the request waits that long or
    /// [`DEFAULT_REQUEST_TIMEOUT`], whichever is shorter.
    fn from(data: Duration) -> Timeouts {
        Timeouts {
            request: data.min(DEFAULT_REQUEST_TIMEOUT),
            data,
        }
    }
}

impl Timeouts {
    /// Sets the limits on a new connection: `SO_RCVTIMEO` bounds the wait for the path,
    /// `SO_SNDTIMEO` the write of an error segment (the file's segments go through
    /// [`Limited`]).
    pub fn apply(&self, conn: &TcpStream) -> Result<()> {
        conn.set_read_timeout(Some(self.request))
            .context("setsockopt SO_RCVTIMEO")?;
        conn.set_write_timeout(Some(self.data))
            .context("setsockopt SO_SNDTIMEO")
    }

    /// The error of a read of the path, said plainly when it timed out:
    /// `read error: timed out waiting for the path (5 s, --request-timeout)`.
    pub fn waiting_for_path(&self, err: Error) -> Error {
        if !is_timeout(err.kind()) {
            return err;
        }
        Error::msg(format!(
            "read error: timed out waiting for the path ({} s, --request-timeout)",
            self.request.as_secs_f64()
        ))
    }
}

/// True for the error a socket timeout (`SO_RCVTIMEO`/`SO_SNDTIMEO`) produces.
pub fn is_timeout(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// The error of a client's read of the segments, said plainly when [`Paced`] gave up:
/// `timed out: the server sent less than one segment (260 bytes) in 30 s (--timeout)`.
pub fn waiting_for_server(err: Error) -> Error {
    if err.kind() != ErrorKind::TimedOut {
        return err;
    }
    let why = std::error::Error::source(&err).map_or_else(String::new, ToString::to_string);
    Error::msg(why)
}

/// The client's side of a connection, with the rule a dribbling server cannot defeat:
/// at least one segment's worth of bytes (260) must arrive within `--timeout` of the
/// previous 260 (or of the request). A `read` that would wait past that deadline fails
/// with `TimedOut` instead, saying why.
///
/// `SO_RCVTIMEO` alone bounds one `read(2)`: a server sending one byte every 29 s
/// restarts it every time, and held `ftclient --timeout 30` for ever (one byte per
/// second held `--timeout 3` for as long as it liked). Here every wait is a `poll(2)`
/// until the deadline, which moves only when a segment's worth has arrived. A server
/// that sends a whole segment per `--timeout` (9 bytes/s with the default) is slow but
/// served.
#[derive(Debug)]
pub struct Paced {
    conn: TcpStream,
    timeout: Duration,
    /// When the next segment's worth of bytes must have arrived.
    deadline: Instant,
    /// Bytes received since the deadline was last set.
    since: usize,
    /// Bytes received in all.
    total: u64,
}

impl Paced {
    /// Wraps a connected socket; the first deadline is `timeout` from now.
    pub fn new(conn: TcpStream, timeout: Duration) -> Paced {
        Paced {
            conn,
            timeout,
            deadline: Instant::now() + timeout,
            since: 0,
            total: 0,
        }
    }

    /// The error when the deadline passes: what arrived, and the limit it broke.
    fn too_slow(&self) -> io::Error {
        let t = self.timeout.as_secs_f64();
        let why = if self.total == 0 {
            format!(
                "timed out waiting for the server: nothing received for {t} s (--timeout); \
                 a server that serves one client at a time (iterftserver) may be busy with \
                 others ahead of this one"
            )
        } else if self.since == 0 {
            format!("timed out: the server sent nothing for {t} s (--timeout)")
        } else {
            format!(
                "timed out: the server sent less than one segment ({SEGMENT_SIZE} bytes) \
                 in {t} s (--timeout)"
            )
        };
        io::Error::new(ErrorKind::TimedOut, why)
    }
}

impl Read for Paced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.too_slow());
            }
            let mut fds = [PollFd::new(self.conn.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, poll_timeout(left)) {
                Ok(0) | Err(Errno::EINTR) => continue, // the deadline is checked again
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
            let n = (&self.conn).read(buf)?;
            self.total += n as u64;
            self.since += n;
            if self.since >= SEGMENT_SIZE {
                self.since = 0;
                self.deadline = Instant::now() + self.timeout;
            }
            return Ok(n);
        }
    }
}

impl Write for Paced {
    /// Writes to the socket as it is (the path: one small `write`).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.conn).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl IntoRawFd for Paced {
    /// The socket's descriptor, for `close(2)`.
    fn into_raw_fd(self) -> RawFd {
        self.conn.into_raw_fd()
    }
}

/// A `poll(2)` timeout for `left`, rounded up so that the wait never ends just before
/// the deadline.
fn poll_timeout(left: Duration) -> PollTimeout {
    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

/// The error of a write to a [`Limited`] connection, said plainly when the client
/// stopped reading: `timed out: the client stopped reading for 30 s`.
pub fn stopped_reading(err: Error) -> Error {
    if err.kind() != ErrorKind::TimedOut {
        return err;
    }
    let why = std::error::Error::source(&err).map_or_else(String::new, ToString::to_string);
    Error::msg(format!("timed out: {why}"))
}

/// The sending side of a connection, for a client that may stop reading: a `write` that
/// cannot go on waits at most `timeout` for the client to make room, in total.
///
/// `SO_SNDTIMEO` is not enough: it bounds one `write(2)`, and a write that moved some
/// bytes before it blocked returns that partial count when the timer expires; the next
/// write then waits the whole timeout again, so a client that never reads held the
/// server for twice `--timeout`, and the second write's `EAGAIN` was logged as an odd
/// `write error`. Here the socket is non-blocking and every wait is a `poll(2)` until
/// one deadline, set when the client stopped taking data. It fails with `TimedOut`:
/// `the client stopped reading for N s`.
#[derive(Debug)]
pub struct Limited<'a> {
    conn: &'a TcpStream,
    timeout: Duration,
}

impl<'a> Limited<'a> {
    /// Makes `conn` non-blocking and wraps it.
    pub fn new(conn: &'a TcpStream, timeout: Duration) -> Result<Limited<'a>> {
        conn.set_nonblocking(true).context("fcntl O_NONBLOCK")?;
        Ok(Limited { conn, timeout })
    }
}

/// The error of a stall: `the client stopped reading for 30 s`.
fn stalled(timeout: Duration) -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        format!("the client stopped reading for {} s", timeout.as_secs_f64()),
    )
}

impl Write for Limited<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut deadline = None;
        loop {
            match (&mut &*self.conn).write(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + self.timeout);
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(stalled(self.timeout));
                    }
                    let mut fds = [PollFd::new(self.conn.as_fd(), PollFlags::POLLOUT)];
                    match poll(&mut fds, poll_timeout(left)) {
                        // No room made until the deadline: the client stopped reading.
                        // Do not try another `write`: it could still squeeze in a few
                        // bytes (POLLOUT waits for a third of the buffer to be free,
                        // `write` does not), and restart the wait: a doubled timeout.
                        Ok(0) => return Err(stalled(self.timeout)),
                        Ok(_) | Err(Errno::EINTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_caps_the_request_timeout() {
        let t = Timeouts::from(Duration::from_secs(30));
        assert_eq!(t.request, DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(t.data, Duration::from_secs(30));
        let t = Timeouts::from(Duration::from_secs(1));
        assert_eq!(t.request, Duration::from_secs(1));
    }
}
