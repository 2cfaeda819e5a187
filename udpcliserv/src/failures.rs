//! The UDP failure lessons of UNP chapter 8 and 14.2, one client each, beside the naive
//! `udpechoclient` ([`crate::echo::client`]) whose failures they show or fix.
//!
//! | program | UNP | lesson function | what it shows |
//! |---|---|---|---|
//! | `udpechoclient` | 8.4 `dg_cli` | [`crate::echo::client`] | a lost request or reply: `recvfrom` blocks forever |
//! | `dgclitimeo` | 14.2 `dgclitimeo3` | [`with_timeout`] | the fix: `SO_RCVTIMEO`, then send again, a few times |
//! | `dgcliaddr` | 8.8 `dgcliaddr` | [`checking_source`] | a datagram from a stranger is not the reply: compare the sender with the server |
//! | `dgcliconnect` | 8.11 `dgcliconnect` | [`connected`] | a connected UDP socket learns of an ICMP port unreachable: `ECONNREFUSED` |
//!
//! The overrun lesson (8.13) is in [`crate::flood`].

use std::io::BufRead;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use unp::{Error, Result, sock_ntop};

use crate::text::{self, BUFFERSIZE};

/// dgclitimeo: the echo client with a receive timeout. When no datagram comes within
/// `timeout`, the request or the reply was lost (or nobody listens there): send the
/// line again, at most `tries` times in all, then report it and go on with the next line.
///
/// A retry can make the server do the work twice (it cannot tell a retry from a new
/// request), and a late reply to the first try is taken as the reply to the second
/// and then the *next* line's reply is the stale one: UNP 22.5 adds sequence numbers
/// for that (see the reliable transfer, `rftclient`).
pub fn with_timeout(
    servaddr: SocketAddr,
    mut input: impl BufRead,
    timeout: Duration,
    tries: u32,
) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    // SO_RCVTIMEO: recvfrom gives up with EAGAIN after `timeout` instead of waiting forever
    unp::udp::set_rcvtimeo(&sockfd, Some(timeout))?;
    let mut recvline = [0u8; BUFFERSIZE];
    while let Some(sendline) = text::read_line(&mut input, BUFFERSIZE - 1)? {
        let mut reply = None;
        for attempt in 1..=tries.max(1) {
            unp::udp::sendto(&sockfd, &sendline, &servaddr)?;
            match unp::udp::recvfrom(&sockfd, &mut recvline[..BUFFERSIZE - 1]) {
                Ok((n, _from)) => {
                    reply = Some(n);
                    break;
                }
                // The timeout: lost on the way there or back; we cannot tell which.
                Err(e) if unp::udp::is_timeout(&e) || e.is_interrupted() => unp::err_msg(
                    format_args!("no reply within {timeout:?} (try {attempt} of {tries})"),
                ),
                Err(e) => return Err(e),
            }
        }
        match reply {
            Some(n) => text::print_reply(&recvline[..n])?,
            None => unp::err_msg(format_args!(
                "socket timeout: giving up on this line after {tries} tries"
            )),
        }
    }
    Ok(())
}

/// dgcliaddr: the echo client that checks who answered. `recvfrom` returns the next
/// datagram to our port from *anyone*; only one from the server's address is the reply.
/// Others are reported as `reply from ADDR (ignored)` and the client waits on.
///
/// The check compares addresses as given: a server on a multihomed host may answer
/// from another of its addresses and be ignored too (UNP 8.8 explains why, and that a
/// server which binds each address, or `connect`ing the client, avoids it).
pub fn checking_source(servaddr: SocketAddr, mut input: impl BufRead) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    let mut recvline = [0u8; BUFFERSIZE];
    while let Some(sendline) = text::read_line(&mut input, BUFFERSIZE - 1)? {
        unp::udp::sendto(&sockfd, &sendline, &servaddr)?;
        let n = loop {
            let (n, reply_addr): (usize, SocketAddr) =
                unp::udp::recvfrom(&sockfd, &mut recvline[..BUFFERSIZE - 1])?;
            // The lesson: compare the sender with the address we sent to.
            if unp::addr::unmap(reply_addr) == unp::addr::unmap(servaddr) {
                break n;
            }
            unp::print_flush(format_args!(
                "reply from {} (ignored)\n",
                sock_ntop(&reply_addr)
            ))?;
        };
        text::print_reply(&recvline[..n])?;
    }
    Ok(())
}

/// dgcliconnect: the echo client on a *connected* UDP socket. `connect` sends nothing;
/// it records the server, so `write` needs no address, datagrams from anyone else are
/// dropped by the kernel, and an ICMP "port unreachable" for the server comes back as
/// the next call's error: `read error: Connection refused (ECONNREFUSED)`. The
/// unconnected `udpechoclient` waits forever in the same situation.
pub fn connected(servaddr: SocketAddr, mut input: impl BufRead) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    // connect() on UDP: no handshake, no packet; the kernel now knows our peer
    unp::udp::connect(&sockfd, &servaddr)?;
    let mut recvline = [0u8; BUFFERSIZE];
    while let Some(sendline) = text::read_line(&mut input, BUFFERSIZE - 1)? {
        unp::udp::send(&sockfd, &sendline)?;
        // ECONNREFUSED here: the ICMP error for the datagram above, delivered to us
        let n: usize = unp::udp::recv(&sockfd, &mut recvline[..BUFFERSIZE - 1])
            .map_err(|e| explain_refused(e, &servaddr))?;
        text::print_reply(&recvline[..n])?;
    }
    Ok(())
}

/// Adds why to `ECONNREFUSED` on a connected UDP socket; other errors are unchanged.
fn explain_refused(e: Error, servaddr: &SocketAddr) -> Error {
    if e.raw_os_error() != Some(nix::errno::Errno::ECONNREFUSED as i32) {
        return e;
    }
    Error::msg(format!(
        "{e}: no program receives on {} (the host answered with ICMP port unreachable)",
        sock_ntop(servaddr)
    ))
}
