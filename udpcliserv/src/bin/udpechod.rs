//! `udpechod PORT [--log FILE]`
//!
//! The course's UDP echo server as a daemon. See `udpcliserv::daemons::udpechod`.

use std::path::PathBuf;

use clap::Parser;
use unp::daemon::LogTo;

/// The UDP echo server, detached from the terminal, logging to syslog or a file.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The UDP port.
    port: u16,
    /// Log to this file instead of syslog (the default where no syslog daemon
    /// listens on /dev/log: /tmp/udpechod.log).
    #[arg(long)]
    log: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let log = args
        .log
        .map_or_else(|| LogTo::auto("/tmp/udpechod.log".as_ref()), LogTo::File);
    unp::run(|| udpcliserv::daemons::udpechod(args.port, &log))
}
