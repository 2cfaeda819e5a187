//! The course's UDP echo pair, `UDP_Echo_Server` and `UDP_Echo_Client` (UNP's
//! `udpserv01` with `dg_echo`, `udpcli01` with `dg_cli`).
//!
//! | blank | program | in |
//! |---|---|---|
//! | ㊴ `socket()` ㊵ `bind()` ㊶ `recvfrom()` ㊷ `sendto()` | udpechoserver | [`serve`] |
//! | ㊸ `socket()` ㊹ `sendto()` ㊺ `recvfrom()` | udpechoclient | [`client`] |
//!
//! No `listen`, no `accept`, no connection: the server answers whatever datagram comes
//! next, from whichever client, and the client is not told when a datagram is lost.
//! Wire format: one datagram per line, the line's bytes with its newline, at most 255
//! bytes (a longer line goes in several datagrams, as C's `fgets` cuts it); the reply
//! is the same bytes.

use std::io::BufRead;
use std::net::{SocketAddr, UdpSocket};

use unp::addr::explain_privileged_port;
use unp::{Result, sock_ntop};

use crate::text::{self, BUFFERSIZE};

/// UDP_Echo_Server: receives datagrams on `servaddr` (`unp::addr::wildcard(PORT)`, IPv4
/// and IPv6) and sends each back to its sender, printing
/// `Received packet from A.B.C.D:PORT`, `Data: TEXT` and a blank line. Never returns
/// unless a socket call fails.
pub fn serve(servaddr: SocketAddr, announce: impl FnOnce(&UdpSocket) -> Result<()>) -> Result<()> {
    // ㊴ socket(): a datagram endpoint (SOCK_DGRAM): no connection will ever exist
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    // ㊵ bind(): claim the port that clients sendto; a second server gets EADDRINUSE
    unp::udp::bind(&sockfd, &servaddr)
        .map_err(|e| explain_privileged_port(e, servaddr.port(), "udpechoserver 10000"))?;
    announce(&sockfd)?; // `listening on [::]:10000`
    let mut message = [0u8; BUFFERSIZE];
    loop {
        // ㊶ recvfrom(): one whole datagram, and the address of whoever sent it
        let (n, cliaddr): (usize, SocketAddr) =
            match unp::udp::recvfrom(&sockfd, &mut message[..BUFFERSIZE - 1]) {
                Ok(got) => got,
                Err(e) if e.is_interrupted() => continue, // a signal interrupted it: call it again
                Err(e) => return Err(e),
            };
        // ㊷ sendto(): the same bytes back to that address (no connection to write to)
        let sent: Result<usize> = unp::udp::sendto(&sockfd, &message[..n], &cliaddr);
        crate::report_send_error(sent, &cliaddr); // armour: one client's bad address ends nothing
        let data = text::shown(&message[..n]);
        unp::log(format_args!(
            "Received packet from {}\nData: {data}\n",
            sock_ntop(&cliaddr)
        ));
    }
}

/// UDP_Echo_Client: sends each line of `input` (cut at 255 bytes, as `fgets` does) to
/// `servaddr` and prints the reply as `Received a message from the server : TEXT`.
///
/// The naive client of UNP 8.4: `recvfrom` waits forever, so a request or a reply the
/// network loses hangs it; and it takes a reply from anyone (8.8). See `dgclitimeo` and
/// `dgcliaddr` for the fixes. Returns at the end of input (the C client loops forever
/// resending its last line there: `fgets` fails and leaves the buffer as it was).
pub fn client(servaddr: SocketAddr, mut input: impl BufRead) -> Result<()> {
    // ㊸ socket(): no bind, no connect: the kernel picks a port at the first sendto
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    let mut message2 = [0u8; BUFFERSIZE];
    while let Some(message) = text::read_line(&mut input, BUFFERSIZE - 1)? {
        // ㊹ sendto(): the line as one datagram, addressed to the server each time
        unp::udp::sendto(&sockfd, &message, &servaddr)?;
        // ㊺ recvfrom(): the next datagram to our port, whoever sent it; waits forever
        let (n, _from): (usize, SocketAddr) =
            unp::udp::recvfrom(&sockfd, &mut message2[..BUFFERSIZE - 1])?;
        text::print_reply(&message2[..n])?; // `Received a message from the server : TEXT`
    }
    Ok(())
}
