//! labbench end to end, briefly (a fifth of a second per measurement, a few
//! connections): the table's shape and sane numbers, the SVG, the lottery load, medians
//! of several runs, and `--idle`. The numbers themselves are the machine's; these tests
//! check that they are measured and reported, not how large they are.

use std::path::{Path, PathBuf};
use std::process::Command;

const LABBENCH: &str = env!("CARGO_BIN_EXE_labbench");

/// The table's header and alignment lines, as labbench prints them.
const HEADER: &str = "| server | load | conns | round trips/s | p50 µs | p99 µs | conns/s \
                      | PSS MiB | CPU % rt load/srv | CPU % conns load/srv | notes |\n\
                      |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";

/// A program of the workspace, next to labbench; says what to do when it was not built
/// (`cargo test -p labs` builds only labs' programs).
fn program(name: &str) -> String {
    let p = Path::new(LABBENCH)
        .parent()
        .map(|d| d.join(name))
        .unwrap_or_default();
    assert!(
        p.exists(),
        "{} is not built: run `cargo build --workspace --bins` first",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

/// A fresh directory for the SVG, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("labbench-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs labbench with `args`; its exit status, stdout and stderr. labbench kills each
/// server's process group itself when a measurement ends.
fn labbench(args: &[&str]) -> (bool, String, String) {
    // the servers are programs next to labbench; make sure they exist first
    for (_, prog) in labs::labbench::BUILTIN {
        program(prog);
    }
    program("lotteryserver");
    let out = Command::new(LABBENCH)
        .args(args)
        .output()
        .expect("run labbench");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One line of the table, its numbers parsed.
#[derive(Debug)]
struct Line {
    server: String,
    load: String,
    conns: usize,
    rt_per_s: f64,
    p50: Option<f64>,
    p99: Option<f64>,
    conn_per_s: f64,
    pss_mib: Option<f64>,
    cpu: [(f64, Option<f64>); 2],
    notes: String,
}

fn number(cell: &str) -> Option<f64> {
    (cell != "-").then(|| {
        cell.parse()
            .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
    })
}

/// `load/server`, each in % of one core.
fn cpu(cell: &str) -> (f64, Option<f64>) {
    let (load, server) = cell
        .split_once('/')
        .unwrap_or_else(|| panic!("not load/server: {cell:?}"));
    (number(load).unwrap_or(f64::NAN), number(server))
}

/// The table's lines, checking its shape on the way: the header, then rows of eleven
/// cells.
fn table(stdout: &str) -> Vec<Line> {
    let body = stdout
        .strip_prefix(HEADER)
        .unwrap_or_else(|| panic!("no header:\n{stdout}"));
    body.lines()
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 13, "eleven cells between pipes: {l}");
            Line {
                server: cells[1].to_string(),
                load: cells[2].to_string(),
                conns: cells[3].parse().expect("conns"),
                rt_per_s: number(cells[4]).expect("round trips/s"),
                p50: number(cells[5]),
                p99: number(cells[6]),
                conn_per_s: number(cells[7]).expect("conns/s"),
                pss_mib: number(cells[8]),
                cpu: [cpu(cells[9]), cpu(cells[10])],
                notes: cells[11].to_string(),
            }
        })
        .collect()
}

/// Numbers a working server gives on any machine: something measured, nothing absurd.
fn assert_sane(l: &Line) {
    assert!(l.rt_per_s > 0.0 && l.rt_per_s < 1e8, "{l:?}");
    assert!(l.conn_per_s > 0.0 && l.conn_per_s < 1e7, "{l:?}");
    let (p50, p99) = (l.p50.expect("p50"), l.p99.expect("p99"));
    assert!(0.0 <= p50 && p50 <= p99 && p99 < 10e6, "{l:?}");
    for (load, server) in l.cpu {
        assert!((0.0..=1000.0).contains(&load), "{l:?}");
        if cfg!(target_os = "linux") {
            assert!(server.is_some_and(|s| (0.0..=1000.0).contains(&s)), "{l:?}");
        }
    }
    if cfg!(target_os = "linux") {
        assert!(l.pss_mib.is_some_and(|m| m > 0.0 && m < 4096.0), "{l:?}");
    }
}

#[test]
fn two_servers_and_a_command_line_give_a_table_and_a_plot() {
    let dir = TempDir::new("plot");
    let svg = dir.0.join("bench.svg");
    let c04 = format!("c04={} -p {{port}}", program("tcpserv04"));
    let (ok, out, err) = labbench(&[
        "thread",
        "epoll",
        &c04,
        "--conns",
        "1,4",
        "--secs",
        "0.2",
        "--svg",
        &svg.to_string_lossy(),
    ]);
    assert!(ok, "{out}{err}");
    let lines = table(&out);
    let shape: Vec<(&str, usize)> = lines.iter().map(|l| (l.server.as_str(), l.conns)).collect();
    let want = [
        ("thread", 1),
        ("thread", 4),
        ("epoll", 1),
        ("epoll", 4),
        ("c04", 1),
        ("c04", 4),
    ];
    assert_eq!(shape, want, "{out}");
    for l in &lines {
        assert_sane(l);
        assert_eq!(l.load, "echo", "{l:?}");
        assert!(!l.notes.contains("never served"), "{l:?}");
    }
    assert!(
        err.contains("labbench: c04 at 4 connections (run 1)"),
        "{err}"
    );
    let plot = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(
        plot.starts_with("<svg") && plot.trim_end().ends_with("</svg>"),
        "{plot}"
    );
    for title in [">round trips/s</text>", ">connections/s</text>"] {
        assert!(plot.contains(title), "{plot}");
    }
    for server in ["thread", "epoll", "c04"] {
        assert!(
            plot.contains(&format!(">{server}</text>")),
            "legend: {plot}"
        );
    }
    // one line per server in each of the two panels
    assert_eq!(plot.matches("<polyline").count(), 6, "{plot}");
}

/// labbench on two servers at 2 connections, briefly: the table's lines, each sane.
fn two_servers_briefly(tag: &str, first: &str, second: &str) -> Vec<Line> {
    let dir = TempDir::new(tag);
    let svg = dir.0.join("bench.svg");
    let svg = svg.to_string_lossy();
    let args = [first, second, "-c", "2", "-s", "0.2", "--svg", &svg];
    let (ok, out, err) = labbench(&args);
    assert!(ok, "{out}{err}");
    let lines = table(&out);
    lines.iter().for_each(assert_sane);
    lines
}

#[test]
fn the_lottery_load_measures_lottery_servers() {
    let thread = format!(
        "lottery:lt={} {{port}} --concurrency thread",
        program("lotteryserver")
    );
    let lines = two_servers_briefly("lottery", "lottery-fork", &thread);
    let names: Vec<&str> = lines.iter().map(|l| l.server.as_str()).collect();
    assert_eq!(names, ["lottery-fork", "lt"], "{lines:?}");
    for l in &lines {
        assert_eq!(l.load, "GEN", "{l:?}");
        assert!(
            l.notes.is_empty(),
            "every GEN answered, no connect failed: {l:?}"
        );
    }
}

/// The fair comparison of a lottery server with an echo server (docs/lab4.md: UNP's C
/// tcpserv04 against lottery-fork): the echo server under the lottery load echoes the
/// 4 bytes of GEN, which counts as its answer — connect, 4 bytes, an answer, close,
/// for both. The same server under the echo load says `echo`.
#[test]
fn an_echo_server_under_the_lottery_load_answers_every_gen() {
    let f04 = program("tcpserv04");
    let (echo, lottery) = (
        format!("f04={f04} -p {{port}}"),
        format!("lottery:f04-gen={f04} -p {{port}}"),
    );
    let lines = two_servers_briefly("echo-gen", &echo, &lottery);
    let rows: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l.server.as_str(), l.load.as_str()))
        .collect();
    assert_eq!(rows, [("f04", "echo"), ("f04-gen", "GEN")], "{lines:?}");
    for l in &lines {
        assert!(l.notes.is_empty(), "every request answered: {l:?}");
    }
}

#[test]
fn several_runs_give_medians_with_their_range_and_the_iterative_server_serves_one() {
    let dir = TempDir::new("runs");
    let svg = dir.0.join("bench.svg");
    let (ok, out, err) = labbench(&[
        "iterative",
        "-c",
        "2",
        "-s",
        "0.2",
        "--runs",
        "2",
        "--svg",
        &svg.to_string_lossy(),
    ]);
    assert!(ok, "{out}{err}");
    let lines = table(&out);
    assert_eq!(lines.len(), 1, "one row for both runs: {out}");
    let l = &lines[0];
    assert!(l.notes.contains("1 of 2 never served"), "{l:?}");
    assert!(l.notes.contains("2 runs: rt/s "), "{l:?}");
    assert!(err.contains("(run 2)"), "{err}");
}

#[test]
fn idle_connections_cost_the_epoll_server_little_memory() {
    let (ok, out, err) = labbench(&["epoll", "--idle", "300"]);
    assert!(ok, "{out}{err}");
    let line = out.trim();
    let rest = line
        .strip_prefix("epoll: 300 idle connections, RSS ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(!rest.contains("never served"), "{line}");
    if cfg!(target_os = "linux") {
        let (rss, pss) = rest
            .strip_suffix(" MiB")
            .and_then(|r| r.split_once(" MiB, PSS "))
            .unwrap_or_else(|| panic!("{line}"));
        let (rss, pss): (f64, f64) = (rss.parse().expect("RSS"), pss.parse().expect("PSS"));
        assert!(0.0 < pss && pss <= rss && rss < 64.0, "{line}");
    }
}

#[test]
fn a_server_that_is_neither_known_nor_a_command_line_is_refused() {
    let (ok, out, err) = labbench(&["nosuch", "-s", "0.1"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("labbench: \"nosuch\": not one of iterative, fork,")
            && err.contains("no {port}"),
        "{err}"
    );
}
