//! UNP 8.13, "Lack of flow control with UDP": a client sends datagrams as fast as it
//! can; a server counts what it receives. Whatever arrives while the server's socket
//! receive buffer (`SO_RCVBUF`) is full is dropped by the receiving kernel, and nobody
//! is told: `sent 2000` on one side, `received 37` on the other. A bigger buffer
//! absorbs a bigger burst; only flow control (TCP's window) solves it.
//!
//! Linux counts those drops in `/proc/net/snmp` (`Udp: ... RcvbufErrors`) and
//! `netstat -su` ("receive buffer errors"), as `netstat -s` did in the book.

use std::net::{SocketAddr, UdpSocket};

use unp::Result;

/// dgcliloop: sends `count` datagrams of `size` bytes to `servaddr` as fast as
/// `sendto` returns, then prints `sent COUNT datagrams of SIZE bytes`.
pub fn send_burst(servaddr: SocketAddr, count: u64, size: usize) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    let sendline = vec![0u8; size];
    for _ in 0..count {
        // sendto() returns once the datagram is queued: it never waits for the receiver
        unp::udp::sendto(&sockfd, &sendline, &servaddr)?;
    }
    unp::print_flush(format_args!("sent {count} datagrams of {size} bytes\n"))
}

/// dgecholoop: receives datagrams on `servaddr` and counts them, until Ctrl-C
/// (SIGINT), then prints `received N datagrams` (UNP's `recvfrom_int`). With
/// `rcvbuf`, sets `SO_RCVBUF` first; prints the size the kernel really gave.
pub fn count(
    servaddr: SocketAddr,
    rcvbuf: Option<usize>,
    announce: impl FnOnce(&UdpSocket) -> Result<()>,
) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    if let Some(bytes) = rcvbuf {
        // SO_RCVBUF: how many bytes of datagrams may wait for us before the kernel drops
        unp::udp::set_rcvbuf(&sockfd, bytes)?;
    }
    unp::udp::bind(&sockfd, &servaddr)?;
    crate::sigint::catch()?; // SIGINT sets a flag; no SA_RESTART: recvfrom returns EINTR
    announce(&sockfd)?;
    unp::log(format_args!(
        "SO_RCVBUF: {} bytes",
        unp::udp::rcvbuf(&sockfd)?
    ));
    let mut mesg = vec![0u8; 65536];
    let mut received: u64 = 0;
    while !crate::sigint::caught() {
        match unp::udp::recvfrom(&sockfd, &mut mesg) {
            Ok(_) => received += 1,
            Err(e) if e.is_interrupted() => break, // SIGINT: no SA_RESTART, recvfrom returns EINTR
            Err(e) => return Err(e),
        }
    }
    unp::print_flush(format_args!("\nreceived {received} datagrams\n"))
}
