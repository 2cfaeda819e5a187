//! `labdaemon [--interval SECS] [--log FILE]`
//!
//! Lab 5's `daemon.c`: becomes a daemon (UNP's `daemon_init`) and logs
//! `daemon working pid: N ppid: M` every 10 seconds. See `udpcliserv::daemons`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use unp::daemon::LogTo;

/// A daemon that logs that it is working, like the course's daemon.c.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Seconds between two log lines.
    #[arg(long, default_value = "10", value_parser = udpcliserv::parse_seconds)]
    interval: Duration,
    /// Log to this file instead of syslog (the default where no syslog daemon
    /// listens on /dev/log: /tmp/daemon.log, as daemon.c).
    #[arg(long)]
    log: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let log = args
        .log
        .map_or_else(|| LogTo::auto("/tmp/daemon.log".as_ref()), LogTo::File);
    unp::run(|| udpcliserv::daemons::labdaemon(&log, args.interval))
}
