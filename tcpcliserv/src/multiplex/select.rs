//! The select echo server: UNP's tcpservselect01 (section 6.8) and the course's
//! tcpservselect02 (wait forever), 03 (5 seconds) and 04 (do not wait at all), which
//! differ from it only in select's timeout and the lines they print.

use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd};

use nix::errno::Errno;
use nix::sys::select::{FD_SETSIZE, FdSet, select};
use unp::{Context, Result};

use super::{Client, Options, course_count, course_line, serve_ready};

/// UNP's tcpservselect01.c: one process, one thread, every client. `select` sleeps
/// until the listening socket or a client is readable; then `accept` or `read` will
/// not block.
pub fn tcpservselect(port: u16, opts: Options) -> Result<()> {
    // socket(), bind(), listen(): as in tcpserv04, through UNP's tcp_listen (11.12)
    let (listener, _) = unp::tcp_listen(None, port)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // client[]: the connected sockets (the book's array of descriptors, -1 = free)
    let mut clients: Vec<Client> = Vec::new();
    loop {
        // rset = allset: select overwrites the set it is given, so it is rebuilt each
        // time round: the listener plus every client
        let mut rset = FdSet::new();
        rset.insert(listener.as_fd());
        clients.iter().for_each(|c| rset.insert(c.conn.as_fd()));
        let maxfd = clients.iter().map(|c| c.conn.as_raw_fd());
        let maxfd = maxfd.fold(listener.as_raw_fd(), i32::max);
        // the timeout: NULL (wait forever), 5 s, or 0 (return at once); Linux writes
        // the time left into it, so it is set again each time round, too
        let mut timeout = opts.wait.timeval();
        course_line(&opts, || opts.wait.select_line()); // `Wait forever!`
        // select(): sleep until a descriptor in rset is readable, or the timeout ends
        let nready = match select(maxfd + 1, &mut rset, None, None, timeout.as_mut()) {
            Err(Errno::EINTR) => continue, // a signal: call it again
            r => r.context("select")?,
        };
        course_count(&opts, "select", nready); // `select positive count: 1`
        let new_client = rset.contains(listener.as_fd());
        let mut ready: Vec<bool> = clients
            .iter()
            .map(|c| rset.contains(c.conn.as_fd()))
            .collect();
        if new_client {
            // accept(): won't block, select said a connection is waiting
            clients.extend(accept(&listener)?);
            ready.push(false);
        }
        // check all clients for data: read what came, write it back; drop (close)
        // those that left
        let mut ready = ready.into_iter();
        clients.retain(|c| !ready.next().unwrap_or(false) || serve_ready(c, &opts));
    }
}

/// `accept`, and the client if select can watch it: a descriptor at or above
/// `FD_SETSIZE` does not fit in an `fd_set` (the book's `too many clients`, which ends
/// the C server; here that one client is closed and the server goes on).
fn accept(listener: &TcpListener) -> Result<Option<Client>> {
    let (conn, peer) = match unp::accept(listener) {
        Ok(accepted) => accepted,
        Err(e) if e.is_interrupted() || unp::shortage::pause(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    if usize::try_from(conn.as_raw_fd()).is_ok_and(|fd| fd >= FD_SETSIZE) {
        unp::err_msg(format_args!(
            "too many clients: descriptor {} does not fit in select's FD_SETSIZE ({FD_SETSIZE}); closing {}",
            conn.as_raw_fd(),
            unp::sock_ntop(&peer)
        ));
        return Ok(None);
    }
    Ok(Some(Client::accepted(conn, &peer)))
}
