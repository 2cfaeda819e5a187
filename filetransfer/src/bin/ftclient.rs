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

use clap::Parser;
use filetransfer::fetch::{self, ClientArgs};
use filetransfer::partial;

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
    #[command(flatten)]
    client: ClientArgs,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        partial::clean_up_on_interrupt()?; // armour: Ctrl-C removes the temporary file
        let opts = args.client.options();
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
