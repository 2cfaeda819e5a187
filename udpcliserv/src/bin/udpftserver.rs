//! `udpftserver [--port 49312] [--root DIR] [--idle SECS] [--once]`
//!
//! The course's `UDP_FTServ`, safe on the server side. The socket calls are in
//! `udpcliserv::ft::serve` (`udpcliserv/src/ft.rs`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use udpcliserv::ft::{SERV_PORT, ServerOptions};
use udpcliserv::upload::UploadRoot;

/// The UDP file server of Lab 4: receives uploads, writes them below --root.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The UDP port (the course's server always uses 49312; 0: let the kernel choose).
    #[arg(short, long, default_value_t = SERV_PORT)]
    port: u16,
    /// The directory uploads are written under (paths with `..`, symbolic links, or
    /// absolute paths elsewhere are refused).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Give an upload up after this many seconds without a datagram (a lost END).
    #[arg(long, value_parser = udpcliserv::parse_seconds)]
    idle: Option<Duration>,
    /// End after one upload, as the C server does.
    #[arg(long)]
    once: bool,
}

fn main() {
    let args = Args::parse();
    let servaddr = unp::addr::wildcard(args.port);
    unp::run(|| {
        let root = UploadRoot::new(&args.root)?;
        let opts = ServerOptions {
            root,
            idle: args.idle,
            once: args.once,
        };
        udpcliserv::ft::serve(servaddr, &opts, udpcliserv::announce)
    })
}
