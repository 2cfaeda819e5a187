//! `rftserver [--port 49313] [--root DIR] [--idle SECS]`
//!
//! unplab's reliable UDP file server. The socket calls are in
//! `udpcliserv::rft::receiver::serve` (`udpcliserv/src/rft/receiver.rs`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use udpcliserv::upload::UploadRoot;

/// Receives uploads reliably over UDP (sequence numbers, ACKs), below --root.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The UDP port (0: let the kernel choose).
    #[arg(short, long, default_value_t = 49313)]
    port: u16,
    /// The directory uploads are written under.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Abandon an upload after this many seconds without a packet.
    #[arg(long, default_value = "10", value_parser = udpcliserv::parse_seconds)]
    idle: Duration,
}

fn main() {
    let args = Args::parse();
    let servaddr = unp::addr::wildcard(args.port);
    unp::run(|| {
        let root = UploadRoot::new(&args.root)?;
        udpcliserv::rft::receiver::serve(servaddr, &root, args.idle, udpcliserv::announce)
    })
}
