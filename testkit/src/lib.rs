//! Helpers for the integration tests of unplab's programs (a dev-only crate: never in `unp`).
//!
//! Tests spawn the real binaries on loopback with port 0. Every server prints
//! `listening on ADDR` as its first line of stdout; [`Server::spawn`] waits for that line
//! (with a timeout, never a sleep) and reads the port the kernel chose from it. Every
//! child is killed and reaped when its handle is dropped, also when a test fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once on loopback.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Polls `cond` every few milliseconds until it holds or `timeout` passes; returns
/// whether it held.
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

/// A running program whose stdout and stderr are read line by line in the background.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    seen_out: Vec<String>,
    seen_err: Vec<String>,
}

fn pump(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut r = BufReader::new(stream);
        loop {
            let mut buf = Vec::new();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The next line from `lines` that matches `pred`, within [`TIMEOUT`]; every line
/// received is kept in `seen`.
fn next_matching(
    lines: &Receiver<String>,
    seen: &mut Vec<String>,
    pred: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).ok()?;
        seen.push(line.clone());
        if pred(&line) {
            return Some(line);
        }
    }
}

impl Proc {
    /// Starts `bin` with `args`, stdin piped (see [`Proc::stdin`]).
    pub fn spawn(bin: &str, args: &[&str]) -> Proc {
        Proc::spawn_cmd(Command::new(bin).args(args))
    }

    /// Starts a prepared command (for environment variables or a working directory).
    pub fn spawn_cmd(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = pump(child.stdout.take().expect("piped stdout"));
        let stderr = pump(child.stderr.take().expect("piped stderr"));
        Proc {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            seen_out: Vec::new(),
            seen_err: Vec::new(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes to the program's stdin (panics if stdin was closed).
    pub fn write_stdin(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is closed");
        stdin.write_all(data).expect("write to child's stdin");
        stdin.flush().expect("flush child's stdin");
    }

    /// Closes stdin: the program sees end of input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the next stdout line matching `pred` and returns it; panics with what
    /// was seen so far if none comes within [`TIMEOUT`].
    pub fn expect_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        if let Some(line) = next_matching(&self.stdout, &mut self.seen_out, pred) {
            return line;
        }
        self.drain_stderr();
        panic!(
            "no stdout line {what} within {TIMEOUT:?}\nstdout so far: {:?}\nstderr: {:?}",
            self.seen_out, self.seen_err
        );
    }

    /// Waits for the next stderr line matching `pred`.
    pub fn expect_stderr_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        next_matching(&self.stderr, &mut self.seen_err, pred).unwrap_or_else(|| {
            panic!(
                "no stderr line {what} within {TIMEOUT:?}\nstderr so far: {:?}",
                self.seen_err
            )
        })
    }

    fn drain_stderr(&mut self) {
        while let Ok(l) = self.stderr.try_recv() {
            self.seen_err.push(l);
        }
    }

    /// Waits up to [`TIMEOUT`] for the program to exit; returns its status and the
    /// rest of its stdout and stderr. Panics (after killing it) if it does not exit.
    pub fn wait_exit(&mut self) -> (ExitStatus, String, String) {
        self.close_stdin();
        let mut status = None;
        let exited = wait_until(TIMEOUT, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "program did not exit within {TIMEOUT:?}; stdout so far: {:?}",
                self.seen_out
            );
        }
        let out: String = self.stdout.iter().collect();
        let err: String = self.stderr.iter().collect();
        (status.expect("exited"), out, err)
    }

    /// True if the program has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `sig` to the program (e.g. `Signal::SIGTERM`).
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid() as i32), sig);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

/// A server started on port 0, with the address it announced.
pub struct Server {
    /// The running program.
    pub proc: Proc,
    /// The address from its `listening on ADDR` line.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `bin` with `args` (which should ask for port 0) and waits for its
    /// `listening on ADDR` line.
    pub fn spawn(bin: &str, args: &[&str]) -> Server {
        Server::from_proc(Proc::spawn(bin, args))
    }

    /// As [`Server::spawn`], for a prepared command.
    pub fn spawn_cmd(cmd: &mut Command) -> Server {
        Server::from_proc(Proc::spawn_cmd(cmd))
    }

    fn from_proc(mut proc: Proc) -> Server {
        let line = proc.expect_line("'listening on ADDR'", |l| l.contains("listening on "));
        let addr = parse_listening(&line)
            .unwrap_or_else(|| panic!("cannot read an address from {line:?}"));
        Server { proc, addr }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connects to the server over IPv4 loopback.
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port()))
            .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{}: {e}", self.port()));
        s.set_read_timeout(Some(TIMEOUT)).expect("set_read_timeout");
        s
    }
}

/// Reads `ADDR` out of a line containing `listening on ADDR` (ADDR up to the next space).
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Runs `bin` with `args`, feeds it `input` on stdin, and returns its exit status,
/// stdout and stderr; kills it if it runs longer than [`TIMEOUT`].
pub fn run_with_input(bin: &str, args: &[&str], input: &[u8]) -> (ExitStatus, String, String) {
    let mut p = Proc::spawn(bin, args);
    if !input.is_empty() {
        p.write_stdin(input);
    }
    p.wait_exit()
}

/// Linux: the process ids of `parent`'s children that are zombies (state `Z`).
#[cfg(target_os = "linux")]
pub fn zombie_children(parent: u32) -> Vec<u32> {
    children_with_state(parent)
        .into_iter()
        .filter(|&(_, state)| state == 'Z')
        .map(|(pid, _)| pid)
        .collect()
}

/// Linux: every child of `parent` with its state letter from `/proc/PID/stat`.
#[cfg(target_os = "linux")]
pub fn children_with_state(parent: u32) -> Vec<(u32, char)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Format: pid (comm) state ppid ...; comm may contain spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next());
        let ppid = fields.next().and_then(|s| s.parse::<u32>().ok());
        if let (Some(state), Some(ppid)) = (state, ppid) {
            if ppid == parent {
                found.push((pid, state));
            }
        }
    }
    found
}

/// Reads from `stream` until `n` bytes arrived or the peer closed (then fewer).
pub fn read_exactly(stream: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let got = unp::readn(stream, &mut buf).expect("read from server");
    buf.truncate(got);
    buf
}

/// True if the peer has closed `stream` (a read returns EOF or a reset) within
/// [`TIMEOUT`]; data that arrives first is discarded.
pub fn sees_close(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("set_read_timeout");
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Whether a user other than the owner (a test that drops to another user id) can run
/// the program at `path`: every directory above it searchable by others, the file
/// executable by others. `Err` says what is in the way, for the test's skip message.
pub fn others_can_execute(path: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::path::Path::new(path);
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode())
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    if mode(path)? & 0o001 == 0 {
        return Err(format!("{} is not executable by others", path.display()));
    }
    for dir in path
        .ancestors()
        .skip(1)
        .filter(|d| !d.as_os_str().is_empty())
    {
        if mode(dir)? & 0o001 == 0 {
            return Err(format!("{} is not searchable by others", dir.display()));
        }
    }
    Ok(())
}

/// Prepares `cmd` (which runs `program`) to run as a fresh, unused user id with at most
/// `n` processes and threads (RLIMIT_NPROC), to make `fork` or `pthread_create` fail
/// on purpose. Returns `false` after a [`skip`] (requirement `UNPLAB_REQUIRE_ROOT`) when
/// that is impossible here: not root, or the program is not reachable by another user.
///
/// A fresh id per call rather than `nobody`: the limit counts every process of the
/// user, so only an id that owns nothing else makes `n` exact, also with tests running
/// in parallel. (As root itself the limit would not bind at all.)
#[track_caller]
pub fn limit_processes_as_fresh_user(cmd: &mut Command, program: &str, n: u64) -> bool {
    use std::os::unix::process::CommandExt;
    if !as_fresh_user(cmd, program, "the RLIMIT_NPROC drill") {
        return false;
    }
    // SAFETY: runs in the child after std's setgroups/setgid/setuid and before exec;
    // setrlimit(2) is async-signal-safe and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NPROC, n, n)
                .map_err(std::io::Error::from)
        });
    }
    true
}

/// Prepares `cmd` (which runs `program`) to run as a fresh user id that owns nothing
/// and has no privileges. Returns `false` after a [`skip`] (requirement
/// `UNPLAB_REQUIRE_ROOT`) when that is impossible: only root can change user, and the
/// program must be reachable by another user. `what` names the test's need in the skip.
#[track_caller]
pub fn as_fresh_user(cmd: &mut Command, program: &str, what: &str) -> bool {
    use std::os::unix::process::CommandExt;
    let Some(id) = fresh_user_id(program, what) else {
        return false;
    };
    cmd.uid(id).gid(id);
    true
}

/// A user id no process has used, or `None` after a [`skip`] (see [`as_fresh_user`]).
#[track_caller]
fn fresh_user_id(program: &str, what: &str) -> Option<u32> {
    if !nix::unistd::geteuid().is_root() {
        skip(
            "UNPLAB_REQUIRE_ROOT",
            &format!("{what} needs root: only root can start a program as another, fresh user id"),
        );
        return None;
    }
    if let Err(why) = others_can_execute(program) {
        skip(
            "UNPLAB_REQUIRE_ROOT",
            &format!("{what}: another user cannot run the program here: {why}"),
        );
        return None;
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Some(3_000_000 + std::process::id() * 16 + call)
}

/// Limits the program's descriptors to `n` (RLIMIT_NOFILE), as `prlimit --nofile=n:n`
/// would, to make `accept` fail with EMFILE on purpose.
pub fn limit_descriptors(cmd: &mut Command, n: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // setrlimit(2), which is async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, n, n)
                .map_err(std::io::Error::from)
        });
    }
}

/// Opens `connections` connections to a server started with few descriptors (the
/// kernel completes them all: the backlog), waits for its first `accept error` line on
/// stderr and asserts it is exactly `expected`. Returns the connections, still open.
pub fn exhaust_descriptors(s: &mut Server, connections: usize, expected: &str) -> Vec<TcpStream> {
    let storm: Vec<TcpStream> = (0..connections).map(|_| s.connect()).collect();
    let line = s
        .proc
        .expect_stderr_line("accept failing with EMFILE", |l| l.contains("accept error"));
    assert_eq!(line, expected);
    storm
}

/// With every process or thread the server may have in use: one more client connects,
/// the server reports `PREFIX... (EAGAIN)` (fork or pthread_create failed) and the
/// client sees its connection closed, not left hanging.
pub fn expect_unserved_client(s: &mut Server, prefix: &str) {
    let mut refused = s.connect();
    let line = s
        .proc
        .expect_stderr_line("a failure with EAGAIN", |l| l.contains("(EAGAIN)"));
    assert!(
        line.starts_with(prefix) && line.ends_with("(EAGAIN)\n"),
        "{line:?}"
    );
    assert!(
        sees_close(&mut refused),
        "the unserved client was not closed"
    );
}

/// After a shortage the test caused by holding `held`: releases them and asserts that
/// the server is still running and serves a new client (`served`, which should poll
/// with [`wait_until`]).
pub fn expect_recovery(s: &mut Server, held: Vec<TcpStream>, served: impl Fn(u16) -> bool) {
    drop(held);
    assert!(
        served(s.port()),
        "no client served after the shortage; server running: {}",
        s.proc.is_running()
    );
    assert!(s.proc.is_running());
}

/// A server whose stdout is a pipe that lost its reader: the test reads the
/// `listening on` line and closes the pipe, as `server | head -n 1` does, so every later
/// write to the server's stdout fails with EPIPE. Killed and reaped when dropped.
pub struct Headless(Child);

impl Headless {
    /// Starts `cmd` (a server asked for port 0) this way; returns it and its port.
    pub fn spawn_cmd(cmd: &mut Command) -> (Headless, u16) {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut first)
            .expect("read the first line");
        let addr = parse_listening(&first)
            .unwrap_or_else(|| panic!("{cmd:?}: no 'listening on' in {first:?}"));
        (Headless(child), addr.port())
    }

    /// True if the server has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills `child` if it is still running, and reaps it.
fn kill_and_reap(child: &mut Child) {
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// A program run as in a terminal: its stdout and stderr go to one file in the order of
/// the writes, as a terminal shows them (a transcript in the docs), and the test types
/// into its stdin. Killed and reaped when dropped, also when a test fails.
pub struct Terminal {
    child: Child,
    stdin: Option<ChildStdin>,
    out: std::path::PathBuf,
}

impl Terminal {
    /// Starts `cmd` with stdin piped, its stdout and stderr written to the new file `out`,
    /// and SIGINT at its default action ([`sigint_as_in_a_terminal`]).
    pub fn spawn_cmd(cmd: &mut Command, out: &std::path::Path) -> std::io::Result<Terminal> {
        sigint_as_in_a_terminal(cmd);
        let file = std::fs::File::create(out)?;
        let err = file.try_clone()?;
        let mut child = cmd.stdin(Stdio::piped()).stdout(file).stderr(err).spawn()?;
        Ok(Terminal {
            stdin: child.stdin.take(),
            child,
            out: out.to_path_buf(),
        })
    }

    /// Types `text`; fails once the program has closed its stdin (or exited).
    pub fn type_text(&mut self, text: &str) -> std::io::Result<()> {
        match self.stdin.as_mut() {
            Some(w) => w.write_all(text.as_bytes()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// Closes stdin, as Ctrl-D at the start of a line does.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Everything the program printed so far, stdout and stderr interleaved.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    /// True once the program has exited.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits up to `timeout` for the program to exit; true if it did.
    pub fn exits_within(&mut self, timeout: Duration) -> bool {
        wait_until(timeout, || self.has_exited())
    }

    /// Sends `sig` to the program (`Signal::SIGINT` is the terminal's ^C).
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), sig);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

/// Resets SIGINT to its default action in the program `cmd` starts, so that a ^C the
/// test sends (`Signal::SIGINT`) reaches it as it reaches a program in a terminal: a test
/// run started in the background of a shell (`cargo test &`) inherits SIGINT ignored.
pub fn sigint_as_in_a_terminal(cmd: &mut Command) {
    use nix::sys::signal::{SigHandler, Signal, signal};
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only calls sigaction(2), which is
    // async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            signal(Signal::SIGINT, SigHandler::SigDfl)
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
}

// ---------------------------------------------------------------- skips

/// True when the environment variable `requirement` (e.g. `UNPLAB_REQUIRE_NETNS`) says
/// that the tests needing it must run here: set, and neither empty nor `0`.
pub fn required(requirement: &str) -> bool {
    std::env::var_os(requirement).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The one way a test, or a part of one, skips for want of something this machine lacks
/// (root, a tool, network namespaces, the course's captures). The caller returns (or
/// skips the part) right after.
///
/// - With `requirement` set (see [`required`]; CI sets every one it can satisfy), the
///   test fails instead: `TEST cannot run here, but REQUIREMENT is set: REASON`.
/// - Otherwise `SKIP FILE::TEST: REASON (set REQUIREMENT=1 to make this a failure)` goes
///   to stderr where `cargo test` shows it even for a passing test (libtest captures only
///   what `print!`/`eprint!` write, not writes to the stderr handle), and the same line
///   is appended to the file named by `UNPLAB_SKIP_LOG`, if set, for `.ci/run`'s list.
#[track_caller]
pub fn skip(requirement: &str, reason: &str) {
    let test = test_name(std::panic::Location::caller().file());
    if required(requirement) {
        panic!("{test} cannot run here, but {requirement} is set: {reason}");
    }
    let line = format!("SKIP {test}: {reason} (set {requirement}=1 to make this a failure)\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("UNPLAB_SKIP_LOG") {
        // One write per line on an O_APPEND file: lines of parallel tests never mix.
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = appended {
            panic!("cannot record the skip in UNPLAB_SKIP_LOG={log:?}: {e}");
        }
    }
}

/// `FILE::TEST`: the calling test's source file and its name (libtest names each test's
/// thread after the test; with one test thread it may be `main`, then the file alone).
fn test_name(file: &str) -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => format!("{file}::{name}"),
        _ => file.to_string(),
    }
}

/// The course's capture `name` from `shared/captures/`, or `None` after a [`skip`]
/// (requirement `UNPLAB_REQUIRE_SHARED`) when it is absent. `shared/` sits beside the
/// project here and in CI, but it is not part of a user's clone; `UNPLAB_SHARED_DIR`
/// names it when it is elsewhere (e.g. for a git worktree).
#[track_caller]
pub fn course_capture(name: &str) -> Option<std::path::PathBuf> {
    // This crate's directory is PROJECT/testkit; shared/ sits beside PROJECT.
    let beside = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(|dir| dir.join("shared"));
    let shared = std::env::var_os("UNPLAB_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .or(beside)
        .unwrap_or_default();
    let path = shared.join("captures").join(name);
    if path.is_file() {
        return Some(path);
    }
    skip(
        "UNPLAB_REQUIRE_SHARED",
        &format!(
            "the course capture {} is absent (shared/ sits beside the project here and in \
             CI, but not in a user's clone; UNPLAB_SHARED_DIR names it elsewhere)",
            path.display()
        ),
    );
    None
}

/// Runs `program ARGS` as a student without privileges would, to see a bind to port
/// `port` (below 1024) fail with EACCES, and returns its output. As root, the program
/// runs as a fresh user id in a network namespace of its own, where the kernel's default
/// holds (ports below 1024 privileged) whatever `ip_unprivileged_port_start` this machine
/// has; otherwise it runs as is. `None` after a [`skip`] (requirement
/// `UNPLAB_REQUIRE_PRIVILEGED_PORTS`) when neither way works here.
#[track_caller]
pub fn run_without_privileges(
    program: &str,
    args: &[&str],
    port: u16,
) -> Option<std::process::Output> {
    let requirement = "UNPLAB_REQUIRE_PRIVILEGED_PORTS";
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    if nix::unistd::geteuid().is_root() {
        #[cfg(target_os = "linux")]
        if !as_fresh_user_in_own_network(&mut cmd, program) {
            return None;
        }
        #[cfg(not(target_os = "linux"))]
        {
            skip(
                requirement,
                "as root, the test needs Linux network namespaces",
            );
            return None;
        }
    } else {
        let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .unwrap_or(1024);
        if start <= port {
            skip(
                requirement,
                &format!(
                    "this machine lets anyone listen on port {port} \
                     (ip_unprivileged_port_start={start}); as root the test makes a \
                     network namespace where it cannot"
                ),
            );
            return None;
        }
    }
    match cmd.output() {
        Ok(out) => Some(out),
        Err(e) => {
            skip(
                requirement,
                &format!("cannot start {program} unprivileged: {e}"),
            );
            None
        }
    }
}

/// Prepares `cmd` to run as a fresh user id in a new network namespace; `false` after a
/// [`skip`] (see [`as_fresh_user`]).
#[cfg(target_os = "linux")]
#[track_caller]
fn as_fresh_user_in_own_network(cmd: &mut Command, program: &str) -> bool {
    use std::os::unix::process::CommandExt;
    let Some(id) = fresh_user_id(program, "binding a privileged port unprivileged") else {
        return false;
    };
    let (uid, gid) = (
        nix::unistd::Uid::from_raw(id),
        nix::unistd::Gid::from_raw(id),
    );
    // SAFETY: runs in the child between fork and exec; unshare(2), setgroups(2),
    // setgid(2) and setuid(2) are plain system calls and nothing is allocated. The
    // namespace comes first: a user without privileges could not make one.
    unsafe {
        cmd.pre_exec(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
            nix::unistd::setgroups(&[])?;
            nix::unistd::setgid(gid)?;
            nix::unistd::setuid(uid)?;
            Ok(())
        });
    }
    true
}
