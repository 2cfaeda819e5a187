//! The lab programs, run inside a namespace with `ip netns exec`, their standard output
//! and error collected line by line (both into one list, in the order they arrive).
//! The programs are the workspace's own builds, found next to labnet's executable
//! (`target/debug` or `target/release`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How often a wait checks the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// How often [`Running::finish`] checks whether the program exited: the client's
/// running time is the transfer's time, so it is measured to the millisecond.
const EXIT_CHECK: Duration = Duration::from_millis(1);

/// The path of the workspace program `name`, built next to labnet.
pub fn bin_path(name: &str) -> unp::Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| unp::Error::os("current_exe", e))?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        return Err(unp::Error::msg(format!(
            "{name} is not built next to labnet ({}): run `cargo build --workspace --bins` first",
            path.display()
        )));
    }
    Ok(path)
}

/// A program running in a namespace.
pub struct Running {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// What it printed so far.
    pub output: Vec<String>,
}

/// Starts `NAME ARGS` in namespace `ns`; `input` is typed into it, then its standard
/// input is closed (Ctrl-D).
pub fn start(ns: &str, name: &str, args: &[String], input: &str) -> unp::Result<Running> {
    let mut running = start_typing(ns, name, args)?;
    if let Some(mut stdin) = running.stdin.take() {
        let input = input.to_string();
        // A program that exits early closes the pipe: the rest of the input is moot.
        std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    }
    Ok(running)
}

/// Starts `NAME ARGS` in namespace `ns`, its standard input open for
/// [`Running::type_line`] until [`Running::end_input`].
pub fn start_typing(ns: &str, name: &str, args: &[String]) -> unp::Result<Running> {
    let bin = bin_path(name)?;
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(&bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            unp::Error::os("spawn", e).with_detail(format!("ip netns exec {ns} {name}"))
        })?;
    let (tx, lines) = channel();
    if let Some(out) = child.stdout.take() {
        collect(out, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        collect(err, tx);
    }
    Ok(Running {
        name: name.to_string(),
        stdin: child.stdin.take(),
        child,
        lines,
        output: Vec::new(),
    })
}

fn collect(pipe: impl Read + Send + 'static, tx: Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
            if tx.send(unp::printable(&line)).is_err() {
                break;
            }
        }
    });
}

impl Running {
    /// Waits until the program prints a line containing `text` (a server's
    /// `listening on`), for at most `limit`.
    pub fn wait_for(&mut self, text: &str, limit: Duration, stop: &AtomicBool) -> unp::Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            match self.lines.recv_timeout(TICK) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.output.push(line);
                    if found {
                        return Ok(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        Err(unp::Error::msg(format!(
            "{} did not print `{text}`; it printed: {}",
            self.name,
            self.output.join(" / ")
        )))
    }

    /// Types `line` and Enter into the program.
    pub fn type_line(&mut self, line: &str) -> unp::Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| {
            unp::Error::msg(format!("{}: its input is closed already", self.name))
        })?;
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .map_err(|e| unp::Error::os("write", e).with_detail(format!("{}'s input", self.name)))
    }

    /// Closes the program's input (Ctrl-D).
    pub fn end_input(&mut self) {
        self.stdin = None;
    }

    /// The program's next line, waiting at most `limit` (or until `stop`): `None`
    /// when none came in that time or the program closed its output.
    pub fn next_line(&mut self, limit: Duration, stop: &AtomicBool) -> Option<String> {
        let deadline = Instant::now() + limit;
        while !stop.load(Ordering::Relaxed) {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left.min(TICK)) {
                Ok(line) => {
                    self.output.push(line.clone());
                    return Some(line);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
        None
    }

    /// Whether the program has exited (its status, if so).
    pub fn exited(&mut self) -> unp::Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .map_err(|e| unp::Error::os("waitpid", e))
    }

    /// Waits for the program to exit by itself, for at most `limit` (or until `stop`);
    /// after that it is killed. Returns its status and all it printed.
    pub fn finish(
        mut self,
        limit: Duration,
        stop: &AtomicBool,
    ) -> unp::Result<(ExitStatus, Vec<String>)> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| unp::Error::os("waitpid", e))?
            {
                return Ok((status, self.drain()));
            }
            if Instant::now() >= deadline || stop.load(Ordering::Relaxed) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let printed = self.drain().join(" / ");
                return Err(unp::Error::msg(format!(
                    "{} did not finish in {limit:?} (killed); it printed: {printed}",
                    self.name
                )));
            }
            std::thread::sleep(EXIT_CHECK);
        }
    }

    /// Ends a program that does not end by itself (a concurrent server): SIGTERM, then
    /// waits for it. Returns all it printed.
    pub fn terminate(mut self) -> Vec<String> {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let _ = self.child.wait();
        self.drain()
    }

    /// Everything printed, once the pipes are closed.
    fn drain(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.output.push(line);
        }
        std::mem::take(&mut self.output)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A program left behind by an error is killed, never orphaned in the namespace.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
