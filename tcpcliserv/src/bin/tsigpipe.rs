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
use std::thread;
use std::time::Duration;

use clap::Parser;
use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::{args, client, daytime};
use unp::signal::SafeLine;
use unp::{Error, MAXLINE, Result};

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

fn main() {
    unp::run(|| {
        let a: Args =
            args::parse("Writes twice to a daytime server that has closed; catches SIGPIPE");
        tsigpipe(&a.host, a.port, Duration::from_millis(a.sleep_ms))
    })
}

/// UNP's tsigpipe.c: connect, wait for the server's FIN, then write twice.
fn tsigpipe(host: &str, port: u16, pause: Duration) -> Result<()> {
    // Signal(SIGPIPE, sig_pipe)
    // SAFETY: sig_pipe only calls write(2) (async-signal-safe).
    unsafe { unp::signal::signal(Signal::SIGPIPE, SigHandler::Handler(sig_pipe)) }?;
    // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
    // for each address HOST resolves to (IPv6, IPv4) until one connects
    let sockfd = unp::tcp_connect(host, port)?;
    client::allow_sigpipe(&sockfd)?; // macOS: undo socket2's SO_NOSIGPIPE
    let mut buf = [0u8; MAXLINE];
    let mut total = 0;
    // read() until 0: the server's FIN has arrived (UNP sleeps 2 s instead)
    loop {
        match unp::read(&mut &sockfd, &mut buf)? {
            0 => break,
            n => total += n,
        }
    }
    unp::error::print_flush(format_args!(
        "read {total} bytes, then EOF: the server has closed\n"
    ))?;
    thread::sleep(pause);
    // write(): accepted by our kernel; the server's, whose socket is gone, answers RST
    unp::write_fd(&sockfd, b"hello")?;
    thread::sleep(pause); // let the RST arrive
    // write() on a reset connection: SIGPIPE, then EPIPE
    unp::write_fd(&sockfd, b"world")?;
    Err(Error::msg(
        "the second write succeeded: no RST arrived in time (try a longer --sleep-ms)",
    ))
}
