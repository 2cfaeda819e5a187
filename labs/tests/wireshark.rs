//! The Wireshark dissector `wireshark/unplab.lua`, run by tshark (`-X lua_script:`): its
//! fields on the committed captures equal labtrace's decoding; on captures built segment
//! by segment with the protocols' own encoders every protocol is decoded, messages split
//! over TCP segments are reassembled, and the heuristics claim only what they should; on
//! a real transfer captured with tcpdump the file's bytes come out whole; the documented
//! install command makes Wireshark load it.
//!
//! tshark (and tcpdump) missing: skipped with a reason unless UNPLAB_REQUIRE_CAPTURE=1.

use labs::capture::{pcap_header, pcap_record};
use labs::packet::{Flags, build_ip_tcp};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod support;
use support::{capture, have, labtrace, tmpdir};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Runs tshark with the dissector on `file`; `args` come before the file. Fails on any
/// Lua error (tshark prints them in the tree and on stderr).
fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-X")
        .arg(format!(
            "lua_script:{}",
            repo("wireshark/unplab.lua").display()
        ))
        .args(["-n", "-r"])
        .arg(file)
        .args(args)
        .output()
        .expect("run tshark");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "tshark: {err}");
    let noise = |l: &&str| l.trim().is_empty() || l.starts_with("Running as user");
    let complaints: Vec<&str> = err.lines().filter(|l| !noise(l)).collect();
    assert!(complaints.is_empty(), "tshark said: {err}");
    assert!(!stdout.contains("Lua Error"), "{stdout}");
    stdout
}

/// Per frame that the dissector decoded: the values of `fields` (tshark's `-T fields`;
/// several occurrences in one frame are joined with `,`).
fn fields(file: &Path, prefs: &[&str], fields: &[&str]) -> BTreeMap<u64, Vec<String>> {
    let mut args: Vec<&str> = Vec::new();
    for p in prefs {
        args.extend(["-o", p]);
    }
    args.extend(["-Y", "unplab"]);
    // Every decoded frame's whole tree, for Lua errors.
    tshark(file, &[&args[..], &["-V"]].concat());
    args.extend(["-T", "fields", "-e", "frame.number"]);
    for f in fields {
        args.extend(["-e", f]);
    }
    tshark(file, &args)
        .lines()
        .map(|l| {
            let mut cols = l.split('\t').map(str::to_string);
            let frame = cols.next().and_then(|f| f.parse().ok()).expect("frame");
            (frame, cols.collect())
        })
        .collect()
}

/// Per frame with a payload: labtrace's decoded text (`--format json`).
fn decoded(file: &Path) -> BTreeMap<u64, String> {
    let (code, out, err) = labtrace(&["--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .filter_map(|l| {
            let frame = l
                .split("\"frame\":")
                .nth(1)?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            let text = l.split("\"decoded\":\"").nth(1)?.rsplit_once("\"}")?.0;
            Some((frame, text.replace("\\\"", "\"")))
        })
        .collect()
}

#[test]
fn the_committed_lottery_captures_decode_as_labtrace_decodes_them() {
    if !have("tshark", "the dissector") {
        return;
    }
    for name in [
        "lottery-seed7.pcap",
        "lottery-server-first.pcap",
        "lottery-simultaneous-close.pcap",
    ] {
        let file = repo(&format!("docs/captures/{name}"));
        let ours = decoded(&file);
        let theirs = fields(
            &file,
            &[],
            &[
                "unplab.lottery.command_name",
                "unplab.lottery.reply",
                "unplab.lottery.reply_kind",
                "unplab.lottery.number",
            ],
        );
        assert_eq!(
            theirs.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{name}: the frames with a lab message"
        );
        for (frame, cols) in &theirs {
            let text = &ours[frame];
            let [command, reply, kind, numbers] = &cols[..] else {
                panic!("{cols:?}")
            };
            if command.is_empty() {
                assert_eq!(&format!("\"{reply}\""), text, "{name} #{frame}");
                // The numbers labtrace shows in the reply, one field each.
                let digits: Vec<&str> = text
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|d| !d.is_empty())
                    .collect();
                assert_eq!(numbers, &digits.join(","), "{name} #{frame}");
                let want = if text.contains("numbers:") {
                    "numbers"
                } else {
                    "new number"
                };
                assert_eq!(kind, want, "{name} #{frame}");
            } else {
                assert_eq!(command, text, "{name} #{frame}");
            }
        }
        assert_eq!(
            theirs.len(),
            7,
            "{name}: GEN, reply, GEN, reply, LIST, reply, END"
        );
    }
}

#[test]
fn the_committed_file_transfer_decodes_as_labtrace_decodes_it() {
    if !have("tshark", "the dissector") {
        return;
    }
    let file = repo("docs/captures/ft-temp1.pcap");
    let ours = decoded(&file);
    assert_eq!(ours[&4], "path \"temp1\"");
    assert_eq!(ours[&6], "segment len=39 (last data), end-of-file segment");
    let theirs = fields(
        &file,
        &[],
        &[
            "unplab.proto",
            "unplab.ft.path",
            "unplab.ft.length",
            "unplab.ft.kind",
            "unplab.ft.data",
        ],
    );
    assert_eq!(theirs[&4], ["ft", "temp1", "", "", ""]);
    let [proto, path, len, kind, data] = &theirs[&6][..] else {
        panic!("{theirs:?}")
    };
    assert_eq!((&proto[..], &path[..]), ("ft", ""));
    assert_eq!((&len[..], &kind[..]), ("39,0", "last data,end of file"));
    assert_eq!(
        data.len(),
        2 * 39,
        "39 bytes of data, none from the padding"
    );
    assert_eq!(theirs.len(), 2);
}

/// Connections built segment by segment: the handshake, each side's writes as
/// segments of the sizes given (each answered by an ACK), the close.
#[derive(Default)]
struct Built {
    segs: Vec<(SocketAddr, SocketAddr, u32, u32, u8, Vec<u8>)>,
}

/// One connection of a [`Built`]: client, server, and the next Seq of each.
struct Conn {
    c: SocketAddr,
    s: SocketAddr,
    cseq: u32,
    sseq: u32,
}

impl Built {
    fn open(&mut self, client_port: u16, server_port: u16) -> Conn {
        let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let (c, s) = (addr(client_port), addr(server_port));
        let (ci, si) = (1000 * u32::from(client_port), 7_000_000);
        let (a, syn) = (Flags::ACK, Flags::SYN);
        self.segs.push((c, s, ci, 0, syn, vec![]));
        self.segs.push((s, c, si, ci + 1, syn | a, vec![]));
        self.segs.push((c, s, ci + 1, si + 1, a, vec![]));
        Conn {
            c,
            s,
            cseq: ci + 1,
            sseq: si + 1,
        }
    }

    /// `bytes` from the client (`client`) or the server, in segments of `sizes` (the
    /// rest in one more).
    fn send(&mut self, k: &mut Conn, client: bool, bytes: &[u8], sizes: &[usize]) {
        let (src, dst) = if client { (k.c, k.s) } else { (k.s, k.c) };
        let mut rest = bytes;
        let mut sizes = sizes.iter().copied().chain(std::iter::once(usize::MAX));
        while !rest.is_empty() {
            let n = sizes.next().unwrap_or(usize::MAX).min(rest.len());
            let (seq, ack) = if client {
                (k.cseq, k.sseq)
            } else {
                (k.sseq, k.cseq)
            };
            let flags = Flags::PSH | Flags::ACK;
            self.segs
                .push((src, dst, seq, ack, flags, rest[..n].to_vec()));
            if client {
                k.cseq += n as u32
            } else {
                k.sseq += n as u32
            }
            rest = &rest[n..];
        }
        let (seq, ack) = if client {
            (k.sseq, k.cseq)
        } else {
            (k.cseq, k.sseq)
        };
        self.segs.push((dst, src, seq, ack, Flags::ACK, vec![]));
    }

    fn close(&mut self, k: &Conn) {
        let (f, a) = (Flags::FIN | Flags::ACK, Flags::ACK);
        self.segs.push((k.c, k.s, k.cseq, k.sseq, f, vec![]));
        self.segs.push((k.s, k.c, k.sseq, k.cseq + 1, f, vec![]));
        self.segs
            .push((k.c, k.s, k.cseq + 1, k.sseq + 1, a, vec![]));
    }

    /// The capture (raw IP), written to `dir/name`.
    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let mut file = pcap_header(101).to_vec();
        for (i, (src, dst, seq, ack, flags, data)) in self.segs.iter().enumerate() {
            let ip = build_ip_tcp(*src, *dst, *seq, *ack, *flags, 65535, data);
            pcap_record(&mut file, 1_000_000 + 1000 * i as u64, &ip);
        }
        let path = dir.join(name);
        std::fs::write(&path, file).expect("write the capture");
        path
    }
}

/// Per TCP stream, each field's values in frame order (a frame's several joined by `,`),
/// empty ones left out.
fn by_stream(
    file: &Path,
    prefs: &[&str],
    names: &[&str],
) -> BTreeMap<(String, String), Vec<String>> {
    let all = [&["tcp.stream"], names].concat();
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for cols in fields(file, prefs, &all).into_values() {
        for (name, value) in names.iter().zip(&cols[1..]) {
            if !value.is_empty() {
                let key = (cols[0].clone(), name.to_string());
                out.entry(key).or_default().push(value.clone());
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn built_captures_decode_every_protocol_and_reassemble_split_messages() {
    use filetransfer::proto::{encode_error, encode_piece};
    use lottery::proto::Command;
    use tcpcliserv::proto::sum_binary;
    if !have("tshark", "the dissector") {
        return;
    }
    let mut b = Built::default();
    // Stream 0: the lottery on 10000, GEN split in two halves.
    let mut k = b.open(40000, 10000);
    for (command, reply) in [
        (
            Command::Gen.encode().to_vec(),
            &b"New number generated: 8"[..],
        ),
        (Command::List.encode().to_vec(), b"numbers: 8 0 0 0 0 0"),
        (7i32.to_le_bytes().to_vec(), b"Unknown command: 7"),
        (Command::Gen.encode().to_vec(), b"Full"),
    ] {
        b.send(&mut k, true, &command, &[2]);
        b.send(&mut k, false, reply, &[]);
    }
    b.send(&mut k, true, &Command::End.encode(), &[]);
    b.close(&k);
    // Stream 1: a 600-byte file on 10000, its 1040 bytes in TCP segments of 100, 500,
    // 300 and 140 bytes: 260-byte segments end inside the 2nd, 3rd and 4th.
    let file: Vec<u8> = (0..600u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut wire = Vec::new();
    encode_piece(&file, true, &mut wire);
    let mut k = b.open(40001, 10000);
    b.send(&mut k, true, b"data.bin", &[]);
    b.send(&mut k, false, &wire, &[100, 500, 300]);
    b.close(&k);
    // Stream 2: a refusal.
    let mut k = b.open(40002, 10000);
    b.send(&mut k, true, b"nope.txt", &[]);
    b.send(
        &mut k,
        false,
        &encode_error("No such file or directory: nope.txt"),
        &[],
    );
    b.close(&k);
    // Stream 3: tcpserv08's text sums on 9877, lines split across segments.
    let mut k = b.open(40003, 9877);
    b.send(&mut k, true, b"3 4\n11 -123\nhello\n", &[6]);
    b.send(&mut k, false, b"7\n-112\ninput error\n", &[1]);
    b.close(&k);
    // Stream 4: tcpserv09's binary sums on 9877, beyond a double's 53 bits.
    let mut k = b.open(40004, 9877);
    let big = (1i64 << 62) + 1;
    b.send(&mut k, true, &sum_binary::encode_request(big, -4), &[10]);
    b.send(&mut k, false, &sum_binary::encode_reply(big - 4), &[]);
    b.close(&k);
    // Stream 5: echo on 9877; stream 6: daytime on 13.
    let mut k = b.open(40005, 9877);
    b.send(&mut k, true, b"hello, world\n", &[]);
    b.send(&mut k, false, b"hello, world\n", &[]);
    b.close(&k);
    let mut k = b.open(40006, 13);
    b.send(&mut k, false, b"Tue Sep  5 11:04:47 2017\r\n", &[]);
    b.close(&k);
    let dir = tmpdir("dissector-built");
    let path = b.write(&dir, "all.pcap");

    let names = [
        "unplab.proto",
        "unplab.lottery.command_name",
        "unplab.lottery.reply_kind",
        "unplab.lottery.number",
        "unplab.ft.path",
        "unplab.ft.length",
        "unplab.ft.kind",
        "unplab.ft.data",
        "unplab.ft.error",
        "unplab.sum.encoding",
        "unplab.sum.a",
        "unplab.sum.b",
        "unplab.sum.sum",
        "unplab.echo.text",
        "unplab.daytime.text",
    ];
    let got = by_stream(&path, &[], &names);
    let want: &[(&str, &str, &[&str])] = &[
        (
            "0",
            "unplab.lottery.command_name",
            &["GEN", "LIST", "unknown command 7", "GEN", "END"],
        ),
        (
            "0",
            "unplab.lottery.reply_kind",
            &["new number", "numbers", "unknown command", "full"],
        ),
        ("0", "unplab.lottery.number", &["8", "8,0,0,0,0,0"]),
        ("1", "unplab.ft.path", &["data.bin"]),
        // One frame completes two segments, the next two one each.
        ("1", "unplab.ft.length", &["256,256", "88", "0"]),
        (
            "1",
            "unplab.ft.kind",
            &["data,data", "last data", "end of file"],
        ),
        ("2", "unplab.ft.kind", &["error"]),
        (
            "2",
            "unplab.ft.error",
            &["No such file or directory: nope.txt"],
        ),
        (
            "3",
            "unplab.sum.encoding",
            &["text", "text,text", "text,text,text"],
        ),
        ("3", "unplab.sum.a", &["3", "11"]),
        ("3", "unplab.sum.b", &["4", "-123"]),
        ("3", "unplab.sum.sum", &["7,-112"]),
        ("4", "unplab.sum.a", &["4611686018427387905"]),
        ("4", "unplab.sum.b", &["-4"]),
        ("4", "unplab.sum.sum", &["4611686018427387901"]),
        (
            "5",
            "unplab.echo.text",
            &["hello, world\\n", "hello, world\\n"],
        ),
        (
            "6",
            "unplab.daytime.text",
            &["Tue Sep  5 11:04:47 2017\\r\\n"],
        ),
    ];
    for (stream, field, values) in want {
        let key = (stream.to_string(), field.to_string());
        assert_eq!(
            got.get(&key).map(Vec::as_slice),
            Some(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>()[..]),
            "stream {stream}, {field}: {got:#?}"
        );
    }
    let protos: Vec<String> = (0..7)
        .map(|s| got[&(s.to_string(), "unplab.proto".to_string())][0].clone())
        .collect();
    assert_eq!(
        protos,
        ["lottery", "ft", "ft", "sum08", "sum09", "echo", "daytime"]
    );
    let data = got[&("1".into(), "unplab.ft.data".into())]
        .join("")
        .replace(',', "");
    assert_eq!(data, hex(&file), "the file's bytes, reassembled");
    // The GEN split in two is decoded in the frame of its second half (frame 5: after
    // the handshake, frame 4 is the first half).
    let frames = fields(&path, &[], &["unplab.lottery.command_name"]);
    assert!(
        !frames.contains_key(&4) && frames[&5] == ["GEN"],
        "{frames:?}"
    );
}

#[test]
fn heuristics_claim_other_ports_only_on_unmistakable_bytes() {
    if !have("tshark", "the dissector") {
        return;
    }
    let mut b = Built::default();
    // The handout's lottery port, 1235, and a daytime server on 5013.
    let mut k = b.open(40000, 1235);
    b.send(&mut k, true, &[0, 0, 0, 0], &[]);
    b.send(&mut k, false, b"New number generated: 8", &[]);
    b.send(&mut k, true, &[1, 0, 0, 0], &[]);
    b.send(&mut k, false, b"numbers: 8 0 0 0 0 0", &[]);
    b.close(&k);
    let mut k = b.open(40001, 5013);
    b.send(&mut k, false, b"Tue Sep  5 11:04:47 2017\r\n", &[]);
    b.close(&k);
    // Text and zeros on other ports are nobody's: not claimed.
    let mut k = b.open(40002, 4444);
    b.send(&mut k, true, b"hello\n", &[]);
    b.send(&mut k, false, b"Full", &[]);
    b.send(&mut k, false, &[0; 1040], &[]);
    b.close(&k);
    let dir = tmpdir("dissector-heuristics");
    let path = b.write(&dir, "heur.pcap");
    let names = [
        "unplab.proto",
        "unplab.lottery.command_name",
        "unplab.lottery.number",
    ];
    let got = by_stream(&path, &[], &names);
    let key = |s: &str, f: &str| (s.to_string(), f.to_string());
    // Claimed at the first reply: what follows in the connection is decoded too.
    assert_eq!(
        got[&key("0", "unplab.lottery.number")],
        ["8", "8,0,0,0,0,0"]
    );
    assert_eq!(got[&key("0", "unplab.lottery.command_name")], ["LIST"]);
    assert_eq!(got[&key("1", "unplab.proto")], ["daytime"]);
    assert!(!got.keys().any(|(s, _)| s == "2"), "{got:?}");
    // With the port as a preference, from the first command on.
    let got = by_stream(&path, &["unplab.lottery_ports:1235"], &names);
    assert_eq!(
        got[&key("0", "unplab.lottery.command_name")],
        ["GEN", "LIST"]
    );
}

#[test]
fn a_real_transfer_captured_by_tcpdump_is_reassembled_whole() {
    use filetransfer::{fetch, proto};
    if !have("tshark", "the dissector") || !have("tcpdump", "the capture") {
        return;
    }
    let dir = tmpdir("dissector-ft");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let wire = {
        let mut w = Vec::new();
        proto::encode_piece(&data, true, &mut w);
        w
    };
    // What ftserver answers, in one write: the kernel cuts it into TCP segments of its
    // own sizes, which 260-byte segments straddle.
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut path = [0u8; proto::BUFSIZE];
            let _ = conn.read(&mut path);
            let _ = conn.write_all(&wire);
        }
    });
    let file = dir.join("ft.pcap");
    let local = dir.join("copy");
    let captured = capture("lo", port, &file, || {
        let opts = fetch::Options {
            timeout: Duration::from_secs(10),
            progress: false,
            trust_close: false,
        };
        let got = fetch::fetch("127.0.0.1", port, "data.bin", &local, &opts);
        assert_eq!(got.expect("the transfer"), data.len() as u64);
        1
    });
    if !captured {
        return;
    }
    let pref = format!("unplab.ft_ports:{port}");
    let got = fields(
        &file,
        &[&pref],
        &["tcp.len", "unplab.ft.length", "unplab.ft.data"],
    );
    let lengths: Vec<String> = got
        .values()
        .flat_map(|c| c[1].split(',').map(str::to_string))
        .filter(|l| !l.is_empty())
        .collect();
    let segments = data.len().div_ceil(proto::BUFSIZE) + 1;
    assert_eq!(lengths.len(), segments, "{got:?}");
    assert_eq!(lengths.last().map(String::as_str), Some("0"));
    let joined: String = got.values().map(|c| c[2].replace(',', "")).collect();
    assert_eq!(joined, hex(&data), "the file's bytes, in order");
    let straddled = got
        .values()
        .any(|c| c[0].parse::<usize>().is_ok_and(|n| n > 260 && n % 260 != 0));
    assert!(straddled, "no TCP segment cut a 260-byte segment: {got:?}");
}

#[test]
fn the_documented_install_command_makes_wireshark_load_it() {
    if !have("tshark", "the dissector") {
        return;
    }
    let home = tmpdir("dissector-home");
    let doc = std::fs::read_to_string(repo("docs/capture.md")).expect("docs/capture.md");
    let command = doc
        .lines()
        .find(|l| l.starts_with("mkdir -p ~/.local/lib/wireshark/plugins"))
        .expect("the install command in docs/capture.md");
    let status = Command::new("sh")
        .args(["-c", command])
        .current_dir(repo(""))
        .env("HOME", home.path())
        .status()
        .expect("sh");
    assert!(status.success(), "{command}");
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(repo("docs/captures/lottery-seed7.pcap"))
        .args([
            "-Y",
            "unplab.lottery.number == 19",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .env("HOME", home.path())
        .output()
        .expect("tshark");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6\n12\n", "{out:?}");
}
