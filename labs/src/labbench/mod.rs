//! labbench: "measure your server". For each server — unplab's iterative, fork,
//! thread, select, poll and epoll echo servers, the lottery server in each of its three
//! modes, or any program given as a command line with `{port}` — and each number of
//! concurrent connections, the same load generator ([`load`]) measures:
//!
//! - **round trips/s**: every connection sends a request and waits for the answer,
//!   again and again; with the **p50/p99 latency** of those round trips. The request is
//!   64 bytes echoed back ([`Protocol::Echo`]), or the lottery's GEN and its reply
//!   ([`Protocol::Lottery`]), which an echo server answers with the 4 bytes themselves:
//!   the same exchange, so that a lottery server compares with an echo server (the
//!   table's `load` column says which load a row had);
//! - **connections/s**: as many connections at a time as asked, each doing connect,
//!   one request and its answer, close;
//! - **memory**: the proportional set size (PSS) of the server's whole process tree
//!   while the connections are open (Linux: `/proc`), so a forking server's children
//!   count, each for what it adds (a page shared by N processes counts 1/N in each;
//!   summing their resident sets would count the shared program N times);
//! - **CPU**: what the load generator and the server's process tree each used during
//!   both runs, in % of one core: a client near its limit (100 % per load thread, or
//!   the machine's cores shared with the server) measures itself, not the server.
//!
//! With `--runs N` every measurement is made N times, the servers taking turns level by
//! level (so a busy moment of the machine weighs on all of them alike), and the table
//! gives the median with the range. [`report`] prints the table and draws the SVG;
//! [`server`] starts the server and reads its memory and CPU.

pub mod load;
pub mod ports;
pub mod report;
pub mod server;

use std::path::Path;
use std::time::Duration;

pub use load::Protocol;
pub use server::{CpuMark, CpuUse, Running, tree_pss_kib, tree_rss_kib};

/// A server to measure: a name for the table, a command line with `{port}`, and what
/// the load says to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// `fork`, `epoll`, or the name given with `NAME=COMMAND`.
    pub name: String,
    /// The command, run by `sh -c`, with `{port}` where the port goes.
    pub command: String,
    /// Echo, or the lottery's GEN.
    pub protocol: Protocol,
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

/// The lottery server (`lotteryserver PORT --concurrency MODE`), measured with the
/// lottery load: `lottery-fork` and so on.
pub const LOTTERY: [(&str, &str); 3] = [
    ("lottery", "iterative"),
    ("lottery-fork", "fork"),
    ("lottery-thread", "thread"),
];

/// The prefix that gives a command line the lottery load: `lottery:mine=./a.out {port}`.
pub const LOTTERY_PREFIX: &str = "lottery:";

impl ServerSpec {
    /// `iterative`, `fork`, ..., `lottery-fork`, ... (a program next to `bin_dir`), or
    /// `[lottery:]NAME=COMMAND` / `[lottery:]COMMAND` with `{port}`.
    pub fn parse(text: &str, bin_dir: &Path) -> Result<ServerSpec, String> {
        let builtin = |prog: &str, args: &str, protocol| ServerSpec {
            name: text.to_string(),
            command: format!("exec '{}' {args}", bin_dir.join(prog).display()),
            protocol,
        };
        if let Some((_, prog)) = BUILTIN.iter().find(|(n, _)| *n == text) {
            return Ok(builtin(prog, "-p {port}", Protocol::Echo));
        }
        if let Some((_, mode)) = LOTTERY.iter().find(|(n, _)| *n == text) {
            let args = format!("{{port}} --concurrency {mode}");
            return Ok(builtin("lotteryserver", &args, Protocol::Lottery));
        }
        let (protocol, text) = match text.strip_prefix(LOTTERY_PREFIX) {
            Some(rest) => (Protocol::Lottery, rest),
            None => (Protocol::Echo, text),
        };
        if !text.contains("{port}") {
            return Err(format!(
                "{text:?}: not one of iterative, fork, thread, select, poll, epoll, lottery, \
                 lottery-fork, lottery-thread, and no {{port}} in it"
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
            protocol,
        })
    }
}

/// One row of the table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The server's name.
    pub server: String,
    /// What the load said to it: echo, or the lottery's GEN.
    pub load: Protocol,
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
    /// PSS of the server's process tree with the connections open, in KiB.
    pub pss_kib: Option<u64>,
    /// CPU used by the load and by the server while round trips were measured.
    pub rt_cpu: CpuUse,
    /// CPU used by the load and by the server while connections were measured.
    pub conn_cpu: CpuUse,
    /// Connections the server had not served after the warm-up.
    pub unserved: usize,
    /// Failed connects or exchanges in the connection-rate run.
    pub errors: u64,
    /// How many runs the row is the median of (0 or 1: a single run).
    pub runs: usize,
    /// The lowest and highest round trips/s of those runs.
    pub rt_range: (f64, f64),
    /// The lowest and highest connections/s of those runs.
    pub conn_range: (f64, f64),
}

/// How long each measurement lasts.
#[derive(Debug, Clone, Copy)]
pub struct Spans {
    /// Round trips, and connections, are each measured this long.
    pub measure: Duration,
    /// At most this long for every connection's first answer.
    pub warmup: Duration,
}

/// Measures `spec` at `conns` concurrent connections (one fresh server per level, so
/// one level's leftovers do not weigh on the next).
pub fn measure(spec: &ServerSpec, conns: usize, spans: Spans) -> Result<Row, String> {
    let server = Running::start(spec)?;
    let mut pss = None;
    let mut mark = None;
    let rt = load::round_trips(
        spec.protocol,
        server.addr,
        conns,
        spans.warmup,
        spans.measure,
        || {
            pss = tree_pss_kib(server.pid());
            mark = Some(CpuMark::now(server.pid()));
        },
    )
    .map_err(|e| format!("{}: connect: {e}", spec.name))?;
    let rt_cpu = mark.map(|m| m.since()).unwrap_or_default();
    drop(server);
    let server = Running::start(spec)?;
    let mark = CpuMark::now(server.pid());
    let churn = load::connections(spec.protocol, server.addr, conns, spans.measure);
    let conn_cpu = mark.since();
    let secs = spans.measure.as_secs_f64();
    let mut lat = rt.latencies_us;
    lat.sort_unstable();
    let pct = |p: usize| (!lat.is_empty()).then(|| lat[(lat.len() - 1) * p / 100]);
    let (rt_per_s, conn_per_s) = (rt.count as f64 / secs, churn.count as f64 / secs);
    Ok(Row {
        server: spec.name.clone(),
        load: spec.protocol,
        conns,
        rt_per_s,
        p50_us: pct(50),
        p99_us: pct(99),
        conn_per_s,
        pss_kib: pss,
        rt_cpu,
        conn_cpu,
        unserved: rt.unserved,
        errors: churn.errors,
        runs: 1,
        rt_range: (rt_per_s, rt_per_s),
        conn_range: (conn_per_s, conn_per_s),
    })
}

/// The rows of several runs of one server at one level, as one: the median of each
/// number, the range of the two rates, the worst of the failures.
pub fn median(runs: &[Row]) -> Option<Row> {
    let first = runs.first()?;
    fn mid<T: Copy + PartialOrd>(mut v: Vec<T>) -> Option<T> {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v.get(v.len().checked_sub(1)? / 2).copied()
    }
    let all = |f: fn(&Row) -> f64| runs.iter().map(f).collect::<Vec<_>>();
    let some = |f: fn(&Row) -> Option<u32>| mid(runs.iter().filter_map(f).collect());
    let range = |v: Vec<f64>| {
        v.iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)))
    };
    let cpu = |f: fn(&Row) -> CpuUse| CpuUse {
        client: mid(runs.iter().map(|r| f(r).client).collect()).unwrap_or(0.0),
        server: mid(runs.iter().filter_map(|r| f(r).server).collect()),
    };
    Some(Row {
        server: first.server.clone(),
        load: first.load,
        conns: first.conns,
        rt_per_s: mid(all(|r| r.rt_per_s))?,
        p50_us: some(|r| r.p50_us),
        p99_us: some(|r| r.p99_us),
        conn_per_s: mid(all(|r| r.conn_per_s))?,
        pss_kib: mid(runs.iter().filter_map(|r| r.pss_kib).collect()),
        rt_cpu: cpu(|r| r.rt_cpu),
        conn_cpu: cpu(|r| r.conn_cpu),
        unserved: runs.iter().map(|r| r.unserved).max().unwrap_or(0),
        errors: runs.iter().map(|r| r.errors).max().unwrap_or(0),
        runs: runs.len(),
        rt_range: range(all(|r| r.rt_per_s)),
        conn_range: range(all(|r| r.conn_per_s)),
    })
}

/// What `n` idle clients cost a server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle {
    /// The server tree's RSS with the connections open, in KiB.
    pub rss_kib: Option<u64>,
    /// The server tree's PSS with the connections open, in KiB.
    pub pss_kib: Option<u64>,
    /// Connections that got no answer within the warm-up: not yet served.
    pub unserved: usize,
}

/// Opens `n` connections to `spec`, makes one exchange on each (so the server has
/// accepted and served every one), and measures the server tree's RSS while they sit
/// idle.
pub fn idle(spec: &ServerSpec, n: usize, warmup: Duration) -> Result<Idle, String> {
    let server = Running::start(spec)?;
    let (mut rss_kib, mut pss_kib) = (None, None);
    let rt = load::round_trips(
        spec.protocol,
        server.addr,
        n,
        warmup,
        Duration::ZERO,
        || {
            rss_kib = tree_rss_kib(server.pid());
            pss_kib = tree_pss_kib(server.pid());
        },
    )
    .map_err(|e| format!("{}: connect: {e}", spec.name))?;
    Ok(Idle {
        rss_kib,
        pss_kib,
        unserved: rt.unserved,
    })
}
