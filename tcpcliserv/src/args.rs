//! Command-line arguments shared by the programs (clap), as in the book:
//! servers take `-p/--port`, clients the server's host and `-p/--port`.

use clap::Parser;

/// A UNP server's arguments.
#[derive(Debug, Parser)]
pub struct ServerArgs {
    /// Port to listen on (0: let the kernel choose one and print it)
    #[arg(short, long, default_value_t = unp::SERV_PORT)]
    pub port: u16,
}

/// A UNP client's arguments.
#[derive(Debug, Parser)]
pub struct ClientArgs {
    /// The server: an IPv4 or IPv6 address, or a host name
    pub host: String,
    /// The server's port
    #[arg(short, long, default_value_t = unp::SERV_PORT)]
    pub port: u16,
}

/// Parses the command line into `T`, with this program's name and `about` line in
/// `--help` (the argument structs are shared, so the text comes from each binary).
pub fn parse<T: Parser>(about: &'static str) -> T {
    let name = unp::error::program_name();
    let matches = T::command()
        .name(name)
        .bin_name(name)
        .about(about)
        .get_matches();
    T::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
