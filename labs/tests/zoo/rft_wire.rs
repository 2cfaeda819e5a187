//! zoo: the reliable transfer's 16-byte header (docs/protocols/udp-rft.md), shared by
//! rft_server.rs and rft_client.rs (`mod rft_wire;`: rustc finds this file beside them).

pub const REQ: u8 = 1;
pub const DATA: u8 = 2;
pub const FIN: u8 = 3;
pub const ACK: u8 = 4;
pub const ERR: u8 = 5;

/// A packet: kind, version 1, payload length, sequence number, timestamp, payload.
pub fn packet(kind: u8, seq: u32, stamp: u64, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![kind, 1];
    p.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&stamp.to_le_bytes());
    p.extend_from_slice(payload);
    p
}

/// (kind, seq, stamp, payload) of a packet of the protocol.
pub fn parse(d: &[u8]) -> Option<(u8, u32, u64, &[u8])> {
    let head = d.get(..16)?;
    let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
    if head[1] != 1 || !(REQ..=ERR).contains(&head[0]) || len != d.len() - 16 {
        return None;
    }
    let seq = u32::from_le_bytes(head[4..8].try_into().ok()?);
    Some((head[0], seq, u64::from_le_bytes(head[8..16].try_into().ok()?), &d[16..]))
}
