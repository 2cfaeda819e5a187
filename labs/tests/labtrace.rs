//! labtrace against real captures: the course's macOS capture, captures the tests build
//! byte by byte, and captures tcpdump makes of loopback lottery sessions, checked
//! against tshark's own relative sequence numbers.
//!
//! Tests that need tcpdump or tshark skip with a printed reason when they are missing,
//! unless UNPLAB_REQUIRE_CAPTURE=1 (CI), where they fail instead; the test on the
//! course's capture likewise with UNPLAB_REQUIRE_SHARED (see [`testkit::skip`]).

use labs::capture::{pcap_header, pcap_record};
use labs::packet::{Flags, build_ip_tcp};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
mod support;
use support::{capture, field, have, labtrace, tmpdir};

/// (frame, seq, ack, len) per TCP segment, from labtrace and from tshark; asserted equal.
fn compare_with_tshark(file: &Path) -> usize {
    let (code, out, err) = labtrace(&["--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "labtrace failed: {err}");
    let ours: Vec<String> = out
        .lines()
        .map(|l| {
            ["frame", "seq", "ack", "len"]
                .map(|k| field(l, k))
                .join("\t")
        })
        .collect();
    let ts = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args([
            "-o",
            "tcp.relative_sequence_numbers:TRUE",
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.ack",
            "-e",
            "tcp.len",
        ])
        .output()
        .expect("run tshark");
    assert!(
        ts.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&ts.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&ts.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(!theirs.is_empty(), "tshark saw no TCP in {file:?}");
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b, "labtrace vs tshark (frame seq ack len) in {file:?}");
    }
    assert_eq!(ours.len(), theirs.len(), "segment count in {file:?}");
    ours.len()
}

#[test]
fn the_course_capture_matches_tshark_and_tells_the_story() {
    let Some(path) = testkit::course_capture("lottery-macos-lo0.pcap") else {
        return;
    };
    let (code, out, _) = labtrace(&[path.to_str().unwrap()]);
    assert_eq!(code, 0);
    for want in [
        "Connection 1: client 127.0.0.1:52875 → server 127.0.0.1:12345 (lottery)",
        "window scale option in the SYNs: win = header value × 32 from the client, × 32 from the server\n",
        "     5   1.221196  C→S  [P.]        1      1   408288     4  data            GEN",
        "     7   1.221340  S→C  [P.]        1      5   408288    24  data            \"New number generated: 11\"",
        "        #8 C→S [.] len 0                  1          5          5         25",
        "    39   7.883724  S→C  [P.]      190     37   408256     4  data            \"Full\"",
        // The handout's tables 1 and 2: after the client's "0" (Seq=1 Len=4) 1/1/1/1,
        // after the server's ACK (Seq=1 Ack=5) 1/5/1/1. (macOS's window update #4 is
        // Seq=1 Ack=1 too; the Linux tests check the same rows without it.)
        "\
     8   1.221365  C→S  [.]         5     25   408256     0  ACK             
        bookkeeping: each side's Seq and Ack are those of the last segment it sent;
        a SYN counts as Seq 1 (it uses up Seq 0), so after the handshake both sides are at Seq 1 Ack 1
        data exchange            Server Seq Server Ack Client Seq Client Ack
        #5 C→S [P.] len 4                 1          1          1          1
        #6 S→C [.] len 0                  1          5          1          1
        #7 S→C [P.] len 24                1          5          1          1
        #8 C→S [.] len 0                  1          5          5         25
     9   1.900372  C→S  [P.]        5     25   408256     4  data            GEN
",
        // END has no reply: the client's FIN cuts its exchange short; the close gets
        // its own table (the client goes from 45/220 to 46/221, as the handout's
        // close goes from 37/171 to 38/172).
        "\
        #46 S→C [.] len 0               220         45         41        220
    47  10.319046  C→S  [F.]       45    220   408064     0  close 1/4       
",
        // The FINs crossed (a simultaneous close): macOS sends each FIN again with
        // the ACK of the other's, then ACKs those copies; both sides end in TIME_WAIT.
        "\
    47  10.319046  C→S  [F.]       45    220   408064     0  close 1/4       
    48  10.319066  S→C  [F.]      220     45   408256     0  simul. close 2/4 
        ↳ simultaneous close: this FIN crossed the FIN of #47: each side closed before it heard of the other's close, so both will end in TIME_WAIT
    49  10.319093  S→C  [F.]      220     46   408256     0  simul. close 3/4 
        ↳ retransmission: the server sends its FIN again (first in #48): it had no ACK for it yet (its retransmission timer ran out, or the ACK was lost)
    50  10.319106  C→S  [F.]       45    221   408064     0  simul. close 4/4 
        ↳ retransmission: the client sends its FIN again: it had no ACK for it yet (its retransmission timer ran out, or the ACK was lost)
    51  10.319129  C→S  [.]        46    221   408064     0  close (ACK again) 
        ↳ duplicate ACK #1 (of #50): the client repeats Ack 221 with nothing new: it still expects byte 221 (a segment after a gap, or a copy of one it has, came in)
    52  10.319144  S→C  [.]       221     46   408256     0  close (ACK again) 
        ↳ duplicate ACK #1 (of #49): the server repeats Ack 46 with nothing new: it still expects byte 46 (a segment after a gap, or a copy of one it has, came in)
        ↳ TIME_WAIT: both sides closed at once (simultaneous close), so both wait 2×MSL (60 s on Linux) in TIME_WAIT
        close                    Server Seq Server Ack Client Seq Client Ack
        #47 C→S [F.] len 0              220         45         45        220
        #48 S→C [F.] len 0              220         45         45        220
        #49 S→C [F.] len 0              220         46         45        220
        #50 C→S [F.] len 0              220         46         45        221
        #51 C→S [.] len 0               220         46         46        221
        #52 S→C [.] len 0               221         46         46        221

52 packets, 52 TCP segments in 1 connection(s), 0 non-TCP packets skipped
",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    if have("tshark", "the comparison with tshark") {
        assert_eq!(compare_with_tshark(&path), 52);
        assert_eq!(compare_windows_with_tshark(&path).len(), 52);
    }
}

/// A segment to build: source, destination, sequence and acknowledgement numbers, flags,
/// payload.
type Seg<'a> = (SocketAddr, SocketAddr, u32, u32, u8, &'a [u8]);

/// A BSD-loopback (macOS lo0) pcap of `segs`, one packet a millisecond.
fn bsd_loopback_pcap(segs: &[Seg]) -> Vec<u8> {
    let mut file = pcap_header(0).to_vec();
    for (i, (src, dst, seq, ack, flags, data)) in segs.iter().enumerate() {
        let mut frame = 2u32.to_le_bytes().to_vec(); // AF_INET in the host's order
        frame.extend_from_slice(&build_ip_tcp(*src, *dst, *seq, *ack, *flags, 12759, data));
        pcap_record(&mut file, 1_000_000 + 1000 * i as u64, &frame);
    }
    file
}

/// The handout's session, built packet by packet in a BSD-loopback (macOS lo0) pcap, with
/// the GEN command split over two segments and a second connection that is reset.
fn handout_capture(dir: &Path) -> PathBuf {
    let c: SocketAddr = "127.0.0.1:59538".parse().unwrap();
    let s: SocketAddr = "127.0.0.1:1235".parse().unwrap();
    let (ci, si) = (0xc136_865au32, 0x19d1_2af0u32);
    let (a, p, f, sy, r) = (Flags::ACK, Flags::PSH, Flags::FIN, Flags::SYN, Flags::RST);
    let reply = b"New number generated: 8";
    let mut segs: Vec<Seg> = vec![
        (c, s, ci, 0, sy, b""),
        (s, c, si, ci + 1, sy | a, b""),
        (c, s, ci + 1, si + 1, a, b""),
        (c, s, ci + 1, si + 1, p | a, &[0, 0]),
        (c, s, ci + 3, si + 1, p | a, &[0, 0]),
        (s, c, si + 1, ci + 5, a, b""),
        (s, c, si + 1, ci + 5, p | a, reply),
        (c, s, ci + 5, si + 24, a, b""),
        (c, s, ci + 5, si + 24, f | a, b""),
        (s, c, si + 24, ci + 6, a, b""),
        (s, c, si + 24, ci + 6, f | a, b""),
        (c, s, ci + 6, si + 25, a, b""),
    ];
    let c2: SocketAddr = "127.0.0.1:59540".parse().unwrap();
    segs.push((c2, s, 1000, 0, sy, b""));
    segs.push((s, c2, 0, 1001, r | a, b""));
    let mut file = bsd_loopback_pcap(&segs);
    // A packet that is neither TCP nor UDP (ICMP, and no error about a datagram): counted
    // and skipped.
    let mut icmp = 2u32.to_le_bytes().to_vec();
    let mut ip = build_ip_tcp(c, s, 0, 0, 0, 0, b"");
    ip[9] = 1;
    icmp.extend_from_slice(&ip);
    pcap_record(&mut file, 2_000_000, &icmp);
    let path = dir.join("handout.pcap");
    std::fs::write(&path, file).unwrap();
    path
}

#[test]
fn a_built_bsd_loopback_capture_is_explained() {
    let dir = tmpdir("built");
    let path = handout_capture(&dir);
    let (code, out, err) = labtrace(&[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let want = "\
Connection 1: client 127.0.0.1:59538 → server 127.0.0.1:1235 (lottery)
     #       time  dir  flags     seq    ack      win   len  phase           payload
     1   0.000000  C→S  [S]         0      -    12759     0  handshake 1/3   
     2   0.001000  S→C  [S.]        0      1    12759     0  handshake 2/3   
     3   0.002000  C→S  [.]         1      1    12759     0  handshake 3/3   
     4   0.003000  C→S  [P.]        1      1    12759     2  data            2 bytes of an incomplete message
     5   0.004000  C→S  [P.]        3      1    12759     2  data            GEN (with 2 bytes from an earlier segment)
     6   0.005000  S→C  [.]         1      5    12759     0  ACK             
     7   0.006000  S→C  [P.]        1      5    12759    23  data            \"New number generated: 8\"
     8   0.007000  C→S  [.]         5     24    12759     0  ACK             
        bookkeeping: each side's Seq and Ack are those of the last segment it sent;
        a SYN counts as Seq 1 (it uses up Seq 0), so after the handshake both sides are at Seq 1 Ack 1
        data exchange            Server Seq Server Ack Client Seq Client Ack
        #4 C→S [P.] len 2                 1          1          1          1
        #5 C→S [P.] len 2                 1          1          3          1
        #6 S→C [.] len 0                  1          5          3          1
        #7 S→C [P.] len 23                1          5          3          1
        #8 C→S [.] len 0                  1          5          5         24
     9   0.008000  C→S  [F.]        5     24    12759     0  close 1/4       
    10   0.009000  S→C  [.]        24      6    12759     0  close 2/4       
    11   0.010000  S→C  [F.]       24      6    12759     0  close 3/4       
    12   0.011000  C→S  [.]         6     25    12759     0  close 4/4       
        ↳ TIME_WAIT: the client closed first (active close), so it waits 2×MSL (60 s on Linux) in TIME_WAIT, ready to resend this last ACK; the server is CLOSED now
        close                    Server Seq Server Ack Client Seq Client Ack
        #9 C→S [F.] len 0                 1          5          5         24
        #10 S→C [.] len 0                24          6          5         24
        #11 S→C [F.] len 0               24          6          5         24
        #12 C→S [.] len 0                24          6          6         25

Connection 2: client 127.0.0.1:59540 → server 127.0.0.1:1235 (no payload)
     #       time  dir  flags     seq    ack      win   len  phase           payload
    13   0.012000  C→S  [S]         0      -    12759     0  handshake 1/3   
    14   0.013000  S→C  [R.]        1      1    12759     0  reset           
        ↳ reset: nobody listens on port 1235: the kernel refuses the connection and connect() fails with ECONNREFUSED

15 packets, 14 TCP segments in 2 connection(s), 1 non-TCP packet skipped
";
    assert_eq!(out, want);
    if have("tshark", "the comparison with tshark") {
        assert_eq!(compare_with_tshark(&path), 14);
    }
    let (_, json, _) = labtrace(&["--format", "json", path.to_str().unwrap()]);
    let line5 = json.lines().nth(4).unwrap();
    assert_eq!(
        line5,
        r#"{"frame":5,"time":0.004000,"conn":1,"src":"127.0.0.1:59538","dst":"127.0.0.1:1235","flags":"P.","seq":3,"ack":1,"len":2,"win":12759,"win_raw":12759,"phase":"data","decoded":"GEN (with 2 bytes from an earlier segment)"}"#
    );
    let (_, ladder, _) = labtrace(&["--ladder", path.to_str().unwrap()]);
    assert!(ladder.contains("    7 |<--"), "{ladder}");
    assert!(ladder.contains("[P.] seq=1 ack=5 len=23 \"New number generated: 8\" ---|  data"));
    let svg = dir.join("out.svg");
    let (code, _, _) = labtrace(&["--svg", svg.to_str().unwrap(), path.to_str().unwrap()]);
    assert_eq!(code, 0);
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(">[P.] seq=1 ack=5 len=23</text>"), "{svg}");
    assert!(svg.contains(" class=\"payload\">&quot;New number generated: 8&quot;</text>"));
    assert_eq!(svg.matches("marker-end").count(), 14);
}

#[test]
fn bad_files_give_clear_errors_and_truncated_ones_a_warning() {
    let dir = tmpdir("bad");
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let (code, out, err) = labtrace(&[empty.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("the file is empty: not a capture"), "{err}");
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (code, _, err) = labtrace(&[junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    let (code, _, err) = labtrace(&[dir.join("missing.pcap").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("open error") && err.contains("ENOENT"),
        "{err}"
    );
    // A capture cut in the middle of its last record.
    let whole = std::fs::read(handout_capture(&dir)).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let (code, out, err) = labtrace(&[cut.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("14 packets, 14 TCP segments"), "{out}");
    assert!(
        err.contains("warning:") && err.contains("truncated"),
        "{err}"
    );
}

/// unplab's own lottery server (`lotteryserver --concurrency thread --seed 1`) on
/// `bind` (loopback, port 0), in a thread of the test; returns the address it listens on.
fn lottery_server(bind: &str) -> SocketAddr {
    let servaddr: SocketAddr = bind.parse().expect("an address");
    let (listening, addr) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let how = unp::serve::Concurrency::ThreadPerClient;
        lottery::server::serve(servaddr, how, lottery::draw::Seeding::Fixed(1), |l| {
            let _ = listening.send(unp::sock::local_addr(l));
            Ok(())
        })
    });
    addr.recv()
        .expect("the server starts")
        .expect("getsockname")
}

/// The first number a server seeded with 1 draws.
fn first_number() -> String {
    match lottery::draw::Draw::seeded(1).generate() {
        lottery::proto::Reply::NewNumber(n) => n.to_string(),
        other => panic!("{other:?}"),
    }
}

/// Client side of one session: GEN, LIST, END; `reset` aborts with RST instead of END.
fn lottery_session(addr: SocketAddr, reset: bool) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 256];
    for cmd in [0i32, 1] {
        s.write_all(&cmd.to_le_bytes()).unwrap();
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
    }
    if reset {
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    } else {
        s.write_all(&2i32.to_le_bytes()).unwrap();
        assert_eq!(s.read(&mut buf).unwrap(), 0, "END: the server closes");
    }
}

fn captured(
    test: &str,
    iface: &str,
    bind: &str,
    linktype: u32,
    traffic: impl Fn(SocketAddr) -> usize,
) -> String {
    if !have("tcpdump", "the capture") || !have("tshark", "the capture") {
        return String::new();
    }
    let dir = tmpdir(test);
    let addr = lottery_server(bind);
    let file = dir.join("cap.pcap");
    if !capture(iface, addr.port(), &file, || traffic(addr)) {
        return String::new();
    }
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(
        u32::from_le_bytes(bytes[20..24].try_into().unwrap()),
        linktype
    );
    let n = compare_with_tshark(&file);
    assert!(n >= 10, "only {n} segments captured");
    // Linux offers window scaling in every SYN: the scaled windows must agree too.
    assert_eq!(compare_windows_with_tshark(&file).len(), n);
    let (code, out, err) = labtrace(&["--port", &addr.port().to_string(), file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("  GEN\n") || out.contains(" GEN\n"), "{out}");
    let first = first_number();
    assert!(
        out.contains(&format!("\"New number generated: {first}\"")),
        "{out}"
    );
    assert!(out.contains(&format!("\"numbers: {first} ")), "{out}");
    assert!(out.contains("handshake 3/3"), "{out}");
    // The handout's first table, on Linux (no window update after the handshake): the
    // client's GEN (Seq=1 Len=4) leaves both sides at Seq 1 Ack 1. Every session
    // starts with one.
    let sessions = out.matches("Connection ").count();
    let first_rows = table_rows(&out)
        .filter(|(what, book)| what.contains("C→S [P.] len 4") && *book == [1, 1, 1, 1])
        .count();
    assert_eq!(first_rows, sessions, "{out}");
    out
}

/// The rows of the text view's bookkeeping tables: (what, [SSeq, SAck, CSeq, CAck]).
fn table_rows(out: &str) -> impl Iterator<Item = (String, [u32; 4])> + '_ {
    out.lines().filter(|l| l.starts_with("        #")).map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let (what, nums) = words.split_at(words.len() - 4);
        let book = [0, 1, 2, 3].map(|i| nums[i].parse().expect("a number"));
        (what.join(" "), book)
    })
}

/// The close tables of the text view: each one's rows.
fn close_tables(out: &str) -> Vec<Vec<(String, [u32; 4])>> {
    out.split("        close                    Server Seq")
        .skip(1)
        .map(|t| {
            let body = t.split_once('\n').map_or("", |(_, b)| b);
            let end = body.find("\n\n").map_or(body.len(), |e| e + 1);
            table_rows(&body[..end]).collect()
        })
        .collect()
}

#[test]
fn tcpdump_on_lo_ethernet_ipv4_matches_tshark() {
    let out = captured("lo_ipv4", "lo", "127.0.0.1:0", 1, |a| {
        lottery_session(a, false);
        1
    });
    assert!(
        out.is_empty() || out.contains(" in 1 connection(s), 0 non-TCP"),
        "{out}"
    );
    if out.is_empty() {
        return;
    }
    // END, then the close in a table of its own, from the first FIN (the server's or
    // the client's: they race) to the last ACK, which the first closer sends one past
    // its FIN, acknowledging the other's (as the handout's close goes from 37/171 to
    // 38/172).
    let closes = close_tables(&out);
    assert_eq!(closes.len(), 1, "{out}");
    let rows = &closes[0];
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    let (me, other, col, other_col) = if first.0.contains("S→C") {
        ("S→C", "C→S", 0, 2)
    } else {
        ("C→S", "S→C", 2, 0)
    };
    assert!(first.0.contains(&format!("{me} [F.] len 0")), "{out}");
    assert!(last.0.contains(&format!("{me} [.] len 0")), "{out}");
    let other_fin = rows
        .iter()
        .find(|(what, _)| what.contains(&format!("{other} [F")))
        .expect("the other FIN");
    assert_eq!(last.1[col], first.1[col] + 1, "{out}");
    assert_eq!(last.1[col + 1], other_fin.1[other_col] + 1, "{out}");
    assert_eq!(last.1[other_col + 1], first.1[col] + 1, "{out}");
}

#[test]
fn tcpdump_on_any_sll2_ipv6_with_a_reset_matches_tshark() {
    let out = captured("any_ipv6", "any", "[::1]:0", 276, |a| {
        lottery_session(a, false);
        lottery_session(a, true);
        2
    });
    assert!(out.is_empty() || out.contains("  reset"), "{out}");
}

#[test]
fn simultaneous_connections_are_kept_apart() {
    let out = captured("simultaneous", "lo", "127.0.0.1:0", 1, |a| {
        let clients: Vec<_> = (0..4)
            .map(|i| std::thread::spawn(move || lottery_session(a, i == 3)))
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        4
    });
    assert!(
        out.is_empty() || out.contains(" in 4 connection(s)"),
        "{out}"
    );
    for id in 1..=4 {
        assert!(
            out.is_empty() || out.contains(&format!("Connection {id}: client")),
            "{out}"
        );
    }
}

/// What the fuzz targets (labs/fuzz) do, on a deterministic set of damaged files: every
/// prefix of a capture and every single-byte change of its headers; never a panic.
#[test]
fn damaged_captures_never_panic() {
    use labs::render::View;
    let dir = tmpdir("damaged");
    let whole = std::fs::read(handout_capture(&dir)).unwrap();
    let views = [View::Text, View::Json, View::Ladder];
    let mut n = 0;
    let mut run = |bytes: &[u8]| {
        n += 1;
        let opts = labs::Options {
            proto: None,
            port: None,
            view: views[n % 3],
            svg: n % 2 == 0,
            rtt: n % 4 < 2,
            tsg: n % 3 == 1,
            html: (n % 5 == 0).then(|| "damaged.pcap".to_string()),
            wireshark: Default::default(),
        };
        let _ = labs::trace(bytes, &opts, std::io::sink());
    };
    // Every prefix through the first records, then every third one.
    for len in (0..whole.len()).filter(|&l| l < 200 || l % 3 == 0) {
        run(&whole[..len]);
    }
    // Every header byte of the file and of the first packets, set to edge values.
    for at in 0..whole.len().min(150) {
        for v in [0x00, 0x7f, 0xff] {
            let mut bad = whole.clone();
            bad[at] = v;
            run(&bad);
        }
    }
}

/// Connections whose SYNs say different things about window scaling, in one capture:
/// both offer it, only the client, only the server, no SYN at all, only the SYN seen,
/// and a shift over the maximum of 14.
fn window_scale_capture(dir: &Path) -> PathBuf {
    use labs::packet::build_ip_tcp_wscale;
    let s: SocketAddr = "127.0.0.1:9877".parse().unwrap();
    let (a, p, sy) = (Flags::ACK, Flags::PSH, Flags::SYN);
    let mut file = pcap_header(0).to_vec();
    let mut t = 1_000_000u64;
    let mut put = |src, dst, seq, ack, flags, win, ws, data: &[u8]| {
        let mut frame = 2u32.to_le_bytes().to_vec();
        frame.extend_from_slice(&build_ip_tcp_wscale(
            src, dst, seq, ack, flags, win, ws, data,
        ));
        pcap_record(&mut file, t, &frame);
        t += 1000;
    };
    let cases = [
        (50001, Some(7), Some(6), true, true),
        (50002, Some(7), None, true, true),
        (50003, None, Some(6), true, true),
        (50004, Some(7), Some(7), false, false),
        (50005, Some(7), Some(7), true, false),
        (50006, Some(15), Some(2), true, true),
    ];
    for (port, cws, sws, syn, synack) in cases {
        let c = SocketAddr::new(s.ip(), port);
        let (ci, si) = (1000u32, 5000u32);
        if syn {
            put(c, s, ci, 0, sy, 65495, cws, b"");
        }
        if synack {
            put(s, c, si, ci + 1, sy | a, 65483, sws, b"");
            put(c, s, ci + 1, si + 1, a, 512, None, b"");
        }
        put(c, s, ci + 1, si + 1, p | a, 512, None, b"3 4\n");
        put(s, c, si + 1, ci + 5, p | a, 511, None, b"7\n");
        put(c, s, ci + 5, si + 3, a, 510, None, b"");
    }
    let path = dir.join("wscale.pcap");
    std::fs::write(&path, file).unwrap();
    path
}

/// labtrace's `win` and `win_raw` are tshark's `tcp.window_size` and
/// `tcp.window_size_value`, segment by segment.
fn compare_windows_with_tshark(file: &Path) -> Vec<String> {
    let (code, out, err) = labtrace(&["--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "labtrace failed: {err}");
    // The segments' lines (a connection without a close adds a line of its own).
    let ours: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("{\"frame\":"))
        .map(|l| ["frame", "win", "win_raw"].map(|k| field(l, k)).join("\t"))
        .collect();
    let ts = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", "tcp", "-T", "fields", "-e", "frame.number"])
        .args(["-e", "tcp.window_size", "-e", "tcp.window_size_value"])
        .output()
        .expect("run tshark");
    assert!(
        ts.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&ts.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&ts.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b, "labtrace vs tshark (frame win win_raw) in {file:?}");
    }
    assert_eq!(ours.len(), theirs.len(), "segment count in {file:?}");
    ours
}

#[test]
fn scaled_windows_match_tshark() {
    let dir = tmpdir("wscale");
    let path = window_scale_capture(&dir);
    let (code, out, err) = labtrace(&[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "Connection 1: client 127.0.0.1:50001 → server 127.0.0.1:9877 (sum08)\n\
         window scale option in the SYNs: win = header value × 128 from the client, × 64 from the server\n",
        // The SYNs' windows are never scaled; the rest are.
        "     2   0.001000  S→C  [S.]        0      1    65483     0  handshake 2/3",
        "     3   0.002000  C→S  [.]         1      1    65536     0  handshake 3/3",
        "     5   0.004000  S→C  [P.]        1      5    32704     2  data            \"7\\n\"",
        // Only the SYN in the capture: the client's windows are scaled.
        "Connection 5: client 127.0.0.1:50005 → server 127.0.0.1:9877 (sum08)\n\
         window scale option in the SYNs: win = header value × 128 from the client, × 1 (no scaling) from the server\n",
        // 15 is taken as 14.
        "    28   0.027000  C→S  [.]         1      1  8388608     0  handshake 3/3",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Connections 2-4: the option missing on one side, or no SYN seen: no scaling.
    assert_eq!(out.matches("window scale option").count(), 3, "{out}");
    let (_, json, _) = labtrace(&["--format", "json", path.to_str().unwrap()]);
    assert!(
        json.lines()
            .nth(2)
            .unwrap()
            .contains(r#""win":65536,"win_raw":512,"#)
    );
    assert!(
        json.lines()
            .nth(9)
            .unwrap()
            .contains(r#""win":512,"win_raw":512,"#)
    );
    if have("tshark", "the comparison with tshark") {
        let rows = compare_windows_with_tshark(&path);
        assert_eq!(rows.len(), 31);
        assert_eq!(rows[2], "3\t65536\t512");
    }
}

/// Captures with tcpdump on `iface` while `traffic` talks to a server that `serve` runs
/// in a thread on `bind` (port 0): unplab's own server and client code, in process.
/// Checks labtrace against tshark (seq/ack/len and windows) and returns its text view;
/// `None` when tcpdump or tshark is missing.
fn capture_lab(
    test: &str,
    iface: &str,
    bind: &str,
    serve: impl FnOnce(TcpListener) + Send + 'static,
    traffic: impl FnOnce(SocketAddr) -> usize,
) -> Option<String> {
    if !have("tcpdump", "the capture") || !have("tshark", "the capture") {
        return None;
    }
    let dir = tmpdir(test);
    let listener = TcpListener::bind(bind).expect("bind");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || serve(listener));
    let file = dir.join("cap.pcap");
    if !capture(iface, addr.port(), &file, || traffic(addr)) {
        return None;
    }
    let n = compare_with_tshark(&file);
    assert_eq!(compare_windows_with_tshark(&file).len(), n);
    let (code, out, err) = labtrace(&[file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    Some(out)
}

fn assert_lines(out: &str, wants: &[&str]) {
    for want in wants {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

/// A thread per client running `service`, as tcpservthread serves (its accept loop is
/// in its own `src/bin` file).
fn serve_threads(listener: TcpListener, service: fn(&TcpStream) -> unp::Result<()>) {
    while let Ok((conn, peer)) = unp::accept(&listener) {
        let _ = unp::serve::thread_per_client(conn, &peer, move |c, _| service(c));
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn tcpserv08_and_tcpcli08_sums_are_decoded() {
    use tcpcliserv::{client, service};
    let out = capture_lab(
        "sum08",
        "lo",
        "127.0.0.1:0",
        |l| serve_threads(l, service::str_echo08),
        |a| {
            let conn = connect(a);
            client::str_cli(
                &b"3 4\n11 123\nhello\n"[..],
                &conn,
                client::LineWrite::Whole,
            )
            .unwrap();
            1
        },
    );
    let Some(out) = out else { return };
    assert_lines(
        &out,
        &[
            "(sum08)\n",
            "  data            sum 3 + 4\n",
            "  data            \"7\\n\"\n",
            "  data            sum 11 + 123\n",
            "  data            \"134\\n\"\n",
            "  data            \"hello\\n\" (not two integers: input error)\n",
            "  data            \"input error\\n\"\n",
            "  close 4/4",
        ],
    );
}

#[test]
fn tcpserv09_and_tcpcli09_binary_sums_are_decoded() {
    use tcpcliserv::{client, service};
    let out = capture_lab(
        "sum09",
        "lo",
        "127.0.0.1:0",
        |l| serve_threads(l, service::str_echo09),
        |a| {
            let conn = connect(a);
            client::str_cli09(&b"3 4\n-5 5\n"[..], &conn).unwrap();
            1
        },
    );
    let Some(out) = out else { return };
    assert_lines(
        &out,
        &[
            "(sum09)\n",
            "    16  data            sum 3 + 4\n",
            "     8  data            sum = 7\n",
            "    16  data            sum -5 + 5\n",
            "     8  data            sum = 0\n",
        ],
    );
}

#[test]
fn echo_server_and_client_are_decoded() {
    use tcpcliserv::{client, service};
    let out = capture_lab(
        "echo",
        "lo",
        "127.0.0.1:0",
        |l| serve_threads(l, service::str_echo),
        |a| {
            let conn = connect(a);
            client::str_cli(&b"hello, world\n"[..], &conn, client::LineWrite::Whole).unwrap();
            1
        },
    );
    let Some(out) = out else { return };
    assert_lines(
        &out,
        &[
            "(echo)\n",
            "C→S  [P.]",
            "  data            \"hello, world\\n\"\n",
        ],
    );
    assert_eq!(out.matches("\"hello, world\\n\"").count(), 2, "{out}");
}

#[test]
fn daytime_over_ipv6_on_any_is_decoded() {
    let out = capture_lab(
        "daytime",
        "any",
        "[::1]:0",
        |l| {
            serve_threads(l, |c| {
                unp::writen(&mut &*c, &tcpcliserv::daytime::reply_now()?)
            })
        },
        |a| {
            let mut conn = connect(a);
            let mut line = String::new();
            conn.read_to_string(&mut line).unwrap();
            assert!(line.ends_with("\r\n"), "{line:?}");
            1
        },
    );
    let Some(out) = out else { return };
    assert_lines(
        &out,
        &["(daytime)\n", "S→C  [P.]", "  data            daytime \""],
    );
    // The server closes first: its FIN is close 1/4.
    assert!(
        out.contains("S→C  [F.]") && out.contains("close 1/4"),
        "{out}"
    );
}

#[test]
fn file_transfer_segments_and_refusals_are_decoded() {
    use filetransfer::{fetch, jail::Root, proto};
    let root_dir = tmpdir("ft-root");
    std::fs::write(root_dir.join("data.bin"), [7u8; 600]).unwrap();
    let root = Root::new(&root_dir).unwrap();
    let out = capture_lab(
        "ft",
        "lo",
        "127.0.0.1:0",
        // What `filetransfer::server::serve` answers (its lesson makes its own listening
        // socket): the file's segments and the end-of-file segment in one write, or the
        // error segment of the refusal.
        move |l| {
            for conn in l.incoming().take(2) {
                let mut conn = conn.unwrap();
                let mut path = [0u8; proto::BUFSIZE];
                let n = conn.read(&mut path).unwrap();
                let mut wire = Vec::new();
                match root.open(&path[..n]) {
                    Ok(mut file) => {
                        let mut data = Vec::new();
                        file.read_to_end(&mut data).unwrap();
                        proto::encode_piece(&data, true, &mut wire);
                    }
                    Err(refusal) => {
                        wire.extend_from_slice(&proto::encode_error(&refusal.message()))
                    }
                }
                conn.write_all(&wire).unwrap();
            }
        },
        |a| {
            let opts = fetch::Options {
                timeout: Duration::from_secs(10),
                progress: false,
                trust_close: false,
            };
            let local = tmpdir("ft-local");
            let port = a.port();
            let got = fetch::fetch("127.0.0.1", port, "data.bin", &local.join("x"), &opts);
            assert_eq!(got.unwrap(), 600);
            assert!(fetch::fetch("127.0.0.1", port, "nope.txt", &local.join("y"), &opts).is_err());
            2
        },
    );
    let Some(out) = out else { return };
    assert_lines(
        &out,
        &[
            "(ft)\n",
            "  data            path \"data.bin\"\n",
            "segment len=256",
            "segment len=88 (last data)",
            "end-of-file segment",
            "  data            path \"nope.txt\"\n",
            "  data            error segment \"",
        ],
    );
}

#[test]
fn ladder_and_json_together_are_refused() {
    let dir = tmpdir("conflict");
    let path = handout_capture(&dir);
    let (code, out, err) = labtrace(&["--format", "json", "--ladder", path.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.starts_with(
            "error: --ladder draws the text view as a ladder diagram; it cannot be used with --format json\n"
        ),
        "{err}"
    );
    // The ladder is a text view: asking for text explicitly is fine.
    let (code, out, err) = labtrace(&["--format", "text", "--ladder", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("    7 |<--"), "{out}");
}

#[test]
fn an_unwritable_svg_fails_first_and_alone() {
    let dir = tmpdir("svg-error");
    let path = handout_capture(&dir);
    let (code, out, err) = labtrace(&["--svg", "/nonexistent/dir/x.svg", path.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "labtrace: open error for /nonexistent/dir/x.svg: No such file or directory (ENOENT)\n"
    );
    // A capture that cannot be read leaves an existing picture as it was, and creates none.
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"not a capture at all").unwrap();
    let old = dir.join("old.svg");
    std::fs::write(&old, "keep me").unwrap();
    let (code, _, err) = labtrace(&["--svg", old.to_str().unwrap(), junk.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "keep me");
    let new = dir.join("new.svg");
    let (code, _, _) = labtrace(&["--svg", new.to_str().unwrap(), junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(!new.exists());
    // A good capture replaces the old picture whole.
    let (code, _, err) = labtrace(&["--svg", old.to_str().unwrap(), path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&old).unwrap();
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
}

#[test]
fn a_port_that_matches_nothing_is_an_error_naming_the_ports_seen() {
    let dir = tmpdir("port");
    let path = handout_capture(&dir);
    let file = path.to_str().unwrap();
    // The error alone: no summary before it, no quiz intro, no picture left behind.
    let svg = dir.join("none.svg");
    let wrong = "labtrace: no TCP segment to or from port 9999; ports seen: 59538, 1235, 59540\n";
    for view in [&[][..], &["--format", "json"], &["--quiz"], &["--ladder"]] {
        let mut args = view.to_vec();
        args.extend(["--port", "9999", "--svg", svg.to_str().unwrap(), file]);
        let (code, out, err) = labtrace(&args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", wrong),
            "{view:?}"
        );
        assert!(!svg.exists(), "{view:?}");
    }
    // A capture without TCP says so: its one packet is a loopback header alone.
    let empty = no_tcp_capture(&dir);
    let (code, _, err) = labtrace(&["--port", "9999", empty.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "labtrace: no TCP segment to or from port 9999; the capture has no TCP segments\n"
    );
}

/// A pcap of the handout capture's first packet cut to its loopback header: one
/// packet, and it is not TCP.
fn no_tcp_capture(dir: &Path) -> PathBuf {
    let handout = std::fs::read(handout_capture(dir)).unwrap();
    let mut bytes = pcap_header(0).to_vec();
    pcap_record(&mut bytes, 1, &handout[24 + 16..][..4]);
    let path = dir.join("no-tcp.pcap");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_capture_without_packets_says_so_and_where_to_look() {
    let dir = tmpdir("no-packets");
    let header = dir.join("header-only.pcap");
    std::fs::write(&header, pcap_header(1)).unwrap();
    let file = header.to_str().unwrap();
    let empty = format!(
        "labtrace: {file}: the capture holds no packets, only its header: tcpdump captured \
         nothing (it listened on another interface, its filter named another port, or it \
         stopped before the session ran); see \"Troubleshooting\" in docs/capture.md\n"
    );
    // Also before --port's own complaint, and without the quiz's intro.
    for view in [
        &[][..],
        &["--format", "json"],
        &["--quiz"],
        &["--port", "9999"],
    ] {
        let mut args = view.to_vec();
        args.push(file);
        let (code, out, err) = labtrace(&args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (1, "", empty.as_str()),
            "{view:?}"
        );
    }
    // Cut inside its first record: no packet either, and the cut is the reason.
    let whole = std::fs::read(handout_capture(&dir)).unwrap();
    let cut = dir.join("first-cut.pcap");
    std::fs::write(&cut, &whole[..24 + 20]).unwrap();
    let (code, out, err) = labtrace(&[cut.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!(
            "labtrace: {}: no complete packet in the capture: stopped after packet 0 at byte \
             24: the file ends in the middle of a record (truncated capture)\n",
            cut.display()
        )
    );
    // Packets, none of them TCP: told, not an error.
    let (code, out, err) = labtrace(&[no_tcp_capture(&dir).to_str().unwrap()]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "1 packet, 0 TCP segments in 0 connection(s), 1 non-TCP packet skipped\n",
            ""
        )
    );
    let (_, help, _) = labtrace(&["--help"]);
    assert!(
        help.contains("\nExit status: 0 when the capture was explained"),
        "{help}"
    );
}

#[test]
fn outputs_that_cannot_be_opened_fail_before_the_capture_is_read() {
    let dir = tmpdir("outputs");
    let path = handout_capture(&dir);
    for flag in ["--svg", "--tsg", "--html"] {
        let (code, out, err) = labtrace(&[flag, "/nonexist/x.svg", path.to_str().unwrap()]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                1,
                "",
                "labtrace: open error for /nonexist/x.svg: No such file or directory (ENOENT)\n"
            ),
            "{flag}"
        );
    }
}

#[test]
fn the_client_port_filters_but_the_syn_still_names_the_client() {
    let dir = tmpdir("client-port");
    let path = handout_capture(&dir);
    let (code, out, err) = labtrace(&["--port", "59538", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Connection 1: client 127.0.0.1:59538 → server 127.0.0.1:1235 (lottery)\n"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "\n15 packets, 12 TCP segments in 1 connection(s), 1 non-TCP packet skipped\n"
        ),
        "{out}"
    );
    let (_, help, _) = labtrace(&["--help"]);
    assert!(
        help.contains(
            "The port does not decide who is the server: the side that sent the SYN is the client."
        ),
        "{help}"
    );
    assert!(!help.contains("its side is the server"), "{help}");
}

#[test]
fn the_help_documents_the_json_fields() {
    let (code, help, _) = labtrace(&["--help"]);
    assert_eq!(code, 0);
    for want in [
        "  frame    1-based frame number",
        "a SYN has \"ack\":0 (the text view shows -)",
        "  win      advertised window in bytes",
        "  decoded  null without payload; otherwise the same text as the text view's payload",
        "(\"decoded\":\"\\\"New number generated: 8\\\"\")",
    ] {
        assert!(help.contains(want), "missing {want:?} in:\n{help}");
    }
    // And the JSON says what the help says, for the handout's SYN and reply.
    let dir = tmpdir("json-doc");
    let path = handout_capture(&dir);
    let (_, json, _) = labtrace(&["--format", "json", path.to_str().unwrap()]);
    let lines: Vec<&str> = json.lines().collect();
    assert!(
        lines[0].contains(r#""flags":"S","seq":0,"ack":0,"len":0,"#),
        "{json}"
    );
    assert!(
        lines[6].ends_with(r#""decoded":"\"New number generated: 8\""}"#),
        "{json}"
    );
    assert!(lines[2].ends_with(r#""decoded":null}"#), "{json}");
}

/// One request and its reply after a handshake, in a built capture (port 9877).
fn one_exchange(dir: &Path, request: &[u8], reply: &[u8]) -> PathBuf {
    let c: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let s: SocketAddr = "127.0.0.1:9877".parse().unwrap();
    let (a, p, sy) = (Flags::ACK, Flags::PSH, Flags::SYN);
    let (asked, answered) = (request.len() as u32, reply.len() as u32);
    let file = bsd_loopback_pcap(&[
        (c, s, 100, 0, sy, b""),
        (s, c, 500, 101, sy | a, b""),
        (c, s, 101, 501, a, b""),
        (c, s, 101, 501, p | a, request),
        (s, c, 501, 101 + asked, p | a, reply),
        (c, s, 101 + asked, 501 + answered, a, b""),
    ]);
    let path = dir.join("exchange.pcap");
    std::fs::write(&path, file).unwrap();
    path
}

/// labtrace's payload column (the text after the phase) for frames 4 and 5.
fn payloads(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.contains("  data  "))
        .map(|l| l.split_once("  data  ").map_or("", |(_, p)| p.trim()))
        .collect()
}

/// A peer's ESC and newline come out as `\x1b` and `\n` (unp::printable), in every view:
/// never the raw byte that would drive the student's terminal, never Rust's `\u{1b}`.
fn assert_escaped(file: &Path, proto: &str, want: &[&str]) {
    let file = file.to_str().unwrap();
    let (code, out, err) = labtrace(&["--proto", proto, file]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(payloads(&out), want, "{out}");
    let (_, ladder, _) = labtrace(&["--proto", proto, "--ladder", file]);
    let (_, json, _) = labtrace(&["--proto", proto, "--format", "json", file]);
    for text in [&out, &ladder, &json] {
        assert!(
            !text.contains('\u{1b}') && !text.contains("\\u{1b}"),
            "{text}"
        );
    }
    assert!(json.contains(r#""decoded":"\"\\x1b[2J"#), "{json}");
}

#[test]
fn echo_payloads_show_esc_and_newline_as_printable_escapes() {
    let dir = tmpdir("escape-echo");
    let line = b"\x1b[2Jcleared\n";
    let file = one_exchange(&dir, line, line);
    let shown = r#""\x1b[2Jcleared\n""#;
    assert_escaped(&file, "echo", &[shown, shown]);
}

#[test]
fn lottery_payloads_show_esc_and_newline_as_printable_escapes() {
    let dir = tmpdir("escape-lottery");
    let file = one_exchange(&dir, &[0, 0, 0, 0], b"\x1b[2JNew number generated: 8\n");
    assert_escaped(
        &file,
        "lottery",
        &[
            "GEN",
            r#""\x1b[2JNew number generated: 8\n" (not a lottery reply)"#,
        ],
    );
}

/// The first `n` packets of a little-endian pcap file.
fn first_packets(pcap: &[u8], n: usize) -> Vec<u8> {
    assert_eq!(pcap[..4], [0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    let mut end = 24;
    for _ in 0..n {
        let caplen = u32::from_le_bytes(pcap[end + 8..end + 12].try_into().unwrap());
        end += 16 + caplen as usize;
    }
    pcap[..end].to_vec()
}

/// A capture that stops while a connection is open ends that connection with a line
/// saying so, in every view, and in JSON with a line of its own after the segments'
/// (which are as they were); a connection that closed or was reset gets none.
#[test]
fn a_connection_without_fin_or_rst_ends_with_a_line_saying_so() {
    let dir = tmpdir("no-close");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/captures/lottery-seed7.pcap");
    let whole = std::fs::read(&seed).unwrap();
    // 17 packets: LIST and its reply are #11 and #12; END and the close come after.
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, first_packets(&whole, 12)).unwrap();
    let file = cut.to_str().unwrap();
    let note = "        ↳ no FIN or RST in the capture: the capture ended while the connection \
                was still open, or the close was not captured\n";
    let (code, out, err) = labtrace(&[file]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.ends_with(&format!(
            "        #12 S→C [P.] len 21              48         13          9         48\n\
             {note}\n\
             12 packets, 12 TCP segments in 1 connection(s), 0 non-TCP packets skipped\n"
        )),
        "{out}"
    );
    assert_eq!(out.matches("no FIN or RST").count(), 1);
    let (_, ladder, _) = labtrace(&["--ladder", file]);
    assert!(
        ladder.contains(&format!(
            "\"numbers: 19 2 0 0 0 0\" ---|  data\n{note}\n12 packets"
        )),
        "{ladder}"
    );
    let (_, quiz, _) = labtrace(&["--quiz", file]);
    assert!(quiz.contains(note), "{quiz}");
    let (_, json, _) = labtrace(&["--format", "json", file]);
    let (_, whole_json, _) = labtrace(&["--format", "json", seed.to_str().unwrap()]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 13, "{json}");
    assert_eq!(lines[..12], whole_json.lines().collect::<Vec<_>>()[..12]);
    assert_eq!(
        lines[12],
        r#"{"conn":1,"last_frame":12,"analysis":["no_close"],"note":"no FIN or RST in the capture: the capture ended while the connection was still open, or the close was not captured"}"#
    );
    let page = dir.join("cut.html");
    let (code, _, _) = labtrace(&["--html", page.to_str().unwrap(), file]);
    assert_eq!(code, 0);
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.contains("<p class=\"note\">↳ no FIN or RST in the capture: "));
    // Whole: the close is there. Cut after the client's FIN: a close was seen begun.
    // The handout's second connection is reset.
    let fin = dir.join("fin.pcap");
    std::fs::write(&fin, first_packets(&whole, 15)).unwrap();
    for path in [seed, fin, handout_capture(&dir)] {
        for view in [&["--format", "json"][..], &[]] {
            let mut args = view.to_vec();
            args.push(path.to_str().unwrap());
            let (code, out, _) = labtrace(&args);
            assert_eq!(code, 0);
            assert!(
                !out.contains("no FIN or RST") && !out.contains("no_close"),
                "{path:?}: {out}"
            );
        }
    }
}
