//! tcpserv09 — sum server, binary protocol: 16-byte request (two little-endian i64),
//! 8-byte reply (UNP tcpcliserv/tcpserv09.c with str_echo09.c): tcpserv04 with another
//! service, the fork written once in [`unp::serve::process_per_client`].

use nix::sys::signal::{SigHandler, Signal};
use tcpcliserv::args::{self, ServerArgs};
use tcpcliserv::{service, sigchld};
use unp::Result;
use unp::addr::explain_privileged_port;

fn main() {
    unp::run(|| {
        let a: ServerArgs = args::parse("Sum server (binary): two i64 in, their sum out");
        tcpserv09(a.port)
    })
}

/// UNP's tcpserv09.c: tcpserv04's loop, each child running `str_echo09`.
fn tcpserv09(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr).map_err(|e| explain_privileged_port(e, port, "-p 9877"))?;
    // listen(): from now on the kernel completes handshakes and queues them
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:9877`
    // Signal(SIGCHLD, sig_chld): reap every exited child (SA_RESTART).
    let sig_chld = SigHandler::Handler(sigchld::sig_chld_waitpid);
    // SAFETY: sig_chld_waitpid only calls waitpid and write(2) (async-signal-safe).
    unsafe { unp::signal::signal(Signal::SIGCHLD, sig_chld) }?;
    loop {
        // accept(): take a connection whose handshake the kernel already completed
        let (connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if e.is_interrupted() => continue, // EINTR: a child exited; call it again
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        // fork(): the child closes listenfd and runs str_echo09 (readn 16, write 8), the
        // parent closes connfd. The forking server is single-threaded, as fork requires.
        unp::serve::process_per_client(&listener, connfd, &cliaddr, |conn, _| {
            service::str_echo09(conn)
        })?;
    }
}
