//! Offloads: large segments between the kernels, wire-sized packets in the capture.
//!
//! A TUN device opened with `IFF_VNET_HDR` puts a `struct virtio_net_hdr` (10 bytes) in
//! front of each packet read, and expects one in front of each packet written. After
//! `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)` the sending kernel leaves two
//! jobs to whoever reads the device, as it leaves them to a network card:
//!
//! - **checksum** (`flags & NEEDS_CSUM`): the TCP or UDP checksum field holds only the
//!   pseudo-header's sum; the sum of the bytes from `csum_start` to the end, folded and
//!   inverted, belongs at `csum_start + csum_offset`;
//! - **segmentation** (TSO, `gso_type` TCPv4 or TCPv6): the packet is one TCP segment of
//!   up to 64 KB, with one IP and TCP header, which a card would cut into segments of
//!   `gso_size` payload bytes (the MSS), each with its own headers.
//!
//! The link does neither: it hands the header and the large packet to the other kernel
//! as they came (a virtio-net host does the same), and that kernel's TCP takes the 64 KB
//! at once, as if its card had merged them (GRO). That is what makes the link fast: one
//! read, one write and one pass through each kernel's TCP for 45 segments.
//!
//! The capture, though, must show what a wire would carry. [`wire_packets`] cuts a
//! large segment into the packets a card would send (each IP header with its length,
//! IPv4 identification and checksum; each TCP header with its sequence number, flags and
//! checksum) and completes the checksums a card would fill in.

/// Bytes of the `struct virtio_net_hdr` in front of each packet.
pub const HDR_LEN: usize = 10;

/// `flags`: the checksum from `csum_start` to the end is left to do.
const NEEDS_CSUM: u8 = 1;
/// `gso_type`s: one TCP segment over IPv4 or IPv6 to cut at `gso_size`.
const GSO_TCPV4: u8 = 1;
const GSO_TCPV6: u8 = 4;

/// TCP flags a card keeps on the last segment only (FIN, PSH) or the first only (CWR).
const FIN_PSH: u8 = 0x01 | 0x08;
const CWR: u8 = 0x80;

/// The fields of a `struct virtio_net_hdr` (host byte order, as a TUN device without
/// `TUNSETVNETBE` writes them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `NEEDS_CSUM` (1), `DATA_VALID` (2).
    pub flags: u8,
    /// `NONE` (0), `TCPV4` (1), `UDP` (3), `TCPV6` (4), with `ECN` (0x80).
    pub gso_type: u8,
    /// Bytes of the headers (a hint).
    pub hdr_len: u16,
    /// Payload bytes of each segment (the MSS).
    pub gso_size: u16,
    /// Where the checksummed part starts (the TCP or UDP header).
    pub csum_start: u16,
    /// Where in it the checksum field is.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// The header at the start of `frame`, if it is long enough.
    pub fn parse(frame: &[u8]) -> Option<VnetHdr> {
        let b = frame.get(..HDR_LEN)?;
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Some(VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        })
    }

    /// The header as the device reads it.
    pub fn bytes(&self) -> [u8; HDR_LEN] {
        let mut b = [0; HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        for (i, v) in [
            self.hdr_len,
            self.gso_size,
            self.csum_start,
            self.csum_offset,
        ]
        .into_iter()
        .enumerate()
        {
            b[2 + 2 * i..4 + 2 * i].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }
}

/// Calls `each(headers, payload)` for every packet a wire would carry for `frame`
/// (a virtio header, then an IP packet): the packet itself when nothing is left to
/// do; else each segment, headers rebuilt in `scratch`, its payload a slice of the
/// frame's. A frame too short or inconsistent to cut is given as it is.
pub fn wire_packets<E>(
    frame: &[u8],
    scratch: &mut Vec<u8>,
    mut each: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let Some((hdr, packet)) = split(frame) else {
        return each(frame, &[]);
    };
    if let Some(tso) = Tso::of(packet, &hdr) {
        return tso.segments(scratch, each);
    }
    let field = match hdr.flags & NEEDS_CSUM {
        0 => None,
        _ => checksum_field(packet, &hdr),
    };
    let Some((start, field)) = field else {
        return each(packet, &[]);
    };
    scratch.clear();
    scratch.extend_from_slice(&packet[..field + 2]);
    let sum = ones_sum(ones_sum(0, &packet[start..field + 2]), &packet[field + 2..]);
    // UDP sends a checksum of 0 as 0xffff (0 means "none").
    let check = match finish(sum) {
        0 if hdr.csum_offset == 6 => 0xffff,
        c => c,
    };
    scratch[field..field + 2].copy_from_slice(&check.to_be_bytes());
    each(scratch, &packet[field + 2..])
}

/// How many packets a wire would carry for `frame`: a large segment's segments, else 1.
pub fn wire_count(frame: &[u8]) -> u64 {
    split(frame)
        .and_then(|(hdr, packet)| Tso::of(packet, &hdr))
        .map_or(1, |tso| tso.count() as u64)
}

/// A frame's virtio header and its packet.
fn split(frame: &[u8]) -> Option<(VnetHdr, &[u8])> {
    Some((VnetHdr::parse(frame)?, frame.get(HDR_LEN..)?))
}

/// Where the checksummed part starts and where its field is, if inside `packet`.
fn checksum_field(packet: &[u8], hdr: &VnetHdr) -> Option<(usize, usize)> {
    let start = usize::from(hdr.csum_start);
    let field = start + usize::from(hdr.csum_offset);
    (start <= field && field + 2 <= packet.len()).then_some((start, field))
}

/// A large TCP segment, checked: where its TCP header and payload are.
struct Tso<'a> {
    packet: &'a [u8],
    /// Where the TCP header starts, and the payload.
    tcp: usize,
    payload: usize,
    mss: usize,
    ipv4: bool,
}

impl<'a> Tso<'a> {
    /// The large segment `packet` is, if its header says it is one and it is whole.
    fn of(packet: &'a [u8], hdr: &VnetHdr) -> Option<Tso<'a>> {
        let tso = matches!(hdr.gso_type & 0x7f, GSO_TCPV4 | GSO_TCPV6);
        if !tso || hdr.gso_size == 0 {
            return None;
        }
        let ipv4 = match packet.first()? >> 4 {
            4 => true,
            6 => false,
            _ => return None,
        };
        let tcp = usize::from(hdr.csum_start);
        let min_ip = if ipv4 { 20 } else { 40 };
        let offset = usize::from(*packet.get(tcp + 12)? >> 4) * 4;
        let payload = tcp + offset;
        let ok = tcp >= min_ip && offset >= 20 && payload < packet.len();
        ok.then_some(Tso {
            packet,
            tcp,
            payload,
            mss: usize::from(hdr.gso_size),
            ipv4,
        })
    }

    /// How many segments it is cut into.
    fn count(&self) -> usize {
        (self.packet.len() - self.payload).div_ceil(self.mss)
    }

    /// Each segment: the headers copied and fixed up, the payload's next `mss` bytes.
    fn segments<E>(
        &self,
        head: &mut Vec<u8>,
        mut each: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let p = self.packet;
        let seq = u32::from_be_bytes([
            p[self.tcp + 4],
            p[self.tcp + 5],
            p[self.tcp + 6],
            p[self.tcp + 7],
        ]);
        let id = u16::from_be_bytes([p[4], p[5]]);
        let last = (p.len() - self.payload)
            .div_ceil(self.mss)
            .saturating_sub(1);
        for (i, chunk) in p[self.payload..].chunks(self.mss).enumerate() {
            head.clear();
            head.extend_from_slice(&p[..self.payload]);
            let total = self.payload + chunk.len();
            let tcp = &mut head[self.tcp..];
            let offset = (i * self.mss) as u32;
            tcp[4..8].copy_from_slice(&seq.wrapping_add(offset).to_be_bytes());
            if i != last {
                tcp[13] &= !FIN_PSH;
            }
            if i != 0 {
                tcp[13] &= !CWR;
            }
            tcp[16..18].copy_from_slice(&[0, 0]);
            let pseudo = if self.ipv4 {
                head[2..4].copy_from_slice(&(total as u16).to_be_bytes());
                head[4..6].copy_from_slice(&id.wrapping_add(i as u16).to_be_bytes());
                let ihl = usize::from(head[0] & 0x0f) * 4;
                head[10..12].copy_from_slice(&[0, 0]);
                let check = finish(ones_sum(0, &head[..ihl.min(self.tcp)]));
                head[10..12].copy_from_slice(&check.to_be_bytes());
                ones_sum(ones_sum(0, &head[12..20]), &[0, 6])
            } else {
                head[4..6].copy_from_slice(&((total - 40) as u16).to_be_bytes());
                ones_sum(ones_sum(0, &head[8..40]), &[0, 6])
            };
            let length = (total - self.tcp) as u32;
            let sum = ones_sum(pseudo, &length.to_be_bytes());
            let sum = ones_sum(ones_sum(sum, &head[self.tcp..]), chunk);
            head[self.tcp + 16..self.tcp + 18].copy_from_slice(&finish(sum).to_be_bytes());
            each(head, chunk)?;
        }
        Ok(())
    }
}

/// Adds `data` to a ones' complement sum of 16-bit big-endian words, 32 bits at a time
/// (`2^16 ≡ 1` modulo `2^16 - 1`, so the halves of each word add up the same). `data`
/// must start at an even offset of what is summed; only the last piece may be odd.
fn ones_sum(mut acc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut last = [0u8; 4];
    last[..rest.len()].copy_from_slice(rest);
    acc + u64::from(u32::from_be_bytes(last))
}

/// The checksum field's value for a sum: folded to 16 bits and inverted.
fn finish(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[cfg(test)]
#[path = "offload_tests.rs"]
mod tests;
