//! tcpcli07 — echo client that a timer ends: it arms `setitimer(ITIMER_REAL)` and exits
//! from the SIGALRM handler (the Lab 3 handout's Practice 2 client).
//!
//! The handout's timer is 5 s 50 ms (`it_value` 5 s + 50000 µs); `--alarm-ms` changes
//! it. The handler leaves with `_exit`, not `exit` as the handout's C does: `exit` runs
//! atexit handlers and flushes stdio buffers, which is not async-signal-safe.

use std::ffi::c_int;

use clap::Parser;
use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args;
use tcpcliserv::client::{self, LineWrite};
use unp::signal::SafeLine;

/// Server address, port and timer.
#[derive(Parser)]
struct Args {
    /// The server: an IPv4 or IPv6 address, or a host name
    host: String,
    /// The server's port
    #[arg(short, long, default_value_t = unp::SERV_PORT)]
    port: u16,
    /// Milliseconds until SIGALRM ends the client (the handout: 5 s + 50 ms)
    #[arg(long, default_value_t = 5050)]
    alarm_ms: u64,
}

/// The handout's sig_alm: the timer expired, leave.
extern "C" fn sig_alm(_signo: c_int) {
    let mut line = SafeLine::new();
    line.push_str("SIGALRM: timer expired, exiting\n");
    line.write_stderr();
    // SAFETY: _exit is async-signal-safe and ends the process at once.
    unsafe { nix::libc::_exit(0) }
}

/// `setitimer(ITIMER_REAL)` for one expiry after `ms` milliseconds (no interval).
fn set_alarm(ms: u64) -> unp::Result<()> {
    let value = nix::libc::timeval {
        tv_sec: nix::libc::time_t::try_from(ms / 1000)
            .map_err(|_| unp::Error::msg("--alarm-ms is too large"))?,
        // Below 1_000_000, so it fits every suseconds_t.
        tv_usec: (ms % 1000 * 1000) as nix::libc::suseconds_t,
    };
    let timer = nix::libc::itimerval {
        it_interval: nix::libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: value,
    };
    // SAFETY: setitimer reads `timer`, a valid itimerval we own, and writes nothing
    // (the old value pointer is null).
    let rc = unsafe { nix::libc::setitimer(nix::libc::ITIMER_REAL, &timer, std::ptr::null_mut()) };
    if rc == -1 {
        return Err(unp::Error::last_os("setitimer"));
    }
    Ok(())
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("Echo client that SIGALRM ends after --alarm-ms");
        // Signal(SIGALRM, sig_alm): UNP's Signal leaves SA_RESTART off for SIGALRM, so
        // it interrupts blocked calls.
        // SAFETY: sig_alm only calls write(2) and _exit (async-signal-safe).
        unsafe { unp::signal::signal(Signal::SIGALRM, SigHandler::Handler(sig_alm)) }?;
        // setitimer(ITIMER_REAL): SIGALRM once, after --alarm-ms
        set_alarm(a.alarm_ms)?;
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // str_cli(): write each line, read the echo, print it (client.rs), until the
        // timer's handler ends the process
        client::str_cli(std::io::stdin().lock(), &sockfd, LineWrite::Whole)?;
        // close(): FIN to the server
        unp::close(sockfd)
    })
}
