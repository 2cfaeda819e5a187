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
    about = "Measure echo servers: round trips/s, connections/s, latency, memory",
    after_help = "SERVER is iterative, fork, thread, select, poll, epoll (unplab's echo servers, \
                  found next to labbench), or a command line with {port}, optionally named: \
                  'c04=./tcpserv04 {port}'. Build with --release to measure fairly."
)]
struct Args {
    /// Servers to measure (default: all six of unplab's)
    servers: Vec<String>,
    /// Concurrent connections, comma-separated
    #[arg(short, long, value_delimiter = ',', default_value = "1,10,100,1000")]
    conns: Vec<usize>,
    /// Seconds per measurement
    #[arg(short, long, default_value_t = 1.0)]
    secs: f64,
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
        let spans = Spans {
            measure,
            warmup: Duration::from_secs(3),
        };
        if let Some(n) = a.idle {
            for spec in &specs {
                let rss =
                    labbench::idle_rss(spec, n, Duration::from_secs(20)).map_err(Error::msg)?;
                let mib = rss.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
                println!("{}: {n} idle connections, RSS {mib} MiB", spec.name);
            }
            return Ok(());
        }
        let mut rows = Vec::new();
        for spec in &specs {
            for &n in &a.conns {
                eprintln!("labbench: {} at {n} connections", spec.name);
                rows.push(labbench::measure(spec, n, spans).map_err(Error::msg)?);
            }
        }
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
