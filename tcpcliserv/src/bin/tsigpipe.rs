//! tsigpipe — catching SIGPIPE (UNP tcpcliserv/tsigpipe.c).
//!
//! Connects to a daytime server, which sends the time and closes. Then writes twice:
//! the first write reaches a socket that no longer exists and the peer answers RST; the
//! second write, on a reset connection, raises SIGPIPE. The handler prints
//! `SIGPIPE received` and returns, and the write fails with `EPIPE`:
//!
//! ```text
//! SIGPIPE received
//! tsigpipe: write error: Broken pipe (EPIPE)
//! ```
//!
//! UNP's program sleeps two seconds so that the server's FIN arrives before the first
//! write; this one reads until EOF instead, which is certain, and then sleeps between the
//! writes only to let the RST arrive (`--sleep-ms`).

use std::ffi::c_int;
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use clap::Parser;
use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::{args, client, daytime};
use unp::signal::SafeLine;
use unp::{Error, Result};

/// The daytime server to provoke.
#[derive(Parser)]
struct Args {
    /// A daytime server: an IPv4 or IPv6 address, or a host name
    host: String,
    /// Its port
    #[arg(short, long, default_value_t = daytime::DAYTIME_PORT)]
    port: u16,
    /// Milliseconds to sleep before each write (UNP: 2 s)
    #[arg(long, default_value_t = 2000)]
    sleep_ms: u64,
}

/// UNP's sig_pipe, with write(2) instead of printf.
extern "C" fn sig_pipe(_signo: c_int) {
    let mut line = SafeLine::new();
    line.push_str("SIGPIPE received\n");
    line.write_stdout();
}

/// Reads until the server's FIN; returns how many bytes came before it.
fn read_to_eof(conn: &mut TcpStream) -> Result<usize> {
    let mut total = 0;
    let mut buf = [0u8; 512];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("read", e)),
        }
    }
}

fn main() {
    unp::run(|| {
        let a: Args =
            args::parse("Writes twice to a daytime server that has closed; catches SIGPIPE");
        // SAFETY: sig_pipe only calls write(2) (async-signal-safe).
        unsafe { unp::signal::signal(Signal::SIGPIPE, SigHandler::Handler(sig_pipe)) }?;
        let mut conn = unp::tcp_connect(&a.host, a.port)?;
        client::allow_sigpipe(&conn)?;
        let n = read_to_eof(&mut conn)?;
        unp::error::print_flush(format_args!(
            "read {n} bytes, then EOF: the server has closed\n"
        ))?;
        let pause = Duration::from_millis(a.sleep_ms);
        thread::sleep(pause);
        client::write_fd(&conn, b"hello")?; // accepted by our kernel; the peer answers RST
        thread::sleep(pause);
        client::write_fd(&conn, b"world")?; // SIGPIPE, then EPIPE
        Err(Error::msg(
            "the second write succeeded: no RST arrived in time (try a longer --sleep-ms)",
        ))
    })
}
