//! The poll echo server: UNP's tcpservpoll01 (section 6.11) and the course's
//! tcpservpoll02 (INFTIM: wait forever), 03 (0: do not wait at all) and 04 (1000 ms),
//! which differ from it only in poll's timeout and the lines they print.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};
use unp::{Context, Result};

use super::{Client, Options, course_count, course_line, serve_ready};

/// UNP's tcpservpoll01.c: like tcpservselect01, with an array of `pollfd` instead of
/// a bit set: no `FD_SETSIZE` limit, and `revents` says what happened to each entry.
pub fn tcpservpoll(port: u16, opts: Options) -> Result<()> {
    // socket(), bind(), listen(): as in tcpserv04, through UNP's tcp_listen (11.12)
    let (listener, _) = unp::tcp_listen(None, port)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // the connected sockets; poll's array is client[0] = the listener, then these
    let mut clients: Vec<Client> = Vec::new();
    loop {
        // client[i].fd, client[i].events = POLLRDNORM: "tell me when it is readable"
        let fds = std::iter::once(listener.as_fd()).chain(clients.iter().map(|c| c.conn.as_fd()));
        let mut client: Vec<PollFd> = fds.map(readable).collect();
        course_line(&opts, || opts.wait.poll_line()); // `Wait forever!`
        // poll(): sleep until an entry is readable, or the timeout (INFTIM, 0, 1000 ms)
        let nready = match poll(&mut client, opts.wait.poll_timeout()) {
            Err(Errno::EINTR) => continue, // a signal: call it again
            r => r.context("poll")?,
        };
        course_count(&opts, "poll", nready); // `poll positive count: 1`
        // revents: POLLRDNORM (data or FIN), POLLERR (an error, e.g. RST), POLLHUP
        let events = PollFlags::POLLRDNORM | PollFlags::POLLERR | PollFlags::POLLHUP;
        let ready = client
            .iter()
            .map(|p| p.revents().is_some_and(|r| r.intersects(events)));
        let mut ready: Vec<bool> = ready.collect();
        if ready.first().copied().unwrap_or(false) {
            // accept(): won't block, poll said a connection is waiting
            match unp::accept(&listener) {
                Ok((conn, peer)) => clients.push(Client::accepted(conn, &peer)),
                Err(e) if e.is_interrupted() || unp::shortage::pause(&e) => {}
                Err(e) => return Err(e),
            }
            ready.push(false);
        }
        // check all clients for data: read what came, write it back; drop (close)
        // those that left
        let mut ready = ready.into_iter().skip(1);
        clients.retain(|c| !ready.next().unwrap_or(false) || serve_ready(c, &opts));
    }
}

/// A `pollfd` asking for "readable": `POLLRDNORM`, normal data (or the FIN).
fn readable(fd: BorrowedFd<'_>) -> PollFd<'_> {
    PollFd::new(fd, PollFlags::POLLRDNORM)
}
