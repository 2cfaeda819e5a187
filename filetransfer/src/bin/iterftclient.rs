//! The iterative FTClient (Lab 3 Practice 4, Requirement 3): asks for a remote and a
//! local path, transfers, reports, and asks again until an empty path or end of input.
//!
//! ```text
//! $ iterftclient 127.0.0.1 10000
//! remote path: /home/ancl/temp1
//! local path: ./temp1
//! received 39 bytes into ./temp1
//! remote path:
//! ```

use std::time::Duration;

use clap::Parser;
use filetransfer::fetch::{self, Options};

/// Fetches files one after another, asking for each path on stdin.
#[derive(Parser)]
#[command(name = "iterftclient")]
struct Args {
    /// Server address (IPv4, IPv6 or host name)
    ip: String,
    /// Server port
    port: u16,
    /// Give up on a transfer if the server sends nothing for this many seconds
    #[arg(long, default_value = "30", value_parser = filetransfer::parse_timeout)]
    timeout: Duration,
    /// Accept a transfer that ends with the server's close even without an end-of-file
    /// segment (for the handout's C FTServer, which sends none)
    #[arg(long)]
    trust_close: bool,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        fetch::clean_up_on_interrupt()?;
        let opts = Options {
            timeout: args.timeout,
            progress: true,
            trust_close: args.trust_close,
        };
        let failed =
            filetransfer::interactive::run(&args.ip, args.port, std::io::stdin().lock(), &opts)?;
        match failed {
            0 => Ok(()),
            n => Err(unp::Error::msg(format!("{n} transfer(s) failed"))),
        }
    })
}
