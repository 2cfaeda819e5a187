//! FTServer (Lab 3 Practice 4): serve one file to one client, then exit.
//!
//! ```text
//! $ ftserver 10000
//! listening on [::]:10000
//! /home/ancl/temp1
//! ```

use clap::Parser;
use filetransfer::server::{self, Clients, ServerArgs};

/// Sends one file, in 260-byte segments, to one client, then exits.
#[derive(Parser)]
#[command(name = "ftserver")]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() {
    let args = Args::parse();
    unp::run(|| server::serve(&args.server, Clients::One))
}
