//! daytimetcpcli — RFC 867 daytime client (UNP intro/daytimetcpcli.c; names/daytimetcpcli.c
//! for host names and IPv6).
//!
//! The server sends one line and closes; the client prints everything it reads until
//! that close. Each `read` may return part of the line: TCP has no message boundaries.

use clap::Parser;
use tcpcliserv::terminal::TextPrinter;
use tcpcliserv::{args, daytime};
use unp::{MAXLINE, Result};

/// The server to ask.
#[derive(Parser)]
struct Args {
    /// The server: an IPv4 or IPv6 address, or a host name
    host: String,
    /// The server's port
    #[arg(short, long, default_value_t = daytime::DAYTIME_PORT)]
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("Daytime client: prints what the server sends until it closes");
        daytimetcpcli(&a.host, a.port)
    })
}

/// UNP's daytimetcpcli.c: connect, read until EOF, print.
fn daytimetcpcli(host: &str, port: u16) -> Result<()> {
    // socket() + connect(): UNP's tcp_connect (names/daytimetcpcli.c, section 11.12), a
    // socket and a connect for each address HOST resolves to until one connects
    let sockfd = unp::tcp_connect(host, port)?;
    let mut recvline = [0u8; MAXLINE];
    let mut printer = TextPrinter::default(); // armour: a hostile server's escapes
    loop {
        // read(): what has arrived, maybe part of the line; 0 is the server's FIN
        let n = unp::read(&mut &sockfd, &mut recvline)?;
        if n == 0 {
            break;
        }
        printer.print(&recvline[..n])?;
    }
    printer.finish()?;
    // close(): our FIN; the server closed first, so this side ends without TIME_WAIT
    unp::close(sockfd)
}
