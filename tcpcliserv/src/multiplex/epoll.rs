//! The epoll echo server (Linux's epoll(7); not in UNP): select and poll hand the
//! kernel every descriptor on every call and scan them all on return; epoll keeps the
//! interest list in the kernel and returns only the ready ones.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use unp::{Context, Result};

use super::{Client, Options, serve_ready};

/// How many ready descriptors one `epoll_wait` returns at most.
const MAX_EVENTS: usize = 256;

/// An echo server on epoll: one process, one thread, any number of clients.
pub fn tcpservepoll(port: u16, opts: Options) -> Result<()> {
    // socket(), bind(), listen(): as in tcpserv04, through UNP's tcp_listen (11.12)
    let (listener, _) = unp::tcp_listen(None, port)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // epoll_create1(): the kernel's interest list, empty
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).context("epoll_create1")?;
    // epoll_ctl(ADD): watch the listener; the event carries its descriptor back
    let listenfd = listener.as_raw_fd();
    epoll
        .add(&listener, readable(listenfd))
        .context("epoll_ctl")?;
    // the connected clients, by descriptor
    let mut clients: HashMap<RawFd, Client> = HashMap::new();
    let mut events = [EpollEvent::empty(); MAX_EVENTS];
    let timeout = opts.wait.poll_timeout(); // -1: wait forever, as INFTIM
    loop {
        // epoll_wait(): sleep until something is ready; only the ready ones come back
        let nready = match epoll.wait(&mut events, timeout) {
            Err(Errno::EINTR) => continue, // a signal: call it again
            r => r.context("epoll_wait")?,
        };
        for ev in &events[..nready] {
            let fd = RawFd::try_from(ev.data()).unwrap_or(-1);
            if fd == listenfd {
                // accept(): won't block, epoll said a connection is waiting
                let (conn, peer) = match unp::accept(&listener) {
                    Ok(accepted) => accepted,
                    Err(e) if e.is_interrupted() || unp::shortage::pause(&e) => continue,
                    Err(e) => return Err(e),
                };
                // epoll_ctl(ADD): from now on, tell me when this client is readable
                epoll
                    .add(conn.as_fd(), readable(conn.as_raw_fd()))
                    .context("epoll_ctl")?;
                clients.insert(conn.as_raw_fd(), Client::accepted(conn, &peer));
            } else if let Some(client) = clients.get(&fd) {
                // read() and write() back; at the FIN, close: closing a descriptor also
                // takes it out of the interest list
                if !serve_ready(client, &opts) {
                    clients.remove(&fd);
                }
            }
        }
    }
}

/// An interest in "readable" (level-triggered: reported again while data is waiting),
/// carrying the descriptor number back in the event.
fn readable(fd: RawFd) -> EpollEvent {
    EpollEvent::new(EpollFlags::EPOLLIN, u64::try_from(fd).unwrap_or(u64::MAX))
}
