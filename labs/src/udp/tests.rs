//! The UDP side of a frame, for each link type and IP version: lengths checked, ICMP
//! errors read back to their datagram, fragments told apart (built by [`super::build`]);
//! the sequence experiment counted as its server counts.

use super::build::{ip_udp, ip_udp_length, ipv4_fragments, port_unreachable};
use super::lab::Seen;
use super::numbered::{RANGES, Sequence};
use super::wire::*;
use crate::decode::Side;
use crate::packet::Skip;
use std::net::SocketAddr;
use udpcliserv::seq::{self, Tally};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// `ip` behind the link-layer header of `linktype`.
fn framed(linktype: i32, ip: &[u8]) -> Vec<u8> {
    let ether_type: [u8; 2] = if ip[0] >> 4 == 6 {
        [0x86, 0xdd]
    } else {
        [8, 0]
    };
    let mut f = match linktype {
        0 => 2u32.to_le_bytes().to_vec(),
        1 => [&[0u8; 12][..], &ether_type].concat(),
        113 => [&[0u8; 14][..], &ether_type].concat(),
        276 => [&ether_type[..], &[0u8; 18]].concat(),
        _ => Vec::new(),
    };
    f.extend_from_slice(ip);
    f
}

#[test]
fn every_link_type_and_both_ip_versions_lead_to_the_same_datagram() {
    for (a, b) in [
        ("127.0.0.1:40000", "127.0.0.1:7"),
        ("[::1]:40000", "[::1]:7"),
    ] {
        let ip = ip_udp(addr(a), addr(b), b"hello\n");
        for lt in [0, 1, 101, 113, 276] {
            let frame = framed(lt, &ip);
            let Ok(Packet::Datagram(d)) = parse(lt, &frame) else {
                panic!("{lt} {a}: not a datagram");
            };
            assert_eq!((d.src, d.dst, d.length, d.len), (addr(a), addr(b), 14, 6));
            assert_eq!((d.payload, d.bad_length), (&b"hello\n"[..], None));
        }
    }
}

#[test]
fn lengths_are_checked_against_the_ip_packet_and_the_snap_length() {
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    let ip = ip_udp(a, b, b"0123456789");
    let Ok(Packet::Datagram(cut)) = parse(101, &ip[..20 + 8 + 4]) else {
        panic!("a cut datagram is still one");
    };
    assert_eq!(
        (cut.len, cut.payload, cut.snapped()),
        (10, &b"0123"[..], true)
    );
    let bad = |field: u16| match parse(101, &ip_udp_length(a, b, field, b"0123456789")) {
        Ok(Packet::Datagram(d)) => (d.len, d.bad_length),
        other => panic!("{other:?}"),
    };
    assert_eq!(bad(18), (10, None));
    assert_eq!(bad(200), (10, Some(BadLength::Beyond { ip: 18 })));
    assert_eq!(bad(12), (4, Some(BadLength::Trailing { extra: 6 })));
    assert_eq!(bad(3), (10, Some(BadLength::Short)));
    // A header cut short is not a datagram.
    assert_eq!(parse(101, &ip[..20 + 5]).unwrap_err(), Skip::Broken);
}

#[test]
fn icmp_errors_quote_their_datagram_and_fragments_are_not_decoded() {
    let (a, b) = (addr("10.0.0.1:40000"), addr("10.0.0.2:9"));
    let refused = ip_udp(a, b, b"anyone?\n");
    let error = port_unreachable(b.ip(), &refused);
    let Ok(Packet::Unreachable(u)) = parse(101, &error) else {
        panic!("not an ICMP error");
    };
    assert_eq!(
        (u.from, u.to, u.reason, u.v6),
        (b.ip(), a.ip(), Reason::Port, false)
    );
    assert_eq!(
        (u.src, u.dst, u.length, u.quoted),
        (a, b, 16, &b"anyone?\n"[..])
    );
    let frags = ipv4_fragments(&ip_udp(a, b, &[7; 3000]), 5, 1480);
    let Ok(Packet::Fragment(first)) = parse(101, &frags[0]) else {
        panic!("not a fragment");
    };
    assert_eq!(
        (first.offset, first.more, first.udp),
        (0, true, Some((40000, 9, 3008)))
    );
    let Ok(Packet::Fragment(last)) = parse(101, &frags[2]) else {
        panic!("not a fragment");
    };
    assert_eq!(
        (last.id, last.offset, last.more, last.udp),
        (5, 2960, false, None)
    );
}

/// The summary's count is the server's own (`Tally`, udpseqserver's) on the same
/// numbers, its list of missing numbers cut after [`RANGES`] ranges.
#[test]
fn the_count_is_the_servers() {
    let runs: [&[i32]; 4] = [
        &[0, 1, 3, 2, 4, 7],
        &[5, 5, 200, 63, 64, 65, 127, 129],
        &[-3, 0, 70_000, 1, 1 << 24],
        &[
            2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40,
        ],
    ];
    let mut lines = Vec::new();
    for run in runs {
        let (mut ours, mut tally, mut expected) = (Sequence::default(), Tally::default(), 0);
        for (i, &n) in run.iter().enumerate() {
            let dg = seq::encode(n);
            ours.datagram(&Seen {
                frame: i as u64 + 1,
                side: Side::Client,
                payload: &dg,
                len: dg.len(),
            });
            tally.record(n, expected);
            expected = n.wrapping_add(1);
        }
        let line = ours.finish().lines.remove(0);
        let prefix = "udpseqserver's count, over this capture's datagrams: ";
        assert_eq!(line, format!("{prefix}{}", tally.summary_listing(RANGES)));
        lines.push(line.trim_start_matches(prefix).to_string());
    }
    assert_eq!(
        lines,
        [
            "received 6 datagrams, 4 out of order, 2 never arrived: 5-6",
            "received 8 datagrams, 6 out of order, 194 never arrived: 0-4, 6-62, 66-126, 128, 130-199",
            "received 5 datagrams, 5 out of order, 69998 never arrived: 2-69999; 1 numbered 1048576 or more (not followed)",
            "received 20 datagrams, 20 out of order, 21 never arrived: 0-1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, …",
        ]
    );
}
