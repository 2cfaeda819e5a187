//! `udpechoclient IP PORT`
//!
//! The course's `UDP_Echo_Client`. The socket calls, blanks ㊸ to ㊺, are in
//! `udpcliserv::echo::client` (`udpcliserv/src/echo.rs`).

use clap::Parser;

/// The UDP echo client of Lab 4: sends each line typed, prints the server's reply.
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
        udpcliserv::echo::client(servaddr, std::io::stdin().lock())
    })
}
