//! The tracker on hand-made segments: the handout's tables, who is the server, the close.

use super::*;

fn seg(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8) -> Segment<'static> {
    Segment {
        src,
        dst,
        seq,
        ack,
        flags: Flags(flags),
        win: 100,
        wscale: None,
        sack: None,
        len: 0,
        payload: b"",
    }
}

fn with_data(mut g: Segment<'static>, data: &'static [u8]) -> Segment<'static> {
    g.len = data.len() as u32;
    g.payload = data;
    g
}

/// The handout's session (ports 59538 → 1235, its ISNs) as Linux sends it: no window
/// update after the handshake. Its tables 1 and 2 come out exactly; its close goes
/// from 37/171 to 38/172 for the client.
#[test]
fn the_handouts_tables_on_a_linux_handshake() {
    let (c, s): (SocketAddr, SocketAddr) = (
        "127.0.0.1:59538".parse().unwrap(),
        "127.0.0.1:1235".parse().unwrap(),
    );
    let (ci, si) = (0xc136_865au32, 0x19d1_2af0u32);
    let (a, p, f, sy) = (Flags::ACK, Flags::PSH, Flags::FIN, Flags::SYN);
    let reply = b"New number generated: 8";
    let mut t = Tracker::new(None, None);
    let mut rows = Vec::new();
    for g in [
        seg(c, s, ci, 0, sy),
        seg(s, c, si, ci + 1, sy | a),
        seg(c, s, ci + 1, si + 1, a),
        with_data(seg(c, s, ci + 1, si + 1, p | a), &[0; 4]),
        seg(s, c, si + 1, ci + 5, a),
        with_data(seg(s, c, si + 1, ci + 5, p | a), reply),
        seg(c, s, ci + 5, si + 24, a),
        // Skip to the handout's close: the client's FIN at Seq=37 Ack=171.
        seg(c, s, ci + 37, si + 171, f | a),
        seg(s, c, si + 171, ci + 38, a),
        seg(s, c, si + 171, ci + 38, f | a),
        seg(c, s, ci + 38, si + 172, a),
    ] {
        rows.push(t.segment(rows.len() as u64 + 1, 0, &g).unwrap());
    }
    let book = |t: &Table| -> Vec<[u32; 4]> {
        t.rows
            .iter()
            .map(|r| {
                let b = r.book;
                [b.server_seq, b.server_ack, b.client_seq, b.client_ack]
            })
            .collect()
    };
    let data = rows[6].table.as_ref().expect("the exchange's table");
    assert_eq!(data.kind, TableKind::Exchange);
    assert_eq!(
        book(data),
        [[1, 1, 1, 1], [1, 5, 1, 1], [1, 5, 1, 1], [1, 5, 5, 24]]
    );
    let close = rows[10].table.as_ref().expect("the close's table");
    assert_eq!(close.kind, TableKind::Close);
    assert_eq!(
        book(close),
        [
            [1, 5, 37, 171],
            [171, 38, 37, 171],
            [171, 38, 37, 171],
            [171, 38, 38, 172]
        ]
    );
    assert!(rows.iter().all(|r| r.cut_short.is_none()));
}

/// Without the handshake, the port filter's side is the server, whichever port is
/// higher; with it, the SYN decides.
#[test]
fn the_port_decides_the_server_only_without_a_syn() {
    let (lo, hi): (SocketAddr, SocketAddr) = (
        "127.0.0.1:1235".parse().unwrap(),
        "127.0.0.1:59538".parse().unwrap(),
    );
    let mut t = Tracker::new(None, Some(59538));
    let row = t.segment(1, 0, &seg(lo, hi, 100, 200, Flags::ACK)).unwrap();
    assert_eq!(row.side, Side::Client);
    assert_eq!(t.conn(1).unwrap().server, hi);
    let mut t = Tracker::new(None, Some(59538));
    let row = t.segment(1, 0, &seg(hi, lo, 100, 0, Flags::SYN)).unwrap();
    assert_eq!(row.side, Side::Client);
    assert_eq!(t.conn(1).unwrap().server, lo);
    let other: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    assert!(t.segment(2, 0, &seg(other, lo, 1, 0, Flags::SYN)).is_none());
    assert_eq!(t.dropped_ports(), [40000, 1235]);
}

#[test]
fn a_fin_that_acknowledges_the_other_fin_is_close_2_and_3() {
    let (c, s): (SocketAddr, SocketAddr) = (
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:9877".parse().unwrap(),
    );
    let (a, f, sy) = (Flags::ACK, Flags::FIN, Flags::SYN);
    let mut t = Tracker::new(None, None);
    let phases: Vec<String> = [
        seg(c, s, 10, 0, sy),
        seg(s, c, 50, 11, sy | a),
        seg(c, s, 11, 51, a),
        seg(c, s, 11, 51, f | a),
        seg(s, c, 51, 12, f | a),
        seg(c, s, 12, 52, a),
    ]
    .iter()
    .enumerate()
    .map(|(i, g)| t.segment(i as u64 + 1, 0, g).unwrap().phase.to_string())
    .collect();
    assert_eq!(
        phases,
        [
            "handshake 1/3",
            "handshake 2/3",
            "handshake 3/3",
            "close 1/4",
            "close 2+3/4",
            "close 4/4"
        ]
    );
}

#[test]
fn wireshark_versions_map_to_their_rules() {
    use super::wireshark::{Like, Rule};
    for (version, like) in [
        ("3.6.2", Like::V4_0),
        ("4.0", Like::V4_0),
        ("4.0.17", Like::V4_0),
        ("4.2.2", Like::V4_4),
        ("4.4", Like::V4_4),
        ("4.4.19", Like::V4_4),
        ("4.6.9", Like::V4_6),
        ("5.0", Like::V4_6),
    ] {
        assert_eq!(Like::parse(version), Ok(like), "{version}");
    }
    for bad in ["", "4", "four.four", "4.x"] {
        assert!(Like::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Like::default(), Like::V4_4);
    for rule in Rule::ALL {
        assert!(
            !Like::V4_0.follows(rule) && Like::V4_6.follows(rule),
            "{rule:?}"
        );
    }
    let only_46: Vec<Rule> = (Rule::ALL.into_iter())
        .filter(|r| !Like::V4_4.follows(*r))
        .collect();
    assert_eq!(only_46, [Rule::OutOfOrderTimedFromAck]);
}
