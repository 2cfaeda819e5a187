//! The UDP lessons across labnet's impaired link: the course's sequence experiment
//! under loss and reordering, the course's file transfer corrupted by loss, and the
//! reliable transfer delivering identical files under loss, reordering and duplication.
//!
//! Needs root, `/dev/net/tun`, `ip` and labnet built next to these programs
//! (`cargo build -p labs --bin labnet`); without them the tests skip with a printed
//! reason, unless UNPLAB_REQUIRE_NETNS=1, where they fail. Each test builds its own
//! network and removes it when it ends, also on failure.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use nix::sys::signal::Signal;
use testkit::Proc;

const SEQSERV: &str = env!("CARGO_BIN_EXE_udpseqserver");
const SEQCLI: &str = env!("CARGO_BIN_EXE_udpseqclient");

/// One `ip netns add` at a time: the first mounts /run/netns.
static STARTING: Mutex<()> = Mutex::new(());

fn labnet_path() -> PathBuf {
    Path::new(SEQSERV).with_file_name("labnet")
}

fn skip(test: &str) -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        Some("labnet needs root".to_string())
    } else if !Path::new("/dev/net/tun").exists() {
        Some("no /dev/net/tun".to_string())
    } else if !labnet_path().exists() {
        Some(format!(
            "{} is not built: cargo build -p labs --bin labnet",
            labnet_path().display()
        ))
    } else {
        None
    };
    let Some(why) = why else { return false };
    testkit::skip("UNPLAB_REQUIRE_NETNS", &format!("{test}: {why}"));
    true
}

/// A network from `labnet up`, torn down on drop.
struct Net {
    name: String,
    up: Option<Proc>,
    /// The server's IPv4 address (labnet gives a second network other addresses).
    server: String,
}

impl Net {
    /// `labnet up --name TAG IMPAIRMENTS`, waiting until the link carries packets.
    fn up(tag: &str, impairments: &[&str]) -> Net {
        let name = format!("u{}{tag}", std::process::id() % 100_000);
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let mut args = vec!["up", "--name", &name, "--pcap", "/dev/null"];
        args.extend_from_slice(impairments);
        let mut up = Proc::spawn(labnet_path().to_str().unwrap(), &args);
        // labnet: NAME-client 192.0.2.1 / 2001:db8::1 <-> NAME-server 192.0.2.2 / 2001:db8::2
        let line = up.expect_line("the addresses", |l| l.contains(" <-> "));
        let server = line.split_whitespace().nth(7).unwrap_or("").to_string();
        up.expect_line("labnet: up", |l| l.starts_with("labnet: up;"));
        Net {
            name,
            up: Some(up),
            server,
        }
    }

    /// `labnet exec --name NAME SIDE PROGRAM ARGS`, running.
    fn spawn(&self, side: &str, program: &str, args: &[&str]) -> Proc {
        let mut all = vec!["exec", "--name", &self.name, side, program];
        all.extend_from_slice(args);
        Proc::spawn(labnet_path().to_str().unwrap(), &all)
    }

    /// The server namespace's UDP receive-buffer drops (`RcvbufErrors`).
    fn rcvbuf_errors(&self) -> u64 {
        let out = Command::new(labnet_path())
            .args([
                "exec",
                "--name",
                &self.name,
                "server",
                "cat",
                "/proc/net/snmp",
            ])
            .output()
            .expect("labnet exec");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut udp = text.lines().filter(|l| l.starts_with("Udp: "));
        let (names, values) = (udp.next().unwrap_or(""), udp.next().unwrap_or(""));
        let i = names
            .split_whitespace()
            .position(|n| n == "RcvbufErrors")
            .expect("RcvbufErrors");
        values
            .split_whitespace()
            .nth(i)
            .and_then(|v| v.parse().ok())
            .expect("a count")
    }

    /// Ends the link; returns its `client→server: ...` counts line.
    fn down(mut self) -> String {
        let mut up = self.up.take().expect("running");
        up.signal(Signal::SIGTERM);
        let (_, out, err) = up.wait_exit();
        format!("{out}{err}")
            .lines()
            .find(|l| l.starts_with("client→server:"))
            .unwrap_or("")
            .to_string()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        drop(self.up.take());
        let _ = Command::new(labnet_path())
            .args(["down", "--name", &self.name])
            .output();
    }
}

/// `N` from `... N WORD` in `line` (`22 lost`).
fn count_before(line: &str, word: &str) -> u64 {
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    words
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_sequence_experiment_shows_loss_and_reordering_on_labnet() {
    if skip("sequence") {
        return;
    }
    let net = Net::up("seq", &["--loss", "10%", "--reorder", "5%", "--seed", "1"]);
    let mut server = net.spawn("server", SEQSERV, &["10000", "--idle", "1"]);
    server.expect_line("listening", |l| l.starts_with("listening on"));
    let mut client = net.spawn("client", SEQCLI, &[&net.server, "10000", "--count", "200"]);
    let (status, out, _) = client.wait_exit();
    assert!(status.success());
    assert_eq!(out, "sent 200 datagrams\n");
    let (_, out, _) = server.wait_exit();
    let summary = out.lines().last().unwrap_or("").to_string();
    assert!(out.contains("Error!\n"), "{out}");
    let received = count_before(&summary.replace("received ", "received_ "), "datagrams");
    let overrun = net.rcvbuf_errors();
    let link = net.down();
    let lost = count_before(&link, "lost");
    assert!(lost > 0 && count_before(&link, "reordered") > 0, "{link}");
    // Every datagram is accounted for: delivered, lost on the link, or dropped by the
    // server's kernel because its socket buffer was full (the server prints slowly).
    assert_eq!(
        received + lost + overrun,
        200,
        "{summary} / {link} / {overrun} overrun"
    );
}

/// A temporary directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("udp-netns-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root")).expect("mkdir");
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `size` bytes of reproducible noise.
fn noise(size: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn the_course_transfer_is_silently_corrupted_by_loss() {
    if skip("udpft") {
        return;
    }
    let dir = Dir::new("udpft");
    let data = noise(200 * 1024);
    std::fs::write(dir.0.join("data.bin"), &data).expect("write");
    let net = Net::up("ft", &["--loss", "10%,0%", "--seed", "2"]);
    let root = dir.0.join("root");
    let server_args = ["--root", root.to_str().unwrap(), "--idle", "1", "--once"];
    let mut server = net.spawn("server", env!("CARGO_BIN_EXE_udpftserver"), &server_args);
    server.expect_line("listening", |l| l.starts_with("listening on"));
    let origin = dir.0.join("data.bin");
    // The path datagram may be lost too: then the client waits forever. Seed 2 keeps it.
    let client_args = [net.server.as_str(), origin.to_str().unwrap(), "copy.bin"];
    let mut client = net.spawn("client", env!("CARGO_BIN_EXE_udpftclient"), &client_args);
    let (status, out, err) = client.wait_exit();
    assert!(status.success(), "{err}");
    assert!(
        out.starts_with("Filename sent.\nsent 204800 bytes in 200 datagrams"),
        "{out}"
    );
    let (_, out, _) = server.wait_exit();
    let copy = std::fs::read(root.join("copy.bin")).expect("the copy exists");
    let link = net.down();
    assert!(count_before(&link, "lost") > 0, "{link}");
    assert!(
        copy.len() < data.len(),
        "holes: {} of {} bytes\n{out}",
        copy.len(),
        data.len()
    );
    assert_ne!(copy, data[..copy.len()], "the copy is not even a prefix");
}

/// rftclient uploads `size` bytes across a link with `impairments`; the copy must be
/// identical. Returns the client's summary line.
fn reliable_upload(tag: &str, impairments: &[&str], size: usize) -> String {
    let dir = Dir::new(tag);
    let data = noise(size);
    std::fs::write(dir.0.join("data.bin"), &data).expect("write");
    let net = Net::up(tag, impairments);
    let root = dir.0.join("root");
    let mut server = net.spawn(
        "server",
        env!("CARGO_BIN_EXE_rftserver"),
        &["--root", root.to_str().unwrap()],
    );
    server.expect_line("listening", |l| l.starts_with("listening on"));
    let origin = dir.0.join("data.bin");
    let args = [net.server.as_str(), origin.to_str().unwrap(), "copy.bin"];
    let mut client = net.spawn("client", env!("CARGO_BIN_EXE_rftclient"), &args);
    let (status, out, err) = client.wait_exit();
    assert!(status.success(), "{err}");
    server.expect_line("the end", |l| l.contains(": wrote "));
    let copy = std::fs::read(root.join("copy.bin")).expect("the copy exists");
    assert!(
        copy == data,
        "the copy differs: {} of {} bytes",
        copy.len(),
        data.len()
    );
    let link = net.down();
    format!("{}  [{link}]", out.trim_end())
}

#[test]
fn the_reliable_transfer_is_identical_under_loss_reordering_and_duplication() {
    if skip("rft") {
        return;
    }
    let impair = [
        "--loss",
        "10%",
        "--reorder",
        "10%",
        "--duplicate",
        "10%",
        "--delay",
        "1ms",
        "--seed",
        "5",
    ];
    let summary = reliable_upload("rft", &impair, 1 << 20);
    assert!(summary.contains("retransmitted"), "{summary}");
}

/// The benchmark behind docs/lab4-udp.md's table: 4 MiB at 0, 1, 5 and 10 % loss
/// each way, 1 ms delay each way. `cargo test --release -p udpcliserv --test netns --
/// --ignored --nocapture throughput`.
#[test]
#[ignore = "a benchmark: run it by hand"]
fn throughput_against_loss() {
    if skip("bench") {
        return;
    }
    for loss in ["0%", "1%", "5%", "10%"] {
        let summary = reliable_upload(
            "bench",
            &["--loss", loss, "--delay", "1ms", "--seed", "1"],
            4 << 20,
        );
        println!("loss {loss}: {summary}");
    }
}
