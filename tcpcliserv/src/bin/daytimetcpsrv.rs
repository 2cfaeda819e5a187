//! daytimetcpsrv — RFC 867 daytime server (UNP intro/daytimetcpsrv.c), IPv4 and IPv6.

use clap::Parser;
use tcpcliserv::{args, daytime, server};

/// The port to listen on.
#[derive(Parser)]
struct Args {
    /// Port to listen on (13 needs root; 0: let the kernel choose)
    #[arg(short, long, default_value_t = daytime::DAYTIME_PORT)]
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args =
            args::parse("Daytime server: sends the local time to each client, then closes");
        let listener = server::listen(a.port, "-p 1313")?;
        daytime::serve(listener)
    })
}
