//! UNP's str_cli on `select` (sections 6.4 and 6.7): the client waits for *either* the
//! user's input or the server's reply, whichever comes first, instead of blocking in
//! one of them — so it sees the server's FIN at once, even while the user is typing.
//!
//! strcliselect01 and 02 differ only in what they do at the end of input ([`AtEof`]):
//! 01 returns, and `main` closes the socket while echoes are still on their way — with
//! input from a file (batch mode) the tail of the output is lost; 02 half-closes
//! (`shutdown(SHUT_WR)`: a FIN to the server, "no more requests") and keeps reading
//! until the server's FIN says every echo has arrived.
//!
//! Both read standard input with plain `read(2)`, not a line buffer: select watches
//! the descriptor, and lines already sitting in a stdio buffer are invisible to it
//! (the other trap of section 6.5).

use std::io::Stdin;
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::select::{FdSet, select};
use unp::{Context, Error, MAXLINE, Result, writen};

use crate::terminal::TextPrinter;

/// What str_cli does when standard input ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtEof {
    /// strcliselect01: return at once; the caller closes the socket.
    Return,
    /// strcliselect02: `shutdown(SHUT_WR)`, then read replies until the server's FIN.
    HalfClose,
}

/// str_cli with `select` on standard input and the socket (UNP strcliselect01.c,
/// strcliselect02.c).
pub fn str_cli_select(stdin: &Stdin, conn: &TcpStream, at_eof: AtEof) -> Result<()> {
    let mut stdineof = false;
    let mut buf = [0u8; MAXLINE];
    let mut out = TextPrinter::default();
    loop {
        // rset: the socket always; stdin until its end (after that, only replies)
        let mut rset = FdSet::new();
        rset.insert(conn.as_fd());
        if !stdineof {
            rset.insert(stdin.as_fd());
        }
        let maxfdp1 = conn.as_raw_fd().max(stdin.as_raw_fd()) + 1;
        // select(): sleep until the user typed something or the server sent something
        match select(maxfdp1, &mut rset, None, None, None) {
            Err(Errno::EINTR) => continue,
            r => r.context("select")?,
        };
        if rset.contains(conn.as_fd()) {
            // read(): the socket is readable: echoed bytes, or the server's FIN
            let n = unp::read(&mut &*conn, &mut buf)?;
            if n == 0 && stdineof {
                return out.finish(); // normal end: every echo arrived
            }
            if n == 0 {
                return Err(Error::msg("str_cli: server terminated prematurely"));
            }
            out.print(&buf[..n])?;
        }
        if !stdineof && rset.contains(stdin.as_fd()) {
            // read(): stdin is readable: what was typed, or its end (Ctrl-D, end of file)
            let n = read_fd(stdin.as_fd(), &mut buf)?;
            if n > 0 {
                // write(): to the server, all of it
                writen(&mut &*conn, &buf[..n])?;
                continue;
            }
            match at_eof {
                // 01: back to main, which closes the socket: echoes still on their way
                // are lost
                AtEof::Return => return out.finish(),
                AtEof::HalfClose => {
                    stdineof = true;
                    // shutdown(SHUT_WR): FIN to the server, "no more requests", while
                    // the connection stays open for the replies
                    unp::sock::shutdown(conn, Shutdown::Write)?;
                }
            }
        }
    }
}

/// `read(2)` on standard input itself, bypassing std's buffer (which select cannot
/// see); called again when a signal interrupts it.
pub fn read_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize> {
    loop {
        match nix::unistd::read(fd, buf) {
            Err(Errno::EINTR) => continue,
            r => return r.context("read").map_err(|e| e.with_detail("stdin")),
        }
    }
}
