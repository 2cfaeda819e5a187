//! The server under test as a process tree: starting it on a free port, and what it
//! costs — memory and CPU time of the whole tree (a forking server's children
//! count), read from `/proc` (Linux; `None` elsewhere) — and what the load generator
//! itself costs, so that a table can show which of the two ran out of CPU.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::ServerSpec;

/// A running server; killed (its process group) when dropped.
pub struct Running {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Running {
    /// Starts `spec` on a free port and waits until it accepts connections.
    pub fn start(spec: &ServerSpec) -> Result<Running, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let cmd = spec.command.replace("{port}", &port.to_string());
        let mut command = Command::new("sh");
        command
            .args(["-c", &cmd])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|e| format!("{cmd}: {e}"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut running = Running { child, addr };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline || !matches!(running.child.try_wait(), Ok(None)) {
                return Err(format!("{cmd}: never accepted a connection on port {port}"));
            }
            thread::sleep(Duration::from_millis(10));
        }
        // that probe connection was closed at once; give an iterative server time to
        // finish with it (a measurement, not correctness: the warm-up counts the rest)
        thread::sleep(Duration::from_millis(50));
        Ok(running)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // the whole group: a forking server's children too
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.wait();
    }
}

/// `/proc/PID/stat`'s fields after the command name (field 3, the state, is index 0).
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // the state is a letter: parse it as 0, the numbers as themselves
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// `pid` and all its descendants (Linux; `None` without `/proc`).
fn tree(pid: u32) -> Option<Vec<u32>> {
    let procs = std::fs::read_dir("/proc").ok()?;
    let mut parent_of = Vec::new();
    for e in procs.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // field 4, the parent's pid
        if let Some(ppid) = stat_fields(p).and_then(|f| f.get(1).copied()) {
            parent_of.push((p, ppid));
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = u64::from(tree[i]);
        tree.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    Some(tree)
}

/// The sum over `pid` and all its descendants of the KiB on the line starting with
/// `field` in `/proc/PID/FILE` (Linux; `None` elsewhere).
fn tree_sum_kib(pid: u32, file: &str, field: &str) -> Option<u64> {
    let kib = |p: u32| -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{p}/{file}")).unwrap_or_default();
        let line = text.lines().find(|l| l.starts_with(field)).unwrap_or("");
        line.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some(tree(pid)?.into_iter().map(kib).sum())
}

/// Resident memory of `pid` and all its descendants, in KiB (Linux; `None` elsewhere).
/// Pages the processes share (the program's code, libc, what a forked child has not
/// written to yet) count once per process: a forking server's sum overstates.
pub fn tree_rss_kib(pid: u32) -> Option<u64> {
    tree_sum_kib(pid, "status", "VmRSS:")
}

/// Proportional memory of `pid` and all its descendants, in KiB (Linux; `None`
/// elsewhere): each page shared by N processes counts 1/N in each (`Pss:` of
/// `/proc/PID/smaps_rollup`), so a forking server's children cost what they add.
pub fn tree_pss_kib(pid: u32) -> Option<u64> {
    tree_sum_kib(pid, "smaps_rollup", "Pss:")
}

/// `/proc`'s clock ticks per second (USER_HZ: 100 on every Linux architecture's ABI).
const USER_HZ: f64 = 100.0;

/// CPU time, user + system, that `pid`'s tree has used so far: every live process's
/// own, plus the root's reaped children's (a forking server's finished children), in
/// seconds (Linux; `None` elsewhere).
pub fn tree_cpu_secs(pid: u32) -> Option<f64> {
    let mut ticks = 0;
    for p in tree(pid)? {
        let Some(f) = stat_fields(p) else { continue };
        // fields 14-17: utime, stime, cutime, cstime (the root's children's, once reaped)
        let own = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        let reaped = f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0);
        ticks += own + if p == pid { reaped } else { 0 };
    }
    Some(ticks as f64 / USER_HZ)
}

/// CPU time, user + system, that this process (the load generator, all its threads)
/// has used so far, in seconds.
pub fn own_cpu_secs() -> f64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_SELF).map_or(0.0, |u| {
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        secs(u.user_time()) + secs(u.system_time())
    })
}

/// CPU used over one measured span, in % of one core.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// The load generator (labbench itself).
    pub client: f64,
    /// The server's process tree (`None` without `/proc`).
    pub server: Option<f64>,
}

/// A CPU reading taken at the start of a span; [`CpuMark::since`] at its end.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    client: f64,
    server: Option<f64>,
    pid: u32,
}

impl CpuMark {
    /// Reads both clocks now, for the server whose root is `pid`.
    pub fn now(pid: u32) -> CpuMark {
        CpuMark {
            at: Instant::now(),
            client: own_cpu_secs(),
            server: tree_cpu_secs(pid),
            pid,
        }
    }

    /// What each side used since this mark, in % of one core.
    pub fn since(&self) -> CpuUse {
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let server = match (self.server, tree_cpu_secs(self.pid)) {
            (Some(a), Some(b)) => Some((b - a).max(0.0) / wall * 100.0),
            _ => None,
        };
        CpuUse {
            client: (own_cpu_secs() - self.client).max(0.0) / wall * 100.0,
            server,
        }
    }
}
