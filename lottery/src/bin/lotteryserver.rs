//! `lotteryserver PORT [--seed N] [--concurrency iterative|fork|thread]`
//!
//! Lab 3 Practice 3's LotteryServer. See `lottery::server` for the socket calls.

use clap::{Parser, ValueEnum};
use lottery::server::{Concurrency, Seeding, serve};

/// The lottery server of Lab 3 Practice 3: answers GEN (0), LIST (1) and END (2).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The TCP port to listen on (0: let the kernel choose; the line `listening on`
    /// says which).
    port: u16,
    /// Draw the same numbers every run (for docs and tests).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// How to serve several clients: one at a time (the handout's server), a process
    /// per client, or a thread per client.
    #[arg(long, value_enum, default_value_t = Mode::Iterative)]
    concurrency: Mode,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Iterative,
    Fork,
    Thread,
}

fn main() {
    let args = Args::parse();
    let concurrency = match args.concurrency {
        Mode::Iterative => Concurrency::Iterative,
        Mode::Fork => Concurrency::Fork,
        Mode::Thread => Concurrency::Thread,
    };
    let seeding = args.seed.map_or(Seeding::Os, Seeding::Fixed);
    unp::run(|| {
        let listener = unp::addr::listen_announced(args.port, "lotteryserver 10000")?;
        serve(listener, concurrency, seeding)
    })
}
