//! labnet, measured: the delay, loss, duplication and reordering it promises are what
//! ping and tshark see; the scenarios' transcripts and captures; and no namespace,
//! state file or process is left after any way the link can end (SIGTERM, `labnet
//! down`, SIGKILL then `labnet down`, a panic).
//!
//! The tests need root, `/dev/net/tun`, iproute2's `ip`, `ping` and `tshark`; without
//! them they skip with a printed reason, unless UNPLAB_REQUIRE_NETNS=1 (CI), where they
//! fail instead. Each test uses its own network name and removes it when it ends, also
//! on failure (the [`Net`] guard).

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const LABNET: &str = env!("CARGO_BIN_EXE_labnet");

/// The first `ip netns add` on a machine mounts /run/netns; two at once can race, so
/// this process starts one network at a time.
static STARTING: Mutex<()> = Mutex::new(());

/// Why labnet cannot run here, if it cannot.
fn why_not() -> Option<String> {
    // SAFETY: geteuid(2) only reads the process's credentials.
    if unsafe { nix::libc::geteuid() } != 0 {
        return Some("labnet needs root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun (modprobe tun)".into());
    }
    for (tool, arg) in [("ip", "-V"), ("ping", "-V"), ("tshark", "-v")] {
        let ok = Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Some(format!(
                "cannot run `{tool}`: install it (iproute2, iputils-ping, tshark)"
            ));
        }
    }
    None
}

/// True (after printing why) when the test must skip; fails when UNPLAB_REQUIRE_NETNS=1.
fn skip(test: &str) -> bool {
    let Some(why) = why_not() else { return false };
    testkit::skip(
        "UNPLAB_REQUIRE_NETNS",
        &format!("{test}: labnet cannot run: {why}"),
    );
    true
}

/// A network name for this test: unique per process and test, at most 24 characters.
fn net_name(tag: &str) -> String {
    format!("t{}{tag}", std::process::id() % 100_000)
}

fn labnet(args: &[&str]) -> Output {
    Command::new(LABNET)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("labnet {args:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whatever of network `name` is left: namespaces, state directory.
fn leftovers(name: &str) -> Vec<String> {
    let mut left: Vec<String> = ["client", "server"]
        .iter()
        .map(|s| format!("/run/netns/{name}-{s}"))
        .chain([format!("/run/labnet/{name}")])
        .filter(|p| Path::new(p).exists())
        .collect();
    // A process of labnet's: the link (`labnet ... --name NAME`) or a program in the
    // network's namespaces (those end with the namespaces, checked above).
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_labnet = args.first().is_some_and(|a| a.ends_with(b"labnet"));
        if is_labnet && args.windows(2).any(|w| w == [b"--name", name.as_bytes()]) {
            left.push(format!("process {:?}", entry.file_name()));
        }
    }
    let list = Command::new("ip").args(["netns", "list"]).output();
    if let Ok(out) = list {
        let list = String::from_utf8_lossy(&out.stdout);
        left.extend(
            list.lines()
                .filter(|l| l.starts_with(&format!("{name}-")))
                .map(|l| format!("ip netns list: {l}")),
        );
    }
    left
}

/// A network a test started with `labnet up`; on drop the link is killed and the
/// network removed, whatever the test did.
struct Net {
    name: String,
    up: Option<Child>,
    lines: Receiver<String>,
    pcap: PathBuf,
    /// The addresses labnet announced: client IPv4, client IPv6, server IPv4, server IPv6.
    addrs: [String; 4],
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Net {
    /// `labnet up --name NAME ARGS`, waiting until the link carries packets.
    fn up(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Net {
        let name = net_name(tag);
        let dir = std::env::temp_dir().join(format!("labnet-test-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let pcap = dir.join("link.pcap");
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let mut child = Command::new(LABNET)
            .args(["up", "--name", &name, "--pcap"])
            .arg(&pcap)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn labnet up");
        let (tx, lines) = channel();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(l);
                }
            });
        }
        let mut net = Net {
            name,
            up: Some(child),
            lines,
            pcap,
            addrs: Default::default(),
            _dir: TempDir(dir),
        };
        // labnet: NAME-client 192.0.2.1 / 2001:db8::1 <-> NAME-server 192.0.2.2 / 2001:db8::2
        let announced = net.wait_line(" <-> ").unwrap_or_default();
        let words: Vec<&str> = announced.split_whitespace().collect();
        if let [_, _, c4, _, c6, _, _, s4, _, s6] = words[..] {
            net.addrs = [c4, c6, s4, s6].map(String::from);
        }
        let seen = net.wait_line("labnet: up;");
        assert!(
            seen.is_some() && !net.addrs[0].is_empty(),
            "labnet up did not come up ({announced}): {:?}",
            net.output()
        );
        net
    }

    /// Waits (at most 20 s) for a line of `labnet up` containing `text`.
    fn wait_line(&self, text: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(text) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// All `labnet up` printed so far.
    fn output(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// `labnet exec --name NAME SIDE ARGS`.
    fn exec(&self, side: &str, args: &[&str]) -> Output {
        let mut all = vec!["exec", "--name", &self.name, side];
        all.extend_from_slice(args);
        labnet(&all)
    }

    /// Sends `signal` to `labnet up` and waits (at most 20 s) for it to exit.
    fn signal_and_wait(&mut self, signal: nix::sys::signal::Signal) -> std::process::ExitStatus {
        let child = self.up.as_mut().expect("labnet up is running");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("kill");
        self.wait_exit()
    }

    /// Waits (at most 20 s) for `labnet up` to exit by itself.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.up.take().expect("labnet up is running");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("waitpid") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("labnet up did not exit: {:?}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(mut child) = self.up.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !leftovers(&self.name).is_empty() {
            let _ = labnet(&["down", "--name", &self.name]);
        }
    }
}

/// `ping`'s summary: (transmitted, received, minimum and average RTT in ms).
fn ping_summary(out: &Output) -> (u32, u32, f64, f64) {
    let t = text(out);
    let num = |after: &str| -> Option<u32> {
        let i = t.find(after)?;
        t[..i].split_whitespace().last()?.parse().ok()
    };
    let sent = num(" packets transmitted").unwrap_or_else(|| panic!("no ping summary: {t}"));
    let got = num(" received").unwrap_or_else(|| panic!("no ping summary: {t}"));
    let rtt = |i: usize| {
        t.split("min/avg/max/mdev = ")
            .nth(1)
            .and_then(|r| r.split('/').nth(i))
            .and_then(|a| a.parse().ok())
            .unwrap_or(f64::NAN)
    };
    (sent, got, rtt(0), rtt(1))
}

/// How many packets of `pcap` match the display filter.
fn tshark_count(pcap: &Path, filter: &str) -> usize {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark");
    assert!(out.status.success(), "tshark: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Binomial(n, p) within 4 standard deviations of its mean.
fn within_4_sigma(count: u32, n: u32, p: f64) -> bool {
    let mean = f64::from(n) * p;
    let sd = (f64::from(n) * p * (1.0 - p)).sqrt();
    (f64::from(count) - mean).abs() <= 4.0 * sd
}

#[test]
fn delay_100ms_makes_a_200ms_round_trip_and_sigterm_tears_down() {
    if skip("delay") {
        return;
    }
    let mut net = Net::up("delay", &["--delay", "100ms"], &[]);
    let out = net.exec("client", &["ping", "-c", "5", "-i", "0.2", &net.addrs[2]]);
    let (sent, got, min, avg) = ping_summary(&out);
    assert_eq!((sent, got), (5, 5), "{}", text(&out));
    // The fastest round trip is the link's own accuracy; the average also shows how
    // late a busy machine (a CI runner, parallel tests) schedules the link.
    assert!(
        (200.0..=205.0).contains(&min),
        "RTT {min} ms: {}",
        text(&out)
    );
    assert!(avg <= 260.0, "RTT average {avg} ms: {}", text(&out));
    let out = net.exec("server", &["ping", "-c", "3", "-i", "0.2", &net.addrs[1]]);
    let (_, got, min, _) = ping_summary(&out);
    assert_eq!(got, 3, "{}", text(&out));
    assert!(
        (200.0..=205.0).contains(&min),
        "IPv6 RTT {min} ms: {}",
        text(&out)
    );
    let status = net.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    assert!(
        status.success(),
        "labnet up after SIGTERM: {status}: {:?}",
        net.output()
    );
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
}

#[test]
fn loss_10_percent_drops_a_binomial_share_each_way_and_down_tears_down() {
    if skip("loss") {
        return;
    }
    let net = Net::up("loss", &["--loss", "10%", "--seed", "7"], &[]);
    let n = 600;
    let count = n.to_string();
    let server = &net.addrs[2];
    let args = ["ping", "-q", "-c", &count, "-i", "0.002", "-W", "1", server];
    let out = net.exec("client", &args);
    let (sent, got, _, _) = ping_summary(&out);
    assert_eq!(sent, n);
    // A reply needs the request and the reply to survive: p = 0.9 × 0.9.
    assert!(
        within_4_sigma(got, n, 0.81),
        "{got} of {n} replies: {}",
        text(&out)
    );
    let down = labnet(&["down", "--name", &net.name]);
    assert!(down.status.success(), "labnet down: {}", text(&down));
    assert!(text(&down).contains("+ kill "), "{}", text(&down));
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
    // The capture holds what the link delivered: about 90% of the requests.
    let requests = tshark_count(&net.pcap, "icmp.type == 8") as u32;
    assert!(
        within_4_sigma(requests, n, 0.9),
        "{requests} of {n} requests crossed"
    );
    let replies = tshark_count(&net.pcap, "icmp.type == 0") as u32;
    assert_eq!(replies, got, "the capture shows the replies ping received");
}

#[test]
fn duplicates_show_in_the_capture_and_ping() {
    if skip("duplicate") {
        return;
    }
    let mut net = Net::up("dup", &["--duplicate", "20%,0%", "--seed", "3"], &[]);
    let out = net.exec(
        "client",
        &["ping", "-c", "200", "-i", "0.005", &net.addrs[2]],
    );
    assert!(text(&out).contains("DUP!"), "{}", text(&out));
    net.signal_and_wait(nix::sys::signal::Signal::SIGINT);
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
    let requests = tshark_count(&net.pcap, "icmp.type == 8") as u32;
    assert!(
        within_4_sigma(requests - 200, 200, 0.2),
        "{requests} requests for 200 pings"
    );
}

#[test]
fn sigkill_then_down_leaves_nothing() {
    if skip("sigkill") {
        return;
    }
    let mut net = Net::up("kill", &[], &[]);
    net.signal_and_wait(nix::sys::signal::Signal::SIGKILL);
    assert!(!leftovers(&net.name).is_empty(), "SIGKILL skips teardown");
    let again = labnet(&["up", "--name", &net.name]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("labnet down --name"),
        "{}",
        text(&again)
    );
    let down = labnet(&["down", "--name", &net.name]);
    assert!(down.status.success(), "labnet down: {}", text(&down));
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
}

#[test]
fn a_panicking_link_still_tears_down() {
    if skip("panic") {
        return;
    }
    let mut net = Net::up("panic", &[], &[("LABNET_TEST_PANIC_AFTER", "3")]);
    let _ = net.exec(
        "client",
        &["ping", "-c", "3", "-i", "0.2", "-W", "1", &net.addrs[2]],
    );
    let status = net.wait_exit();
    assert!(!status.success());
    let said = net.output().join("\n");
    assert!(said.contains("panics on purpose"), "{said}");
    assert!(said.contains("torn down"), "{said}");
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
}

#[test]
fn two_networks_at_once_do_not_clash() {
    if skip("two") {
        return;
    }
    let a = Net::up("a", &[], &[]);
    let b = Net::up("b", &[], &[]);
    let a_said = a.exec("client", &["ip", "-4", "addr", "show", "tun0"]);
    let b_said = b.exec("client", &["ip", "-4", "addr", "show", "tun0"]);
    assert_ne!(text(&a_said), text(&b_said));
    for net in [&a, &b] {
        let addr = text(&net.exec("server", &["ip", "-4", "-o", "addr", "show", "tun0"]));
        let server = addr
            .split_whitespace()
            .skip_while(|w| *w != "inet")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .unwrap_or_default()
            .to_string();
        let out = net.exec("client", &["ping", "-c", "1", "-W", "2", &server]);
        assert!(out.status.success(), "{}: {}", net.name, text(&out));
    }
}

/// Runs `labnet run ARGS` with a capture in a fresh directory; returns the output and
/// the capture's path (the directory is removed by the guard).
fn run_scenario(tag: &str, args: &[&str]) -> (Output, PathBuf, TempDir) {
    let name = net_name(tag);
    let dir = std::env::temp_dir().join(format!("labnet-test-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("run.pcap");
    let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(LABNET)
        .args(["run", "--name", &name, "--pcap"])
        .arg(&pcap)
        .args(args)
        .output()
        .expect("labnet run");
    assert_eq!(leftovers(&name), Vec::<String>::new(), "{}", text(&out));
    (out, pcap, TempDir(dir))
}

/// The scenarios run the workspace's programs, which `cargo test -p labs` alone does not
/// build.
fn programs_built(test: &str, programs: &[&str]) -> bool {
    let dir = Path::new(LABNET).parent().unwrap();
    let missing: Vec<&&str> = programs.iter().filter(|p| !dir.join(p).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    testkit::skip(
        "UNPLAB_REQUIRE_NETNS",
        &format!(
            "{test}: {missing:?} not built in {}: run `cargo build --workspace --bins`",
            dir.display()
        ),
    );
    false
}

#[test]
fn the_lottery_across_a_200ms_link() {
    if skip("lottery") || !programs_built("lottery", &["lotteryserver", "lotteryclient"]) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("lot", &["lottery", "--delay", "100ms"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for expected in [
        "+ ip netns add ",
        "[server] $ lotteryserver 10000 --seed 1",
        "connection from ",
        "[client] $ printf '0\\n0\\n0\\n1\\n2\\n' | lotteryclient ",
        "New number generated: ",
        "numbers: ",
        "(lottery)",
        "close 4/4",
    ] {
        assert!(t.contains(expected), "no `{expected}` in:\n{t}");
    }
    // Each GEN waits a round trip: the five requests take at least a second.
    let last = tshark_count(&pcap, "tcp.flags.fin == 1 && frame.time_relative > 1.0");
    assert!(last >= 1, "{t}");
}

#[test]
fn ft_under_5_percent_loss_delivers_the_file_with_retransmissions() {
    if skip("ft") || !programs_built("ft", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("ft", &["ft", "--loss", "5%", "--seed", "5"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("copy.bin is identical to data.bin: 1048576 bytes"),
        "{t}"
    );
    assert!(
        tshark_count(&pcap, "tcp.analysis.retransmission") > 0,
        "{t}"
    );
    assert!(t.contains("lost"), "{t}");
}

#[test]
fn ft_with_reordering_is_seen_out_of_order_by_tshark() {
    if skip("reorder") || !programs_built("reorder", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    let args = ["ft", "--reorder", "10%", "--delay", "5ms", "--seed", "9"];
    let (out, pcap, _dir) = run_scenario("ro", &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("identical"), "{t}");
    assert!(t.contains("reordered"), "{t}");
    assert!(tshark_count(&pcap, "tcp.analysis.out_of_order") > 0, "{t}");
}

#[test]
fn a_client_that_overruns_its_time_is_killed_and_everything_torn_down() {
    if skip("overrun") || !programs_built("overrun", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    // 8 MB at 1 Mbit/s takes a minute; the client gets 1 s.
    let args = ["ft", "--size", "8000000", "--rate", "1mbit", "--limit", "1"];
    let (out, _pcap, _dir) = run_scenario("over", &args);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("ftclient did not finish in 1s (killed)"), "{t}");
    assert!(t.contains("ip netns delete"), "{t}");
}
