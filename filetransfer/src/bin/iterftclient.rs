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

use clap::Parser;
use filetransfer::fetch::ClientArgs;
use filetransfer::partial;

/// Fetches files one after another, asking for each path on stdin.
#[derive(Parser)]
#[command(name = "iterftclient")]
struct Args {
    /// Server address (IPv4, IPv6 or host name)
    ip: String,
    /// Server port
    port: u16,
    #[command(flatten)]
    client: ClientArgs,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        partial::clean_up_on_interrupt()?; // armour: Ctrl-C removes the temporary file
        let opts = args.client.options();
        let failed =
            filetransfer::interactive::run(&args.ip, args.port, std::io::stdin().lock(), &opts)?;
        match failed {
            0 => Ok(()),
            n => Err(unp::Error::msg(format!("{n} transfer(s) failed"))),
        }
    })
}
