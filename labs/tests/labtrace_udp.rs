//! labtrace on UDP. Captures built datagram by datagram for what a loopback run does not
//! make on demand — gaps, copies and reordering in the sequence experiment, an echo that
//! never came, an ICMP port unreachable, IPv6, a datagram cut by the snap length, wrong
//! length fields, IP fragments, rft's retransmissions — each checked line by line; and
//! tcpdump captures of the lab's real UDP programs (udpechoserver/udpechoclient,
//! udpseqserver/udpseqclient, udpftserver/udpftclient, rftserver/rftclient,
//! dgcliconnect's ICMP error), whose every datagram's ports, length and direction are
//! checked against tshark's.
//!
//! The capture tests need tcpdump, tshark and root; they skip with a printed reason
//! without them, unless UNPLAB_REQUIRE_CAPTURE=1 (CI), where they fail instead. They run
//! udpcliserv's programs, built by `cargo build --workspace --bins` (or `cargo test
//! --workspace`).

use labs::capture::{pcap_header, pcap_record, pcap_record_snapped};
use labs::udp::build::{ip_udp, ip_udp_length, ipv4_fragments, ipv6_fragments, port_unreachable};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
mod labcheck_util;
mod support;
use support::{field, labtrace, tmpdir};

/// A capture being built: Ethernet (link type 1) or Linux cooked v2 (276) frames, one
/// millisecond apart.
struct Cap {
    linktype: u32,
    bytes: Vec<u8>,
    packets: u64,
}

impl Cap {
    fn new(linktype: u32) -> Cap {
        Cap {
            linktype,
            bytes: pcap_header(linktype).to_vec(),
            packets: 0,
        }
    }

    /// The link-layer frame around an IP packet.
    fn frame(&self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ether_type: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
        let mut f = match self.linktype {
            276 => {
                let mut h = ether_type.to_vec();
                h.extend_from_slice(&[0; 18]);
                h
            }
            _ => {
                let mut h = vec![0u8; 12];
                h.extend_from_slice(&ether_type);
                h
            }
        };
        f.extend_from_slice(ip);
        f
    }

    fn ip(&mut self, ip: &[u8]) -> &mut Cap {
        self.packets += 1;
        let frame = self.frame(ip);
        pcap_record(&mut self.bytes, self.packets * 1000, &frame);
        self
    }

    fn udp(&mut self, src: &str, dst: &str, payload: &[u8]) -> &mut Cap {
        self.ip(&ip_udp(addr(src), addr(dst), payload))
    }

    /// A datagram of which only the first `keep` bytes of the frame were captured.
    fn snapped(&mut self, src: &str, dst: &str, payload: &[u8], keep: usize) -> &mut Cap {
        self.packets += 1;
        let frame = self.frame(&ip_udp(addr(src), addr(dst), payload));
        pcap_record_snapped(
            &mut self.bytes,
            self.packets * 1000,
            &frame[..keep],
            frame.len(),
        );
        self
    }

    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.bytes).expect("write capture");
        path
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

/// labtrace's output for `args` and then the capture; exit status 0 required.
fn trace(file: &Path, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push(file.to_str().expect("UTF-8 path"));
    let (code, out, err) = labtrace(&all);
    assert_eq!(code, 0, "labtrace {all:?}: {err}");
    assert_eq!(err, "", "labtrace {all:?} warned");
    out
}

/// Asserts that `out` is exactly `want` (a diff-friendly message otherwise).
#[track_caller]
fn assert_text(out: &str, want: &str) {
    if out != want {
        for (i, (a, b)) in out.lines().zip(want.lines()).enumerate() {
            assert_eq!(a, b, "line {} differs; whole output:\n{out}", i + 1);
        }
        assert_eq!(out, want, "whole output differs");
    }
}

const C: &str = "10.0.0.1:40000";
const S: &str = "10.0.0.2:9000";

fn seq_dg(n: i32) -> Vec<u8> {
    udpcliserv::seq::encode(n).to_vec()
}

/// The sequence experiment with a copy (3), a gap (4, then 7–9) and two datagrams
/// overtaken (4 after 5, 8 after 10).
fn sequence_capture(dir: &Path) -> PathBuf {
    let mut cap = Cap::new(1);
    for n in [0, 1, 2, 3, 3, 5, 4, 6, 10, 8, 11] {
        cap.udp(C, S, &seq_dg(n));
    }
    cap.write(dir, "seq.pcap")
}

/// UDP echo: an echo, a request never echoed, a 300-byte request and its echo cut to
/// 255 bytes, a reply that echoes nothing; a request to a port where nothing receives
/// and the ICMP error that quotes it; the same over IPv6.
fn echo_capture(dir: &Path) -> PathBuf {
    let long: Vec<u8> = [&[b'a'; 299][..], b"\n"].concat();
    let mut cap = Cap::new(1);
    cap.udp(C, S, b"hello\n")
        .udp(S, C, b"hello\n")
        .udp(C, S, b"lost\n")
        .udp(C, S, &long)
        .udp(S, C, &long[..255])
        .udp(S, C, b"HELLO\n");
    let refused = ip_udp(addr("10.0.0.1:40001"), addr("10.0.0.2:9"), b"anyone?\n");
    cap.ip(&refused)
        .ip(&port_unreachable("10.0.0.2".parse().unwrap(), &refused));
    cap.udp("[fd00::1]:40002", "[fd00::2]:9000", b"v6\n").udp(
        "[fd00::2]:9000",
        "[fd00::1]:40002",
        b"v6\n",
    );
    let refused6 = ip_udp(addr("[fd00::1]:40003"), addr("[fd00::2]:9"), b"v6?\n");
    cap.ip(&refused6)
        .ip(&port_unreachable("fd00::2".parse().unwrap(), &refused6));
    cap.write(dir, "echo.pcap")
}

/// The course's upload with a chunk cut by the snap length and no END; a flow of
/// datagrams whose length fields are wrong; an IPv4 datagram in three fragments, a
/// fragment whose first one is missing, and an IPv6 datagram in two fragments.
fn damaged_capture(dir: &Path) -> PathBuf {
    let mut cap = Cap::new(1);
    let chunk = [b'x'; 1024];
    cap.udp(C, "10.0.0.2:49312", b"copy.txt")
        .udp("10.0.0.2:49312", C, b"ok")
        .udp(C, "10.0.0.2:49312", &chunk)
        .snapped(C, "10.0.0.2:49312", &chunk, 14 + 20 + 8 + 100)
        .udp(C, "10.0.0.2:49312", b"tail");
    let (a, b) = (addr("10.0.0.1:40010"), addr("10.0.0.2:7777"));
    let bytes = [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5];
    cap.ip(&ip_udp_length(a, b, 200, &bytes))
        .ip(&ip_udp_length(a, b, 12, &bytes))
        .ip(&ip_udp_length(a, b, 4, &bytes));
    let big = ip_udp(addr("10.0.0.1:40011"), addr("10.0.0.2:9000"), &[7; 3000]);
    for f in ipv4_fragments(&big, 77, 1480) {
        cap.ip(&f);
    }
    cap.ip(&ipv4_fragments(&big, 78, 1480)[1]);
    let big6 = ip_udp(addr("[fd00::1]:40012"), addr("[fd00::2]:9000"), &[6; 2000]);
    for f in ipv6_fragments(&big6, 79, 1232) {
        cap.ip(&f);
    }
    cap.write(dir, "damaged.pcap")
}

/// rft: DATA 2 lost and sent again after three duplicate ACKs, a copy of DATA 3 made by
/// the network, the FIN acknowledged.
fn rft_capture(dir: &Path) -> PathBuf {
    use udpcliserv::rft::proto::{Kind, Packet};
    let (c, s) = ("10.0.0.1:40020", "10.0.0.2:49313");
    let mut cap = Cap::new(276);
    let mut send = |from: &str, to: &str, kind: Kind, seq: u32, ts: u64, data: &[u8]| {
        cap.udp(from, to, &Packet::new(kind, seq, ts, data).emit());
    };
    let length = 5u64.to_le_bytes();
    send(c, s, Kind::Req, 0, 10, b"copy.bin");
    send(s, c, Kind::Ack, 1, 10, b"");
    for (seq, ts) in [(1, 20), (2, 21), (3, 22), (4, 23), (5, 24)] {
        send(c, s, Kind::Data, seq, ts, b"x");
    }
    send(s, c, Kind::Ack, 2, 20, b""); // DATA 2 was lost
    send(s, c, Kind::Ack, 2, 22, b"");
    send(s, c, Kind::Ack, 2, 23, b"");
    send(s, c, Kind::Ack, 2, 24, b"");
    send(c, s, Kind::Data, 2, 30, b"x"); // fast retransmit
    send(c, s, Kind::Data, 3, 22, b"x"); // a copy the network made
    send(s, c, Kind::Ack, 6, 30, b"");
    send(s, c, Kind::Ack, 6, 22, b"");
    send(c, s, Kind::Fin, 6, 31, &length);
    send(s, c, Kind::Ack, 7, 31, b"");
    cap.write(dir, "rft.pcap")
}

#[test]
fn the_sequence_experiment_shows_gaps_copies_and_reordering() {
    let dir = tmpdir("udp-seq");
    let file = sequence_capture(&dir);
    assert_text(&trace(&file, &[]), SEQUENCE);
    assert_text(&trace(&file, &["--ladder"]), SEQUENCE_LADDER);
    let json = trace(&file, &["--format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 12, "{json}");
    assert_eq!(
        lines[5],
        r##"{"frame":6,"time":0.005000,"flow":1,"transport":"udp","src":"10.0.0.1:40000","dst":"10.0.0.2:9000","length":1032,"len":1024,"decoded":"Sequence num: 5, Error!","analysis":["missing"],"missing":[4,4]}"##
    );
    assert_eq!(
        lines[8],
        r##"{"frame":9,"time":0.008000,"flow":1,"transport":"udp","src":"10.0.0.1:40000","dst":"10.0.0.2:9000","length":1032,"len":1024,"decoded":"Sequence num: 10, Error!","analysis":["missing"],"missing":[7,9]}"##
    );
    assert_eq!(
        lines[11],
        r##"{"flow":1,"client":"10.0.0.1:40000","server":"10.0.0.2:9000","proto":"udpseq","datagrams":[11,0],"bytes":[11264,0],"icmp":0,"fragments":0,"summary":["udpseqserver's count, over this capture's datagrams: received 11 datagrams, 7 out of order, 2 never arrived: 7, 9","2 overtaken on the way (reordered), 1 copy made by the network","a capture shows what passed where it was taken: on the sender's side every datagram sent, on the receiver's what arrived"],"marks":[]}"##
    );
}

const SEQUENCE: &str = r##"UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpseq)
     #       time  dir    len  payload
     1   0.000000  C→S   1024  Sequence num: 0
     2   0.001000  C→S   1024  Sequence num: 1
     3   0.002000  C→S   1024  Sequence num: 2
     4   0.003000  C→S   1024  Sequence num: 3
     5   0.004000  C→S   1024  Sequence num: 3, Error!
        ↳ a second copy of datagram 3: the network duplicated it, and UDP delivers both
     6   0.005000  C→S   1024  Sequence num: 5, Error!
        ↳ datagram 4 missing: 5 follows 3; it was lost before the capture point, or comes later, reordered
     7   0.006000  C→S   1024  Sequence num: 4, Error!
        ↳ datagram 4 comes after 5: it was overtaken on the way (reordered)
     8   0.007000  C→S   1024  Sequence num: 6, Error!
     9   0.008000  C→S   1024  Sequence num: 10, Error!
        ↳ datagrams 7–9 missing: 10 follows 6; they were lost before the capture point, or come later, reordered
    10   0.009000  C→S   1024  Sequence num: 8, Error!
        ↳ datagram 8 comes after 10: it was overtaken on the way (reordered)
    11   0.010000  C→S   1024  Sequence num: 11, Error!
        summary: client → server 11 datagrams (11264 bytes), server → client 0 datagrams (0 bytes)
        summary: udpseqserver's count, over this capture's datagrams: received 11 datagrams, 7 out of order, 2 never arrived: 7, 9
        summary: 2 overtaken on the way (reordered), 1 copy made by the network
        summary: a capture shows what passed where it was taken: on the sender's side every datagram sent, on the receiver's what arrived

11 packets, 0 TCP segments in 0 connection(s), 11 UDP datagrams in 1 flow(s), 0 other packets skipped
"##;

const SEQUENCE_LADDER: &str = r##"UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpseq)
      client                                                     server
    1 |--- len=1024 Sequence num: 0 --------------------------------->|
    2 |--- len=1024 Sequence num: 1 --------------------------------->|
    3 |--- len=1024 Sequence num: 2 --------------------------------->|
    4 |--- len=1024 Sequence num: 3 --------------------------------->|
    5 |--- len=1024 Sequence num: 3, Error! ------------------------->|  duplicate
    6 |--- len=1024 Sequence num: 5, Error! ------------------------->|  4 missing
    7 |--- len=1024 Sequence num: 4, Error! ------------------------->|  out of order
    8 |--- len=1024 Sequence num: 6, Error! ------------------------->|
    9 |--- len=1024 Sequence num: 10, Error! ------------------------>|  7–9 missing
   10 |--- len=1024 Sequence num: 8, Error! ------------------------->|  out of order
   11 |--- len=1024 Sequence num: 11, Error! ------------------------>|
        summary: client → server 11 datagrams (11264 bytes), server → client 0 datagrams (0 bytes)
        summary: udpseqserver's count, over this capture's datagrams: received 11 datagrams, 7 out of order, 2 never arrived: 7, 9
        summary: 2 overtaken on the way (reordered), 1 copy made by the network
        summary: a capture shows what passed where it was taken: on the sender's side every datagram sent, on the receiver's what arrived

11 packets, 0 TCP segments in 0 connection(s), 11 UDP datagrams in 1 flow(s), 0 other packets skipped
"##;

#[test]
fn echoes_are_paired_and_icmp_errors_tied_to_the_datagram_they_quote() {
    let dir = tmpdir("udp-echo");
    let file = echo_capture(&dir);
    assert_text(&trace(&file, &[]), ECHO);
    let json = trace(&file, &["--format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 16, "{json}");
    assert_eq!(
        lines[1],
        r##"{"frame":2,"time":0.001000,"flow":1,"transport":"udp","src":"10.0.0.2:9000","dst":"10.0.0.1:40000","length":14,"len":6,"decoded":"\"hello\\n\" (echo of #1)","echo_of":1}"##
    );
    assert_eq!(
        lines[7],
        r##"{"frame":8,"time":0.007000,"flow":2,"transport":"icmp","src":"10.0.0.2","dst":"10.0.0.1","decoded":"ICMP port unreachable for #7","quotes":7,"analysis":["port_unreachable"]}"##
    );
    assert_eq!(
        lines[11],
        r##"{"frame":12,"time":0.011000,"flow":4,"transport":"icmpv6","src":"fd00::2","dst":"fd00::1","decoded":"ICMP port unreachable for #11","quotes":11,"analysis":["port_unreachable"]}"##
    );
    assert_eq!(
        lines[12],
        r##"{"flow":1,"client":"10.0.0.1:40000","server":"10.0.0.2:9000","proto":"udpecho","datagrams":[3,3],"bytes":[311,267],"icmp":0,"fragments":0,"summary":["3 requests, 2 echoed; no echo of #3"],"marks":[{"frame":3,"analysis":"no_echo"}]}"##
    );
}

const ECHO: &str = r##"UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpecho)
     #       time  dir    len  payload
     1   0.000000  C→S      6  "hello\n"
     2   0.001000  S→C      6  "hello\n" (echo of #1)
     3   0.002000  C→S      5  "lost\n"
        ↳ no echo of this request in the capture: the request or its echo was lost (or the capture ended first); a client without a timeout waits in recvfrom forever (UNP 8.4)
     4   0.003000  C→S    300  "aaaaaaaaaaaaaaaa"…
     5   0.004000  S→C    255  "aaaaaaaaaaaaaaaa"… (echo of #4)
        ↳ the echo of #4, cut to 255 bytes: the server's recvfrom reads at most BUFFERSIZE-1 = 255 bytes and drops the rest of a longer datagram without a word
     6   0.005000  S→C      6  "HELLO\n"
        ↳ no request waiting for its echo has these bytes: the server changed them, or answers a request the capture does not have
        summary: client → server 3 datagrams (311 bytes), server → client 3 datagrams (267 bytes)
        summary: 3 requests, 2 echoed; no echo of #3

UDP flow 2: client 10.0.0.1:40001 → server 10.0.0.2:9 (udpecho)
     #       time  dir    len  payload
     7   0.006000  C→S      8  "anyone?\n"
     8   0.007000  S→C      -  ICMP port unreachable for #7
        ↳ nothing receives on 10.0.0.2:9, so the host answered #7 with ICMP port unreachable; a connected UDP socket gets it as ECONNREFUSED on its next call, an unconnected one is never told (UNP 8.11)
        summary: client → server 1 datagram (8 bytes), server → client 0 datagrams (0 bytes), 1 ICMP error
        summary: 1 request, 0 echoed, 1 refused (ICMP)

UDP flow 3: client [fd00::1]:40002 → server [fd00::2]:9000 (udpecho)
     #       time  dir    len  payload
     9   0.008000  C→S      3  "v6\n"
    10   0.009000  S→C      3  "v6\n" (echo of #9)
        summary: client → server 1 datagram (3 bytes), server → client 1 datagram (3 bytes)
        summary: 1 request, 1 echoed

UDP flow 4: client [fd00::1]:40003 → server [fd00::2]:9 (udpecho)
     #       time  dir    len  payload
    11   0.010000  C→S      4  "v6?\n"
    12   0.011000  S→C      -  ICMP port unreachable for #11
        ↳ nothing receives on [fd00::2]:9, so the host answered #11 with ICMP port unreachable; a connected UDP socket gets it as ECONNREFUSED on its next call, an unconnected one is never told (UNP 8.11)
        summary: client → server 1 datagram (4 bytes), server → client 0 datagrams (0 bytes), 1 ICMP error
        summary: 1 request, 0 echoed, 1 refused (ICMP)

12 packets, 0 TCP segments in 0 connection(s), 10 UDP datagrams in 4 flow(s), 2 ICMP errors, 0 other packets skipped
"##;

#[test]
fn snapped_malformed_and_fragmented_datagrams_are_said_so() {
    let dir = tmpdir("udp-damaged");
    let file = damaged_capture(&dir);
    assert_text(&trace(&file, &[]), DAMAGED);
    let json = trace(&file, &["--format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(
        lines[3],
        r##"{"frame":4,"time":0.003000,"flow":1,"transport":"udp","src":"10.0.0.1:40000","dst":"10.0.0.2:49312","length":1032,"len":1024,"decoded":"chunk 2 @1024 \"xxxxxxxxxxxxxxxx\"…","captured":100,"analysis":["snapped"]}"##
    );
    assert_eq!(
        lines[8],
        r##"{"frame":9,"time":0.008000,"flow":3,"transport":"ip_fragment","src":"10.0.0.1","dst":"10.0.0.2","len":1480,"decoded":"IP fragment @0, more follow","analysis":["ip_fragment"]}"##
    );
    assert_eq!(
        lines[13],
        r##"{"flow":1,"client":"10.0.0.1:40000","server":"10.0.0.2:49312","proto":"udpft","datagrams":[4,1],"bytes":[2060,2],"icmp":0,"fragments":0,"summary":["upload to \"copy.txt\": 3 chunks, 2052 bytes, and no END in the capture","nothing numbers the chunks: had one been lost, the server would write the next one at its offset, and no one would know (rft numbers them)"],"marks":[{"frame":5,"analysis":"no_end"}]}"##
    );
}

const DAMAGED: &str = r##"UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:49312 (udpft)
     #       time  dir    len  payload
     1   0.000000  C→S      8  path "copy.txt"
     2   0.001000  S→C      2  ok
     3   0.002000  C→S   1024  chunk 1 @0 "xxxxxxxxxxxxxxxx"…
     4   0.003000  C→S   1024  chunk 2 @1024 "xxxxxxxxxxxxxxxx"…
        ↳ the capture kept 100 of this datagram's 1024 bytes: the capture's snap length (tcpdump -s, labnet --snaplen) cut the rest, which was on the wire (said once a flow; the summary counts them)
     5   0.004000  C→S      4  chunk 3 @2048 "tail"
        ↳ no ================END after this in the capture: the server waits for it forever (the C server; unplab's gives up after --idle)
        summary: client → server 4 datagrams (2060 bytes), server → client 1 datagram (2 bytes); 1 cut by the snap length
        summary: upload to "copy.txt": 3 chunks, 2052 bytes, and no END in the capture
        summary: nothing numbers the chunks: had one been lost, the server would write the next one at its offset, and no one would know (rft numbers them)

UDP flow 2: client 10.0.0.1:40010 → server 10.0.0.2:7777 (raw)
     #       time  dir    len  payload
     6   0.005000  C→S     10  de ad be ef 00 01 02 03 04 05
        ↳ the UDP length field says 200 bytes, but the IP packet carries only 18: a malformed datagram, which the receiving kernel drops
     7   0.006000  C→S      4  de ad be ef
        ↳ 6 bytes follow the datagram inside the IP packet: the UDP length field (12) ends the datagram, and the receiver never sees them
     8   0.007000  C→S     10  de ad be ef 00 01 02 03 04 05
        ↳ the UDP length field says 4, less than the 8-byte header itself: a malformed datagram, which the receiving kernel drops
        summary: client → server 3 datagrams (24 bytes), server → client 0 datagrams (0 bytes)

UDP flow 3: client 10.0.0.1:40011 → server 10.0.0.2:9000 (not decoded)
     #       time  dir    len  payload
     9   0.008000  C→S   1480  IP fragment @0, more follow
        ↳ the first IP fragment of a UDP datagram of 3008 bytes (length field): labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)
    10   0.009000  C→S   1480  IP fragment @1480, more follow
        ↳ an IP fragment at byte 1480: labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)
    11   0.010000  C→S     48  IP fragment @2960, the last
        ↳ an IP fragment at byte 2960, the last one: labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)
        summary: client → server 0 datagrams (0 bytes), server → client 0 datagrams (0 bytes), 3 IP fragments

UDP flow 4: client [fd00::1]:40012 → server [fd00::2]:9000 (not decoded)
     #       time  dir    len  payload
    13   0.012000  C→S   1232  IP fragment @0, more follow
        ↳ the first IP fragment of a UDP datagram of 2008 bytes (length field): labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)
    14   0.013000  C→S    776  IP fragment @1232, the last
        ↳ an IP fragment at byte 1232, the last one: labtrace does not reassemble fragments, so it is not decoded (tshark reassembles them)
        summary: client → server 0 datagrams (0 bytes), server → client 0 datagrams (0 bytes), 2 IP fragments

14 packets, 0 TCP segments in 0 connection(s), 8 UDP datagrams in 4 flow(s), 5 IP fragments, 1 other packet skipped
"##;

#[test]
fn rft_retransmissions_copies_and_duplicate_acks_are_told_apart() {
    let dir = tmpdir("udp-rft");
    let file = rft_capture(&dir);
    assert_text(&trace(&file, &[]), RFT);
    let json = trace(&file, &["--format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(
        lines[11],
        r##"{"frame":12,"time":0.011000,"flow":1,"transport":"udp","src":"10.0.0.1:40020","dst":"10.0.0.2:49313","length":25,"len":17,"decoded":"DATA seq=2 ts=30 len=1","analysis":["retransmission"]}"##
    );
    assert_eq!(
        lines[12],
        r##"{"frame":13,"time":0.012000,"flow":1,"transport":"udp","src":"10.0.0.1:40020","dst":"10.0.0.2:49313","length":25,"len":17,"decoded":"DATA seq=3 ts=22 len=1","analysis":["duplicate"]}"##
    );
    assert_eq!(
        lines[14],
        r##"{"frame":15,"time":0.014000,"flow":1,"transport":"udp","src":"10.0.0.2:49313","dst":"10.0.0.1:40020","length":24,"len":16,"decoded":"ACK seq=6 ts=22 (answers #13)","analysis":["duplicate_ack"]}"##
    );
}

const RFT: &str = r##"UDP flow 1: client 10.0.0.1:40020 → server 10.0.0.2:49313 (rft)
     #       time  dir    len  payload
     1   0.000000  C→S     24  REQ seq=0 ts=10 "copy.bin"
     2   0.001000  S→C     16  ACK seq=1 ts=10 (answers #1)
     3   0.002000  C→S     17  DATA seq=1 ts=20 len=1
     4   0.003000  C→S     17  DATA seq=2 ts=21 len=1
     5   0.004000  C→S     17  DATA seq=3 ts=22 len=1
     6   0.005000  C→S     17  DATA seq=4 ts=23 len=1
     7   0.006000  C→S     17  DATA seq=5 ts=24 len=1
     8   0.007000  S→C     16  ACK seq=2 ts=20 (answers #3)
     9   0.008000  S→C     16  ACK seq=2 ts=22 (answers #5)
        ↳ duplicate ACK 1 of seq 2: packet 2 has not arrived, later ones have; the third duplicate makes the client resend it at once (fast retransmit)
    10   0.009000  S→C     16  ACK seq=2 ts=23 (answers #6)
        ↳ duplicate ACK 2 of seq 2: packet 2 has not arrived, later ones have; the third duplicate makes the client resend it at once (fast retransmit)
    11   0.010000  S→C     16  ACK seq=2 ts=24 (answers #7)
        ↳ duplicate ACK 3 of seq 2: packet 2 has not arrived, later ones have; the third duplicate makes the client resend it at once (fast retransmit)
    12   0.011000  C→S     17  DATA seq=2 ts=30 len=1
        ↳ seq 2 again, first sent in #4, with a new timestamp: the client's timer ran out or three duplicate ACKs came, so it sent the packet again
    13   0.012000  C→S     17  DATA seq=3 ts=22 len=1
        ↳ the same packet as #5 (seq 3), timestamp and all: a copy the network made, not a retransmission; the server drops it and ACKs again
    14   0.013000  S→C     16  ACK seq=6 ts=30 (answers #12)
    15   0.014000  S→C     16  ACK seq=6 ts=22 (answers #13)
        ↳ duplicate ACK 1 of seq 6: it answers #13, a copy the network made, so nothing is missing; the client counts it all the same
    16   0.015000  C→S     24  FIN seq=6 ts=31 length=5
    17   0.016000  S→C     16  ACK seq=7 ts=31 (answers #16)
        summary: client → server 9 datagrams (167 bytes), server → client 8 datagrams (128 bytes)
        summary: upload to "copy.bin": 5 DATA packets, 5 bytes; FIN says 5 bytes
        summary: 1 retransmission, 1 copy made by the network, 4 duplicate ACKs
        summary: the FIN is acknowledged: the upload completed

17 packets, 0 TCP segments in 0 connection(s), 17 UDP datagrams in 1 flow(s), 0 other packets skipped
"##;

/// A TCP echo session with a UDP echo in the middle of it.
fn mixed_capture(dir: &Path) -> PathBuf {
    use labs::packet::{Flags, build_ip_tcp};
    let (c, s) = (addr("10.0.0.1:50000"), addr("10.0.0.2:7"));
    let (a, p, f) = (Flags::ACK, Flags::PSH | Flags::ACK, Flags::FIN | Flags::ACK);
    let mut cap = Cap::new(1);
    cap.ip(&build_ip_tcp(c, s, 100, 0, Flags::SYN, 1000, b""))
        .ip(&build_ip_tcp(s, c, 500, 101, Flags::SYN | a, 1000, b""))
        .ip(&build_ip_tcp(c, s, 101, 501, a, 1000, b""))
        .udp(C, S, b"udp\n")
        .ip(&build_ip_tcp(c, s, 101, 501, p, 1000, b"tcp\n"))
        .udp(S, C, b"udp\n")
        .ip(&build_ip_tcp(s, c, 501, 105, p, 1000, b"tcp\n"))
        .ip(&build_ip_tcp(c, s, 105, 505, f, 1000, b""))
        .ip(&build_ip_tcp(s, c, 505, 106, f, 1000, b""))
        .ip(&build_ip_tcp(c, s, 106, 506, a, 1000, b""));
    cap.write(dir, "mixed.pcap")
}

#[test]
fn a_capture_mixing_tcp_and_udp_tells_the_connections_then_the_flows() {
    let dir = tmpdir("udp-mixed");
    let file = mixed_capture(&dir);
    assert_text(&trace(&file, &[]), MIXED);
    // JSON keeps capture order; the TCP lines are what they were before UDP was read.
    let json = trace(&file, &["--format", "json"]);
    let kinds: Vec<&str> = json
        .lines()
        .map(
            |l| match (l.contains("\"conn\":"), l.contains("\"transport\":\"udp\"")) {
                (true, false) => "tcp",
                (false, true) => "udp",
                _ => "end",
            },
        )
        .collect();
    assert_eq!(
        kinds,
        [
            "tcp", "tcp", "tcp", "udp", "tcp", "udp", "tcp", "tcp", "tcp", "tcp", "end"
        ],
        "{json}"
    );
    assert!(json.starts_with(r#"{"frame":1,"time":0.000000,"conn":1,"src":"10.0.0.1:50000","dst":"10.0.0.2:7","flags":"S","seq":0,"ack":0,"len":0,"win":1000,"win_raw":1000,"phase":"handshake 1/3","decoded":null}"#));
    // The quiz has the flow in a code block of its own, after the tables.
    let quiz = trace(&file, &["--quiz"]);
    assert!(quiz.ends_with("\n## UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpecho)\n\n```text\n     #       time  dir    len  payload\n     4   0.003000  C→S      4  \"udp\\n\"\n     6   0.005000  S→C      4  \"udp\\n\" (echo of #4)\n        summary: client → server 1 datagram (4 bytes), server → client 1 datagram (4 bytes)\n        summary: 1 request, 1 echoed\n```\n\n10 packets, 8 TCP segments in 1 connection(s), 2 UDP datagrams in 1 flow(s), 0 other packets skipped\n"), "{quiz}");
    // The pictures and the page show the TCP connection and say where the flows are.
    let (html, svg, tsg) = (dir.join("m.html"), dir.join("m.svg"), dir.join("t.svg"));
    let out = trace(
        &file,
        &[
            "--html",
            html.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
            "--tsg",
            tsg.to_str().unwrap(),
        ],
    );
    assert_text(&out, MIXED);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("2 UDP datagrams in 1 flow(s), 0 other packets skipped (this page shows the TCP connections; labtrace's text view tells the UDP flows)"));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("</svg>"));
    assert!(std::fs::read_to_string(&tsg).unwrap().contains("</svg>"));
}

const MIXED: &str = r##"Connection 1: client 10.0.0.1:50000 → server 10.0.0.2:7 (echo)
     #       time  dir  flags     seq    ack      win   len  phase           payload
     1   0.000000  C→S  [S]         0      -     1000     0  handshake 1/3   
     2   0.001000  S→C  [S.]        0      1     1000     0  handshake 2/3   
     3   0.002000  C→S  [.]         1      1     1000     0  handshake 3/3   
     5   0.004000  C→S  [P.]        1      1     1000     4  data            "tcp\n"
     7   0.006000  S→C  [P.]        1      5     1000     4  data            "tcp\n"
        bookkeeping: each side's Seq and Ack are those of the last segment it sent;
        a SYN counts as Seq 1 (it uses up Seq 0), so after the handshake both sides are at Seq 1 Ack 1
        data exchange            Server Seq Server Ack Client Seq Client Ack
        #5 C→S [P.] len 4                 1          1          1          1
        #7 S→C [P.] len 4                 1          5          1          1
     8   0.007000  C→S  [F.]        5      5     1000     0  close 1/4       
     9   0.008000  S→C  [F.]        5      6     1000     0  close 2+3/4     
    10   0.009000  C→S  [.]         6      6     1000     0  close 4/4       
        ↳ TIME_WAIT: the client closed first (active close), so it waits 2×MSL (60 s on Linux) in TIME_WAIT, ready to resend this last ACK; the server is CLOSED now
        close                    Server Seq Server Ack Client Seq Client Ack
        #8 C→S [F.] len 0                 1          5          5          5
        #9 S→C [F.] len 0                 5          6          5          5
        #10 C→S [.] len 0                 5          6          6          6

UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpecho)
     #       time  dir    len  payload
     4   0.003000  C→S      4  "udp\n"
     6   0.005000  S→C      4  "udp\n" (echo of #4)
        summary: client → server 1 datagram (4 bytes), server → client 1 datagram (4 bytes)
        summary: 1 request, 1 echoed

10 packets, 8 TCP segments in 1 connection(s), 2 UDP datagrams in 1 flow(s), 0 other packets skipped
"##;

#[test]
fn the_port_filter_and_proto_choose_flows_and_decoders() {
    let dir = tmpdir("udp-filter");
    let echo = echo_capture(&dir);
    // Port 9000: the IPv4 and IPv6 echo flows, renumbered; the refused ones dropped.
    let out = trace(&echo, &["--port", "9000"]);
    assert!(
        out.contains("\nUDP flow 2: client [fd00::1]:40002 → server [fd00::2]:9000 (udpecho)\n"),
        "{out}"
    );
    assert!(out.ends_with("\n12 packets, 0 TCP segments in 0 connection(s), 8 UDP datagrams in 2 flow(s), 0 other packets skipped\n"), "{out}");
    // A port that matches nothing names the ports seen, UDP's too.
    let (code, out, err) = labtrace(&["--port", "5", echo.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "labtrace: no TCP segment or UDP datagram to or from port 5; ports seen: 40000, 9000, 40001, 9, 40002, 40003\n"
    );
    // Forced: raw bytes, or the wrong protocol, said so.
    let raw = trace(&echo, &["--proto", "raw"]);
    assert!(
        raw.contains("\n     2   0.001000  S→C      6  \"hello\\n\"\n     3"),
        "{raw}"
    );
    let seq = trace(&sequence_capture(&dir), &["--proto", "rft"]);
    assert!(seq.contains("\n     1   0.000000  C→S   1024  kind 0, version 0: not an rft packet: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00…\n"), "{seq}");
    // echo names the UDP echo too; a TCP-only protocol leaves the flows to the guess.
    assert!(
        trace(&echo, &["--proto", "echo"])
            .starts_with("UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpecho)\n")
    );
    assert!(
        trace(&sequence_capture(&dir), &["--proto", "lottery"])
            .starts_with("UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpseq)\n")
    );
}

/// Two lines of the UDP echo with `server` and their echoes.
fn echo_lines(dir: &Path, name: &str, server: &str) -> PathBuf {
    let mut cap = Cap::new(1);
    for line in [&b"hello\n"[..], b"world\n"] {
        cap.udp(C, server, line).udp(server, C, line);
    }
    cap.write(dir, name)
}

/// The summary line that says how many datagrams do not look like the flow's protocol.
fn unlike_line(file: &Path, args: &[&str]) -> String {
    let out = trace(file, args);
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("look like")).collect();
    match lines[..] {
        [.., last] => last.trim_start().to_string(),
        [] => String::new(),
    }
}

#[test]
fn traffic_unlike_the_protocol_it_is_decoded_as_is_said_so() {
    let dir = tmpdir("udp-unlike");
    let echo = echo_lines(&dir, "lines.pcap", S);
    // Six-byte lines taken for the sequence experiment: decoded as udpseqserver would
    // (its numbers, its Error!), and said to be something else, once and in the summary.
    assert_text(&trace(&echo, &["--proto", "udpseq"]), UNLIKE_UDPSEQ);
    let json = trace(&echo, &["--proto", "udpseq", "--format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 5, "{json}");
    assert_eq!(
        lines[1],
        r##"{"frame":2,"time":0.001000,"flow":1,"transport":"udp","src":"10.0.0.2:9000","dst":"10.0.0.1:40000","length":14,"len":6,"decoded":"\"hello\\n\" (the sequence server sends nothing)","analysis":["not_proto"]}"##
    );
    assert_eq!(
        lines[4],
        r##"{"flow":1,"client":"10.0.0.1:40000","server":"10.0.0.2:9000","proto":"udpseq","datagrams":[2,2],"bytes":[12,12],"icmp":0,"fragments":0,"not_proto":4,"summary":["4 of 4 datagrams do not look like udpseq (udpseqclient's 1024-byte datagrams, each a little-endian number in its first 4 bytes, then zeros; nothing back): decoded as udpseq all the same, as --proto chose (--proto auto guesses, --proto raw shows the bytes)","udpseqserver's count, over this capture's datagrams: received 2 datagrams, 2 out of order, 0 never arrived; 2 numbered 1048576 or more (not followed)","a capture shows what passed where it was taken: on the sender's side every datagram sent, on the receiver's what arrived"],"marks":[]}"##
    );
    // Every UDP protocol says it the same way: how many, and what it looks like.
    let forced = "as --proto chose (--proto auto guesses, --proto raw shows the bytes)";
    assert_eq!(
        unlike_line(&echo, &["--proto", "rft"]),
        format!(
            "summary: 4 of 4 datagrams do not look like rft (packets with a 16-byte header: kind 1 to 5, version 1, the payload's length, a sequence number, a timestamp): decoded as rft all the same, {forced}"
        )
    );
    let upload = "udpft (a path, one line of text under 256 bytes; `ok` back; then the file in datagrams of at most 1024 bytes, and ================END)";
    assert_eq!(
        unlike_line(&echo, &["--proto", "udpft"]),
        format!(
            "summary: 3 of 4 datagrams do not look like {upload}: decoded as udpft all the same, {forced}"
        )
    );
    let seq = sequence_capture(&dir);
    assert_eq!(
        unlike_line(&seq, &["--proto", "udpecho"]),
        format!(
            "summary: 11 of 11 datagrams do not look like udpecho (lines of text, each sent back unchanged): decoded as udpecho all the same, {forced}"
        )
    );
    assert_eq!(
        unlike_line(&seq, &["--proto", "udpft"]),
        format!(
            "summary: 1 of 11 datagrams does not look like {upload}: decoded as udpft all the same, {forced}"
        )
    );
    // A guess by port can be wrong too: the echo on the upload's port.
    let on_49312 = echo_lines(&dir, "on49312.pcap", "10.0.0.2:49312");
    assert_eq!(
        unlike_line(&on_49312, &[]),
        format!(
            "summary: 3 of 4 datagrams do not look like {upload}: decoded as udpft all the same, as guessed from the flow's port and first datagram (--proto chooses another)"
        )
    );
    // The right protocol, forced or guessed, says nothing of the kind; raw never does.
    for (file, args) in [
        (&echo, &[][..]),
        (&echo, &["--proto", "udpecho"]),
        (&echo, &["--proto", "raw"]),
        (&seq, &[]),
        (&seq, &["--proto", "udpseq"]),
    ] {
        assert_eq!(unlike_line(file, args), "", "{args:?}");
    }
}

const UNLIKE_UDPSEQ: &str = r##"UDP flow 1: client 10.0.0.1:40000 → server 10.0.0.2:9000 (udpseq)
     #       time  dir    len  payload
     1   0.000000  C→S      6  Sequence num: 1819043176, Error!
        ↳ this datagram does not look like udpseq (udpseqclient's 1024-byte datagrams, each a little-endian number in its first 4 bytes, then zeros; nothing back): it is decoded as udpseq all the same (said once a flow; the summary counts them)
     2   0.001000  S→C      6  "hello\n" (the sequence server sends nothing)
     3   0.002000  C→S      6  Sequence num: 1819438967, Error!
     4   0.003000  S→C      6  "world\n" (the sequence server sends nothing)
        summary: client → server 2 datagrams (12 bytes), server → client 2 datagrams (12 bytes)
        summary: 4 of 4 datagrams do not look like udpseq (udpseqclient's 1024-byte datagrams, each a little-endian number in its first 4 bytes, then zeros; nothing back): decoded as udpseq all the same, as --proto chose (--proto auto guesses, --proto raw shows the bytes)
        summary: udpseqserver's count, over this capture's datagrams: received 2 datagrams, 2 out of order, 0 never arrived; 2 numbered 1048576 or more (not followed)
        summary: a capture shows what passed where it was taken: on the sender's side every datagram sent, on the receiver's what arrived

4 packets, 0 TCP segments in 0 connection(s), 4 UDP datagrams in 1 flow(s), 0 other packets skipped
"##;

// ---------------------------------------------------------------- real runs, tcpdump, tshark

/// The workspace's program `name`, built beside labtrace.
fn program(name: &str) -> String {
    let p = Path::new(env!("CARGO_BIN_EXE_labtrace")).with_file_name(name);
    assert!(
        p.exists(),
        "{} is not built: run `cargo build --workspace --bins` (or `cargo test --workspace`) first",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

/// [`support::capture_until`], when tcpdump and tshark are installed (else a skip).
#[track_caller]
fn capture_udp(
    iface: &str,
    filter: &str,
    file: &Path,
    traffic: impl FnOnce(),
    done: impl Fn(&str) -> bool,
) -> bool {
    support::have("tcpdump", "the capture")
        && support::have("tshark", "the capture")
        && support::capture_until(iface, filter, file, traffic, done)
}

/// The port at the end of `"ADDR:PORT"`.
fn port_of(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or("")
}

/// tshark's `-T fields` rows for `filter`, tab-separated.
fn tshark(file: &Path, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut cmd = std::process::Command::new("tshark");
    cmd.args(["-n", "-r"])
        .arg(file)
        .args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Checks labtrace against tshark on `file`: per datagram the frame, ports and UDP
/// length field; per ICMP error the frame and the quoted datagram's ports; per flow the
/// datagrams each way. Returns labtrace's text view.
fn compare_with_tshark(file: &Path) -> String {
    let json = trace(file, &["--format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    let ours: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("\"transport\":\"udp\""))
        .map(|l| {
            let (src, dst) = (field(l, "src"), field(l, "dst"));
            format!(
                "{}\t{}\t{}\t{}",
                field(l, "frame"),
                port_of(src),
                port_of(dst),
                field(l, "length")
            )
        })
        .collect();
    let theirs = tshark(
        file,
        "udp && !icmp && !icmpv6",
        &["frame.number", "udp.srcport", "udp.dstport", "udp.length"],
    );
    assert!(!theirs.is_empty(), "tshark saw no UDP in {file:?}");
    assert_eq!(ours, theirs, "labtrace vs tshark: frame, ports, UDP length");
    // ICMP errors: the frame, and the ports of the datagram each quotes.
    let ours: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("\"transport\":\"icmp"))
        .map(|l| {
            let quoted = lines
                .iter()
                .find(|q| q.starts_with(&format!("{{\"frame\":{},", field(l, "quotes"))))
                .unwrap_or_else(|| panic!("{l} quotes no captured datagram"));
            let (src, dst) = (field(quoted, "src"), field(quoted, "dst"));
            format!("{}\t{}\t{}", field(l, "frame"), port_of(src), port_of(dst))
        })
        .collect();
    let theirs = tshark(
        file,
        "icmp.type == 3 && icmp.code == 3 || icmpv6.type == 1 && icmpv6.code == 4",
        &["frame.number", "udp.srcport", "udp.dstport"],
    );
    assert_eq!(ours, theirs, "labtrace vs tshark: ICMP port unreachable");
    // Each flow's datagrams each way.
    for flow in lines
        .iter()
        .filter(|l| l.starts_with("{\"flow\":") && l.contains("\"client\""))
    {
        let (client, server) = (
            port_of(field(flow, "client")),
            port_of(field(flow, "server")),
        );
        let filter = format!("udp.port == {client} && udp.port == {server} && !icmp && !icmpv6");
        let theirs = tshark(file, &filter, &["udp.srcport"]);
        let way = |port: &str| theirs.iter().filter(|p| *p == port).count();
        let at = flow.find("\"datagrams\":[").unwrap() + 13;
        let counts = &flow[at..at + flow[at..].find(']').unwrap()];
        assert_eq!(counts, format!("{},{}", way(client), way(server)), "{flow}");
    }
    trace(file, &[])
}

/// The text view's datagram lines from the direction column on (no frame, no time).
fn payload_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.len() > 19 && l[..6].trim().parse::<u64>().is_ok())
        .map(|l| l[19..].to_string())
        .collect()
}

/// The echo server and client on `bind`, captured on `iface`: two lines echoed.
fn echo_run(test: &str, iface: &str, host: &str) -> Option<String> {
    let dir = tmpdir(test);
    let server = testkit::Server::spawn(&program("udpechoserver"), &["0"]);
    let port = server.port().to_string();
    let file = dir.join("echo.pcap");
    let client = program("udpechoclient");
    let ran = capture_udp(
        iface,
        &format!("udp port {port}"),
        &file,
        || {
            let (status, out, _) =
                testkit::run_with_input(&client, &[host, &port], b"hello\nover UDP\n");
            assert!(
                status.success() && out.contains("server : over UDP"),
                "{out}"
            );
        },
        |json| json.matches("\"transport\":\"udp\"").count() == 4,
    );
    ran.then(|| compare_with_tshark(&file))
}

#[test]
fn udpechoserver_and_udpechoclient_over_ipv4_on_lo_match_tshark() {
    let Some(text) = echo_run("real-echo4", "lo", "127.0.0.1") else {
        return;
    };
    assert_eq!(
        payload_lines(&text),
        [
            "C→S      6  \"hello\\n\"",
            "S→C      6  \"hello\\n\" (echo of #1)",
            "C→S      9  \"over UDP\\n\"",
            "S→C      9  \"over UDP\\n\" (echo of #3)",
        ]
    );
    assert!(text.contains("(udpecho)\n"), "{text}");
    assert!(
        text.contains("\n        summary: 2 requests, 2 echoed\n"),
        "{text}"
    );
}

#[test]
fn udpechoserver_and_udpechoclient_over_ipv6_on_any_match_tshark() {
    let Some(text) = echo_run("real-echo6", "any", "::1") else {
        return;
    };
    assert!(text.starts_with("UDP flow 1: client [::1]:"), "{text}");
    assert_eq!(payload_lines(&text).len(), 4, "{text}");
}

#[test]
fn udpseqserver_and_udpseqclient_match_tshark() {
    let dir = tmpdir("real-seq");
    // Without --idle: a server that ends after a silence could end before its first
    // datagram, tcpdump being slow to start on a busy machine. Ctrl-C ends it below.
    let mut server = testkit::Server::spawn(&program("udpseqserver"), &["0"]);
    let port = server.port().to_string();
    let file = dir.join("seq.pcap");
    let client = program("udpseqclient");
    let ran = capture_udp(
        "lo",
        &format!("udp port {port}"),
        &file,
        || {
            let (status, out, _) =
                testkit::run_with_input(&client, &["127.0.0.1", &port, "--count", "20"], b"");
            assert!(status.success(), "{out}");
        },
        |json| json.matches("\"transport\":\"udp\"").count() == 20,
    );
    if !ran {
        return;
    }
    let text = compare_with_tshark(&file);
    let lines = payload_lines(&text);
    let want: Vec<String> = (0..20)
        .map(|n| format!("C→S   1024  Sequence num: {n}"))
        .collect();
    assert_eq!(lines, want);
    // Ctrl-C: the server prints its count and ends. A Ctrl-C that comes while it prints
    // (not in recvfrom) only sets its flag, and recvfrom waits on: another one ends it.
    let ended = testkit::wait_until(testkit::TIMEOUT, || {
        server.proc.signal(nix::sys::signal::Signal::SIGINT);
        !server.proc.is_running()
    });
    assert!(ended, "udpseqserver did not end at Ctrl-C");
    let (_, out, err) = server.proc.wait_exit();
    // What the server printed at its end is what the capture shows.
    assert_eq!(
        out.lines().last(),
        Some("received 20 datagrams, 0 out of order, 0 never arrived"),
        "{out}{err}"
    );
    assert!(
        text.contains("\n        summary: udpseqserver's count, over this capture's datagrams: received 20 datagrams, 0 out of order, 0 never arrived\n"),
        "{text}"
    );
}

/// `client` uploading `data` as `copy` to `server` (`--port 0 --root DIR` and `extra`),
/// captured on lo until labtrace's JSON of the capture contains `done`; labtrace's text
/// view, after the check against tshark, or `None` after a skip.
fn upload_run(
    test: &str,
    (server, extra): (&str, &[&str]),
    client: &str,
    data: &[u8],
    done: &str,
) -> Option<String> {
    let dir = tmpdir(test);
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let mut args = vec!["--port", "0", "--root", root.to_str().unwrap()];
    args.extend(extra);
    let server = testkit::Server::spawn(&program(server), &args);
    let port = server.port().to_string();
    let original = dir.join("original");
    std::fs::write(&original, data).unwrap();
    let file = dir.join("upload.pcap");
    let client = program(client);
    let ran = capture_udp(
        "lo",
        &format!("udp port {port}"),
        &file,
        || {
            let args = [
                "127.0.0.1",
                original.to_str().unwrap(),
                "copy.bin",
                "--port",
                &port,
            ];
            let (status, out, err) = testkit::run_with_input(&client, &args, b"");
            assert!(status.success(), "{out}{err}");
        },
        |json| json.contains(done),
    );
    ran.then(|| compare_with_tshark(&file))
}

#[test]
fn udpftserver_and_udpftclient_match_tshark() {
    let Some(text) = upload_run(
        "real-ft",
        ("udpftserver", &["--once"]),
        "udpftclient",
        &[b'x'; 3000],
        "\"decoded\":\"END: the upload ends, 3 chunks, 3000 bytes\"",
    ) else {
        return;
    };
    assert_eq!(
        payload_lines(&text),
        [
            "C→S      8  path \"copy.bin\"",
            "S→C      2  ok",
            "C→S   1024  chunk 1 @0 \"xxxxxxxxxxxxxxxx\"…",
            "C→S   1024  chunk 2 @1024 \"xxxxxxxxxxxxxxxx\"…",
            "C→S    952  chunk 3 @2048 \"xxxxxxxxxxxxxxxx\"…",
            "C→S     19  END: the upload ends, 3 chunks, 3000 bytes",
        ]
    );
    assert!(
        text.contains(
            "\n        summary: upload to \"copy.bin\": 3 chunks, 3000 bytes, then END\n"
        ),
        "{text}"
    );
}

#[test]
fn rftserver_and_rftclient_match_tshark() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let Some(text) = upload_run(
        "real-rft",
        ("rftserver", &[]),
        "rftclient",
        &data,
        "the FIN is acknowledged: the upload completed",
    ) else {
        return;
    };
    assert!(text.contains("(rft)\n"), "{text}");
    assert!(text.contains("  REQ seq=0 ts="), "{text}");
    assert!(text.contains("\n        summary: upload to \"copy.bin\": 5 DATA packets, 5000 bytes; FIN says 5000 bytes\n"), "{text}");
    // Every ACK names the packet whose timestamp it echoes.
    let acks: Vec<String> = payload_lines(&text)
        .into_iter()
        .filter(|l| l.contains("  ACK seq="))
        .collect();
    assert!(acks.len() >= 7, "{text}");
    assert!(acks.iter().all(|a| a.contains(" (answers #")), "{text}");
}

/// A UDP port on which nothing receives (bound a moment, then closed).
fn closed_port(host: &str) -> u16 {
    std::net::UdpSocket::bind((host, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn dgcliconnect_to_a_closed_port_gets_an_icmp_error_tied_to_its_datagram() {
    let dir = tmpdir("real-icmp");
    let client = program("dgcliconnect");
    // Only the errors that quote this port: any program on the machine (a parallel test)
    // may send to a closed port of loopback, and its ICMP error quotes no datagram here.
    // The quoted UDP header follows the ICMP header (8 bytes) and the quoted IP header
    // (20 bytes for IPv4, 40 for IPv6); its destination port is 2 bytes into it.
    let unreachable = [
        (
            "127.0.0.1",
            "icmp",
            "icmp[icmptype] == icmp-unreach and icmp[30:2]",
        ),
        (
            "::1",
            "icmp6",
            "icmp6[icmp6type] == icmp6-destinationunreach and icmp6[50:2]",
        ),
    ];
    for (host, icmp, quoting) in unreachable {
        let port = closed_port(host).to_string();
        let file = dir.join(format!("{icmp}.pcap"));
        let ran = capture_udp(
            "lo",
            &format!("udp port {port} or ({quoting} == {port})"),
            &file,
            || {
                let (status, _, err) = testkit::run_with_input(&client, &[host, &port], b"hello\n");
                assert!(!status.success() && err.contains("ECONNREFUSED"), "{err}");
            },
            |json| json.contains("\"analysis\":[\"port_unreachable\"]"),
        );
        if !ran {
            return;
        }
        let text = compare_with_tshark(&file);
        assert_eq!(
            payload_lines(&text),
            [
                "C→S      6  \"hello\\n\"",
                "S→C      -  ICMP port unreachable for #1"
            ],
            "{text}"
        );
        let host_port = if host == "::1" {
            format!("[::1]:{port}")
        } else {
            format!("{host}:{port}")
        };
        assert!(text.contains(&format!("\n        ↳ nothing receives on {host_port}, so the host answered #1 with ICMP port unreachable; a connected UDP socket gets it as ECONNREFUSED on its next call, an unconnected one is never told (UNP 8.11)\n")), "{text}");
        assert!(
            text.contains("\n        summary: 1 request, 0 echoed, 1 refused (ICMP)\n"),
            "{text}"
        );
    }
}

/// labcheck lists a failed UDP step's datagrams from its capture as labtrace tells them:
/// here the zoo's echo server that answers `strlen()` bytes (1 of 9, cut at the NUL).
#[test]
fn a_failed_labcheck_udp_step_lists_its_datagrams_from_the_wire() {
    if !labs::labcheck::pcap::permitted() {
        testkit::skip(
            "UNPLAB_REQUIRE_CAPTURE",
            "labcheck captures only where tcpdump is installed and may capture (root)",
        );
        return;
    }
    let dir = tmpdir("labcheck-udp");
    labcheck_util::zoo::build_zoo(&dir, &["udp_echo_server"]);
    let zoo = dir.join("udp_echo_server");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let run = |format: &str| {
        let out = std::process::Command::new(labcheck_util::LABCHECK)
            .args(["server", "udpecho", "--format", format, "--workdir"])
            .arg(&work)
            .arg("--")
            .arg(&zoo)
            .args(["{port}", "strlen"])
            .output()
            .expect("run labcheck");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run("text");
    let step = text
        .split("\n  8. ")
        .nth(1)
        .unwrap_or_else(|| panic!("no step 8 in:\n{text}"));
    assert!(
        step.starts_with("FAIL [robustness] udpecho.binary: "),
        "{text}"
    );
    let listed: Vec<String> = step
        .lines()
        .filter_map(|l| l.strip_prefix("       datagram: #"))
        .map(|l| l[l.find(' ').unwrap_or(0)..].to_string())
        .collect();
    assert_eq!(
        listed,
        [
            r#" client->server len=9 "a\0b\x1b[2J\xff\n"; no echo"#,
            " server->client len=1 \"a\"; not an echo",
        ],
        "{text}"
    );
    // The steps that passed list nothing; JSON has the same lines, marked UDP.
    assert_eq!(text.matches("       datagram: ").count(), 2, "{text}");
    let json = run("json");
    assert!(
        json.contains(r#" client->server len=9 \"a\\0b\\x1b[2J\\xff\\n\"; no echo","UDP #"#),
        "{json}"
    );
}
