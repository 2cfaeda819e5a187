//! `dgcliaddr IP PORT`
//!
//! UNP 8.8: the UDP echo client that checks the sender of each reply. The socket calls
//! are in `udpcliserv::failures::checking_source` (`udpcliserv/src/failures.rs`).

use clap::Parser;

/// The UDP echo client that ignores datagrams from anyone but the server.
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
        udpcliserv::failures::checking_source(servaddr, std::io::stdin().lock())
    })
}
