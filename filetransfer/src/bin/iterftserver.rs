//! The iterative FTServer (Lab 3 Practice 4, Requirement 3): one client after another,
//! one file per connection, forever.
//!
//! ```text
//! $ iterftserver 10000
//! listening on [::]:10000
//! /home/ancl/temp1
//! sent 39 bytes to 127.0.0.1:53412
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use filetransfer::serve::{self, Root};

/// Sends files in 260-byte segments, one per connection, to one client after another.
#[derive(Parser)]
#[command(name = "iterftserver")]
struct Args {
    /// Port to listen on (0: let the kernel choose)
    port: u16,
    /// Serve files from this directory only [default: the current directory]
    #[arg(long)]
    root: Option<PathBuf>,
    /// Give up on a client silent for this many seconds
    #[arg(long, default_value = "30", value_parser = filetransfer::parse_timeout)]
    timeout: Duration,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let root = Root::new(&args.root.unwrap_or_else(|| PathBuf::from(".")))?;
        // socket, bind, listen: one call (UNP's tcp_listen).
        let (listener, addr) = unp::tcp_listen(None, args.port)?;
        unp::error::print_flush(format_args!("listening on {}\n", unp::sock_ntop(&addr)))?;
        serve::iterative(&listener, &root, args.timeout)
    })
}
