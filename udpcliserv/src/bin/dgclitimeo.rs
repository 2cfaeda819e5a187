//! `dgclitimeo IP PORT [--timeout SECS] [--tries N]`
//!
//! UNP 14.2: the UDP echo client with a receive timeout and retries. The socket calls
//! are in `udpcliserv::failures::with_timeout` (`udpcliserv/src/failures.rs`).

use std::time::Duration;

use clap::Parser;

/// The UDP echo client that does not hang when a datagram is lost.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address (IPv4, IPv6 or a host name).
    host: String,
    /// The server's UDP port.
    port: u16,
    /// How long to wait for each reply, in seconds.
    #[arg(long, default_value = "1", value_parser = udpcliserv::parse_seconds)]
    timeout: Duration,
    /// How many times to send a line before giving up on it.
    #[arg(long, default_value_t = 3)]
    tries: u32,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let servaddr = unp::udp::resolve_one(&args.host, args.port)?;
        let input = std::io::stdin().lock();
        udpcliserv::failures::with_timeout(servaddr, input, args.timeout, args.tries)
    })
}
