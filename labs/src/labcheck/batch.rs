//! A class at once: a manifest of submissions, several checked side by side (each with
//! its own ports and directory, a time limit, its process groups killed, its output
//! capped), a gradebook CSV and one report per submission.
//!
//! The manifest has one submission a line, `#` comments and blank lines ignored:
//!
//! ```text
//! # ID   ROLE   PROTOCOL [--concurrent] [--only handout] [--timeout S] [--port P] [--idle S] -- COMMAND…
//! alice  server lottery -- alice/lotteryserver {port}
//! bob    client ft -- bob/ftclient {host} {port} {remote} {local}
//! ```
//!
//! A word in double quotes may hold spaces. A relative program path is taken from the
//! manifest's directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use unp::{Error, Result};

use super::report::{Report, Tag, Verdict};
use super::{Options, Protocol, Role, Target};

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Where gradebook.csv, the reports and the run directories go.
    pub out: PathBuf,
    /// How many submissions are checked at once.
    pub jobs: usize,
    /// The longest one submission's check may take.
    pub time_limit: Duration,
    /// Capture each submission's traffic.
    pub capture: bool,
    /// Keep the pcap of a submission that passed too (a failed one's is always kept).
    pub keep_captures: bool,
}

/// One line of the manifest.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The student's id (a file name: letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// What to check.
    pub opts: Options,
}

/// Splits a line into words; double quotes group words with spaces.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => (cur, any) = (cur + &c.to_string(), true),
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Reads a manifest; an error names the line.
pub fn parse_manifest(text: &str, base: &Path) -> Result<Vec<Submission>> {
    let mut subs: Vec<Submission> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| Error::msg(format!("manifest line {}: {why}: {line}", n + 1));
        let w = words(line);
        let dash = w
            .iter()
            .position(|x| x == "--")
            .ok_or_else(|| bad("no `--` before the command"))?;
        let (head, command) = (&w[..dash], &w[dash + 1..]);
        let [id, role, proto, flags @ ..] = head else {
            return Err(bad("want ID ROLE PROTOCOL -- COMMAND"));
        };
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || id.starts_with('.')
        {
            return Err(bad("the id must be letters, digits, - _ ."));
        }
        if subs.iter().any(|s| &s.id == id) {
            return Err(bad("the id appears twice"));
        }
        let role = match role.as_str() {
            "server" => Role::Server,
            "client" => Role::Client,
            _ => return Err(bad("the role is server or client")),
        };
        let proto = Protocol::from_name(proto).ok_or_else(|| bad("unknown protocol"))?;
        let mut command = command.to_vec();
        let Some(prog) = command.first_mut() else {
            return Err(bad("no command after --"));
        };
        if prog.contains('/') && Path::new(prog.as_str()).is_relative() {
            *prog = base.join(prog.as_str()).to_string_lossy().into_owned();
        }
        let mut opts = Options::new(role, proto, Target::Command(command));
        let mut it = flags.iter();
        while let Some(f) = it.next() {
            match f.as_str() {
                "--concurrent" => opts.concurrent = true,
                "--only" => {
                    opts.only = Some(if it.next().map(String::as_str) == Some("robustness") {
                        Tag::Robustness
                    } else {
                        Tag::Handout
                    })
                }
                "--timeout" | "--idle" => {
                    let secs = it
                        .next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .ok_or_else(|| bad(&format!("{f} wants seconds")))?;
                    let secs = Duration::from_secs(secs.max(1));
                    match f.as_str() {
                        "--idle" => opts.idle = Some(secs),
                        _ => opts.step_timeout = secs,
                    }
                }
                "--port" => {
                    let port = it.next().and_then(|s| s.parse::<u16>().ok());
                    opts.fixed_port = Some(port.ok_or_else(|| bad("--port wants a port"))?);
                }
                _ => return Err(bad(&format!("unknown option {f}"))),
            }
        }
        subs.push(Submission {
            id: id.clone(),
            opts,
        });
    }
    Ok(subs)
}

/// The gradebook's header line.
pub const CSV_HEADER: &str = "id,role,protocol,passed,failed,skipped,handout_passed,handout_total,robustness_passed,robustness_total,seconds,first_failure\n";

/// One gradebook line.
pub fn csv_line(id: &str, r: &Report) -> String {
    let total = |t: Tag| {
        r.steps
            .iter()
            .filter(|s| s.tag == t && s.verdict != Verdict::Skip)
            .count()
    };
    let first = r
        .steps
        .iter()
        .find(|s| s.verdict == Verdict::Fail)
        .map_or(String::new(), |s| s.name.clone());
    let subject = r.subject.replace(' ', ",");
    format!(
        "{id},{subject},{},{},{},{},{},{},{},{:.1},{first}\n",
        r.count(Verdict::Pass, None),
        r.count(Verdict::Fail, None),
        r.count(Verdict::Skip, None),
        r.count(Verdict::Pass, Some(Tag::Handout)),
        total(Tag::Handout),
        r.count(Verdict::Pass, Some(Tag::Robustness)),
        total(Tag::Robustness),
        r.secs
    )
}

/// Checks every submission of `manifest`; writes `OUT/gradebook.csv`, `OUT/ID.txt` and
/// `OUT/ID.json`; returns a summary.
pub fn run(manifest: &Path, b: &BatchOptions) -> Result<String> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| Error::os("read", e).with_detail(manifest.display().to_string()))?;
    let base = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let subs = parse_manifest(&text, &std::fs::canonicalize(&base).unwrap_or(base))?;
    let work = b.out.join("work");
    std::fs::create_dir_all(&work)
        .map_err(|e| Error::os("mkdir", e).with_detail(work.display().to_string()))?;
    let started = Instant::now();
    let queue = Arc::new(Mutex::new(
        subs.into_iter().enumerate().rev().collect::<Vec<_>>(),
    ));
    let done: Arc<Mutex<Vec<(usize, String, Report)>>> = Arc::default();
    let workers: Vec<_> = (0..b.jobs)
        .map(|_| {
            let (queue, done, b, work) = (queue.clone(), done.clone(), b.clone(), work.clone());
            std::thread::spawn(move || {
                loop {
                    // Take the next submission and let the queue go at once: a guard held
                    // by `while let` would serialize the workers.
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).pop();
                    let Some((i, mut sub)) = next else { break };
                    sub.opts.time_limit = b.time_limit;
                    sub.opts.capture = b.capture && super::pcap::permitted();
                    sub.opts.keep_captures = b.keep_captures;
                    sub.opts.workdir = Some(work.clone());
                    let report = super::check(&sub.opts);
                    let _ = std::fs::write(b.out.join(format!("{}.txt", sub.id)), report.text());
                    let _ = std::fs::write(b.out.join(format!("{}.json", sub.id)), report.json());
                    done.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((i, sub.id, report));
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let mut done = std::mem::take(&mut *done.lock().unwrap_or_else(PoisonError::into_inner));
    done.sort_by_key(|d| d.0);
    let mut csv = String::from(CSV_HEADER);
    for (_, id, r) in &done {
        csv.push_str(&csv_line(id, r));
    }
    let book = b.out.join("gradebook.csv");
    std::fs::write(&book, csv)
        .map_err(|e| Error::os("write", e).with_detail(book.display().to_string()))?;
    let passed = done.iter().filter(|d| d.2.passed()).count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} checked in {:.1} s ({}): {passed} passed every check",
        crate::plural(done.len(), "submission"),
        started.elapsed().as_secs_f64(),
        crate::plural(b.jobs, "job")
    );
    let _ = writeln!(s, "gradebook: {}", book.display());
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_refuse_with_the_line() {
        let m = "# comment\n\nalice server lottery --concurrent -- a/lotteryserver {port} --concurrency fork\nbob client ft --only handout -- \"/x y/ftclient\" {host} {port}\n";
        let subs = parse_manifest(m, Path::new("/class")).unwrap();
        assert_eq!(subs.len(), 2);
        assert!(subs[0].opts.concurrent);
        assert_eq!(
            subs[0].opts.target,
            Target::Command(vec![
                "/class/a/lotteryserver".into(),
                "{port}".into(),
                "--concurrency".into(),
                "fork".into()
            ])
        );
        assert_eq!(subs[1].opts.only, Some(Tag::Handout));
        let udp = parse_manifest(
            "c server udpft --port 49312 --idle 2 -- ./UDP_FTServ",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(udp[0].opts.fixed_port, Some(49312));
        assert_eq!(udp[0].opts.idle, Some(Duration::from_secs(2)));
        assert_eq!(
            subs[1].opts.target,
            Target::Command(vec![
                "/x y/ftclient".into(),
                "{host}".into(),
                "{port}".into()
            ])
        );
        for bad in [
            "x server lottery ./p",
            "../x server lottery -- p",
            "x servr lottery -- p",
            "x server lotto -- p",
            "x server lottery --",
        ] {
            let e = parse_manifest(bad, Path::new("/")).unwrap_err().to_string();
            assert!(e.starts_with("manifest line 1: "), "{e}");
        }
    }
}
