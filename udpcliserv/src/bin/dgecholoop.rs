//! `dgecholoop PORT [--rcvbuf BYTES]`
//!
//! UNP 8.13: counts the datagrams it receives, prints the count on Ctrl-C. The socket
//! calls are in `udpcliserv::flood::count` (`udpcliserv/src/flood.rs`).

use clap::Parser;

/// Counts datagrams until Ctrl-C; shows how many a burst lost.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The UDP port to receive on (0: let the kernel choose).
    port: u16,
    /// Set SO_RCVBUF to this many bytes (the kernel doubles it and caps it).
    #[arg(long, value_name = "BYTES")]
    rcvbuf: Option<usize>,
}

fn main() {
    let args = Args::parse();
    let servaddr = unp::addr::wildcard(args.port);
    unp::run(|| udpcliserv::flood::count(servaddr, args.rcvbuf, udpcliserv::announce))
}
