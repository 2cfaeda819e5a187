//! `udpseqserver PORT [--idle SECS]`
//!
//! The course's "UDP failures" server: prints `Sequence num: N`, and `Error!` when a
//! datagram is out of order. The socket calls are in `udpcliserv::seq::serve`
//! (`udpcliserv/src/seq.rs`).

use std::time::Duration;

use clap::Parser;

/// Receives numbered datagrams and shows which arrive out of order.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The UDP port to receive on (0: let the kernel choose).
    port: u16,
    /// End this many seconds after the last datagram, with a summary of what was lost
    /// (the first may come whenever it likes; Ctrl-C also ends it with the summary).
    #[arg(long, value_parser = udpcliserv::parse_seconds)]
    idle: Option<Duration>,
}

fn main() {
    let args = Args::parse();
    let servaddr = unp::addr::wildcard(args.port);
    unp::run(|| {
        udpcliserv::sigint::catch()?; // armour: Ctrl-C ends serve with its summary too
        udpcliserv::seq::serve(servaddr, args.idle, udpcliserv::announce)
    })
}
