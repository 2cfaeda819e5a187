//! Command-line arguments shared by the programs (clap), as in the book:
//! servers take `-p/--port`, clients the server's host and `-p/--port`; the select and
//! poll servers also a timeout and `--readline`.

use clap::Parser;

use crate::multiplex::{Options, Wait};

/// A UNP server's arguments.
#[derive(Debug, Parser)]
pub struct ServerArgs {
    /// Port to listen on (0: let the kernel choose one and print it)
    #[arg(short, long, default_value_t = unp::SERV_PORT)]
    pub port: u16,
}

/// The arguments of tcpservselect01 and tcpservpoll01:
/// `[-p PORT] [--timeout T] [--readline]`.
#[derive(Debug, Parser)]
pub struct MultiplexArgs {
    /// `-p PORT`, as every server.
    #[command(flatten)]
    pub server: ServerArgs,
    /// How long select or poll waits: forever (NULL, INFTIM), 0 (return at once), 5s,
    /// 1000ms
    #[arg(long, value_parser = Wait::parse, default_value = "forever")]
    pub timeout: Wait,
    /// Read each ready client with readline (UNP 6.8's denial of service)
    #[arg(long)]
    pub readline: bool,
}

impl MultiplexArgs {
    /// The server's behaviour: this timeout, UNP's lines (not the course's), and
    /// `readline` if asked.
    pub fn options(&self) -> Options {
        Options {
            wait: self.timeout,
            course_lines: false,
            readline: self.readline,
        }
    }
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
///
/// A bare number where the program takes `-p PORT` (`tcpserv04 19877`, as the lab's
/// `echoserver 10000` is run) gets a message that names `-p`, not only clap's
/// "unexpected argument"; the exit status stays clap's 2 for a usage error.
pub fn parse<T: Parser>(about: &'static str) -> T {
    let name = unp::error::program_name();
    let command = T::command().name(name).bin_name(name).about(about);
    let takes_dash_p = command.get_arguments().any(|a| a.get_short() == Some('p'));
    let matches = command.try_get_matches().unwrap_or_else(|e| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // With `-p` already given, the stray number is some other mistake: clap's words.
        let gave_port = args
            .iter()
            .any(|a| a.starts_with("-p") || a.starts_with("--port"));
        if let Some(port) = bare_port(&e).filter(|_| takes_dash_p && !gave_port) {
            eprintln!("{}", port_hint(name, &args, &port));
            std::process::exit(2);
        }
        e.exit()
    });
    T::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The argument clap found no place for, if it is a number: a port given without `-p`.
fn bare_port(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) if arg.parse::<u16>().is_ok() => Some(arg.clone()),
        _ => None,
    }
}

/// `PROG: unexpected argument 'N': ...`, with the command line redone with `-p N`.
fn port_hint(name: &str, args: &[String], port: &str) -> String {
    let mut example = vec![name.to_string()];
    let mut replaced = false;
    for a in args {
        if !replaced && a == port {
            example.push(format!("-p {port}"));
            replaced = true;
        } else {
            example.push(a.clone());
        }
    }
    format!(
        "{name}: unexpected argument '{port}': the UNP programs take the port as -p PORT, e.g. {}",
        example.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::port_hint;

    #[test]
    fn the_hint_redoes_the_command_line_with_dash_p() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            port_hint("tcpserv04", &s(&["19877"]), "19877"),
            "tcpserv04: unexpected argument '19877': the UNP programs take the port as -p PORT, \
             e.g. tcpserv04 -p 19877"
        );
        assert_eq!(
            port_hint("tcpcli01", &s(&["127.0.0.1", "9877"]), "9877"),
            "tcpcli01: unexpected argument '9877': the UNP programs take the port as -p PORT, \
             e.g. tcpcli01 127.0.0.1 -p 9877"
        );
    }
}
