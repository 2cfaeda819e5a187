//! `udpseqclient IP PORT [--count N]`
//!
//! The course's "UDP failures" client: numbered 1024-byte datagrams, as fast as it
//! can. The socket calls are in `udpcliserv::seq::send` (`udpcliserv/src/seq.rs`).

use clap::Parser;

/// Sends numbered datagrams as fast as it can (run `udpseqserver` there).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address (IPv4, IPv6 or a host name).
    host: String,
    /// The server's UDP port.
    port: u16,
    /// How many datagrams to send, numbered from 0.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i32).range(0..))]
    count: i32,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let servaddr = unp::udp::resolve_one(&args.host, args.port)?;
        udpcliserv::seq::send(servaddr, args.count)
    })
}
