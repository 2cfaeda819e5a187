//! labbench: "measure your server". For each echo server — unplab's iterative, fork,
//! thread, select, poll and epoll servers, or any program given as a command line with
//! `{port}` — and each number of concurrent connections, the same load generator
//! ([`load`]) measures:
//!
//! - **round trips/s**: every connection sends 64 bytes and waits for the echo, again
//!   and again; with the **p50/p99 latency** of those round trips;
//! - **connections/s**: as many connections at a time as asked, each doing connect,
//!   one round trip, close;
//! - **memory**: the resident set (RSS) of the server's whole process tree while the
//!   connections are open (Linux: `/proc`), so a forking server's children count.
//!
//! [`report`] prints the table and draws the SVG.

pub mod load;
pub mod report;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A server to measure: a name for the table and a command line with `{port}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// `fork`, `epoll`, or the name given with `NAME=COMMAND`.
    pub name: String,
    /// The command, run by `sh -c`, with `{port}` where the port goes.
    pub command: String,
}

/// unplab's echo servers, by the design they show, and the program that shows it.
pub const BUILTIN: [(&str, &str); 6] = [
    ("iterative", "tcpserv01_non"),
    ("fork", "tcpserv04"),
    ("thread", "tcpservthread"),
    ("select", "tcpservselect01"),
    ("poll", "tcpservpoll01"),
    ("epoll", "tcpservepoll"),
];

impl ServerSpec {
    /// `iterative`, `fork`, ... (a program next to `bin_dir`), or `NAME=COMMAND` /
    /// `COMMAND` with `{port}`.
    pub fn parse(text: &str, bin_dir: &Path) -> Result<ServerSpec, String> {
        if let Some((_, prog)) = BUILTIN.iter().find(|(n, _)| *n == text) {
            let path = bin_dir.join(prog);
            return Ok(ServerSpec {
                name: text.to_string(),
                command: format!("exec '{}' -p {{port}}", path.display()),
            });
        }
        if !text.contains("{port}") {
            return Err(format!(
                "{text:?}: not one of iterative, fork, thread, select, poll, epoll, and no {{port}} in it"
            ));
        }
        let (name, command) = match text.split_once('=') {
            Some((n, c)) if !n.contains(' ') && !n.is_empty() => (n.to_string(), c.to_string()),
            _ => (
                text.split_whitespace()
                    .next()
                    .unwrap_or("server")
                    .to_string(),
                text.to_string(),
            ),
        };
        Ok(ServerSpec {
            name,
            command: format!("exec {command}"),
        })
    }
}

/// One row of the table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The server's name.
    pub server: String,
    /// Concurrent connections.
    pub conns: usize,
    /// Round trips per second.
    pub rt_per_s: f64,
    /// Median round-trip latency, µs (`None`: no round trip completed).
    pub p50_us: Option<u32>,
    /// 99th percentile, µs.
    pub p99_us: Option<u32>,
    /// Connections per second (connect, one round trip, close).
    pub conn_per_s: f64,
    /// RSS of the server's process tree with the connections open, in KiB.
    pub rss_kib: Option<u64>,
    /// Connections the server had not served after the warm-up.
    pub unserved: usize,
    /// Failed connects or exchanges in the connection-rate run.
    pub errors: u64,
}

/// How long each measurement lasts.
#[derive(Debug, Clone, Copy)]
pub struct Spans {
    /// Round trips, and connections, are each measured this long.
    pub measure: Duration,
    /// At most this long for every connection's first echo.
    pub warmup: Duration,
}

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
        // that probe connection was closed at once; an iterative server is free again
        running.settle();
        Ok(running)
    }

    fn settle(&mut self) {
        thread::sleep(Duration::from_millis(50));
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

/// Resident memory of `pid` and all its descendants, in KiB (Linux; `None` elsewhere).
pub fn tree_rss_kib(pid: u32) -> Option<u64> {
    let procs = std::fs::read_dir("/proc").ok()?;
    let mut parent_of = Vec::new();
    for e in procs.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let ppid = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(1)?.parse::<u32>().ok());
        parent_of.push((p, ppid.unwrap_or(0)));
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    let rss = |p: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap_or("");
        line.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some(tree.into_iter().map(rss).sum())
}

/// Measures `spec` at `conns` concurrent connections (one fresh server per level, so
/// one level's leftovers do not weigh on the next).
pub fn measure(spec: &ServerSpec, conns: usize, spans: Spans) -> Result<Row, String> {
    let server = Running::start(spec)?;
    let mut rss = None;
    let rt = load::round_trips(server.addr, conns, spans.warmup, spans.measure, || {
        rss = tree_rss_kib(server.pid());
    })
    .map_err(|e| format!("{}: connect: {e}", spec.name))?;
    drop(server);
    let server = Running::start(spec)?;
    let churn = load::connections(server.addr, conns, spans.measure);
    let secs = spans.measure.as_secs_f64();
    let mut lat = rt.latencies_us;
    lat.sort_unstable();
    let pct = |p: usize| (!lat.is_empty()).then(|| lat[(lat.len() - 1) * p / 100]);
    Ok(Row {
        server: spec.name.clone(),
        conns,
        rt_per_s: rt.count as f64 / secs,
        p50_us: pct(50),
        p99_us: pct(99),
        conn_per_s: churn.count as f64 / secs,
        rss_kib: rss,
        unserved: rt.unserved,
        errors: churn.errors,
    })
}

/// Opens `n` connections to `spec`, makes sure each was served once, and returns the
/// server tree's RSS in KiB: what `n` idle clients cost.
pub fn idle_rss(spec: &ServerSpec, n: usize, warmup: Duration) -> Result<Option<u64>, String> {
    let server = Running::start(spec)?;
    let mut rss = None;
    load::round_trips(server.addr, n, warmup, Duration::ZERO, || {
        rss = tree_rss_kib(server.pid())
    })
    .map_err(|e| format!("{}: connect: {e}", spec.name))?;
    Ok(rss)
}
