//! FTClient (Lab 3 Practice 4): fetch one file.
//!
//! ```text
//! $ ftclient 127.0.0.1 10000 /home/ancl/temp1 ./temp1
//! ```
//!
//! Silent on success unless stdout is a terminal (then a progress line: bytes received
//! so far and the rate). On failure a message, status 1, and LOCAL_PATH untouched; on
//! Ctrl-C status 130, LOCAL_PATH untouched. A transfer from the handout's C FTServer
//! (no end-of-file segment) may need `--trust-close`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use filetransfer::fetch::{self, Options};

/// Fetches REMOTE_PATH from the server and saves it as LOCAL_PATH.
#[derive(Parser)]
#[command(name = "ftclient")]
struct Args {
    /// Server address (IPv4, IPv6 or host name)
    ip: String,
    /// Server port
    port: u16,
    /// Path of the file on the server
    remote_path: String,
    /// Where to save it (replaced only after a complete transfer)
    local_path: PathBuf,
    /// Give up if the server sends nothing for this many seconds
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
        fetch::fetch(
            &args.ip,
            args.port,
            &args.remote_path,
            &args.local_path,
            &opts,
        )
        .map(|_| ())
        .map_err(|e| unp::Error::msg(format!("{e} ({} not written)", args.local_path.display())))
    })
}
