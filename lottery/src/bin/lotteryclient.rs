//! `lotteryclient IP PORT`
//!
//! Lab 3 Practice 3's LotteryClient. The socket calls, blanks ⑦ to ⑩, are in
//! `lottery::client::run` (`lottery/src/client.rs`).

use clap::Parser;

/// The lottery client of Lab 3 Practice 3: type 0 (GEN), 1 (LIST) or 2 (END).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address: IPv4 (127.0.0.1), IPv6 (::1) or a host name.
    ip: String,
    /// The server's port.
    port: u16,
}

fn main() {
    let args = Args::parse();
    unp::run(|| lottery::client::run(&args.ip, args.port, &mut std::io::stdin().lock()))
}
