//! `udpechoserver PORT`
//!
//! The course's `UDP_Echo_Server`. The socket calls, blanks ㊴ to ㊷, are in
//! `udpcliserv::echo::serve` (`udpcliserv/src/echo.rs`).

use clap::Parser;

/// The UDP echo server of Lab 4: sends every datagram back to its sender.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The UDP port to receive on (0: let the kernel choose; the line `listening on`
    /// says which).
    port: u16,
}

fn main() {
    let args = Args::parse();
    // INADDR_ANY: [::]:PORT receives IPv4 and IPv6 datagrams
    let servaddr = unp::addr::wildcard(args.port);
    unp::run(|| udpcliserv::echo::serve(servaddr, udpcliserv::announce))
}
