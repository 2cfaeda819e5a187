//! tcpclinonb — echo client with nonblocking I/O (UNP chapter 16): `connect` with a
//! timeout of its own (`--connect-timeout SECS`, connect_nonb, 16.3) and a `str_cli`
//! whose writes never block (strclinonb, 16.2): what the socket cannot take yet waits
//! in a buffer while the client goes on reading the echoes.

use std::time::Duration;

use clap::Parser;
use tcpcliserv::args::{self, ClientArgs};
use tcpcliserv::nonblock::{connect_nonb, str_cli_nonb};
use unp::Error;

/// `tcpclinonb HOST [-p PORT] [--connect-timeout SECS]`.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    client: ClientArgs,
    /// Give up connecting after SECS seconds (default: as long as the kernel tries)
    #[arg(long, value_name = "SECS")]
    connect_timeout: Option<f64>,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("Echo client with nonblocking connect and I/O");
        let timeout = a
            .connect_timeout
            .map(|s| {
                Duration::try_from_secs_f64(s)
                    .map_err(|e| Error::msg(format!("--connect-timeout: {e}")))
            })
            .transpose()?;
        let servaddr = unp::addr::resolve(&a.client.host, a.client.port)?;
        let servaddr = servaddr.first().ok_or_else(|| Error::msg("no address"))?;
        // socket() + nonblocking connect() + select() with the timeout
        let sockfd = connect_nonb(servaddr, timeout)?;
        // str_cli(): nonblocking stdin and socket, select, the `to` buffer
        str_cli_nonb(&std::io::stdin(), &sockfd)?;
        unp::close(sockfd)
    })
}
