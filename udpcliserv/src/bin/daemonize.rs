//! `daemonize --log FILE PROGRAM [ARGS...]`
//!
//! Runs any program as a daemon (UNP's `daemon_init`, then `exec`), its output
//! appended to FILE: `daemonize --log lottery.log lotteryserver 10000`. See
//! `udpcliserv::daemons::daemonize`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

/// Runs a program as a daemon, its standard output and error in a log file.
#[derive(Parser)]
#[command(version, trailing_var_arg = true)]
struct Args {
    /// The log file (appended to; a relative path is taken from here).
    #[arg(long)]
    log: PathBuf,
    /// The program (a workspace program is found next to daemonize).
    program: OsString,
    /// Its arguments.
    #[arg(allow_hyphen_values = true)]
    args: Vec<OsString>,
}

fn main() {
    let args = Args::parse();
    unp::run(|| udpcliserv::daemons::daemonize(args.log, &args.program, &args.args))
}
