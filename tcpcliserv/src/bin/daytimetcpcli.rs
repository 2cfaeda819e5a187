//! daytimetcpcli — RFC 867 daytime client (UNP intro/daytimetcpcli.c), IPv4 and IPv6.

use clap::Parser;
use tcpcliserv::{args, daytime};

/// The server to ask.
#[derive(Parser)]
struct Args {
    /// The server: an IPv4 or IPv6 address, or a host name
    host: String,
    /// The server's port
    #[arg(short, long, default_value_t = daytime::DAYTIME_PORT)]
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("Daytime client: prints what the server sends until it closes");
        daytime::client(&a.host, a.port)
    })
}
