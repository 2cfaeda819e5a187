//! Nonblocking I/O (UNP chapter 16): `str_cli` that never blocks in `write`, and
//! `connect` with a timeout.
//!
//! A blocking `write` to a socket whose send buffer is full waits; meanwhile nobody
//! reads the server's echoes, the server's own send buffer fills, and with enough input
//! both sides wait for each other. [`str_cli_nonb`] makes standard input and the socket
//! nonblocking: a call that cannot go on at once fails with `EWOULDBLOCK` instead of
//! waiting, `select` says when to try again, and what could not be written yet waits in
//! a buffer (UNP's `to` buffer, with `toiptr`/`tooptr`). Standard output stays
//! blocking here (the book makes it nonblocking too, with a second buffer).
//!
//! [`connect_nonb`] starts the handshake without waiting (`EINPROGRESS`), then waits
//! for it with `select` and a timeout of its own, instead of the kernel's 75 s or more.

use std::io::Stdin;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::select::{FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};
use unp::{Context, Error, MAXLINE, Result};

use crate::strcliselect::read_fd;
use crate::terminal::TextPrinter;

/// UNP's connect_nonb (section 16.3): `connect` on a nonblocking socket, then `select`
/// for up to `timeout` (`None`: as long as the kernel tries). Fails with
/// `connect error: Connection timed out (ETIMEDOUT)` when the time is up.
pub fn connect_nonb(addr: &SocketAddr, timeout: Option<Duration>) -> Result<TcpStream> {
    // socket(), then O_NONBLOCK: connect will not wait for the handshake
    let sock = unp::socket(addr)?;
    sock.set_nonblocking(true).context("fcntl O_NONBLOCK")?;
    // connect(): sends the SYN and returns at once with EINPROGRESS
    match sock.connect(&(*addr).into()) {
        Ok(()) => {} // done at once: it happens on loopback
        Err(e) if e.raw_os_error() == Some(Errno::EINPROGRESS as i32) => {
            let (mut rset, mut wset) = (FdSet::new(), FdSet::new());
            rset.insert(sock.as_fd());
            wset.insert(sock.as_fd());
            let mut tval = timeout
                .map(|t| TimeVal::microseconds(i64::try_from(t.as_micros()).unwrap_or(i64::MAX)));
            let nfds = sock.as_raw_fd() + 1;
            // select(): readable or writable when the handshake ended, either way
            let nready = select(nfds, &mut rset, &mut wset, None, tval.as_mut());
            if nready.context("select")? == 0 {
                // the time is up: close the socket, which abandons the handshake
                return Err(Error::errno("connect", Errno::ETIMEDOUT));
            }
            // getsockopt(SO_ERROR): 0 if connected, or why the handshake failed
            if let Some(e) = sock.take_error().context("getsockopt SO_ERROR")? {
                return Err(Error::os("connect", e));
            }
        }
        Err(e) => return Err(Error::os("connect", e)),
    }
    // restore the file status flags: a blocking socket for the caller
    sock.set_nonblocking(false).context("fcntl")?;
    Ok(sock.into())
}

/// UNP's str_cli with nonblocking I/O (section 16.2, strclinonb.c): stdin and the
/// socket never block; bytes read from stdin wait in `to` until the socket takes them.
pub fn str_cli_nonb(stdin: &Stdin, conn: &TcpStream) -> Result<()> {
    let _restore = Nonblocking::set(stdin.as_fd())?; // fcntl(STDIN_FILENO, O_NONBLOCK)
    conn.set_nonblocking(true).context("fcntl O_NONBLOCK")?;
    let (mut to, mut fr) = (Vec::with_capacity(MAXLINE), [0u8; MAXLINE]);
    let (mut stdineof, mut out) = (false, TextPrinter::default());
    loop {
        // rset: stdin while `to` has room, and the socket; wset: the socket while `to`
        // holds bytes it has not taken yet
        let (mut rset, mut wset) = (FdSet::new(), FdSet::new());
        if !stdineof && to.len() < MAXLINE {
            rset.insert(stdin.as_fd());
        }
        rset.insert(conn.as_fd());
        if !to.is_empty() {
            wset.insert(conn.as_fd());
        }
        let maxfdp1 = conn.as_raw_fd().max(stdin.as_raw_fd()) + 1;
        // select(): until one of them can go on
        match select(maxfdp1, &mut rset, &mut wset, None, None) {
            Err(Errno::EINTR) => continue,
            r => r.context("select")?,
        };
        if rset.contains(stdin.as_fd()) {
            // read(): whatever fits in `to`; EWOULDBLOCK: nothing after all
            let mut room = [0u8; MAXLINE];
            let free = MAXLINE - to.len();
            match read_fd(stdin.as_fd(), &mut room[..free]) {
                Ok(0) => stdineof = true, // the FIN goes out once `to` is empty
                Ok(n) => to.extend_from_slice(&room[..n]),
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if rset.contains(conn.as_fd()) {
            // read(): the echoes; 0 is the server's FIN
            match unp::read(&mut &*conn, &mut fr) {
                Ok(0) => return Err(Error::msg("str_cli: server terminated prematurely")),
                Ok(n) => out.print(&fr[..n])?,
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if wset.contains(conn.as_fd()) {
            // write(): as much of `to` as the socket takes now — maybe only part
            match unp::write_fd(conn, &to) {
                Ok(n) => drop(to.drain(..n)),
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if stdineof && to.is_empty() {
            // shutdown(SHUT_WR): all that was typed is sent; FIN, then the last echoes
            unp::sock::shutdown(conn, std::net::Shutdown::Write)?;
            return drain(conn, &mut fr, out);
        }
    }
}

/// After the half-close: read the remaining echoes until the server's FIN.
fn drain(conn: &TcpStream, buf: &mut [u8], mut out: TextPrinter) -> Result<()> {
    conn.set_nonblocking(false).context("fcntl")?;
    loop {
        match unp::read(&mut &*conn, buf)? {
            0 => return out.finish(),
            n => out.print(&buf[..n])?,
        }
    }
}

fn would_block(e: &Error) -> bool {
    e.raw_os_error() == Some(Errno::EWOULDBLOCK as i32)
}

/// Armour: stdin's O_NONBLOCK is a flag of the open file, shared with the shell that
/// started us; it is cleared again when the client ends.
struct Nonblocking<'a> {
    fd: BorrowedFd<'a>,
    old: OFlag,
}

impl<'a> Nonblocking<'a> {
    fn set(fd: BorrowedFd<'a>) -> Result<Nonblocking<'a>> {
        let old = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL).context("fcntl")?);
        fcntl(fd, FcntlArg::F_SETFL(old | OFlag::O_NONBLOCK)).context("fcntl")?;
        Ok(Nonblocking { fd, old })
    }
}

impl Drop for Nonblocking<'_> {
    fn drop(&mut self) {
        let _ = fcntl(self.fd, FcntlArg::F_SETFL(self.old));
    }
}
