//! The transcripts in `docs/` are what the programs really print.
//!
//! Every fenced ```` ```console ```` block in `docs/**/*.md` (and README.md) is one
//! terminal of a *scenario*. A marker on the line just before the block says which
//! scenario and how the terminal takes part:
//!
//! ```text
//! <!-- transcript: NAME [server|bg] [nowait] [hold] [unordered] [root] [port=N] [stdin="a|b"] [prompt="P: |Q: "] -->
//! <!-- transcript: skip REASON -->
//! ```
//!
//! - Blocks of one NAME run in document order, each in a fresh temporary directory
//!   shared by the scenario. Lines starting with `$ ` are commands, run with
//!   `sh -c` with the workspace's binaries first on `PATH`; `cargo run --bin X [--]`
//!   becomes `X`. The lines after a command, up to the next command, are what the
//!   terminal shows: the program's stdout and stderr, plus the typed input.
//! - `stdin` lists the lines typed into the block's first command (`|` between lines);
//!   standard input is closed after them (Ctrl-D). The checker removes the echo of
//!   each typed line from the expected text: the text right after one of the `prompt`
//!   strings when prompts are given, otherwise a whole line equal to the input.
//! - `server` and `bg` blocks hold one command that keeps running while the next
//!   blocks run (a second terminal). The checker waits for its first expected line
//!   (for a server: `listening on ADDR`). At the end, `bg` blocks finish first (their
//!   stdin is closed), then `server` blocks; a block that ends with `^C` gets SIGINT once
//!   its output is complete, the others must exit by themselves.
//! - `nowait`: a `bg` block whose first line cannot appear yet (a client that waits
//!   for the server); the next block starts at once. (The transcript shows the end
//!   state, which does not depend on when it connected.)
//! - `unordered`: the output lines may come in any order (processes that print
//!   concurrently); each expected line must match a different actual line.
//! - `root`: the block runs in the workspace root, as a student does, to read files
//!   the repository holds (a capture in `docs/captures/`). Its commands must not write.
//! - `hold`: standard input stays open (nothing more is typed) until the program
//!   exits by itself, e.g. when a timer ends it.
//! - `port=N`: the doc's port. The first command naming N gets port 0 instead, the
//!   port the server prints replaces N in later commands, and N replaces it in the
//!   output, so scenarios never collide with each other or with other programs.
//! - In expected output, a line `...` stands for any number of lines and `[..]` for
//!   any text within a line (pids, client ports, dates).
//!
//! A block outside ```` ```console ```` that shows one of the workspace's programs
//! with output (a `$ PROGRAM` line followed by other lines) fails the test too: every
//! transcript is checked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;
use testkit::{Terminal, wait_until};

/// How long one command may take, and how long a background program may take to
/// print what the doc expects.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    Foreground,
    Background,
    Server,
}

/// One annotated console block.
#[derive(Debug)]
struct Block {
    file: PathBuf,
    /// 1-based line of the opening fence.
    line: usize,
    role: Role,
    port: Option<String>,
    stdin: Vec<String>,
    prompts: Vec<String>,
    /// Keep stdin open until the program exits by itself (a timer or the server ends it).
    hold: bool,
    /// A `bg` block whose first line cannot come yet (it waits for another client).
    nowait: bool,
    /// Compare the output lines in any order (several processes print concurrently).
    unordered: bool,
    /// Run in the workspace root (to read a file the repository holds) instead of a
    /// fresh temporary directory.
    root: bool,
    lines: Vec<String>,
}

impl Block {
    fn place(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// A command and the terminal lines after it.
struct Step {
    command: String,
    expected: Vec<String>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("labs/ has a parent")
        .to_path_buf()
}

/// target/debug (or release): the directory of this test's executable's parent.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/debug/deps/transcripts-HASH -> target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/PROFILE/deps")
        .to_path_buf()
}

/// Names of every binary of the workspace: the files in */src/bin/*.rs.
fn workspace_programs() -> Vec<String> {
    let mut names = Vec::new();
    for krate in fs::read_dir(workspace_root())
        .expect("read workspace")
        .flatten()
    {
        let Ok(bins) = fs::read_dir(krate.path().join("src/bin")) else {
            continue;
        };
        for bin in bins.flatten() {
            let p = bin.path();
            if p.extension().is_some_and(|e| e == "rs") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names
}

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    let root = workspace_root();
    let mut files = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut files);
    files.sort();
    files
}

/// Splits `key="a b" word key=v` into words, keeping quoted values whole.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What the scan of the docs found: scenarios by name, and problems.
#[derive(Default)]
struct Scan {
    scenarios: BTreeMap<String, Vec<Block>>,
    problems: Vec<String>,
    skipped: usize,
}

fn program_of(command: &str, programs: &[String]) -> Option<String> {
    let cmd = normalize(command);
    let first = cmd.split_whitespace().next()?;
    let name = first.rsplit('/').next()?;
    programs.iter().find(|p| *p == name).cloned()
}

/// `cargo run [-q] --bin X [--] ARGS` -> `X ARGS`; `./X` and `target/debug/X` -> `X`.
fn normalize(command: &str) -> String {
    let w: Vec<&str> = command.split_whitespace().collect();
    if w.len() >= 4 && w[0] == "cargo" && w[1] == "run" {
        if let Some(i) = w.iter().position(|x| *x == "--bin") {
            if let Some(bin) = w.get(i + 1) {
                let mut rest: Vec<&str> = w[i + 2..].to_vec();
                if rest.first() == Some(&"--") {
                    rest.remove(0);
                }
                let mut out = bin.to_string();
                for r in rest {
                    out.push(' ');
                    out.push_str(r);
                }
                return out;
            }
        }
    }
    let mut out = command.trim().to_string();
    for prefix in ["./", "target/debug/"] {
        if let Some(s) = out.strip_prefix(prefix) {
            out = s.to_string();
        }
    }
    out
}

fn scan_file(path: &Path, programs: &[String], scan: &mut Scan) {
    let text = fs::read_to_string(path).expect("read markdown");
    let lines: Vec<&str> = text.lines().collect();
    let rel = path
        .strip_prefix(workspace_root())
        .unwrap_or(path)
        .to_path_buf();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !(fence.starts_with("```") || fence.starts_with("~~~")) {
            i += 1;
            continue;
        }
        let marker = &fence[..3];
        let tag = fence[3..].trim().to_string();
        let open = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].trim_start().starts_with(marker) {
            body.push(lines[i].to_string());
            i += 1;
        }
        i += 1;
        let annotation = lines[..open]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| {
                l.trim()
                    .strip_prefix("<!-- transcript:")
                    .and_then(|r| r.strip_suffix("-->"))
            })
            .map(words);
        let place = format!("{}:{}", rel.display(), open + 1);
        match annotation {
            Some(w) if w.first().map(String::as_str) == Some("skip") => scan.skipped += 1,
            Some(w) => {
                if tag != "console" {
                    scan.problems.push(format!(
                        "{place}: a transcript marker before a ```{tag} block (use ```console)"
                    ));
                    continue;
                }
                match parse_block(&w, rel.clone(), open + 1, body) {
                    Ok((name, block)) => scan.scenarios.entry(name).or_default().push(block),
                    Err(e) => scan.problems.push(format!("{place}: {e}")),
                }
            }
            None => {
                let shows_program = body.iter().any(|l| {
                    l.strip_prefix("$ ")
                        .is_some_and(|c| program_of(c, programs).is_some())
                });
                let has_output = body
                    .iter()
                    .any(|l| !l.trim().is_empty() && !l.starts_with("$ "));
                if tag == "console" || (shows_program && has_output) {
                    scan.problems.push(format!(
                        "{place}: a transcript that no test checks: add <!-- transcript: NAME ... --> \
                         (or <!-- transcript: skip REASON -->) on the line before it"
                    ));
                }
            }
        }
    }
}

fn parse_block(
    w: &[String],
    file: PathBuf,
    line: usize,
    lines: Vec<String>,
) -> Result<(String, Block), String> {
    let name = w
        .first()
        .ok_or("transcript marker without a scenario name")?
        .clone();
    let mut block = Block {
        file,
        line,
        role: Role::Foreground,
        port: None,
        stdin: Vec::new(),
        prompts: Vec::new(),
        hold: false,
        nowait: false,
        unordered: false,
        root: false,
        lines,
    };
    for word in &w[1..] {
        match word.split_once('=') {
            None if word == "server" => block.role = Role::Server,
            None if word == "bg" => block.role = Role::Background,
            None if word == "hold" => block.hold = true,
            None if word == "nowait" => block.nowait = true,
            None if word == "unordered" => block.unordered = true,
            None if word == "root" => block.root = true,
            Some(("port", v)) => block.port = Some(v.to_string()),
            Some(("stdin", v)) => block.stdin = v.split('|').map(str::to_string).collect(),
            Some(("prompt", v)) => block.prompts = v.split('|').map(str::to_string).collect(),
            _ => return Err(format!("unknown transcript option {word:?}")),
        }
    }
    if !block.lines.first().is_some_and(|l| l.starts_with("$ ")) {
        return Err("a transcript block must start with a `$ command` line".into());
    }
    Ok((name, block))
}

fn steps(block: &Block) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for l in &block.lines {
        if let Some(c) = l.strip_prefix("$ ") {
            out.push(Step {
                command: c.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(s) = out.last_mut() {
            s.expected.push(l.clone());
        }
    }
    out
}

/// The expected lines without the echo of what was typed: what the program itself
/// writes when its stdin is not a terminal.
fn strip_echo(
    expected: &[String],
    typed: &[String],
    prompts: &[String],
) -> Result<Vec<String>, String> {
    let mut lines: Vec<String> = expected.to_vec();
    let mut at = 0;
    for input in typed {
        let found = (at..lines.len()).find_map(|i| {
            if prompts.is_empty() {
                (lines[i] == *input).then_some((i, None))
            } else {
                prompts
                    .iter()
                    .find(|p| lines[i].ends_with(&format!("{p}{input}")))
                    .map(|_| (i, Some(lines[i].len() - input.len())))
            }
        });
        match found {
            Some((i, None)) => {
                lines.remove(i);
                at = i;
            }
            Some((i, Some(cut))) => {
                // The prompt and the next line of output share one terminal line.
                lines[i].truncate(cut);
                if i + 1 < lines.len() {
                    let next = lines.remove(i + 1);
                    lines[i].push_str(&next);
                }
                // The merged line may end with the next prompt and its input.
                at = i;
            }
            None => {
                return Err(format!(
                    "typed line {input:?} is not shown in the transcript"
                ));
            }
        }
    }
    Ok(lines)
}

/// `[..]` matches any text within one line. Trailing blanks do not count (a prompt
/// ends in a space that editors like to strip).
fn line_matches(pattern: &str, line: &str) -> bool {
    let (pattern, line) = (pattern.trim_end(), line.trim_end());
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
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

/// `...` on its own line matches any number of lines.
fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => {
            (0..=actual.len()).any(|k| lines_match(rest, &actual[k..]))
        }
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, arest)| line_matches(e, a) && lines_match(rest, arest)),
    }
}

/// Every expected line matches a different actual line, in any order (greedy; the
/// patterns in the docs do not overlap in ways that would need backtracking).
fn lines_match_unordered(expected: &[String], actual: &[String]) -> bool {
    if expected.len() != actual.len() {
        return false;
    }
    let mut used = vec![false; actual.len()];
    expected.iter().all(|e| {
        let found = (0..actual.len()).find(|&j| !used[j] && line_matches(e, &actual[j]));
        found.map(|j| used[j] = true).is_some()
    })
}

/// A line diff (longest common subsequence) of expected against actual.
fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if line_matches(&expected[i], &actual[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && line_matches(&expected[i], &actual[j]) {
            let _ = writeln!(out, "   {}", actual[j]);
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, " - {}", expected[i]);
            i += 1;
        } else {
            let _ = writeln!(out, " + {}", actual[j]);
            j += 1;
        }
    }
    out
}

/// The program's output as lines; a last line without newline (a prompt) counts.
fn output_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.split('\n').map(str::to_string).collect();
    if v.last().is_some_and(String::is_empty) {
        v.pop();
    }
    v
}

struct Scenario<'a> {
    name: &'a str,
    dir: PathBuf,
    /// (doc port, real port) once the first server announced its port.
    port: Option<(String, String)>,
    doc_port: Option<String>,
    count: usize,
}

fn replace_word(s: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().last();
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(|c| c.is_ascii_alphanumeric())
            || after.is_some_and(|c| c.is_ascii_alphanumeric())
        {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

impl Scenario<'_> {
    /// Runs `command` as in a terminal of the scenario: stdout and stderr share one file,
    /// so their order is the order of the writes; `stdin` is typed at once.
    fn start(
        &mut self,
        command: &str,
        stdin: &[String],
        in_root: bool,
    ) -> Result<Terminal, String> {
        let mut cmd = normalize(command);
        match (&self.port, &self.doc_port) {
            (Some((doc, real)), _) => cmd = replace_word(&cmd, doc, real),
            (None, Some(doc)) => cmd = replace_word(&cmd, doc, "0"),
            _ => {}
        }
        let path = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let simple = !cmd.contains(['|', ';', '&', '<', '>', '(', '`', '$']);
        let line = if simple {
            format!("exec {cmd}")
        } else {
            cmd.clone()
        };
        self.count += 1;
        let out = self.dir.join(format!(".out-{}", self.count));
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&line)
            .current_dir(if in_root {
                workspace_root()
            } else {
                self.dir.clone()
            })
            .env("PATH", path);
        let mut r = Terminal::spawn_cmd(&mut command, &out)
            .map_err(|e| format!("cannot run {cmd} (output to {}): {e}", out.display()))?;
        for l in stdin {
            // A program that exits early closes its end: that is for the output to show.
            let _ = r.type_text(&format!("{l}\n"));
        }
        Ok(r)
    }

    /// The output as the doc shows it: the real port replaced by the doc's.
    fn shown(&self, r: &Terminal) -> Vec<String> {
        let mut text = r.output();
        if let Some((doc, real)) = &self.port {
            text = replace_word(&text, real, doc);
        }
        output_lines(&text)
    }

    fn learn_port(&mut self, r: &Terminal) {
        if self.port.is_some() {
            return;
        }
        let Some(doc) = self.doc_port.clone() else {
            return;
        };
        let text = r.output();
        if let Some(line) = text.lines().find(|l| l.contains("listening on ")) {
            if let Some(addr) = testkit::parse_listening(line) {
                self.port = Some((doc, addr.port().to_string()));
            }
        }
    }

    fn compare(
        &self,
        block: &Block,
        command: &str,
        expected: &[String],
        actual: &[String],
    ) -> Result<(), String> {
        let place = block.place();
        let same = if block.unordered {
            lines_match_unordered(expected, actual)
        } else {
            lines_match(expected, actual)
        };
        if same {
            Ok(())
        } else {
            Err(format!(
                "scenario {:?}, {place}: `{command}` printed something else than the doc shows \
                 (- doc, + program; typed input removed; `[..]` and `...` elide):\n{}",
                self.name,
                diff(expected, actual)
            ))
        }
    }
}

fn run_scenario(name: &str, blocks: &[Block]) -> Result<(), String> {
    let dir =
        std::env::temp_dir().join(format!("unplab-transcript-{}-{}", std::process::id(), name));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut sc = Scenario {
        name,
        dir: dir.clone(),
        port: None,
        doc_port: blocks.iter().find_map(|b| b.port.clone()),
        count: 0,
    };
    let result = run_blocks(&mut sc, blocks);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn run_blocks(sc: &mut Scenario, blocks: &[Block]) -> Result<(), String> {
    // Background terminals: (block, command, expected, running, ends with ^C).
    let mut background: Vec<(&Block, String, Vec<String>, Terminal, bool)> = Vec::new();
    for block in blocks {
        let steps = steps(block);
        if block.role != Role::Foreground && steps.len() != 1 {
            return Err(format!(
                "{}: a server or bg block holds exactly one command",
                block.place()
            ));
        }
        for (k, step) in steps.iter().enumerate() {
            let typed: &[String] = if k == 0 { &block.stdin } else { &[] };
            let mut expected = strip_echo(&step.expected, typed, &block.prompts)
                .map_err(|e| format!("{}: {e}", block.place()))?;
            let mut r = sc.start(&step.command, typed, block.root)?;
            if block.role == Role::Foreground {
                if !block.hold {
                    r.close_stdin();
                }
                if !r.exits_within(TIMEOUT) {
                    return Err(format!(
                        "{}: `{}` did not finish within {TIMEOUT:?}; output so far:\n{}",
                        block.place(),
                        step.command,
                        r.output()
                    ));
                }
                sc.learn_port(&r);
                sc.compare(block, &step.command, &expected, &sc.shown(&r))?;
                continue;
            }
            let interrupt = expected.last().is_some_and(|l| l == "^C");
            if interrupt {
                expected.pop();
            }
            // Wait for its first line (a server's `listening on`), or for it to exit.
            if let Some(first) = expected.first().cloned().filter(|_| !block.nowait) {
                let started = wait_until(TIMEOUT, || {
                    sc.learn_port(&r);
                    let shown = sc.shown(&r);
                    let started = shown.first().is_some_and(|l| {
                        line_matches(&first, l) || first.starts_with(l.as_str()) || first == "..."
                    });
                    started || r.has_exited()
                });
                if !started {
                    return Err(format!(
                        "{}: `{}` did not print {first:?} within {TIMEOUT:?}; output:\n{}",
                        block.place(),
                        step.command,
                        r.output()
                    ));
                }
            }
            background.push((block, step.command.clone(), expected, r, interrupt));
        }
    }
    // Clients first, servers last, each in document order.
    background.sort_by_key(|(b, ..)| b.role == Role::Server);
    for (block, command, expected, mut r, interrupt) in background {
        if interrupt {
            // The ^C comes once the output is complete (or after TIMEOUT, to fail then).
            wait_until(TIMEOUT, || {
                let shown = sc.shown(&r);
                if block.unordered {
                    lines_match_unordered(&expected, &shown)
                } else {
                    lines_match(&expected, &shown)
                }
            });
            r.signal(nix::sys::signal::Signal::SIGINT);
        }
        r.close_stdin();
        if !r.exits_within(TIMEOUT) {
            return Err(format!(
                "{}: `{command}` did not exit within {TIMEOUT:?}{}; output:\n{}",
                block.place(),
                if interrupt {
                    " of SIGINT"
                } else {
                    " (the doc does not end it with ^C)"
                },
                r.output()
            ));
        }
        sc.compare(block, &command, &expected, &sc.shown(&r))?;
    }
    Ok(())
}

/// The newest modification time of the `.rs` files under `dir`.
fn newest_source(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for e in fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_source(&p)
        } else if p.extension().is_some_and(|x| x == "rs") {
            e.metadata().and_then(|m| m.modified()).ok()
        } else {
            None
        };
        newest = newest.max(t);
    }
    newest
}

/// Programs whose binary is older than their crate's or the library's sources:
/// `cargo test -p labs` alone does not rebuild other crates' binaries, and a stale
/// binary would check the docs against yesterday's program.
fn stale_programs(programs: &[String]) -> Vec<String> {
    let root = workspace_root();
    let lib = newest_source(&root.join("lib/src"));
    programs
        .iter()
        .filter(|p| {
            let krate = fs::read_dir(&root).ok().and_then(|mut d| {
                d.find_map(|e| {
                    let dir = e.ok()?.path();
                    dir.join("src/bin")
                        .join(format!("{p}.rs"))
                        .exists()
                        .then_some(dir)
                })
            });
            let newest = krate.and_then(|k| newest_source(&k.join("src"))).max(lib);
            let built = fs::metadata(bin_dir().join(p))
                .and_then(|m| m.modified())
                .ok();
            matches!((built, newest), (Some(b), Some(n)) if b < n)
        })
        .cloned()
        .collect()
}

#[test]
fn transcripts_in_the_docs_are_what_the_programs_print() {
    let programs = workspace_programs();
    let missing: Vec<&String> = programs
        .iter()
        .filter(|p| !bin_dir().join(p).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "the transcript test runs the workspace's programs from {}, but {missing:?} are not built \
         there: run `cargo test --workspace` (it builds them all) or `cargo build --workspace --bins` first",
        bin_dir().display()
    );
    let stale = stale_programs(&programs);
    assert!(
        stale.is_empty(),
        "{stale:?} in {} are older than their sources: run `cargo test --workspace` (it \
         rebuilds every program) or `cargo build --workspace --bins` first",
        bin_dir().display()
    );
    let mut scan = Scan::default();
    for f in markdown_files() {
        scan_file(&f, &programs, &mut scan);
    }
    let mut failures = scan.problems.clone();
    let results: Vec<Result<(), String>> = thread::scope(|s| {
        let handles: Vec<_> = scan
            .scenarios
            .iter()
            .map(|(name, blocks)| s.spawn(move || run_scenario(name, blocks)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("scenario panicked".into())))
            .collect()
    });
    failures.extend(results.into_iter().filter_map(Result::err));
    eprintln!(
        "checked {} transcript scenarios ({} blocks skipped with a reason)",
        scan.scenarios.len(),
        scan.skipped
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn the_checker_itself() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(line_matches(
        "child [..] terminated",
        "child 123 terminated"
    ));
    assert!(!line_matches("child [..] terminated", "child 123 exited"));
    assert!(line_matches("[..]", ""));
    assert!(!line_matches("ab[..]ba", "aba"));
    assert!(lines_match(
        &s(&["a", "...", "z"]),
        &s(&["a", "b", "c", "z"])
    ));
    assert!(lines_match(&s(&["a", "...", "z"]), &s(&["a", "z"])));
    assert!(!lines_match(&s(&["a", "z"]), &s(&["a", "b", "z"])));
    assert!(lines_match_unordered(
        &s(&["x [..]", "y [..]", "x [..]"]),
        &s(&["x 1", "x 2", "y 1"])
    ));
    assert!(!lines_match_unordered(
        &s(&["x [..]", "x [..]"]),
        &s(&["x 1", "y 1"])
    ));
    assert_eq!(
        strip_echo(
            &s(&[
                "P: 0",
                "New number generated: 1",
                "P: 1",
                "numbers: 1 0 0 0 0 0"
            ]),
            &s(&["0", "1"]),
            &s(&["P: "])
        )
        .unwrap(),
        s(&["P: New number generated: 1", "P: numbers: 1 0 0 0 0 0"])
    );
    assert_eq!(
        strip_echo(&s(&["2 5", "7", "4 2", "6"]), &s(&["2 5", "4 2"]), &[]).unwrap(),
        s(&["7", "6"])
    );
    assert!(strip_echo(&s(&["7"]), &s(&["2 5"]), &[]).is_err());
    assert_eq!(
        replace_word("a 10000 b:10000 110000", "10000", "7"),
        "a 7 b:7 110000"
    );
    assert_eq!(
        normalize("cargo run --bin lotteryserver -- 10000 --seed 7"),
        "lotteryserver 10000 --seed 7"
    );
    assert_eq!(normalize("./tcpserv08"), "tcpserv08");
    let d = diff(&s(&["a", "b"]), &s(&["a", "c"]));
    assert!(d.contains(" - b") && d.contains(" + c"), "{d}");
}
