//! Armour: peers that go silent or stop reading.
//!
//! An iterative server serves one connection at a time, so one client that never sends
//! its path, or that stops reading the file halfway, would hold every other client in
//! the listen queue. Two limits, set on each connection in one line
//! ([`Timeouts::apply`]):
//!
//! - `--request-timeout` (5 s): the path must arrive this soon after `accept`. A client
//!   program sends it right after `connect`, and a client queued behind a silent one must
//!   be served before its own timeout (30 s) runs out.
//! - `--timeout` (30 s): a `write` of segments may wait this long for the client to make
//!   room ([`Limited`]).
//!
//! The clients likewise give up on a server that sends nothing for `--timeout` (30 s):
//! `SO_RCVTIMEO`, reported by [`waiting_for_server`].

use std::io::{self, ErrorKind, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use unp::{Context, Error, Result};

/// How long a server waits for the path after `accept` (`--request-timeout`).
///
/// A client program sends the path right after `connect`, so a connection silent this
/// long is given up on. It is much shorter than the client's own timeout (30 s): the
/// iterative server serves one connection at a time, and a client queued behind a silent
/// one must be served before it gives up.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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

/// The error of a client's read of the segments, said plainly when it timed out (the
/// client's `--timeout`): `read error: timed out waiting for the server`.
pub fn waiting_for_server(err: Error) -> Error {
    if !is_timeout(err.kind()) {
        return err;
    }
    Error::msg("read error: timed out waiting for the server")
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
                    // Rounded up, so that the wait never ends just before the deadline.
                    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
                    let mut fds = [PollFd::new(self.conn.as_fd(), PollFlags::POLLOUT)];
                    match poll(&mut fds, timeout) {
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
