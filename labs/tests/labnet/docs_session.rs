//! The transcripts of docs/labnet.md, run as written: `labnet up` alone (every command
//! it prints), and the three-terminal session of "Experiment 1: the handout's two
//! computers": terminal 1 is `labnet up`, terminal 2 the server in one namespace,
//! terminal 3 the client in the other. The blocks are ```text, not ```console
//! (labs/tests/transcripts.rs runs those as any user, and labnet needs root), so these
//! tests run them: each follows a marker `labs/tests/labnet.rs runs it alone` or `...
//! runs it as terminal N`.
//!
//! What the doc writes for a student is adapted, never the program's output: the
//! network gets the test's own name (`labnet-client` becomes `NAME-client`, ...; a hint
//! `labnet shell server` becomes `labnet shell --name NAME server`), the addresses are
//! the ones that network got, and `sudo target/debug/` is the directory
//! of the binaries under test. In expected lines, `[..]` is any text within a line and
//! `...` any number of lines; typed input follows the client's prompt, as on a terminal,
//! and `^C` is where terminal 1 gets SIGINT.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::harness::*;

const PROMPT: &str = "Command (0:GEN 1:LIST 2:END): ";

/// One terminal of the session: its command and the lines it shows.
struct Terminal {
    command: String,
    expected: Vec<String>,
}

/// The block after the marker `labs/tests/labnet.rs runs it WHAT -->`.
fn terminal(doc: &str, what: &str) -> Terminal {
    let marker = format!("labs/tests/labnet.rs runs it {what} -->");
    let block: Vec<&str> = doc
        .split_once(&marker)
        .unwrap_or_else(|| panic!("docs/labnet.md has no `{marker}`"))
        .1
        .lines()
        .skip(2) // the rest of the marker's line, the fence
        .take_while(|l| !l.starts_with("```"))
        .collect();
    let command = block[0]
        .strip_prefix("$ ")
        .expect("a block starts with `$ `");
    Terminal {
        command: command.to_string(),
        expected: block[1..].iter().map(|l| l.to_string()).collect(),
    }
}

/// A terminal's program, its output (stdout and stderr, as they come) collected.
struct Running {
    child: Child,
    output: Arc<Mutex<String>>,
    /// Set when the output pipe reached end of file.
    ended: Arc<AtomicBool>,
}

impl Running {
    fn start(command: &str, input: &[String], dir: &Path) -> Running {
        // One pipe for both streams keeps their order, as a terminal shows them.
        let mut child = Command::new("sh")
            .args(["-c", &format!("exec {command} 2>&1")])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let output = Arc::new(Mutex::new(String::new()));
        let ended = Arc::new(AtomicBool::new(false));
        let (mut out, sink) = (child.stdout.take().unwrap(), Arc::clone(&output));
        let end = Arc::clone(&ended);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            end.store(true, Ordering::SeqCst);
        });
        let typed: String = input.iter().map(|l| format!("{l}\n")).collect();
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || std::io::Write::write_all(&mut stdin, typed.as_bytes()));
        Running {
            child,
            output,
            ended,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.output().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no `{text}` in:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most 30 s) for the program to exit, then (at most 10 s) for the end of
    /// its output: its last lines may still be in the pipe when it has exited.
    fn finish(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("did not exit: {}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let ended = testkit::wait_until(Duration::from_secs(10), || {
            self.ended.load(Ordering::SeqCst)
        });
        assert!(
            ended,
            "exited, but a process it started still holds its output open: {}",
            self.output()
        );
        self.output()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The input typed after each prompt, and the lines as the program writes them when
/// its input is not a terminal (the prompt and the next output share a line).
fn typed(expected: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut input, mut lines) = (Vec::new(), Vec::<String>::new());
    let mut joined = false;
    for l in expected {
        if joined {
            lines.last_mut().unwrap().push_str(l);
            joined = false;
        } else if let Some(keys) = l.strip_prefix(PROMPT) {
            input.push(keys.to_string());
            lines.push(PROMPT.to_string());
            joined = true;
        } else {
            lines.push(l.clone());
        }
    }
    (input, lines)
}

/// `[..]` matches any text within one line; trailing blanks do not count.
fn line_matches(pattern: &str, line: &str) -> bool {
    let (pattern, line) = (pattern.trim_end(), line.trim_end());
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == line;
    }
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `...` on a line of its own matches any number of lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => {
            (0..=actual.len()).any(|i| lines_match(rest, &actual[i..]))
        }
        Some((e, rest)) => {
            actual.first().is_some_and(|a| line_matches(e, a)) && lines_match(rest, &actual[1..])
        }
    }
}

fn check(which: &str, expected: &[String], shown: &str) {
    let actual: Vec<&str> = shown.lines().collect();
    assert!(
        lines_match(expected, &actual),
        "{which} differs from docs/labnet.md.\nexpected:\n{}\nshown:\n{shown}",
        expected.join("\n")
    );
}

/// What the doc writes for a student, adapted to this test's network.
struct Adapted {
    name: String,
    renames: Vec<(String, String)>,
    dir: TempDir,
}

impl Adapted {
    fn new(tag: &str) -> Adapted {
        let name = net_name(tag);
        let bin = Path::new(LABNET).parent().unwrap().display().to_string();
        let dir = TempDir(std::env::temp_dir().join(format!("labnet-test-{name}")));
        std::fs::create_dir_all(&dir.0).unwrap();
        let renames = [
            ("labnet-client", format!("{name}-client")),
            ("labnet-server", format!("{name}-server")),
            ("--name labnet", format!("--name {name}")),
            // The hints for the default network name none; for this one, each names it.
            ("`labnet shell ", format!("`labnet shell --name {name} ")),
            ("`labnet down`", format!("`labnet down --name {name}`")),
            ("/run/labnet/labnet", format!("/run/labnet/{name}")),
            ("labnet.pcap", format!("{name}.pcap")),
            ("target/debug/", format!("{bin}/")),
        ]
        .map(|(a, b)| (a.to_string(), b))
        .to_vec();
        Adapted { name, renames, dir }
    }

    fn text(&self, s: &str) -> String {
        self.renames
            .iter()
            .fold(s.to_string(), |s, (from, to)| s.replace(from, to))
    }

    fn start(&self, t: &Terminal, input: &[String]) -> Running {
        let name = &self.name;
        let c = t.command.replacen("sudo ", "", 1);
        let c = c.replacen("labnet up ", &format!("labnet up --name {name} "), 1);
        let c = c.replacen("labnet exec ", &format!("labnet exec --name {name} "), 1);
        Running::start(&self.text(&c), input, &self.dir.0)
    }

    /// Once the network is up: the doc's addresses become the ones it got.
    fn learn_addresses(&mut self, cable: &Running) {
        let shown = cable.output();
        let announced = shown.lines().find(|l| l.contains(" <-> ")).unwrap();
        let words: Vec<&str> = announced.split_whitespace().collect();
        let doc_addrs = ["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"];
        for (doc_addr, i) in doc_addrs.iter().zip([2, 4, 7, 9]) {
            self.renames
                .push((doc_addr.to_string(), words[i].to_string()));
        }
    }

    fn expected(&self, t: &Terminal) -> Vec<String> {
        t.expected.iter().map(|l| self.text(l)).collect()
    }

    /// Ctrl-C in terminal 1; what it then showed, checked; nothing left.
    fn interrupt(&self, cable: Running, t: &Terminal) {
        let pid = nix::unistd::Pid::from_raw(cable.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let mut lines = self.expected(t);
        lines.retain(|l| l != "^C");
        check("terminal 1 (the cable)", &lines, &cable.finish());
        assert_eq!(leftovers(&self.name), Vec::<String>::new());
    }
}

impl Drop for Adapted {
    fn drop(&mut self) {
        // A failed check leaves the network up (its link killed): remove it.
        if !leftovers(&self.name).is_empty() {
            let _ = labnet(&["down", "--name", &self.name]);
        }
    }
}

fn read_doc() -> String {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/labnet.md");
    std::fs::read_to_string(doc_path).expect("docs/labnet.md")
}

#[test]
fn the_up_transcript_of_the_docs() {
    if skip("up-doc") {
        return;
    }
    let t = terminal(&read_doc(), "alone");
    let mut adapted = Adapted::new("updoc");
    let cable = adapted.start(&t, &[]);
    cable.wait_for("labnet: up;");
    adapted.learn_addresses(&cable);
    adapted.interrupt(cable, &t);
}

#[test]
fn the_two_computers_session_of_the_docs() {
    let programs = ["lotteryserver", "lotteryclient"];
    if skip("session") || !programs_built("session", &programs) {
        return;
    }
    let doc = read_doc();
    let [cable_t, server_t, client_t] =
        [1, 2, 3].map(|n| terminal(&doc, &format!("as terminal {n}")));
    let mut adapted = Adapted::new("doc");
    // Terminal 1: the cable, until the line before `^C`.
    let cable = adapted.start(&cable_t, &[]);
    cable.wait_for("labnet: up;");
    adapted.learn_addresses(&cable);
    // Terminal 2: the server; terminal 3: the client, typing its input.
    let server = adapted.start(&server_t, &[]);
    server.wait_for("listening on");
    let (input, client_lines) = typed(&adapted.expected(&client_t));
    let client = adapted.start(&client_t, &input);
    check("terminal 3 (the client)", &client_lines, &client.finish());
    check(
        "terminal 2 (the server)",
        &adapted.expected(&server_t),
        &server.finish(),
    );
    adapted.interrupt(cable, &cable_t);
}
