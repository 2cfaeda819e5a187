//! The course's "UDP failures" experiment: a client sends numbered 1024-byte datagrams
//! as fast as it can; the server prints `Sequence num: N` for each, and `Error!` under
//! one that is not the one it expected next (the previous number plus one): a datagram
//! overtook another, or some were lost in between. UDP itself says nothing.
//!
//! Wire format (this module is its one definition): a datagram of [`DGLEN`] bytes;
//! bytes 0–3 are the sequence number, a signed 32-bit integer in little-endian order
//! (what the C programs' `int` is on the lab machines), counting from 0; the other
//! 1020 bytes are zero.
//!
//! The course switches the network off in the middle; with labnet the loss and the
//! reordering are set on the link instead (`labnet up --loss 10% --reorder 5%`).
//!
//! Armour beside the lesson: [`tally`] counts in memory that a peer's numbers cannot grow.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use unp::Result;

pub mod tally;
pub use tally::Tally;

/// The size of each numbered datagram.
pub const DGLEN: usize = 1024;

/// The datagram numbered `seq`.
pub fn encode(seq: i32) -> [u8; DGLEN] {
    let mut dg = [0u8; DGLEN];
    dg[..4].copy_from_slice(&seq.to_le_bytes());
    dg
}

/// The number a datagram carries, or `None` if it is shorter than 4 bytes.
pub fn decode(dg: &[u8]) -> Option<i32> {
    Some(i32::from_le_bytes(dg.get(..4)?.try_into().ok()?))
}

/// udpseqserver: receives numbered datagrams on `servaddr`, prints `Sequence num: N`
/// and, when N is not the previous number plus one, `Error!`. With `idle`, ends when
/// no datagram came for that long after the first and prints what was lost; otherwise
/// runs until Ctrl-C (after [`crate::sigint::catch`]) or until killed.
pub fn serve(
    servaddr: SocketAddr,
    idle: Option<Duration>,
    announce: impl FnOnce(&UdpSocket) -> Result<()>,
) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    unp::udp::bind(&sockfd, &servaddr)?;
    announce(&sockfd)?;
    let (mut buf, mut tally, mut expected) = ([0u8; DGLEN], Tally::default(), 0i32);
    let mut started = false;
    // Armour: Ctrl-C (when udpseqserver caught it) is looked at before each recvfrom, for
    // one that came while the server was printing or while datagrams kept coming; one in
    // the instant between the look and the call waits for the next datagram or Ctrl-C
    // (ppoll would close even that gap: UNP 20.5).
    while !crate::sigint::caught() {
        let n = match unp::udp::recvfrom(&sockfd, &mut buf) {
            Ok((n, _from)) => n,
            Err(e) if unp::udp::is_timeout(&e) => break,
            Err(e) if e.is_interrupted() => continue, // Ctrl-C: the loop's test ends it
            Err(e) => return Err(e),
        };
        if !started {
            // armour for scripts: the run ends `idle` after its last datagram; the client
            // may start whenever it likes (a busy machine may start it late)
            unp::udp::set_rcvtimeo(&sockfd, idle)?;
            started = true;
        }
        let Some(seq) = decode(&buf[..n]) else {
            continue;
        }; // not ours: too short
        unp::log(format_args!("Sequence num: {seq}"));
        if !tally.record(seq, expected) {
            unp::log(format_args!("Error!"));
        }
        expected = seq.wrapping_add(1); // resume after whatever came: the next gap is new
    }
    unp::log(format_args!("{}", tally.summary())); // received N datagrams, ...
    Ok(())
}

/// udpseqclient: sends datagrams numbered 0 to `count - 1` to `servaddr` as fast as it
/// can, then prints `sent COUNT datagrams`.
pub fn send(servaddr: SocketAddr, count: i32) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    for seq in 0..count {
        unp::udp::sendto(&sockfd, &encode(seq), &servaddr)?;
    }
    unp::print_flush(format_args!("sent {count} datagrams\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_little_endian() {
        let dg = encode(258);
        assert_eq!(&dg[..4], &[2, 1, 0, 0]);
        assert_eq!(decode(&dg), Some(258));
        assert_eq!(decode(&[1, 2, 3]), None);
    }
}
