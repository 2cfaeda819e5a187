//! `rftclient IP ORIGIN_PATH COPY_PATH [--port 49313] [--window N]`
//!
//! unplab's reliable UDP file client. The socket calls are in
//! `udpcliserv::rft::sender::upload` (`udpcliserv/src/rft/sender.rs`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::Parser;

/// Uploads a file reliably over UDP: numbered packets, ACKs, retransmission.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address (IPv4, IPv6 or a host name).
    host: String,
    /// The local file to send.
    origin: PathBuf,
    /// The path the server writes (below its --root).
    copy: OsString,
    /// The server's UDP port.
    #[arg(short, long, default_value_t = 49313)]
    port: u16,
    /// Packets in flight before the first is acknowledged (1: stop and wait).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    window: u16,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let servaddr = unp::udp::resolve_one(&args.host, args.port)?;
        let window = usize::from(args.window);
        let sent =
            udpcliserv::rft::sender::upload(servaddr, &args.origin, args.copy.as_bytes(), window)?;
        let secs = sent.elapsed.as_secs_f64().max(1e-9);
        let c = sent.counts;
        unp::print_flush(format_args!(
            "sent {} bytes in {:.3} s ({:.1} Mbit/s): {} packets, {} retransmitted after a timeout, {} after 3 duplicate ACKs; srtt {:?}\n",
            sent.bytes,
            secs,
            sent.bytes as f64 * 8.0 / secs / 1e6,
            c.sent,
            c.timeouts,
            c.fast,
            sent.srtt
        ))
    })
}
