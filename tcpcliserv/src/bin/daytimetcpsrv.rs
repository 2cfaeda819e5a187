//! daytimetcpsrv — RFC 867 daytime server (UNP intro/daytimetcpsrv.c, with
//! daytimetcpsrv1.c's `connection from` line), IPv4 and IPv6.
//!
//! The smallest server: for each connection, write the time and close. The close ends
//! the reply: the client reads until EOF.

use clap::Parser;
use tcpcliserv::{args, daytime};
use unp::addr::explain_privileged_port;
use unp::{Result, writen};

/// The port to listen on.
#[derive(Parser)]
struct Args {
    /// Port to listen on (13 needs root; 0: let the kernel choose)
    #[arg(short, long, default_value_t = daytime::DAYTIME_PORT)]
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args =
            args::parse("Daytime server: sends the local time to each client, then closes");
        daytimetcpsrv(a.port)
    })
}

/// UNP's daytimetcpsrv.c: socket, bind, listen; for each client accept, write the
/// time, close. Nothing one client does stops it: a failed write or close is reported
/// with the client's address.
fn daytimetcpsrv(port: u16) -> Result<()> {
    let servaddr = unp::addr::wildcard(port); // INADDR_ANY, IPv4 and IPv6: [::]:PORT
    // socket(): a TCP endpoint, no address yet
    let listenfd = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // bind(): claim the port; port 13 needs root, a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr).map_err(|e| explain_privileged_port(e, port, "-p 1313"))?;
    // listen(): from now on the kernel completes handshakes and queues them
    let listener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:13`
    loop {
        // accept(): take a connection whose handshake the kernel already completed
        let (mut connfd, cliaddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        let client = unp::sock_ntop(&cliaddr);
        unp::log(format_args!("connection from {client}"));
        // snprintf(buff, "%.24s\r\n", ctime(&ticks)): `Tue Sep  5 11:04:47 2017\r\n`
        let buff = daytime::reply_now()?;
        // write(): the whole line
        let written = writen(&mut connfd, &buff);
        unp::serve::report(&client, written);
        // close(): FIN, the end of the reply
        unp::serve::report(&client, unp::close(connfd));
    }
}
