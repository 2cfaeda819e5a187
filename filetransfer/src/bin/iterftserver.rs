//! The iterative FTServer (Lab 3 Practice 4, Requirement 3): one client after another,
//! one file per connection, forever.
//!
//! ```text
//! $ iterftserver 10000
//! listening on [::]:10000
//! /home/ancl/temp1
//! sent 39 bytes to 127.0.0.1:53412
//! ```

use clap::Parser;
use filetransfer::server::{self, Clients, ServerArgs};

/// Sends files in 260-byte segments, one per connection, to one client after another.
#[derive(Parser)]
#[command(name = "iterftserver")]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() {
    let args = Args::parse();
    unp::run(|| server::serve(&args.server, Clients::OneAfterAnother))
}
