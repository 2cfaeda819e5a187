//! What the labnet tests share: skipping without root, the `labnet up` guard that
//! always removes its network, leftovers, and reading ping's, tshark's and labnet's
//! output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub const LABNET: &str = env!("CARGO_BIN_EXE_labnet");

/// Why labnet cannot run here, if it cannot.
pub fn why_not() -> Option<String> {
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
pub fn skip(test: &str) -> bool {
    let Some(why) = why_not() else { return false };
    testkit::skip(
        "UNPLAB_REQUIRE_NETNS",
        &format!("{test}: labnet cannot run: {why}"),
    );
    true
}

/// A network name for this test: unique per process and test, at most 24 characters.
pub fn net_name(tag: &str) -> String {
    format!("t{}{tag}", std::process::id() % 100_000)
}

pub fn labnet(args: &[&str]) -> Output {
    Command::new(LABNET)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("labnet {args:?}: {e}"))
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whatever of network `name` is left: namespaces, state directory.
pub fn leftovers(name: &str) -> Vec<String> {
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
pub struct Net {
    pub name: String,
    up: Option<Child>,
    lines: Receiver<String>,
    /// How many of its two output pipes are still open (read until end of file).
    open: Arc<AtomicUsize>,
    /// Every line `labnet up` printed that a wait or `output` took.
    seen: std::sync::Mutex<Vec<String>>,
    pub pcap: PathBuf,
    /// The addresses labnet announced: client IPv4, client IPv6, server IPv4, server IPv6.
    pub addrs: [String; 4],
    /// The pid of `labnet up` once it was signalled.
    pub killed: u32,
    _dir: TempDir,
}

pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Net {
    /// `labnet up --name NAME ARGS`, waiting until the link carries packets.
    pub fn up(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Net {
        Net::start(tag, args, env).ready()
    }

    /// `labnet up --name NAME ARGS`, started; [`Net::ready`] waits for it.
    pub fn start(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Net {
        let name = net_name(tag);
        let dir = std::env::temp_dir().join(format!("labnet-test-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let pcap = dir.join("link.pcap");
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
        let open = Arc::new(AtomicUsize::new(2));
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
            let (tx, open) = (tx.clone(), Arc::clone(&open));
            std::thread::spawn(move || {
                for l in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(l);
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
        Net {
            name,
            up: Some(child),
            lines,
            open,
            seen: Default::default(),
            pcap,
            addrs: Default::default(),
            killed: 0,
            _dir: TempDir(dir),
        }
    }

    /// Waits until `labnet up` announced its addresses and is up.
    pub fn ready(mut self) -> Net {
        let net = &mut self;
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
        self
    }

    /// Waits (at most 20 s) for a line of `labnet up` containing `text`.
    pub fn wait_line(&self, text: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.lock().unwrap().push(l.clone());
                    if l.contains(text) {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// What `labnet up` printed since the last wait or `output`.
    pub fn output(&self) -> Vec<String> {
        let new: Vec<String> = self.lines.try_iter().collect();
        self.seen.lock().unwrap().extend(new.iter().cloned());
        new
    }

    /// Everything `labnet up` printed so far.
    pub fn said(&self) -> Vec<String> {
        self.output();
        self.seen.lock().unwrap().clone()
    }

    /// `labnet exec --name NAME SIDE ARGS`.
    pub fn exec(&self, side: &str, args: &[&str]) -> Output {
        let mut all = vec!["exec", "--name", &self.name, side];
        all.extend_from_slice(args);
        labnet(&all)
    }

    /// `labnet exec --name NAME SIDE ARGS`, started, once it runs in the namespace.
    pub fn exec_spawn(&self, side: &str, args: &[&str]) -> Child {
        let child = Command::new(LABNET)
            .args(["exec", "--name", &self.name, side])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn labnet exec");
        let ns = format!("{}-{side}", self.name);
        let inside = testkit::wait_until(Duration::from_secs(10), || {
            pids_in(&ns).contains(&child.id())
        });
        assert!(inside, "{} never entered {ns}", child.id());
        child
    }

    /// Sends `signal` to `labnet up` and waits (at most 20 s) for it to exit.
    pub fn signal_and_wait(
        &mut self,
        signal: nix::sys::signal::Signal,
    ) -> std::process::ExitStatus {
        let child = self.up.as_mut().expect("labnet up is running");
        self.killed = child.id();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("kill");
        self.wait_exit()
    }

    /// Waits (at most 20 s) for `labnet up` to exit by itself, then for the end of its
    /// output: its last lines (the teardown's, the link's counts) may still be in the
    /// pipes when it has exited, and [`Net::output`] must see them.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.up.take().expect("labnet up is running");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("waitpid") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("labnet up did not exit: {:?}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let read = testkit::wait_until(Duration::from_secs(20), || {
            self.open.load(Ordering::SeqCst) == 0
        });
        assert!(
            read,
            "labnet up exited ({status}), but a process it started still holds its output \
             open: {:?}",
            self.output()
        );
        status
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
pub fn ping_summary(out: &Output) -> (u32, u32, f64, f64) {
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
pub fn tshark_count(pcap: &Path, filter: &str) -> usize {
    tshark_frames(pcap, filter).len()
}

/// Binomial(n, p) within 4 standard deviations of its mean.
pub fn within_4_sigma(count: u32, n: u32, p: f64) -> bool {
    let mean = f64::from(n) * p;
    let sd = (f64::from(n) * p * (1.0 - p)).sqrt();
    (f64::from(count) - mean).abs() <= 4.0 * sd
}

/// Runs `labnet run ARGS` with a capture in a fresh directory; returns the output and
/// the capture's path (the directory is removed by the guard).
pub fn run_scenario(tag: &str, args: &[&str]) -> (Output, PathBuf, TempDir) {
    let name = net_name(tag);
    let dir = std::env::temp_dir().join(format!("labnet-test-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("run.pcap");
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
pub fn programs_built(test: &str, programs: &[&str]) -> bool {
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

/// What `labnet run` printed: the addresses it announced (client IPv4, client IPv6,
/// server IPv4, server IPv6), the server's terminal and the client's (each from its
/// `[side] $ COMMAND` line to the next terminal or the teardown's commands).
pub struct Transcript {
    pub addrs: [String; 4],
    pub server: Vec<String>,
    pub client: Vec<String>,
}

pub fn transcript(t: &str) -> Transcript {
    let announced = t.lines().find(|l| l.contains(" <-> ")).unwrap_or_default();
    let words: Vec<&str> = announced.split_whitespace().collect();
    let addrs = match words[..] {
        [_, _, c4, _, c6, _, _, s4, _, s6] => [c4, c6, s4, s6].map(String::from),
        _ => panic!("no addresses announced in:\n{t}"),
    };
    let terminal = |side: &str| -> Vec<String> {
        t.lines()
            .skip_while(|l| !l.starts_with(&format!("[{side}] $ ")))
            .take_while(|l| !l.starts_with("client→server:") && !l.starts_with("+ "))
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !l.starts_with('['))
            .map(|(_, l)| l.to_string())
            .collect()
    };
    Transcript {
        addrs,
        server: terminal("server"),
        client: terminal("client"),
    }
}

/// The lines of labtrace's story (after `$ labtrace`) that contain `text`.
pub fn traced<'a>(t: &'a str, text: &str) -> Vec<&'a str> {
    t.lines()
        .skip_while(|l| !l.starts_with("$ labtrace "))
        .filter(|l| l.contains(text))
        .collect()
}

/// The number in the link's line for `direction`: `server→client: 776 packets in, 741
/// out, 35 lost`.
pub fn lost(text: &str, direction: &str) -> usize {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{direction}: ")))
        .unwrap_or_else(|| panic!("no `{direction}:` line in:\n{text}"));
    line.split(", ")
        .find_map(|part| part.strip_suffix(" lost")?.parse().ok())
        .unwrap_or(0)
}

/// `run.pcap` → `run-delivered.pcap`: the capture of what the link delivered, next to
/// the one of what was sent (`--capture both`).
pub fn delivered_path(pcap: &Path) -> PathBuf {
    pcap.with_file_name(format!(
        "{}-delivered.pcap",
        pcap.file_stem().unwrap().to_string_lossy()
    ))
}

/// The commands labnet suggests in `text` (between backticks, starting `labnet `)
/// that do not name network `name`: each must, `name` not being the default network.
pub fn hints_without_name(text: &str, name: &str) -> Vec<String> {
    let with = format!("--name {name}");
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|hint| hint.starts_with("labnet ") && !hint.contains(&with))
        .map(String::from)
        .collect()
}

/// Every hint in `text` names network `name`, and there is at least one.
pub fn assert_hints_name(text: &str, name: &str) {
    assert!(text.contains("`labnet "), "no hint in:\n{text}");
    assert_eq!(
        hints_without_name(text, name),
        Vec::<String>::new(),
        "{text}"
    );
}

/// The frames of `pcap` that match the display filter, by number.
pub fn tshark_frames(pcap: &Path, filter: &str) -> Vec<usize> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark");
    assert!(out.status.success(), "tshark: {}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The pids `ip netns pids NS` lists.
pub fn pids_in(ns: &str) -> Vec<u32> {
    let out = Command::new("ip").args(["netns", "pids", ns]).output();
    let out = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    out.unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The client's terminal in the UDP echo scenarios (`udpecho`, `daemon`) with the
/// server at `server`: the command and its typed lines, then the two replies.
pub fn udp_echo_client(server: &str) -> Vec<String> {
    let typed = "printf 'hello across the link\\nsecond line\\n' | udpechoclient";
    vec![
        format!("[client] $ {typed} {server} 10000"),
        "Received a message from the server : hello across the link".into(),
        String::new(),
        "Received a message from the server : second line".into(),
        String::new(),
    ]
}
