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
    assert!(
        std::env::var("UNPLAB_REQUIRE_NETNS").as_deref() != Ok("1"),
        "{test}: {why}"
    );
    eprintln!("SKIPPED {test}: {why}");
    true
}

/// A network from `labnet up`, torn down on drop.
struct Net {
    name: String,
    up: Option<Proc>,
}

impl Net {
    /// `labnet up --name TAG IMPAIRMENTS`, waiting until the link carries packets.
    fn up(tag: &str, impairments: &[&str]) -> Net {
        let name = format!("u{}{tag}", std::process::id() % 100_000);
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let mut args = vec!["up", "--name", &name, "--pcap", "/dev/null"];
        args.extend_from_slice(impairments);
        let mut up = Proc::spawn(labnet_path().to_str().unwrap(), &args);
        up.expect_line("labnet: up", |l| l.starts_with("labnet: up;"));
        Net { name, up: Some(up) }
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
    let mut client = net.spawn("client", SEQCLI, &["192.0.2.2", "10000", "--count", "200"]);
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
