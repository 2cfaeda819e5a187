//! labbench: measure echo servers — round trips/s, connections/s, p50/p99 latency and
//! memory at 1, 10, 100 and 1,000 connections. See `labs::labbench` and docs/lab4.md.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use labs::labbench::{self, ServerSpec, Spans, report};
use unp::{Context, Error, Result};

#[derive(Parser)]
#[command(
    name = "labbench",
    about = "Measure servers: round trips/s, connections/s, latency, memory, CPU",
    after_help = "SERVER is iterative, fork, thread, select, poll, epoll (unplab's echo servers, \
                  found next to labbench), lottery, lottery-fork, lottery-thread (lotteryserver \
                  in each mode, measured with GEN), or a command line with {port}, optionally \
                  named, and prefixed with lottery: for the GEN load (a lottery server; an \
                  echo server answers GEN with its 4 bytes, the same exchange): \
                  'c04=./tcpserv04 {port}', 'lottery:mine=./LotteryServer {port}'. \
                  The table's load column says which load each row had. \
                  Build with --release to measure fairly."
)]
struct Args {
    /// Servers to measure (default: all six of unplab's echo servers)
    servers: Vec<String>,
    /// Concurrent connections, comma-separated
    #[arg(short, long, value_delimiter = ',', default_value = "1,10,100,1000")]
    conns: Vec<usize>,
    /// Seconds per measurement
    #[arg(short, long, default_value_t = 1.0)]
    secs: f64,
    /// Measure everything this many times (servers taking turns) and print medians
    #[arg(short, long, default_value_t = 1)]
    runs: usize,
    /// Write the plot here
    #[arg(long, default_value = "labbench.svg")]
    svg: PathBuf,
    /// Instead: hold N idle connections to each server and print its memory
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
}

fn main() {
    unp::run(|| {
        let a = Args::parse();
        let exe = std::env::current_exe().context("current_exe")?;
        let bin_dir = exe.parent().map(PathBuf::from).unwrap_or_default();
        let names: Vec<String> = if a.servers.is_empty() {
            labbench::BUILTIN
                .iter()
                .map(|(n, _)| n.to_string())
                .collect()
        } else {
            a.servers.clone()
        };
        let specs = names
            .iter()
            .map(|s| ServerSpec::parse(s, &bin_dir).map_err(Error::msg))
            .collect::<Result<Vec<_>>>()?;
        raise_descriptor_limit();
        let measure =
            Duration::try_from_secs_f64(a.secs).map_err(|e| Error::msg(format!("--secs: {e}")))?;
        if let Some(n) = a.idle {
            for spec in &specs {
                let idle = labbench::idle(spec, n, Duration::from_secs(20)).map_err(Error::msg)?;
                let mib =
                    |k: Option<u64>| k.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
                let unserved = match idle.unserved {
                    0 => String::new(),
                    k => format!(" ({k} never served)"),
                };
                println!(
                    "{}: {n} idle connections, RSS {} MiB, PSS {} MiB{unserved}",
                    spec.name,
                    mib(idle.rss_kib),
                    mib(idle.pss_kib)
                );
            }
            return Ok(());
        }
        let spans = Spans {
            measure,
            warmup: Duration::from_secs(3),
        };
        // runs[server][level]: every run of that cell
        let mut runs = vec![vec![Vec::new(); a.conns.len()]; specs.len()];
        for run in 1..=a.runs.max(1) {
            // level by level, the servers taking turns: a busy moment of the machine
            // weighs on all of them alike
            for (l, &n) in a.conns.iter().enumerate() {
                for (s, spec) in specs.iter().enumerate() {
                    eprintln!("labbench: {} at {n} connections (run {run})", spec.name);
                    runs[s][l].push(labbench::measure(spec, n, spans).map_err(Error::msg)?);
                }
            }
        }
        let rows: Vec<_> = runs
            .iter()
            .flatten()
            .filter_map(|r| labbench::median(r))
            .collect();
        print!("{}", report::table(&rows));
        std::fs::write(&a.svg, report::svg(&rows)).context("write")?;
        eprintln!("labbench: plot written to {}", a.svg.display());
        Ok(())
    })
}

/// Up to the hard limit of open descriptors: 1,000 connections need more than the
/// usual 1,024 on the client side, and the servers inherit the limit.
fn raise_descriptor_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}
