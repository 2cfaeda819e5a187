//! `dgcliconnect IP PORT`
//!
//! UNP 8.11: the UDP echo client on a connected socket. The socket calls
//! are in `udpcliserv::failures::connected` (`udpcliserv/src/failures.rs`).

use clap::Parser;

/// The UDP echo client on a connected socket: learns of ICMP port unreachable.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address (IPv4, IPv6 or a host name).
    host: String,
    /// The server's UDP port.
    port: u16,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let servaddr = unp::udp::resolve_one(&args.host, args.port)?;
        udpcliserv::failures::connected(servaddr, std::io::stdin().lock())
    })
}
