//! echoclient — the Lab 3 EchoClient: sends each line typed, prints
//! `Echo from Server: ...`. Unlike the C original it sends whole lines (not word by
//! word) and ends cleanly at end of input (Ctrl-D).

use clap::Parser;
use tcpcliserv::{args, client};

/// `echoclient IP PORT`, as in the handout.
#[derive(Parser)]
struct Args {
    /// The server: an IPv4 or IPv6 address, or a host name
    host: String,
    /// The server's port
    port: u16,
}

fn main() {
    unp::run(|| {
        let a: Args = args::parse("The lab's echo client: type lines, see them echoed");
        // socket() + connect(): UNP's tcp_connect (section 11.12), a socket and a connect
        // for each address HOST resolves to (IPv6, IPv4) until one connects
        let sockfd = unp::tcp_connect(&a.host, a.port)?;
        // write each line, read as many bytes back, print them (client.rs)
        client::lab_echo_client(std::io::stdin().lock(), &sockfd)?;
        // close(): FIN; the iterative server then accepts its next client
        unp::close(sockfd)
    })
}
