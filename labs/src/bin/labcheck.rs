//! `labcheck server|client PROTOCOL -- COMMAND…`, `labcheck batch MANIFEST`,
//! `labcheck starter PROGRAM DIR`: check anyone's lab program against the protocol,
//! grade a class, hand out starter code. The checks are in `labs::labcheck`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use labs::labcheck::report::{Report, Tag};
use labs::labcheck::{Options, Protocol, Role, Target, batch, starter};
use unp::{Error, Result};

/// Checks a lab program, anyone's, against the lab's protocol, and explains each failure.
///
/// PROTOCOL: lottery, ft, iterft, echo, labecho, sum08, sum09, daytime, udpecho, udpft,
/// rft. A server's command line holds {port} (and {dir}, the directory holding the files
/// a file server serves or an upload server writes); a client's holds {host} and {port}
/// (an ft, udpft or rft client also {remote} and {local}). A program with a fixed port
/// (the course's UDP_FTServ, UDP_FTCli: 49312) is given --port instead of {port}.
/// Exit status: 0 when every selected check passed, 1 otherwise.
/// labcheck is not a sandbox: the program runs with your rights.
#[derive(Parser)]
#[command(name = "labcheck", version)]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Check a server: `labcheck server lottery -- ./lotteryserver {port}`.
    Server(Check),
    /// Check a client: `labcheck client lottery -- ./lotteryclient {host} {port}`.
    Client(Check),
    /// Check a class: each manifest line is `ID server|client PROTOCOL [OPTIONS] -- COMMAND…`.
    Batch(Batch),
    /// Write a starter project for PROGRAM (lotteryserver, lotteryclient, ftserver,
    /// ftclient): the reference sources with each blank replaced by todo!().
    Starter {
        /// The program.
        program: String,
        /// The directory to create.
        dir: PathBuf,
        /// The unplab workspace to take the sources from (default: this build's).
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct Check {
    /// The protocol.
    protocol: String,
    /// Check a server already running here instead (fewer checks).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Only the checks the handout asks for, or only the robustness ones.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The server serves clients concurrently (fork, threads, select/poll/epoll): END
    /// ends a session only, a file server serves on, and a serial one fails `concurrency`.
    #[arg(long)]
    concurrent: bool,
    /// Capture with tcpdump where permitted and list the segments of each failure; the
    /// pcap of a failed run is kept (the report says where), a passed run's removed.
    #[arg(long, value_enum, default_value_t = Capture::Auto)]
    capture: Capture,
    /// Keep the pcap of a run that passed too.
    #[arg(long)]
    keep_captures: bool,
    /// Seconds one step may wait for the program.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
    /// Seconds the whole check may take.
    #[arg(long, default_value_t = 120)]
    time_limit: u64,
    /// Where to make the run's directory (default: the temp directory).
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// The program's own fixed port, when its command line has no {port}.
    #[arg(long)]
    port: Option<u16>,
    /// Seconds after which the server claims to give up a silent upload (udpft, rft).
    #[arg(long)]
    idle: Option<u64>,
    /// The program's command line.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(clap::Args)]
struct Batch {
    /// The manifest.
    manifest: PathBuf,
    /// Where to write gradebook.csv and the reports.
    #[arg(long, default_value = "labcheck-out")]
    out: PathBuf,
    /// Submissions checked at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Seconds each submission may take.
    #[arg(long, default_value_t = 60)]
    time_limit: u64,
    /// Capture each submission's traffic (slower); a failed submission's pcap is kept.
    #[arg(long)]
    capture: bool,
    /// Keep the pcap of a submission that passed too.
    #[arg(long)]
    keep_captures: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Only {
    Handout,
    Robustness,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Junit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Capture {
    Auto,
    No,
}

fn main() {
    let args = Args::parse();
    unp::run(|| match args.what {
        What::Server(c) => single(Role::Server, c),
        What::Client(c) => single(Role::Client, c),
        What::Batch(b) => {
            let opts = batch::BatchOptions {
                out: b.out,
                jobs: b.jobs.max(1),
                time_limit: Duration::from_secs(b.time_limit),
                capture: b.capture,
                keep_captures: b.keep_captures,
            };
            let summary = batch::run(&b.manifest, &opts)?;
            unp::print_flush(format_args!("{summary}"))
        }
        What::Starter { program, dir, from } => {
            let from = from.unwrap_or_else(starter::default_workspace);
            let blanks = starter::generate(&program, &from, &dir)?;
            unp::print_flush(format_args!(
                "{}: {} to fill; build with `cargo build` in {}\n",
                dir.display(),
                labs::plural(blanks, "blank"),
                dir.display()
            ))
        }
    })
}

fn single(role: Role, c: Check) -> Result<()> {
    let proto = Protocol::from_name(&c.protocol).ok_or_else(|| {
        let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
        Error::msg(format!(
            "unknown protocol {:?}; one of {}",
            c.protocol,
            names.join(", ")
        ))
    })?;
    let target = match (c.addr, c.command.is_empty()) {
        (Some(a), true) if role == Role::Server => Target::Addr(a.parse().map_err(|_| {
            Error::msg(format!(
                "--addr {a:?}: give an address like 127.0.0.1:10000"
            ))
        })?),
        (None, false) => Target::Command(c.command),
        _ => {
            return Err(Error::msg(
                "give the program's command line after --, or (server only) --addr HOST:PORT",
            ));
        }
    };
    let mut opts = Options::new(role, proto, target);
    opts.only = c.only.map(|o| match o {
        Only::Handout => Tag::Handout,
        Only::Robustness => Tag::Robustness,
    });
    opts.concurrent = c.concurrent;
    opts.capture = c.capture == Capture::Auto && labs::labcheck::pcap::permitted();
    opts.keep_captures = c.keep_captures;
    opts.step_timeout = Duration::from_secs(c.timeout.max(1));
    opts.time_limit = Duration::from_secs(c.time_limit.max(1));
    opts.workdir = c.workdir;
    opts.fixed_port = c.port;
    opts.idle = c.idle.map(|s| Duration::from_secs(s.max(1)));
    let report = labs::labcheck::check(&opts);
    print(&report, c.format)?;
    if report.passed() {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "{} of {} failed",
            report.count(labs::labcheck::report::Verdict::Fail, None),
            labs::plural(report.steps.len(), "check")
        )))
    }
}

fn print(report: &Report, format: Format) -> Result<()> {
    let text = match format {
        Format::Text => report.text(),
        Format::Json => report.json(),
        Format::Junit => report.junit(),
    };
    unp::print_flush(format_args!("{text}"))
}
