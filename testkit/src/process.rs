//! Programs under test: spawn, read their lines with a timeout, type into them, kill and reap.

use super::*;

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
    /// Starts `bin` with `args`, stdin piped (see [`Proc::write_stdin`]).
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
