//! `dgcliloop IP PORT [--count N] [--size BYTES]`
//!
//! UNP 8.13: sends datagrams as fast as it can. The socket calls are in
//! `udpcliserv::flood::send_burst` (`udpcliserv/src/flood.rs`).

use clap::Parser;

/// Sends a burst of datagrams, to overrun a receiver (run `dgecholoop` there).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address (IPv4, IPv6 or a host name).
    host: String,
    /// The server's UDP port.
    port: u16,
    /// How many datagrams to send (UNP's NDG).
    #[arg(long, default_value_t = 2000)]
    count: u64,
    /// The size of each datagram (UNP's DGLEN).
    #[arg(long, default_value_t = 1400, value_parser = clap::value_parser!(u16).range(0..=65507))]
    size: u16,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let servaddr = unp::udp::resolve_one(&args.host, args.port)?;
        udpcliserv::flood::send_burst(servaddr, args.count, usize::from(args.size))
    })
}
