//! pollftserver — the file-transfer server of Lab 3, multiplexed with `poll`: one
//! process, one thread, many clients downloading at once, on the unchanged 260-byte
//! segment format (so `ftclient` and the lab's C client work with it).
//!
//! The answer to Lab 4's question "how can we build the file transfer server with I/O
//! multiplexing?": a [`Transfer`] per connection remembers where that client is (waiting
//! for its path, or part-way through its file with segments not yet written), and the
//! loop below moves whichever transfer `poll` says can move.

use std::path::PathBuf;

use clap::Parser;
use filetransfer::jail::Root;
use filetransfer::multiplexed::Transfer;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::os::fd::AsFd;
use unp::{Context, Result};

/// `pollftserver PORT [--root DIR]`.
#[derive(Parser)]
#[command(about = "File-transfer server multiplexed with poll: many clients, one thread")]
struct Args {
    /// Port to listen on (0: let the kernel choose)
    port: u16,
    /// Serve files under this directory
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

fn main() {
    unp::run(|| {
        let a = Args::parse();
        pollftserver(a.port, &a.root)
    })
}

/// socket, bind, listen; then one `poll` over the listener and every transfer.
fn pollftserver(port: u16, root: &std::path::Path) -> Result<()> {
    let root = Root::new(root)?; // armour: the files a client may ask for (jail)
    // socket(), bind(), listen(): UNP's tcp_listen (11.12), as ftserver does them
    let (listener, _) = unp::tcp_listen(None, port)?;
    unp::serve::announce(&listener)?; // `listening on [::]:PORT`
    let mut transfers: Vec<Transfer> = Vec::new();
    loop {
        // pollfd[0]: the listener (readable = a connection waits); then each transfer:
        // readable while it waits for its path, writable while it sends
        let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        fds.extend(transfers.iter().map(|t| {
            let ev = if t.wants_to_write() {
                PollFlags::POLLOUT
            } else {
                PollFlags::POLLIN
            };
            PollFd::new(t.conn.as_fd(), ev)
        }));
        // poll(): sleep until some socket can move
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            r => r.context("poll")?,
        };
        let ready: Vec<bool> = fds.iter().map(|p| p.any().unwrap_or(false)).collect();
        let mut ready = ready.into_iter();
        if ready.next().unwrap_or(false) {
            // accept(): won't block; the new socket is made nonblocking
            match unp::accept(&listener) {
                Ok((conn, peer)) => {
                    let peer = unp::sock_ntop(&peer);
                    unp::log(format_args!("connection from {peer}"));
                    transfers.push(Transfer::new(conn, peer.into()).context("fcntl O_NONBLOCK")?);
                }
                Err(e) if e.is_interrupted() || unp::shortage::pause(&e) => {}
                Err(e) => return Err(e),
            }
        }
        // step every ready transfer: read its path, or write what its socket takes
        transfers.retain_mut(|t| {
            if !ready.next().unwrap_or(false) {
                return true;
            }
            let goes_on = t.step(&root).context("transfer");
            if let Ok(true) = goes_on {
                return true;
            }
            unp::serve::report(&t.peer, goes_on.map(drop));
            unp::log(format_args!("{} left after {} bytes", t.peer, t.bytes));
            false // dropped: close(connfd)
        });
    }
}
