//! `lotteryserver PORT [--seed N] [--concurrency iterative|fork|thread]`
//!
//! Lab 3 Practice 3's LotteryServer. The socket calls, blanks ① to ⑥, are in
//! `lottery::server::serve` (`lottery/src/server.rs`).

use clap::{Parser, ValueEnum};
use lottery::draw::Seeding;
use unp::serve::Concurrency;

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
    let how = match args.concurrency {
        Mode::Iterative => Concurrency::OneAtATime,
        Mode::Fork => Concurrency::ProcessPerClient,
        Mode::Thread => Concurrency::ThreadPerClient,
    };
    let seeding = args.seed.map_or(Seeding::Os, Seeding::Fixed);
    // INADDR_ANY: [::]:PORT takes IPv4 and IPv6 clients
    let servaddr = unp::addr::wildcard(args.port);
    unp::run(|| lottery::server::serve(servaddr, how, seeding, unp::serve::announce))
}
