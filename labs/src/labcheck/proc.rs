//! Running the program under check: its own process group (so that it and every child
//! it forks are killed together), a fresh working directory, stdout and stderr read in
//! the background and capped, and the waits labcheck needs, each with a timeout.
//!
//! labcheck is not a sandbox: the program runs with labcheck's user and rights. The
//! process group, the time limits and the caps only keep a misbehaving program from
//! stalling or flooding the check.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How much of a program's stdout and of its stderr labcheck keeps (the rest is read
/// and counted, so the program never blocks on a full pipe).
pub const OUTPUT_CAP: usize = 64 * 1024;

/// After this much output on one stream labcheck stops reading it and closes the pipe:
/// the program's next write fails (EPIPE, or SIGPIPE ends it). A check writes a few KiB
/// of logs; a program past this is flooding.
pub const OUTPUT_LIMIT: u64 = 4 << 20;

/// Output kept from one stream, and how much there was.
#[derive(Debug, Default)]
pub struct Capped {
    /// The first [`OUTPUT_CAP`] bytes.
    pub kept: Vec<u8>,
    /// Every byte the program wrote.
    pub total: u64,
    /// The stream reached its end (every writer closed it).
    pub done: bool,
}

type Shared = Arc<Mutex<Capped>>;

fn drain(mut from: impl Read + Send + 'static, into: Shared) {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            let mut c = into.lock().unwrap_or_else(PoisonError::into_inner);
            let room = OUTPUT_CAP.saturating_sub(c.kept.len()).min(n);
            c.kept.extend_from_slice(&buf[..room]);
            c.total += n as u64;
            if c.total > OUTPUT_LIMIT {
                break;
            }
        }
        into.lock().unwrap_or_else(PoisonError::into_inner).done = true;
    });
}

/// A program labcheck started; dropping it kills its whole process group.
pub struct Program {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Shared,
    stderr: Shared,
    status: Option<ExitStatus>,
    /// The command line as run.
    pub argv: Vec<String>,
    /// Where the most output any program of the run wrote is kept, updated on drop.
    pub most_output: Option<std::rc::Rc<std::cell::Cell<u64>>>,
}

/// coreutils' `stdbuf`, where this system has it (Linux; not macOS by default).
fn line_buffered_wrapper() -> Option<&'static Path> {
    static STDBUF: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    STDBUF
        .get_or_init(|| {
            ["/usr/bin/stdbuf", "/bin/stdbuf"]
                .iter()
                .map(std::path::PathBuf::from)
                .find(|p| p.exists())
        })
        .as_deref()
}

impl Program {
    /// Starts `argv` in `dir`, in a process group of its own, stdin a pipe.
    pub fn spawn(argv: &[String], dir: &Path) -> Result<Program, String> {
        let (prog, args) = argv.split_first().ok_or("empty command line")?;
        // The program runs in the run's directory: a relative path is taken from here.
        let prog = match Path::new(prog) {
            p if p.is_relative() && prog.contains('/') => std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf()),
            p => p.to_path_buf(),
        };
        // A C program's printf is line-buffered on a terminal but fully buffered on a
        // pipe: its lines would reach labcheck only at exit (or never, if it is killed).
        // coreutils' stdbuf makes stdout and stderr line-buffered, as in the terminal the
        // handout's student uses; it execs the program, so the pid stays the same.
        let mut cmd = match line_buffered_wrapper() {
            Some(stdbuf) => {
                let mut c = Command::new(stdbuf);
                c.args(["-oL", "-eL"]).arg(&prog);
                c
            }
            None => Command::new(&prog),
        };
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", prog.display()))?;
        let stdout = Shared::default();
        let stderr = Shared::default();
        if let Some(o) = child.stdout.take() {
            drain(o, stdout.clone());
        }
        if let Some(e) = child.stderr.take() {
            drain(e, stderr.clone());
        }
        Ok(Program {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            status: None,
            argv: argv.to_vec(),
            most_output: None,
        })
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Types `text` into the program's standard input; false if it no longer reads it.
    pub fn type_in(&mut self, text: &str) -> bool {
        match &mut self.stdin {
            Some(stdin) => stdin
                .write_all(text.as_bytes())
                .and_then(|()| stdin.flush())
                .is_ok(),
            None => false,
        }
    }

    /// Closes the program's standard input (Ctrl-D).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Its exit status, if it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
            if self.status.is_some() {
                // What it wrote just before it ended is still in the pipes: let the
                // readers take it (a child it forked may hold them open: not for long).
                let done = |s: &Shared| s.lock().unwrap_or_else(PoisonError::into_inner).done;
                wait_until(Duration::from_millis(300), || {
                    done(&self.stdout) && done(&self.stderr)
                });
            }
        }
        self.status
    }

    /// Waits up to `timeout` for it to end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// What it wrote on stdout so far (capped), as text.
    pub fn stdout(&self) -> String {
        text(&self.stdout)
    }

    /// What it wrote on stderr so far (capped), as text.
    pub fn stderr(&self) -> String {
        text(&self.stderr)
    }

    /// How many bytes it wrote on stdout and stderr together.
    pub fn output_bytes(&self) -> u64 {
        let lock = |s: &Shared| s.lock().unwrap_or_else(PoisonError::into_inner).total;
        lock(&self.stdout) + lock(&self.stderr)
    }

    /// Waits up to `timeout` for stdout to hold `needle`.
    pub fn wait_stdout(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.stdout().contains(needle))
    }

    /// Kills the process group and reaps the program.
    pub fn kill(&mut self) {
        let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// The last lines of its stderr, for a report: `it said: "..."`.
    pub fn said(&self) -> String {
        let err = self.stderr();
        // A Rust panic (a starter's todo!()): its message, not the backtrace after it.
        if let Some(todo) = err.lines().find(|l| l.starts_with("not yet implemented")) {
            return format!("it stopped at \"{}\"", unp::printable(todo.as_bytes()));
        }
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        if tail.is_empty() {
            return "it printed nothing on stderr".to_string();
        }
        let lines: Vec<String> = tail
            .iter()
            .rev()
            .map(|l| unp::printable(l.as_bytes()))
            .collect();
        format!("its stderr ends with \"{}\"", lines.join(" / "))
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if let Some(most) = &self.most_output {
            most.set(most.get().max(self.output_bytes()));
        }
        self.kill();
    }
}

fn text(s: &Shared) -> String {
    String::from_utf8_lossy(&s.lock().unwrap_or_else(PoisonError::into_inner).kept).into_owned()
}

/// How an exit status reads in a report: `exit status 1`, `killed by SIGPIPE`.
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal().map(Signal::try_from) {
        Some(Ok(sig)) => format!("killed by {sig}"),
        Some(Err(_)) | None => format!("{status}"),
    }
}

/// Polls `cond` every 5 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The loopback address of `port`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Linux: the state letters of the processes whose parent is `pid` (`Z` is a zombie).
/// `testkit::children_with_state` is the same walk for the tests: testkit is dev-only
/// and `unp` holds no /proc scans (DESIGN.md), so neither crate can lend it the other.
pub fn children_states(pid: u32) -> Vec<(u32, char)> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next());
        let ppid = fields.next().and_then(|s| s.parse::<u32>().ok());
        if let (Some(state), Some(ppid)) = (state, ppid)
            && ppid == pid
        {
            found.push((child, state));
        }
    }
    found
}

/// Makes `BASE/labcheck-PID-N`, a fresh directory.
pub fn make_run_dir(base: &Path) -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("labcheck-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("mkdir error: {e}: {}", dir.display())),
        }
    }
}
