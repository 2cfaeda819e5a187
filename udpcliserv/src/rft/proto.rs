//! The reliable transfer's packet format (`docs/protocols/udp-rft.md` is its
//! byte-by-byte description; this module is its one implementation).
//!
//! ```text
//! offset  size  field
//!      0     1  kind: 1 REQ, 2 DATA, 3 FIN, 4 ACK, 5 ERR
//!      1     1  version: 1
//!      2     2  payload length, little-endian (must equal the datagram's length - 16)
//!      4     4  sequence number, little-endian: REQ 0, DATA 1..=N, FIN N+1; an ACK
//!               carries the next number the receiver expects (all below arrived)
//!      8     8  timestamp, little-endian: the sender's clock in microseconds; an ACK
//!               echoes the timestamp of the packet it answers (the RTT sample)
//!     16     -  payload: REQ the path to write; DATA 1..=1024 bytes of the file;
//!               FIN the file's length (8 bytes, little-endian); ACK nothing;
//!               ERR a UTF-8 message
//! ```

use std::fmt;

/// Header length.
pub const HEADER: usize = 16;
/// The most file bytes in one DATA packet (the course's 1024).
pub const MAX_DATA: usize = 1024;
/// The largest packet.
pub const MAX_PACKET: usize = HEADER + MAX_DATA;
const VERSION: u8 = 1;

/// What a packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Client → server: the path to write (sequence number 0).
    Req = 1,
    /// Client → server: a piece of the file.
    Data = 2,
    /// Client → server: the end, with the file's length.
    Fin = 3,
    /// Server → client: everything below `seq` arrived.
    Ack = 4,
    /// Server → client: the upload is refused or abandoned; the message says why.
    Err = 5,
}

/// A packet, borrowed from the datagram it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Its kind.
    pub kind: Kind,
    /// Its sequence number (for an ACK: the next one expected).
    pub seq: u32,
    /// The sender's timestamp, or the one an ACK echoes.
    pub stamp: u64,
    /// The payload.
    pub payload: &'a [u8],
}

/// Why a datagram is not a packet (receivers drop it and count it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Shorter than the header.
    Short(usize),
    /// Not version 1, or an unknown kind.
    Unknown {
        /// Byte 0.
        kind: u8,
        /// Byte 1.
        version: u8,
    },
    /// The length field disagrees with the datagram.
    Length {
        /// What bytes 2–3 say.
        field: usize,
        /// What follows the header.
        actual: usize,
    },
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Short(n) => write!(f, "{n} bytes: shorter than the 16-byte header"),
            Invalid::Unknown { kind, version } => {
                write!(f, "kind {kind}, version {version}: not an rft packet")
            }
            Invalid::Length { field, actual } => {
                write!(f, "payload length {field}, but {actual} bytes follow")
            }
        }
    }
}

impl<'a> Packet<'a> {
    /// A packet of `kind` with `seq`, `stamp` and `payload`.
    pub fn new(kind: Kind, seq: u32, stamp: u64, payload: &'a [u8]) -> Packet<'a> {
        Packet {
            kind,
            seq,
            stamp,
            payload,
        }
    }

    /// Parses one datagram.
    pub fn parse(dg: &'a [u8]) -> Result<Packet<'a>, Invalid> {
        let Some((head, payload)) = dg.split_first_chunk::<HEADER>() else {
            return Err(Invalid::Short(dg.len()));
        };
        let kind = match (head[0], head[1]) {
            (1, VERSION) => Kind::Req,
            (2, VERSION) => Kind::Data,
            (3, VERSION) => Kind::Fin,
            (4, VERSION) => Kind::Ack,
            (5, VERSION) => Kind::Err,
            (kind, version) => return Err(Invalid::Unknown { kind, version }),
        };
        let field = usize::from(u16::from_le_bytes([head[2], head[3]]));
        if field != payload.len() {
            return Err(Invalid::Length {
                field,
                actual: payload.len(),
            });
        }
        let seq = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&head[8..16]);
        Ok(Packet {
            kind,
            seq,
            stamp: u64::from_le_bytes(stamp),
            payload,
        })
    }

    /// The datagram's bytes (a payload beyond 65519 bytes is cut: never happens here).
    pub fn emit(&self) -> Vec<u8> {
        let len = self.payload.len().min(usize::from(u16::MAX) - HEADER);
        let mut out = Vec::with_capacity(HEADER + len);
        out.extend_from_slice(&[self.kind as u8, VERSION]);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.stamp.to_le_bytes());
        out.extend_from_slice(&self.payload[..len]);
        out
    }

    /// A FIN's file length, if it carries one.
    pub fn fin_length(&self) -> Option<u64> {
        Some(u64::from_le_bytes(self.payload.try_into().ok()?))
    }
}

impl fmt::Display for Packet<'_> {
    /// One line, as a trace prints it: `DATA seq=5 len=1024 ts=1234`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.kind {
            Kind::Req => "REQ",
            Kind::Data => "DATA",
            Kind::Fin => "FIN",
            Kind::Ack => "ACK",
            Kind::Err => "ERR",
        };
        write!(f, "{name} seq={} ts={}", self.seq, self.stamp)?;
        match self.kind {
            Kind::Req | Kind::Err => write!(f, " {:?}", unp::printable(self.payload)),
            Kind::Data => write!(f, " len={}", self.payload.len()),
            Kind::Fin => write!(f, " length={}", self.fin_length().unwrap_or(0)),
            Kind::Ack => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_and_show_their_bytes() {
        let p = Packet::new(Kind::Data, 258, 0x0102, b"hi");
        let bytes = p.emit();
        assert_eq!(
            bytes,
            [2, 1, 2, 0, 2, 1, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, b'h', b'i']
        );
        assert_eq!(Packet::parse(&bytes), Ok(p));
        assert_eq!(p.to_string(), "DATA seq=258 ts=258 len=2");
        let fin_len = 5000u64.to_le_bytes();
        let fin = Packet::new(Kind::Fin, 6, 9, &fin_len);
        assert_eq!(Packet::parse(&fin.emit()).unwrap().fin_length(), Some(5000));
    }

    #[test]
    fn garbage_is_told_apart() {
        assert_eq!(Packet::parse(b"ok"), Err(Invalid::Short(2)));
        assert_eq!(
            Packet::parse(b"================END"),
            Err(Invalid::Unknown {
                kind: b'=',
                version: b'='
            })
        );
        let mut bytes = Packet::new(Kind::Ack, 1, 2, b"").emit();
        bytes.push(0);
        assert_eq!(
            Packet::parse(&bytes),
            Err(Invalid::Length {
                field: 0,
                actual: 1
            })
        );
    }
}
