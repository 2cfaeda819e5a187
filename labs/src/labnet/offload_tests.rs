//! The segments [`wire_packets`] cuts, checked against etherparse's own checksums.

use super::*;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};

/// An IPv4 or IPv6 packet: a TCP header with 12 bytes of options (a timestamp's
/// size), flags CWR|PSH|ACK|FIN, sequence number 1000, and `payload`; the TCP
/// checksum field holds garbage, as a kernel leaves the pseudo-header's sum there.
fn tcp_packet(ipv4: bool, payload: &[u8]) -> Vec<u8> {
    let tcp_len = 32 + payload.len();
    let mut p = if ipv4 {
        let total = (20 + tcp_len) as u16;
        let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[192, 0, 2, 2, 192, 0, 2, 1]);
        ip
    } else {
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, 6, 64];
        ip[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
        ip.extend_from_slice(&[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        ip.extend_from_slice(&[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ip
    };
    p.extend_from_slice(&[0x27, 0x10, 0xc3, 0x50]); // ports 10000 → 50000
    p.extend_from_slice(&1000u32.to_be_bytes());
    p.extend_from_slice(&77u32.to_be_bytes());
    p.extend_from_slice(&[
        0x80,
        0x80 | 0x10 | 0x08 | 0x01,
        0x01,
        0xf5,
        0xab,
        0xcd,
        0,
        0,
    ]);
    p.extend_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    p.extend_from_slice(payload);
    p
}

/// `packet` as a kernel leaves it to the card: the IPv4 header's checksum done, the TCP
/// checksum field holding the pseudo-header's sum.
fn left_to_checksum(mut packet: Vec<u8>, ipv4: bool) -> Vec<u8> {
    let (tcp, pseudo) = if ipv4 {
        let check = finish(ones_sum(0, &packet[..20]));
        packet[10..12].copy_from_slice(&check.to_be_bytes());
        (20, ones_sum(0, &packet[12..20]))
    } else {
        (40, ones_sum(0, &packet[8..40]))
    };
    let len = (packet.len() - tcp) as u32;
    let pseudo = ones_sum(ones_sum(pseudo, &[0, 6]), &len.to_be_bytes());
    packet[tcp + 16..tcp + 18].copy_from_slice(&(!finish(pseudo)).to_be_bytes());
    packet
}

fn frame(hdr: VnetHdr, packet: &[u8]) -> Vec<u8> {
    let mut f = hdr.bytes().to_vec();
    f.extend_from_slice(packet);
    f
}

/// The packets `wire_packets` gives for `frame`, each whole.
fn cut(frame: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    wire_packets(frame, &mut scratch, |head, body| {
        out.push([head, body].concat());
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

/// (sequence number, FIN|PSH|CWR flags, payload) of a segment whose IP and TCP checksums
/// etherparse finds right.
fn checked(segment: &[u8]) -> (u32, u8, Vec<u8>) {
    let s = SlicedPacket::from_ip(segment).unwrap();
    let Some(TransportSlice::Tcp(tcp)) = s.transport else {
        panic!("not TCP")
    };
    let want = match s.net {
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            assert_eq!(h.to_header().calc_header_checksum(), h.header_checksum());
            assert_eq!(usize::from(h.total_len()), segment.len());
            tcp.calc_checksum_ipv4(h.source(), h.destination()).unwrap()
        }
        Some(NetSlice::Ipv6(ip)) => {
            let h = ip.header();
            assert_eq!(usize::from(h.payload_length()) + 40, segment.len());
            tcp.calc_checksum_ipv6(h.source(), h.destination()).unwrap()
        }
        _ => panic!("not IP"),
    };
    assert_eq!(tcp.checksum(), want, "TCP checksum");
    let flags = u8::from(tcp.fin()) | u8::from(tcp.psh()) << 3 | u8::from(tcp.cwr()) << 7;
    (tcp.sequence_number(), flags, tcp.payload().to_vec())
}

fn tso(ipv4: bool, mss: u16) -> VnetHdr {
    VnetHdr {
        flags: NEEDS_CSUM,
        gso_type: if ipv4 { GSO_TCPV4 } else { GSO_TCPV6 },
        hdr_len: 0,
        gso_size: mss,
        csum_start: if ipv4 { 20 } else { 40 },
        csum_offset: 16,
    }
}

#[test]
fn a_large_segment_is_cut_into_mss_sized_ones_with_their_own_headers() {
    let payload: Vec<u8> = (0..3500u32).map(|i| (i * 7 % 251) as u8).collect();
    for ipv4 in [true, false] {
        let large = frame(tso(ipv4, 1448), &tcp_packet(ipv4, &payload));
        assert_eq!(wire_count(&large), 3);
        let segments = cut(&large);
        let seen: Vec<(u32, u8, Vec<u8>)> = segments.iter().map(|s| checked(s)).collect();
        let seqs: Vec<u32> = seen.iter().map(|s| s.0).collect();
        assert_eq!(seqs, [1000, 2448, 3896]);
        // CWR on the first only; FIN and PSH on the last only.
        let flags: Vec<u8> = seen.iter().map(|s| s.1).collect();
        assert_eq!(flags, [0x80, 0, 0x09]);
        let lens: Vec<usize> = seen.iter().map(|s| s.2.len()).collect();
        assert_eq!(lens, [1448, 1448, 604]);
        let joined: Vec<u8> = seen.iter().flat_map(|s| s.2.iter().copied()).collect();
        assert_eq!(joined, payload);
        if ipv4 {
            let ids: Vec<u16> = segments
                .iter()
                .map(|s| u16::from_be_bytes([s[4], s[5]]))
                .collect();
            assert_eq!(ids, [0x1234, 0x1235, 0x1236]);
        }
    }
}

#[test]
fn a_small_packet_left_to_checksum_gets_its_checksum() {
    for (ipv4, len) in [(true, 0), (true, 101), (false, 7)] {
        let payload = vec![0xa5; len];
        let hdr = VnetHdr {
            gso_type: 0,
            gso_size: 0,
            ..tso(ipv4, 0)
        };
        let packet = left_to_checksum(tcp_packet(ipv4, &payload), ipv4);
        let segments = cut(&frame(hdr, &packet));
        assert_eq!(segments.len(), 1);
        let (seq, flags, body) = checked(&segments[0]);
        assert_eq!((seq, flags, body), (1000, 0x89, payload));
    }
}

#[test]
fn a_packet_with_nothing_left_to_do_is_given_as_it_is() {
    let packet = tcp_packet(true, b"GEN");
    let segments = cut(&frame(VnetHdr::default(), &packet));
    assert_eq!(segments, std::slice::from_ref(&packet));
    assert_eq!(wire_count(&frame(VnetHdr::default(), &packet)), 1);
}

#[test]
fn inconsistent_frames_are_given_as_they_are() {
    assert_eq!(cut(&[1, 2, 3]), [vec![1, 2, 3]]);
    let packet = tcp_packet(true, &[0; 3000]);
    let bad_start = VnetHdr {
        csum_start: 4000,
        ..tso(true, 1448)
    };
    assert_eq!(
        cut(&frame(bad_start, &packet)),
        std::slice::from_ref(&packet)
    );
    let bad_field = VnetHdr {
        gso_type: 0,
        csum_offset: 9000,
        ..tso(true, 0)
    };
    assert_eq!(cut(&frame(bad_field, &packet)), [packet]);
}

#[test]
fn the_header_reads_back_what_was_written() {
    let h = tso(false, 1428);
    assert_eq!(VnetHdr::parse(&h.bytes()), Some(h));
    assert_eq!(VnetHdr::parse(&[0; 9]), None);
}

#[test]
fn any_bytes_are_cut_without_a_panic() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let good = frame(tso(true, 100), &tcp_packet(true, &[1; 1000]));
    for round in 0..20_000 {
        let mut f = match round % 2 {
            0 => good.clone(),
            _ => vec![0; rng.random_range(0..200)],
        };
        for _ in 0..rng.random_range(1..8) {
            if !f.is_empty() {
                let i = rng.random_range(0..f.len());
                f[i] = rng.random();
            }
        }
        f.truncate(rng.random_range(0..=f.len()));
        if f.len() > 1 {
            f[1] = [0, GSO_TCPV4, GSO_TCPV6][round % 3];
        }
        let mut n = 0;
        let _ = wire_packets(&f, &mut Vec::new(), |_, _| {
            n += 1;
            Ok::<(), ()>(())
        });
        // The link counts what the capture shows.
        assert_eq!(n, wire_count(&f));
    }
}
