//! Fuzzing on stable Rust, in the normal test suite: every decoder that reads bytes from
//! a peer or a file gets thousands of mutated inputs, and must not panic (or hang).
//!
//! A deterministic mutation test rather than cargo-fuzz (`labs/fuzz`, nightly only): each
//! case takes a seed input (real and built captures, the protocols' own messages), applies
//! a few random mutations (bit flips, edge values in length fields, insertions, deletions,
//! splices of two seeds) drawn from a generator seeded by the run's seed and the case
//! number, and runs the decoders on the result. A failure names its target, seed and case
//! number; `UNPLAB_FUZZ_SEED=S UNPLAB_FUZZ_CASE=N cargo test -p labs --test fuzz TARGET`
//! runs that one case again (the input is also written to the temp directory).
//! `UNPLAB_FUZZ_SEED` alone changes the run's seed and `UNPLAB_FUZZ_CASES` the number of
//! cases per target, for a longer hunt.
//!
//! The entry points are labtrace's: [`labs::trace`] for whole capture files (capture
//! reader, link and IP layers, connection tracker, UDP flows and ICMP errors, every
//! protocol decoder, every view and the SVG), [`labs::decode::describe`] and
//! [`labs::decode::Proto::guess`] for message streams, and [`labs::udp::lab::State`] and
//! [`labs::udp::proto::guess`] for the datagrams of a UDP flow. `describe` decodes with
//! the protocol crates' own decoders (`lottery::proto`, `filetransfer::proto`,
//! `tcpcliserv::proto`, `udpcliserv`'s `seq` and `rft::proto`), the ones the servers and
//! clients use.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use labs::capture::{pcap_header, pcap_record};
use labs::decode::{Proto, Side, describe};
use labs::packet::{Flags, build_ip_tcp_wscale};
use labs::render::View;
use labs::tcp::wireshark::Like;

/// The run's seed unless `UNPLAB_FUZZ_SEED` says otherwise ("unplab" in ASCII).
const DEFAULT_SEED: u64 = 0x756e_706c_6162;

/// A case that runs longer than this is reported as a hang.
const HANG: Duration = Duration::from_secs(20);

/// Inputs grow no larger than this (a capture seed is a few kilobytes).
const MAX_INPUT: usize = 1 << 16;

// ---------------------------------------------------------------- generator

/// SplitMix64: a small, fast generator whose every seed gives a good sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A length that is usually small: 1, 2, 4, ... up to `max` (at least 1).
    fn small(&mut self, max: usize) -> usize {
        let bits = self.below(8) as u32;
        (1 + self.below(1 << bits)).min(max.max(1))
    }
}

/// The generator of case `case` of `target`: independent of every other case, so one
/// case can be run alone.
fn case_rng(seed: u64, target: &str, case: u64) -> Rng {
    let name = target.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x50_0000_01b3)
    });
    let mut mix = Rng(seed ^ name);
    let base = mix.next();
    let mut rng = Rng(base ^ case.wrapping_mul(0xd134_2543_de82_ef95));
    rng.next();
    rng
}

/// Values that sit on the edges of length and count fields.
const EDGES: [u32; 14] = [
    0,
    1,
    2,
    3,
    4,
    0x7f,
    0x80,
    0xff,
    256,
    260,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// One random change to `data`; `other` is another seed, for splices.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match rng.below(10) {
        // Flip a bit.
        0 if len > 0 => {
            let at = rng.below(len);
            data[at] ^= 1 << rng.below(8);
        }
        // A byte set to an edge value or anything.
        1 if len > 0 => {
            let at = rng.below(len);
            data[at] = match rng.below(6) {
                0 => 0,
                1 => 0xff,
                2 => 0x7f,
                3 => 0x80,
                _ => rng.next() as u8,
            };
        }
        // A 16- or 32-bit field (either byte order) set to an edge value.
        2 if len >= 4 => {
            let at = rng.below(len - 3);
            let v = EDGES[rng.below(EDGES.len())];
            let v = if rng.below(2) == 0 {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            let width = if rng.below(2) == 0 { 2 } else { 4 };
            data[at..at + width].copy_from_slice(&v[..width]);
        }
        // A small arithmetic change of one byte.
        3 if len > 0 => {
            let at = rng.below(len);
            let delta = 1 + rng.below(16) as u8;
            data[at] = if rng.below(2) == 0 {
                data[at].wrapping_add(delta)
            } else {
                data[at].wrapping_sub(delta)
            };
        }
        // Random bytes inserted.
        4 => {
            let at = rng.below(len + 1);
            let n = rng.small(64);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        // A range deleted.
        5 if len > 0 => {
            let at = rng.below(len);
            let n = rng.small(len - at);
            data.drain(at..at + n);
        }
        // Cut short.
        6 if len > 0 => data.truncate(rng.below(len)),
        // A range repeated in place.
        7 if len > 0 => {
            let at = rng.below(len);
            let n = rng.small(len - at);
            let copy = data[at..at + n].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, copy);
        }
        // Spliced with another seed: this one's front, the other's back.
        8 if !other.is_empty() => {
            let cut = rng.below(len + 1);
            let from = rng.below(other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // A range copied from another seed over this one.
        _ if !other.is_empty() && len > 0 => {
            let from = rng.below(other.len());
            let n = rng.small(other.len() - from).min(len);
            let at = rng.below(len - n + 1);
            data[at..at + n].copy_from_slice(&other[from..from + n]);
        }
        _ => data.push(rng.next() as u8),
    }
    data.truncate(MAX_INPUT);
}

/// The input of one case: a seed with 1 to 8 mutations (occasionally the seed as it is).
fn input(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    let other = &seeds[rng.below(seeds.len())];
    let rounds = if rng.below(16) == 0 { 0 } else { rng.small(8) };
    for _ in 0..rounds {
        mutate(rng, &mut data, other);
    }
    data
}

// ---------------------------------------------------------------- runner

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={v:?}: {e}")))
}

/// Runs `cases` cases of `target` (unless `UNPLAB_FUZZ_CASES`/`UNPLAB_FUZZ_CASE` say
/// otherwise): each builds its input from `seeds` and gives it to `check`, which must not
/// panic. Runs in a thread of its own, watched: a case that takes longer than [`HANG`]
/// fails the test as a hang.
fn fuzz(target: &str, seeds: Vec<Vec<u8>>, cases: u64, check: fn(&mut Rng, &[u8])) {
    assert!(!seeds.is_empty(), "{target}: no seeds");
    let seed = env_u64("UNPLAB_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let range = match env_u64("UNPLAB_FUZZ_CASE") {
        Some(one) => one..one + 1,
        None => 0..env_u64("UNPLAB_FUZZ_CASES").unwrap_or(cases),
    };
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    {
        let (name, current, range) = (target.to_string(), Arc::clone(&current), range.clone());
        let thread = std::thread::Builder::new().name(format!("fuzz {target}"));
        let worker = thread.spawn(move || {
            for case in range {
                current.store(case, Ordering::SeqCst);
                let mut rng = case_rng(seed, &name, case);
                let data = input(&mut rng, &seeds);
                let result = catch_unwind(AssertUnwindSafe(|| check(&mut rng, &data)));
                if let Err(panic) = result {
                    let _ = done_tx.send(Err((case, data, panic_text(&*panic))));
                    return;
                }
            }
            let _ = done_tx.send(Ok(()));
        });
        worker.unwrap_or_else(|e| panic!("{target}: cannot start a thread: {e}"));
    }
    let mut last = (u64::MAX, Instant::now());
    loop {
        match done_rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(())) => break,
            Ok(Err((case, data, message))) => {
                let file = std::env::temp_dir().join(format!("unplab-fuzz-{target}-{case}.bin"));
                let saved = match std::fs::write(&file, &data) {
                    Ok(()) => format!("input saved in {}", file.display()),
                    Err(e) => format!("input not saved ({e})"),
                };
                panic!(
                    "{target}: case {case} of seed {seed:#x} panicked: {message}\n\
                     {} bytes, {saved}; run it again with\n  \
                     UNPLAB_FUZZ_SEED={seed:#x} UNPLAB_FUZZ_CASE={case} cargo test -p labs --test fuzz {target}",
                    data.len()
                );
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let case = current.load(Ordering::SeqCst);
                if case != last.0 {
                    last = (case, Instant::now());
                } else if last.1.elapsed() > HANG {
                    panic!(
                        "{target}: case {case} of seed {seed:#x} has run for over {HANG:?} (a hang?); \
                         run it alone with UNPLAB_FUZZ_SEED={seed:#x} UNPLAB_FUZZ_CASE={case}"
                    );
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{target}: the fuzzing thread ended without a word")
            }
        }
    }
    eprintln!(
        "{target}: {} cases of seed {seed:#x} in {:.2?}, no panic",
        range.end - range.start,
        started.elapsed()
    );
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

// ---------------------------------------------------------------- checks

/// labtrace on the bytes as a capture file: any protocol (or a guess), any port filter,
/// every view, with or without the SVG. An error is fine; a panic is not.
fn trace_any_way(rng: &mut Rng, data: &[u8]) {
    let proto = match rng.below(Proto::ALL.len() + 3) {
        i if i < Proto::ALL.len() => Some(Proto::ALL[i].1),
        _ => None,
    };
    let port = match rng.below(4) {
        0 => Some([7, 13, 1235, 9877, 12345, 49312, 9000][rng.below(7)]),
        _ => None,
    };
    let view = [View::Text, View::Json, View::Ladder, View::Quiz][rng.below(4)];
    let opts = labs::Options {
        proto,
        port,
        view,
        svg: rng.below(2) == 0,
        rtt: rng.below(2) == 0,
        tsg: rng.below(4) == 0,
        html: (rng.below(4) == 0).then(|| "fuzz.pcap".to_string()),
        wireshark: [Like::V4_0, Like::V4_4][rng.below(2)],
    };
    let _ = labs::trace(data, &opts, std::io::sink());
}

/// The bytes as one side's stream in `protos`, decoded as labtrace's tracker does: from
/// the front, message by message, and in random pieces as segments bring them. Also the
/// guess of the protocol from the first bytes.
fn describe_streams(rng: &mut Rng, data: &[u8], protos: &[Proto]) {
    let proto = protos[rng.below(protos.len())];
    let side = if rng.below(2) == 0 {
        Side::Client
    } else {
        Side::Server
    };
    let _ = Proto::guess([7, 13, 1235, 9877][rng.below(4)], side, data);
    // All at once, then message by message while whole messages remain.
    let mut rest = data;
    loop {
        let (_, used) = describe(proto, side, rest);
        assert!(
            used <= rest.len(),
            "{proto:?} {side:?} used {used} of {} bytes",
            rest.len()
        );
        if used == 0 {
            break;
        }
        rest = &rest[used..];
    }
    // In pieces: what is not used waits for the next piece, as in the tracker.
    let mut pending = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let n = rng.small(data.len() - at);
        pending.extend_from_slice(&data[at..at + n]);
        at += n;
        let (_, used) = describe(proto, side, &pending);
        assert!(
            used <= pending.len(),
            "{proto:?} {side:?} used {used} of {}",
            pending.len()
        );
        pending.drain(..used);
    }
}

fn lottery_stream(rng: &mut Rng, data: &[u8]) {
    describe_streams(rng, data, &[Proto::Lottery]);
}

fn file_transfer_stream(rng: &mut Rng, data: &[u8]) {
    describe_streams(rng, data, &[Proto::Ft]);
}

fn sum_stream(rng: &mut Rng, data: &[u8]) {
    describe_streams(rng, data, &[Proto::Sum08, Proto::Sum09]);
}

fn any_stream(rng: &mut Rng, data: &[u8]) {
    let all: Vec<Proto> = Proto::ALL.iter().map(|(_, p)| *p).collect();
    describe_streams(rng, data, &all);
}

/// The bytes cut into datagrams of a UDP flow, each from a random side, through a flow's
/// protocol as labtrace keeps it (a guess on the first, or each UDP protocol), and a
/// random one of them reported as refused by an ICMP error; then the flow's end.
fn udp_flow(rng: &mut Rng, data: &[u8]) {
    use labs::udp::lab::{Seen, State};
    let udp = [
        Proto::UdpEcho,
        Proto::UdpFt,
        Proto::UdpSeq,
        Proto::Rft,
        Proto::Raw,
    ];
    let side = |rng: &mut Rng| match rng.below(2) {
        0 => Side::Client,
        _ => Side::Server,
    };
    let first_side = side(rng);
    let proto = match rng.below(udp.len() + 1) {
        i if i < udp.len() => udp[i],
        _ => labs::udp::proto::guess(
            [7, 9000, 49312, 49313][rng.below(4)],
            first_side,
            data,
            data.len(),
        ),
    };
    let mut state = State::new(proto);
    let (mut at, mut frame) = (0, 0u64);
    while at < data.len() {
        let n = rng.small(data.len() - at);
        let payload = &data[at..at + n];
        at += n;
        frame += 1;
        // Now and then a datagram the snap length cut: longer on the wire than here.
        let len = n + if rng.below(8) == 0 {
            rng.small(2000)
        } else {
            0
        };
        let told = state.datagram(&Seen {
            frame,
            side: if frame == 1 { first_side } else { side(rng) },
            payload,
            len,
        });
        for m in &told.marks {
            let _ = (m.sentence(), m.label(), m.name());
        }
        if rng.below(16) == 0 {
            state.refused(frame);
        }
    }
    let end = state.finish();
    for (_, m) in &end.marks {
        let _ = (m.sentence(), m.label(), m.name());
    }
}

// ---------------------------------------------------------------- seeds: messages

fn le32(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Lottery commands (4-byte little-endian ints) and replies (text), alone and in runs.
fn lottery_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [0, 1, 2, 7, -1, i32::MIN, i32::MAX]
        .iter()
        .map(|&c| le32(c))
        .collect();
    seeds.push([le32(0), le32(1), le32(0), le32(2)].concat());
    for reply in [
        "New number generated: 8",
        "New number generated: 45",
        "Full",
        "numbers: 8 0 0 0 0 0",
        "numbers: 1 2 3 4 5 45",
        "Unknown command: 7",
        "Unknown command: -2147483648",
    ] {
        seeds.push(reply.as_bytes().to_vec());
    }
    seeds
}

/// A file-transfer segment as the C structure has it: a little-endian `int length`,
/// then a 256-byte buffer.
fn ft_segment(length: i32, data: &[u8]) -> Vec<u8> {
    let mut seg = le32(length);
    seg.extend_from_slice(data);
    seg.resize(260, 0);
    seg
}

/// File-transfer requests (a path) and server streams (data, end-of-file and error
/// segments, a length out of range).
fn file_transfer_seeds() -> Vec<Vec<u8>> {
    let full: Vec<u8> = (0..=255u8).collect();
    let refused = b"refused: outside the served directory";
    let mut seeds = vec![
        b"hello.txt".to_vec(),
        b"/tmp/x".to_vec(),
        b"sub/dir/file.bin".to_vec(),
        vec![b'a'; 255],
        b"a\xffb".to_vec(),
        ft_segment(256, &full),
        ft_segment(10, b"0123456789"),
        ft_segment(0, b""),
        ft_segment(-1, refused),
        ft_segment(300, b""),
        ft_segment(-2, b""),
    ];
    seeds.push(
        [
            ft_segment(256, &full),
            ft_segment(88, &full),
            ft_segment(0, b""),
        ]
        .concat(),
    );
    seeds.push(
        [
            ft_segment(256, &full),
            ft_segment(-1, refused),
            vec![1, 2, 3],
        ]
        .concat(),
    );
    seeds
}

/// The lab's UDP datagrams: echo lines, the upload's path, `ok`, chunks and END, the
/// sequence experiment's numbered datagrams, rft's packets of every kind.
fn udp_seeds() -> Vec<Vec<u8>> {
    use udpcliserv::rft::proto::{Kind, Packet};
    let mut seeds: Vec<Vec<u8>> = [
        "hello\n",
        "copy.txt",
        "ok",
        "refused: outside the root (../x)",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    seeds.push(udpcliserv::ft::END_FLAG.to_vec());
    seeds.push(vec![b'x'; 1024]);
    for n in [0, 1, 17, -1, i32::MAX] {
        seeds.push(udpcliserv::seq::encode(n).to_vec());
    }
    let length = 5000u64.to_le_bytes();
    for (kind, seq, payload) in [
        (Kind::Req, 0, &b"copy.bin"[..]),
        (Kind::Data, 1, &[7u8; 1024][..]),
        (Kind::Fin, 6, &length[..]),
        (Kind::Ack, 7, &b""[..]),
        (Kind::Err, 0, &b"busy: another upload is in progress"[..]),
    ] {
        seeds.push(Packet::new(kind, seq, 258, payload).emit());
    }
    // A flow's worth in one: the datagrams cut apart again by the check.
    let flow: Vec<u8> = seeds.concat();
    seeds.push(flow);
    seeds
}

fn sum09_request(a: i64, b: i64) -> Vec<u8> {
    [a.to_le_bytes(), b.to_le_bytes()].concat()
}

/// tcpserv08's text lines and tcpserv09's binary pairs, requests and replies; echo and
/// daytime lines too, which the guesses must tell apart from sums.
fn sum_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "2 5\n",
        "4 2\n11 123\n",
        "-9223372036854775808 -1\n",
        "  +7\t-3 junk\n",
        "99999999999999999999999 1\n",
        "x\n",
        "3 4\n5",
        "7\n",
        "input error\n",
        "-9223372036854775808\n",
        "hello there\n",
        "Tue Sep  5 11:04:47 2017\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    seeds.push(sum09_request(3, 4));
    seeds.push(sum09_request(i64::MAX, 1));
    seeds.push([sum09_request(i64::MIN, -1), sum09_request(1, 2)].concat());
    seeds.push(7i64.to_le_bytes().to_vec());
    seeds.push(i64::MIN.to_le_bytes().to_vec());
    seeds
}

// ---------------------------------------------------------------- seeds: captures

/// One TCP connection, segment by segment (IP packets), with sequence numbers as a real
/// stack would write them.
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    next: [u32; 2],
    packets: Vec<Vec<u8>>,
}

impl Conn {
    /// The handshake; both SYNs offer window scaling when `wscale` is given.
    fn open(client: &str, server: &str, wscale: Option<u8>) -> Conn {
        let (client, server) = (client.parse().unwrap(), server.parse().unwrap());
        let mut c = Conn {
            client,
            server,
            next: [0x1000_0000, 0x7000_0000],
            packets: Vec::new(),
        };
        c.send(0, Flags::SYN, wscale, b"");
        c.send(1, Flags::SYN | Flags::ACK, wscale, b"");
        c.send(0, Flags::ACK, None, b"");
        c
    }

    /// A segment from side `from` (0 = client), acknowledging all the other side sent.
    fn send(&mut self, from: usize, flags: u8, wscale: Option<u8>, data: &[u8]) {
        let (src, dst) = match from {
            0 => (self.client, self.server),
            _ => (self.server, self.client),
        };
        let ack = if flags & Flags::ACK != 0 {
            self.next[1 - from]
        } else {
            0
        };
        let seq = self.next[from];
        self.packets.push(build_ip_tcp_wscale(
            src, dst, seq, ack, flags, 65535, wscale, data,
        ));
        let used = data.len() as u32 + u32::from(flags & (Flags::SYN | Flags::FIN) != 0);
        self.next[from] = seq.wrapping_add(used);
    }

    /// Each message from the client (`true`) or the server, pushed and acknowledged.
    fn talk(mut self, exchange: &[(bool, &[u8])]) -> Conn {
        for (from_client, data) in exchange {
            let from = usize::from(!from_client);
            self.send(from, Flags::PSH | Flags::ACK, None, data);
            self.send(1 - from, Flags::ACK, None, b"");
        }
        self
    }

    /// The client closes first, the server follows.
    fn close(mut self) -> Vec<Vec<u8>> {
        self.send(0, Flags::FIN | Flags::ACK, None, b"");
        self.send(1, Flags::ACK, None, b"");
        self.send(1, Flags::FIN | Flags::ACK, None, b"");
        self.send(0, Flags::ACK, None, b"");
        self.packets
    }
}

/// A session of each lab protocol, on IPv4 or IPv6 loopback addresses.
fn lab_sessions(v6: bool) -> Vec<Vec<u8>> {
    let host = |port: u16| {
        if v6 {
            format!("[::1]:{port}")
        } else {
            format!("127.0.0.1:{port}")
        }
    };
    let cli = host(40000);
    let full: Vec<u8> = (0..=255u8).collect();
    let segments = [ft_segment(256, &full), ft_segment(10, b"0123456789")].concat();
    let refusal = ft_segment(-1, b"refused: symbolic link");
    let (gen_, list, end) = (le32(0), le32(1), le32(2));
    let (eof, sum_request, sum_reply) =
        (ft_segment(0, b""), sum09_request(3, 4), 7i64.to_le_bytes());
    // (server port, window scale in the SYNs, the messages: from the client?, bytes)
    type Session<'a> = (u16, Option<u8>, Vec<(bool, &'a [u8])>);
    let sessions: [Session; 7] = [
        (
            1235,
            Some(7),
            vec![
                (true, &gen_),
                (false, b"New number generated: 8"),
                (true, &list),
                (false, b"numbers: 8 0 0 0 0 0"),
                (true, &end),
            ],
        ),
        (
            1236,
            None,
            vec![(true, b"hello.txt"), (false, &segments), (false, &eof)],
        ),
        (1237, None, vec![(true, b"link"), (false, &refusal)]),
        (9877, Some(14), vec![(true, b"2 5\n"), (false, b"7\n")]),
        (9878, None, vec![(true, &sum_request), (false, &sum_reply)]),
        (7, None, vec![(true, b"hello\n"), (false, b"hello\n")]),
        (13, None, vec![(false, b"Tue Sep  5 11:04:47 2017\r\n")]),
    ];
    sessions
        .iter()
        .flat_map(|(port, wscale, talk)| Conn::open(&cli, &host(*port), *wscale).talk(talk).close())
        .collect()
}

/// UDP flows of each lab protocol (IP packets): an echo and its ICMP-refused request, an
/// upload, the sequence experiment with a gap, rft with a retransmission; a datagram in
/// fragments; on IPv4 or IPv6 loopback addresses.
fn udp_sessions(v6: bool) -> Vec<Vec<u8>> {
    use labs::udp::build::{ip_udp, ipv4_fragments, ipv6_fragments, port_unreachable};
    use udpcliserv::rft::proto::{Kind, Packet};
    let host = |port: u16| -> SocketAddr {
        let text = if v6 {
            format!("[::1]:{port}")
        } else {
            format!("127.0.0.1:{port}")
        };
        text.parse().unwrap()
    };
    let (cli, echo, ft, seq, rft) = (host(40000), host(7), host(49312), host(9000), host(49313));
    let mut packets = vec![
        ip_udp(cli, echo, b"hello\n"),
        ip_udp(echo, cli, b"hello\n"),
        ip_udp(cli, ft, b"copy.txt"),
        ip_udp(ft, cli, b"ok"),
        ip_udp(cli, ft, &[b'x'; 1024]),
        ip_udp(cli, ft, udpcliserv::ft::END_FLAG),
    ];
    let refused = ip_udp(cli, host(9), b"anyone?\n");
    packets.push(port_unreachable(host(9).ip(), &refused));
    packets.insert(packets.len() - 1, refused);
    for n in [0, 1, 3, 2] {
        packets.push(ip_udp(cli, seq, &udpcliserv::seq::encode(n)));
    }
    for (from_client, kind, n) in [
        (true, Kind::Req, 0),
        (false, Kind::Ack, 1),
        (true, Kind::Data, 1),
        (true, Kind::Data, 1),
        (false, Kind::Ack, 2),
    ] {
        let (src, dst) = if from_client { (cli, rft) } else { (rft, cli) };
        packets.push(ip_udp(
            src,
            dst,
            &Packet::new(kind, n, u64::from(n) * 10, b"x").emit(),
        ));
    }
    let big = ip_udp(cli, seq, &[1; 3000]);
    packets.extend(match v6 {
        false => ipv4_fragments(&big, 9, 1480),
        true => ipv6_fragments(&big, 9, 1232),
    });
    packets
}

/// An IP packet behind the link-layer header of `linktype`.
fn frame(linktype: u32, ip: &[u8]) -> Vec<u8> {
    let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
    let ether_type: u16 = if v6 { 0x86dd } else { 0x0800 };
    let mut f = match linktype {
        // BSD loopback: the address family in the host's byte order (30: AF_INET6 on macOS).
        0 => (if v6 { 30u32 } else { 2 }).to_le_bytes().to_vec(),
        1 => {
            let mut h = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2];
            h.extend_from_slice(&ether_type.to_be_bytes());
            h
        }
        // Linux cooked v1: packet type, ARPHRD_LOOPBACK, address length, address, protocol.
        113 => {
            let mut h = [0u16.to_be_bytes(), 772u16.to_be_bytes(), 6u16.to_be_bytes()].concat();
            h.extend_from_slice(&[0; 8]);
            h.extend_from_slice(&ether_type.to_be_bytes());
            h
        }
        // Linux cooked v2: protocol, reserved, interface index, ARPHRD, type, address.
        276 => {
            let mut h = [ether_type.to_be_bytes(), [0, 0]].concat();
            h.extend_from_slice(&1u32.to_be_bytes());
            h.extend_from_slice(&772u16.to_be_bytes());
            h.extend_from_slice(&[0, 6, 0, 0, 0, 0, 0, 0, 0, 0]);
            h
        }
        _ => Vec::new(), // 101: raw IP
    };
    f.extend_from_slice(ip);
    f
}

fn pcap(linktype: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut file = pcap_header(linktype).to_vec();
    for (i, ip) in packets.iter().enumerate() {
        pcap_record(
            &mut file,
            1_000_000 + 1_000 * i as u64,
            &frame(linktype, ip),
        );
    }
    file
}

/// A pcapng block: type, total length, body padded to 4 bytes, total length again.
fn pcapng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    body.resize(body.len().next_multiple_of(4), 0);
    let total = (body.len() + 12) as u32;
    [
        kind.to_le_bytes().to_vec(),
        total.to_le_bytes().to_vec(),
        body,
        total.to_le_bytes().to_vec(),
    ]
    .concat()
}

/// The same in pcapng: a section header, one Ethernet interface, enhanced packet blocks.
fn pcapng(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]); // version 1.0
    shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
    let mut file = pcapng_block(0x0a0d_0d0a, &shb);
    let mut idb = 1u16.to_le_bytes().to_vec(); // LINKTYPE_ETHERNET
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    file.extend(pcapng_block(1, &idb));
    for (i, ip) in packets.iter().enumerate() {
        let data = frame(1, ip);
        let time = 1_000_000u64 + 1_000 * i as u64;
        let mut epb = 0u32.to_le_bytes().to_vec(); // interface 0
        epb.extend_from_slice(&((time >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(time as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&data);
        file.extend(pcapng_block(6, &epb));
    }
    file
}

/// The captures in docs/captures/ and captures of every lab protocol built here, in each
/// link type labtrace reads, over IPv4 and IPv6, in pcap and pcapng.
fn capture_seeds() -> Vec<Vec<u8>> {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/captures");
    let mut files: Vec<_> = std::fs::read_dir(&docs)
        .unwrap_or_else(|e| panic!("{}: {e}", docs.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no captures in {}", docs.display());
    let mut seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    let (mut v4, mut v6) = (lab_sessions(false), lab_sessions(true));
    v4.extend(udp_sessions(false));
    v6.extend(udp_sessions(true));
    for linktype in [0, 1, 101, 113, 276] {
        seeds.push(pcap(linktype, &v4));
        seeds.push(pcap(linktype, &v6));
    }
    seeds.push(pcapng(&v4));
    seeds.push(pcapng(&v6));
    seeds
}

// ---------------------------------------------------------------- targets

#[test]
fn capture_files() {
    let seeds = capture_seeds();
    // The seeds as they are first: each must trace cleanly, or the mutations start from
    // broken ground.
    for (i, seed) in seeds.iter().enumerate() {
        let opts = labs::Options {
            proto: None,
            port: None,
            view: View::Text,
            svg: true,
            rtt: true,
            tsg: true,
            html: Some(format!("seed {i}")),
            wireshark: Like::default(),
        };
        let mut out = Vec::new();
        let outcome = labs::trace(seed.as_slice(), &opts, &mut out)
            .unwrap_or_else(|e| panic!("seed {i} is not a capture: {e}"));
        assert!(outcome.warning.is_none(), "seed {i}: {:?}", outcome.warning);
        assert!(
            outcome.segments + outcome.datagrams > 0,
            "seed {i}: no TCP segment, no UDP datagram"
        );
    }
    fuzz("capture_files", seeds, 6_000, trace_any_way);
}

#[test]
fn lottery_messages() {
    fuzz("lottery_messages", lottery_seeds(), 50_000, lottery_stream);
}

#[test]
fn file_transfer_segments() {
    fuzz(
        "file_transfer_segments",
        file_transfer_seeds(),
        50_000,
        file_transfer_stream,
    );
}

#[test]
fn sum_messages() {
    fuzz("sum_messages", sum_seeds(), 50_000, sum_stream);
}

/// Every seed message through every decoder, guess included: a lottery command read as a
/// sum, a segment read as a daytime line.
#[test]
fn any_message_as_any_protocol() {
    let seeds = [
        lottery_seeds(),
        file_transfer_seeds(),
        sum_seeds(),
        udp_seeds(),
    ]
    .concat();
    fuzz("any_message_as_any_protocol", seeds, 50_000, any_stream);
}

/// UDP flows of the lab's protocols, each datagram through every UDP decoder.
#[test]
fn udp_datagrams() {
    fuzz("udp_datagrams", udp_seeds(), 50_000, udp_flow);
}

/// The generator and the mutations are the same on every run: a reported case number
/// reproduces its input.
#[test]
fn cases_are_reproducible() {
    let seeds = lottery_seeds();
    for case in [0, 1, 999] {
        let a = input(&mut case_rng(DEFAULT_SEED, "t", case), &seeds);
        let b = input(&mut case_rng(DEFAULT_SEED, "t", case), &seeds);
        assert_eq!(a, b);
    }
    let inputs: std::collections::HashSet<Vec<u8>> = (0..200)
        .map(|case| input(&mut case_rng(DEFAULT_SEED, "t", case), &seeds))
        .collect();
    assert!(inputs.len() > 150, "only {} distinct inputs", inputs.len());
}
