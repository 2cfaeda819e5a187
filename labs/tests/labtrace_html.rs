//! `labtrace --html` in a real headless Chromium: the page loads without a script error,
//! a screenshot is taken, and its self-test (the page opened with `#selftest` points at
//! every field and every byte and writes what lit up into `<pre id="selftest">`) says
//! that pointing at a field highlights exactly its bytes; the test checks those bytes
//! against the capture file itself.
//!
//! Chromium missing: skipped with a reason unless UNPLAB_REQUIRE_CHROMIUM=1 (CI).

use labs::capture::{pcap_header, pcap_record};
use labs::packet::{Flags, build_ip_tcp};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{labtrace, tmpdir};

/// The browser, or `None` after a skip.
fn chromium(test: &str) -> Option<String> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let found = std::env::var("UNPLAB_CHROMIUM")
        .ok()
        .into_iter()
        .chain(candidates.iter().map(|c| c.to_string()))
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        testkit::skip(
            "UNPLAB_REQUIRE_CHROMIUM",
            &format!("{test}: no chromium (apt-get install chromium)"),
        );
    }
    found
}

/// Runs headless Chromium on `url` with `args`, its profile in `dir`; returns stdout.
fn headless(browser: &str, dir: &Path, url: &str, args: &[&str]) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(["--virtual-time-budget=20000", "--no-first-run"])
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes the page of `capture` into `dir`; returns its path.
fn page(capture: &Path, dir: &Path) -> PathBuf {
    let html = dir.join("page.html");
    let (code, _, err) = labtrace(&[capture.to_str().unwrap(), "--html", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&html).expect("the page");
    // Self-contained: nothing to fetch.
    for outside in ["src=\"http", "href=\"http", "url(", "@import", "<link"] {
        assert!(!text.contains(outside), "the page refers to {outside}");
    }
    html
}

/// The self-test's lines, from the page as Chromium left it.
fn selftest(browser: &str, dir: &Path, html: &Path) -> Vec<String> {
    let url = format!("file://{}#selftest", html.display());
    let dom = headless(browser, dir, &url, &["--dump-dom"]);
    let start = dom
        .find("<pre id=\"selftest\">")
        .expect("the self-test ran")
        + 19;
    let end = dom[start..].find("</pre>").expect("its end") + start;
    let lines: Vec<String> = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("errors 0"),
        "{lines:#?}"
    );
    let bad: Vec<&String> = lines.iter().filter(|l| l.contains(" bad")).collect();
    assert!(bad.is_empty(), "highlights that went wrong: {bad:#?}");
    lines
}

/// The frames of a pcap file (microsecond, little-endian, as tcpdump and the tests write).
fn frames(file: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(file).expect("the capture");
    let mut out = Vec::new();
    let mut at = 24;
    while let Some(head) = bytes.get(at..at + 16) {
        let len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
        out.push(bytes[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asserts that the self-test pointed at field `name` of `frame`, found it at `range`,
/// and lit exactly those bytes of the capture; and that pointing at each of those bytes
/// lit a field (this one, or one inside it).
fn lit(lines: &[String], frames: &[Vec<u8>], frame: usize, name: &str, range: (usize, usize)) {
    let (s, e) = range;
    let want = format!(
        "field {frame} {name} {s}-{e} ok {}",
        hex(&frames[frame - 1][s..e])
    );
    assert!(lines.contains(&want), "no `{want}` in {lines:#?}");
    let first = format!("byte {frame} {s} ");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&first) && l.ends_with(" ok") && !l.contains(" - ")),
        "byte {s} of frame {frame} lights no field"
    );
}

#[test]
fn the_lottery_page_highlights_each_fields_bytes_in_chromium() {
    let Some(browser) = chromium("the_lottery_page") else {
        return;
    };
    let dir = tmpdir("html-lottery");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/captures/lottery-seed7.pcap");
    let html = page(&capture, &dir);
    let lines = selftest(&browser, &dir, &html);
    let frames = frames(&capture);
    assert!(lines.contains(&"segments 17".to_string()));
    // Ethernet (lo), 20 bytes of IPv4, 32 of TCP (12 of options), 4 of data.
    lit(&lines, &frames, 4, "eth.type", (12, 14));
    lit(&lines, &frames, 4, "ip.src", (26, 30));
    lit(&lines, &frames, 4, "tcp.srcport", (34, 36));
    assert_eq!(
        frames[3][34..36],
        42676u16.to_be_bytes(),
        "the client's port"
    );
    lit(&lines, &frames, 4, "tcp.seq", (38, 42));
    lit(&lines, &frames, 4, "tcp.flags", (47, 48));
    lit(&lines, &frames, 4, "tcp.options.timestamp", (56, 66));
    lit(&lines, &frames, 4, "unplab.lottery.command", (66, 70));
    assert_eq!(frames[3][66..70], [0, 0, 0, 0], "GEN");
    // The SYN's options, and the reply's number (the characters `1` and `9`).
    lit(&lines, &frames, 1, "tcp.options.mss", (54, 58));
    lit(&lines, &frames, 1, "tcp.options.wscale", (71, 74));
    lit(&lines, &frames, 6, "unplab.lottery.number", (88, 90));
    assert_eq!(&frames[5][88..90], b"19");
    // Pointing at a byte lights the innermost field: a port's byte its port, not TCP.
    for want in [
        "byte 4 35 tcp.srcport ok",
        "byte 4 67 unplab.lottery.command ok",
        "byte 6 89 unplab.lottery.number ok",
        "byte 6 70 unplab.lottery.reply ok",
        "byte 1 72 tcp.option_len ok",
    ] {
        assert!(lines.contains(&want.to_string()), "no `{want}`");
    }
    // A screenshot: a PNG of the size asked for, with something drawn in it.
    let png = dir.join("page.png");
    let shot = format!("--screenshot={}", png.display());
    headless(
        &browser,
        &dir,
        &format!("file://{}", html.display()),
        &[&shot, "--window-size=1280,1600"],
    );
    let image = std::fs::read(&png).expect("the screenshot");
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert_eq!(
        &image[16..24],
        [1280u32.to_be_bytes(), 1600u32.to_be_bytes()].concat()
    );
    assert!(
        image.len() > 20_000,
        "an almost empty screenshot: {} bytes",
        image.len()
    );
}

#[test]
fn the_file_transfer_page_shows_each_file_segment() {
    let Some(browser) = chromium("the_file_transfer_page") else {
        return;
    };
    let dir = tmpdir("html-ft");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/captures/ft-temp1.pcap");
    let html = page(&capture, &dir);
    let lines = selftest(&browser, &dir, &html);
    let frames = frames(&capture);
    lit(&lines, &frames, 4, "unplab.ft.path", (66, 71));
    // Two 260-byte segments in frame 6: 39 bytes of data, then end of file.
    lit(&lines, &frames, 6, "unplab.ft.length", (66, 70));
    assert_eq!(frames[5][66..70], 39i32.to_le_bytes());
    lit(&lines, &frames, 6, "unplab.ft.data", (70, 109));
    lit(&lines, &frames, 6, "unplab.ft.padding", (109, 326));
    lit(&lines, &frames, 6, "unplab.ft.length", (326, 330));
    assert_eq!(frames[5][326..330], 0i32.to_le_bytes());
    assert!(lines.contains(&"byte 6 100 unplab.ft.data ok".to_string()));
}

/// A segment to build: source, destination, Seq, Ack, flags, payload.
type Seg<'a> = (SocketAddr, SocketAddr, u32, u32, u8, &'a [u8]);

#[test]
fn ipv6_over_linux_cooked_v2_and_a_split_command_are_shown() {
    let Some(browser) = chromium("ipv6_over_linux_cooked_v2") else {
        return;
    };
    let dir = tmpdir("html-ipv6");
    let c: SocketAddr = "[::1]:40000".parse().unwrap();
    let s: SocketAddr = "[::1]:10000".parse().unwrap();
    let (a, p, syn) = (Flags::ACK, Flags::PSH, Flags::SYN);
    let segs: [Seg; 5] = [
        (c, s, 100, 0, syn, b""),
        (s, c, 500, 101, syn | a, b""),
        (c, s, 101, 501, a, b""),
        (c, s, 101, 501, p | a, &[1, 0]),
        (c, s, 103, 501, p | a, &[0, 0, 2, 0, 0, 0]),
    ];
    let mut file = pcap_header(276).to_vec();
    for (i, (src, dst, seq, ack, flags, data)) in segs.iter().enumerate() {
        // SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length
        // and address (8 bytes).
        let mut frame = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6];
        frame.extend_from_slice(&[0; 8]);
        frame.extend_from_slice(&build_ip_tcp(*src, *dst, *seq, *ack, *flags, 512, data));
        pcap_record(&mut file, 1000 * i as u64, &frame);
    }
    let capture = dir.join("v6.pcap");
    std::fs::write(&capture, file).unwrap();
    let html = page(&capture, &dir);
    let lines = selftest(&browser, &dir, &html);
    let frames = frames(&capture);
    lit(&lines, &frames, 4, "sll.etype", (0, 2));
    lit(&lines, &frames, 4, "ipv6.src", (28, 44));
    lit(&lines, &frames, 4, "ipv6.dst", (44, 60));
    lit(&lines, &frames, 4, "tcp.dstport", (62, 64));
    // LIST split 2 + 2: its start here, its end in the next segment, then END.
    lit(&lines, &frames, 4, "unplab.partial", (80, 82));
    lit(&lines, &frames, 5, "unplab.continued", (80, 82));
    lit(&lines, &frames, 5, "unplab.lottery.command", (82, 86));
}
