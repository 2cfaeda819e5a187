//! The reliable transfer's client: [`upload`] is the lesson — the course's upload, with
//! the four things UDP lacks added by the program: sequence numbers, acknowledgements,
//! retransmission on an RTT-based timeout, and a window of packets in flight.

use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use unp::{Context, Error, Result, printable};

use super::proto::{Kind, MAX_DATA, MAX_PACKET, Packet};
use super::rtt::Rtt;
use super::window::{Counts, Window};

/// The retransmission timeout's floor and ceiling (UNP uses 2 s and 60 s for the
/// Internet of 1998; a lab link answers in microseconds).
pub const MIN_RTO: Duration = Duration::from_millis(2);
/// See [`MIN_RTO`].
pub const MAX_RTO: Duration = Duration::from_secs(2);

/// What an upload did.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// File bytes delivered.
    pub bytes: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// Packets sent and retransmitted.
    pub counts: Counts,
    /// The smoothed round-trip time at the end.
    pub srtt: Duration,
}

/// rftclient: uploads `origin` to the server's path `copy`, `window` packets in flight.
pub fn upload(servaddr: SocketAddr, origin: &Path, copy: &[u8], window: usize) -> Result<Sent> {
    let mut file = File::open(origin)
        .context("open")
        .map_err(|e| e.with_detail(origin.display().to_string()))?;
    let length = file.metadata().context("fstat")?.len();
    let started = Instant::now();
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    // connect(): only the server's datagrams reach us, and ICMP errors do too (UNP 8.11)
    unp::udp::connect(&sockfd, &servaddr)?;
    let mut win = Window::new(window, Rtt::new(MIN_RTO, MAX_RTO));
    // send(): REQ, sequence number 0: the path; its ACK opens the window
    unp::udp::send(&sockfd, &win.push(Kind::Req, copy.to_vec()))?;
    let (mut chunk, mut buf, mut fin_sent) = ([0u8; MAX_DATA], [0u8; MAX_PACKET], false);
    while !(fin_sent && win.is_empty()) {
        while win.acked() >= 1 && win.has_room() && !fin_sent {
            // read(): the next piece of the file; at its end, FIN with the length
            let n = unp::read(&mut file, &mut chunk)
                .map_err(|e| e.with_detail(origin.display().to_string()))?;
            let packet = match n {
                0 => win.push(Kind::Fin, length.to_le_bytes().to_vec()),
                n => win.push(Kind::Data, chunk[..n].to_vec()),
            };
            fin_sent = n == 0;
            // send(): DATA seq=N (or FIN): numbered, so the server can order and ACK it
            unp::udp::send(&sockfd, &packet)?;
        }
        // recv() with SO_RCVTIMEO: an ACK, or the oldest packet's timer runs out
        unp::udp::set_rcvtimeo(&sockfd, Some(win.time_left()))?;
        let again: Option<Vec<u8>> = match unp::udp::recv(&sockfd, &mut buf) {
            Ok(n) => match Packet::parse(&buf[..n]) {
                Ok(p) if p.kind == Kind::Ack => win.on_ack(p.seq, p.stamp), // 3 duplicates: fast retransmit
                Ok(p) if p.kind == Kind::Err => {
                    return Err(Error::msg(format!(
                        "the server refused: {}",
                        printable(p.payload)
                    )));
                }
                _ => None, // not an answer of ours: ignore it
            },
            Err(e) if unp::udp::is_timeout(&e) => Some(win.on_timeout()?), // RTO doubled, resend the oldest
            Err(e) if e.is_interrupted() => None,
            Err(e) => return Err(e),
        };
        if let Some(packet) = again {
            // send(): the retransmission, stamped anew
            unp::udp::send(&sockfd, &packet)?;
        }
    }
    Ok(Sent {
        bytes: length,
        elapsed: started.elapsed(),
        counts: win.counts,
        srtt: win.rtt.srtt(),
    })
}
