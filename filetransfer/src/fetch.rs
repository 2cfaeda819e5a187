//! FTClient, the handout's client (Lab 3 Practice 4): [`fetch`] is the whole lesson,
//! blank by blank ㉞–㊳ (the handout's glyphs for the client are garbled; unplab numbers
//! them ㉞ socket, ㉟ connect, ㊱ write the path, ㊲ read segments, ㊳ write the file).
//!
//! ```text
//! socket ㉞ → connect ㉟ → write the path ㊱ → { read segments ㊲ → write data ㊳ }
//!   → close(filefd) → close(sockfd)
//! ```
//!
//! The armour beside it, one line each in [`fetch`]:
//!
//! | module | protects against |
//! |---|---|
//! | [`crate::partial`] | a failed or interrupted transfer leaving a partial LOCAL_PATH (temporary file, rename, Ctrl-C handler) |
//! | [`crate::reassembly`] | taking a read for a segment (TCP is a byte stream), and a FIN for a complete file (`--trust-close`) |
//! | [`crate::stall`] | a server that goes silent (`--timeout`) |
//! | [`crate::progress`] | a long transfer that looks hung (a progress line, on a terminal only) |

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use socket2::Socket;
use unp::{Context, Error, Result};

use crate::partial::Download;
use crate::progress::Progress;
use crate::proto;
use crate::reassembly::Reassembly;
use crate::stall;

/// The default read timeout: a server silent this long is given up on.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// FTClient: connects to `host`:`port`, asks for `remote`, and stores it as `local`.
/// Returns the number of bytes received. On any failure `local` is untouched.
///
/// If [`crate::partial::clean_up_on_interrupt`] was called, SIGINT and SIGTERM during
/// the transfer remove the temporary file and end the process.
pub fn fetch(host: &str, port: u16, remote: &str, local: &Path, opts: &Options) -> Result<u64> {
    let request: &[u8] = proto::encode_request(remote)
        .map_err(|e| Error::msg(format!("\"{}\": {e}", unp::printable(remote.as_bytes()))))?;
    // open(LOCAL), before connecting: armour: a temporary file beside LOCAL, renamed at the end
    let mut filefd = Download::create(local)?;
    let mut connected: Result<Socket> = Err(Error::msg(format!("no address found for {host}")));
    for servaddr in unp::addr::resolve(host, port)? {
        // ㉞ socket(): a TCP endpoint of this address's family (IPv4 or IPv6)
        let sock: Socket = unp::socket(&servaddr)?;
        // ㉟ connect(): the three-way handshake; if it fails, the next address is tried
        connected = unp::connect(&sock, &servaddr).map(|()| sock);
        if connected.is_ok() {
            break;
        }
    }
    let mut sockfd: TcpStream = connected?.into();
    sockfd
        .set_read_timeout(Some(opts.timeout))
        .context("setsockopt SO_RCVTIMEO")?; // armour: a silent server (--timeout)
    // ㊱ write the file path to the server: raw bytes, no terminator, one write
    unp::writen(&mut sockfd, request)?;
    let mut stream = Reassembly::new(opts.trust_close); // armour: a read is not a segment
    let mut bar = Progress::new(opts.progress); // bytes so far and the rate, on a terminal
    loop {
        // ㊲ read segment(s) from the server: whatever has arrived, pieces of segments too
        let len: usize =
            unp::read(&mut sockfd, stream.unfilled()).map_err(stall::waiting_for_server)?;
        if len == 0 {
            break; // EOF: the server closed the connection
        }
        for data in stream.filled(len)? {
            // ㊳ write data to the file: the first segment.len bytes of each segment
            filefd.write_all(data).context("write")?;
        }
        bar.update(stream.total());
    }
    let total: u64 = stream.at_close()?; // armour: was that the whole file? (--trust-close)
    filefd.commit()?; // close(filefd); armour: rename it to LOCAL, now that it is complete
    unp::close(sockfd)?; // close(sockfd)
    bar.finish(total)?;
    Ok(total)
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Read timeout on the connection.
    pub timeout: Duration,
    /// Show a progress line (only when stdout is a terminal).
    pub progress: bool,
    /// Accept a transfer that ends with the server's close after a full segment, or with
    /// no segment at all (`--trust-close`: for the handout's C FTServer, which sends no
    /// end-of-file segment).
    pub trust_close: bool,
}

/// The options both clients share: `[--timeout SECS] [--trust-close]`.
#[derive(clap::Args, Debug)]
pub struct ClientArgs {
    /// Give up if the server sends nothing for this many seconds
    #[arg(long, default_value = "30", value_parser = crate::parse_timeout)]
    pub timeout: Duration,
    /// Accept a transfer that ends with the server's close even without an end-of-file
    /// segment (for the handout's C FTServer, which sends none)
    #[arg(long)]
    pub trust_close: bool,
}

impl ClientArgs {
    /// The transfer options these arguments ask for, with a progress line on a terminal.
    pub fn options(&self) -> Options {
        Options {
            timeout: self.timeout,
            progress: true,
            trust_close: self.trust_close,
        }
    }
}
