//! `udpftclient IP ORIGIN_PATH COPY_PATH [--port 49312]`
//!
//! The course's `UDP_FTCli`: uploads ORIGIN_PATH to the server, which writes it to
//! COPY_PATH. The socket calls are in `udpcliserv::ft::upload` (`udpcliserv/src/ft.rs`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::Parser;
use udpcliserv::ft::SERV_PORT;

/// The UDP file client of Lab 4: sends a file in 1024-byte datagrams.
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
    #[arg(short, long, default_value_t = SERV_PORT)]
    port: u16,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let servaddr = unp::udp::resolve_one(&args.host, args.port)?;
        udpcliserv::ft::upload(servaddr, &args.origin, args.copy.as_bytes())
    })
}
