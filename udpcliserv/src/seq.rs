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

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use unp::Result;

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

/// What the server saw: how many datagrams, how many out of order, and the numbers
/// that never came (below the highest that did).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Datagrams received (duplicates counted each time).
    pub received: u64,
    /// Datagrams that were not the one expected next (`Error!`).
    pub errors: u64,
    seen: Vec<bool>,
}

impl Tally {
    /// Counts datagram `seq`; true if it was the one expected next.
    pub fn record(&mut self, seq: i32, expected: i32) -> bool {
        self.received += 1;
        if let Ok(i) = usize::try_from(seq) {
            if i < 1 << 24 {
                if self.seen.len() <= i {
                    self.seen.resize(i + 1, false);
                }
                self.seen[i] = true;
            }
        }
        let in_order = seq == expected;
        self.errors += u64::from(!in_order);
        in_order
    }

    /// The server's last line ([`summary`]).
    pub fn summary(&self) -> String {
        let missing = self.missing();
        summary(
            self.received,
            self.errors,
            missing.len() as u64,
            &ranges(&missing),
        )
    }

    /// The numbers below the highest received that never arrived.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.seen.len()).filter(|&i| !self.seen[i]).collect()
    }
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
    // A Ctrl-C while a line is printed, not in recvfrom, only sets the flag: seen here.
    while !crate::sigint::caught() {
        let n = match unp::udp::recvfrom(&sockfd, &mut buf) {
            Ok((n, _from)) => n,
            Err(e) if unp::udp::is_timeout(&e) => break,
            Err(e) if e.is_interrupted() && crate::sigint::caught() => break, // Ctrl-C: the summary
            Err(e) if e.is_interrupted() => continue,
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

/// The server's last line: `received 16 datagrams, 2 out of order, 1 never arrived: 12`
/// (`list`, the missing numbers as [`ranges`], only when some are missing).
pub fn summary(received: u64, errors: u64, missing: u64, list: &str) -> String {
    let list = if missing == 0 {
        String::new()
    } else {
        format!(": {list}")
    };
    format!("received {received} datagrams, {errors} out of order, {missing} never arrived{list}")
}

/// `1-3, 7, 9-10`: sorted numbers as ranges.
pub fn ranges(numbers: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        out.push(if numbers[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", numbers[i])
        });
        i += 1;
    }
    out.join(", ")
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

    #[test]
    fn a_tally_counts_errors_and_gaps() {
        let mut t = Tally::default();
        let mut expected = 0;
        for seq in [0, 1, 3, 2, 4, 7] {
            t.record(seq, expected);
            expected = seq + 1;
        }
        // 3 (expected 2), 2 (expected 4), 4 (expected 3), 7 (expected 5).
        assert_eq!((t.received, t.errors), (6, 4));
        assert_eq!(t.missing(), vec![5, 6]);
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
    }
}
