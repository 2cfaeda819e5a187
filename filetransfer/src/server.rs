//! FTServer, the handout's server (Lab 3 Practice 4), and its iterative version
//! (Requirement 3): [`serve`] is the whole lesson, blank by blank ㉑–㉗.
//!
//! ```text
//! socket ㉑ → bind ㉒ → listen ㉓ → accept ㉔ → read the path ㉕ → open
//!   → { read the file ㉖ → write segments ㉗ } → close(filefd), close(connfd) → close(listenfd)
//! ```
//!
//! The armour beside it, one line each in [`serve`]:
//!
//! | module | protects against |
//! |---|---|
//! | [`crate::jail`] | a path leaving `--root`: `..`, symbolic links, devices, FIFOs, races |
//! | [`crate::stall`] | a client that sends no path, or stops reading, holding the server |
//! | [`crate::changing`] | a file that shrinks or grows while it is sent, passed off as complete |
//! | [`crate::refusal`] | a client left guessing why (the error segment), and a reset losing it |
//! | [`crate::forgery`] | a path forging log lines or driving the terminal |
//! | [`unp::shortage`] | running out of descriptors ending the server |

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use socket2::Socket;
use unp::addr::explain_privileged_port;
use unp::{Error, Result};

use crate::changing::SizeChecked;
use crate::jail::Root;
use crate::proto::{self, BUFSIZE};
use crate::stall::{self, Timeouts};
use crate::{forgery, refusal};

/// How many segments the server builds per `write(2)`: 1024 segments = 260 KiB per
/// system call instead of 260 bytes (the file is read 256 KiB at a time likewise).
pub const SEGMENTS_PER_WRITE: usize = 1024;

/// How many clients a server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clients {
    /// FTServer: one client, then the program ends (status 1 if that client failed).
    One,
    /// Requirement 3: one client after another, forever; a failure is logged.
    OneAfterAnother,
}

/// FTServer: sends the file a client asks for, in 260-byte segments, then closes. With
/// [`Clients::OneAfterAnother`], Requirement 3's iterative server: the same steps in a
/// loop, one connection after another (the next clients wait in the listen queue).
pub fn serve(args: &ServerArgs, clients: Clients) -> Result<()> {
    let root = Root::new(args.served_dir())?; // armour: only regular files below --root
    let servaddr = unp::addr::wildcard(args.port); // INADDR_ANY: [::]:PORT, IPv4 and IPv6
    // ㉑ socket(): a TCP endpoint, no address yet
    let listenfd: Socket = unp::socket(&servaddr)?;
    unp::set_reuseaddr(&listenfd, true)?; // rebind while old connections sit in TIME_WAIT
    // ㉒ bind(): claim the port; a second server gets EADDRINUSE
    unp::bind(&listenfd, &servaddr)
        .map_err(|e| explain_privileged_port(e, args.port, "port 10000"))?;
    // ㉓ listen(): from now on the kernel completes handshakes and queues them
    let listener: TcpListener = unp::listen(listenfd)?;
    unp::serve::announce(&listener)?; // `listening on [::]:10000`
    loop {
        // ㉔ accept(): take a connection whose handshake the kernel already completed
        let (mut connfd, cliaddr): (TcpStream, SocketAddr) = match unp::accept(&listener) {
            Ok(accepted) => accepted,
            Err(e) if e.is_interrupted() => continue, // a signal interrupted accept: call it again
            Err(e) if unp::shortage::pause(&e) => continue, // armour: out of descriptors
            Err(e) => return Err(e),
        };
        // One client's request: a `?` in here ends this client only.
        let serve_client = || -> Result<u64> {
            args.timeouts().apply(&connfd)?; // armour: --request-timeout, --timeout
            let mut recv_msg = [0u8; BUFSIZE];
            // ㉕ read the file path from the client: one read(2) of at most 256 bytes
            let len: usize = unp::read(&mut connfd, &mut recv_msg)
                .map_err(|e| args.timeouts().waiting_for_path(e))?;
            if len == 0 {
                return Err(Error::msg("the client closed without sending a path"));
            }
            unp::log(format_args!("{}", unp::printable(&recv_msg[..len]))); // printf("%s\n")
            // open(): armour: only a regular file below --root, else an error segment says why
            let filefd: File = root
                .open(&recv_msg[..len])
                .map_err(|why| refusal::refuse(&connfd, why))?;
            let mut file = SizeChecked::open(&filefd, &recv_msg[..len])?; // armour: it may change
            let mut out = stall::Limited::new(&connfd, args.timeout)?; // armour: --timeout
            let (mut buf, mut segments) = (vec![0u8; SEGMENTS_PER_WRITE * BUFSIZE], Vec::new());
            loop {
                // ㉖ read data from the file: 1024 segments' worth at a time, less at the end
                let len: usize = file
                    .readn(&mut buf)
                    .map_err(|e| refusal::abort(&mut out, e))?;
                // segment.len = len: 256 bytes each, then the end-of-file segment at the end
                proto::encode_piece(&buf[..len], len < buf.len(), &mut segments);
                // ㉗ write the segments to the client: all of them in one write(2)
                unp::writen(&mut out, &segments).map_err(stall::stopped_reading)?;
                if len < buf.len() {
                    break;
                }
            }
            let sent = file.size();
            unp::close(filefd)?; // close(filefd)
            unp::close(connfd)?; // close(connfd): FIN, the end of the file
            Ok(sent)
        };
        let served: Result<u64> = serve_client();
        if clients == Clients::One {
            forgery::failed(&cliaddr, served)?; // armour: escaped, naming the client
            break;
        }
        forgery::log_served(&cliaddr, served); // `sent 39 bytes to 127.0.0.1:53412`, or why not
    }
    unp::close(listener) // close(listenfd)
}

/// The command line both servers share:
/// `PORT [--root DIR] [--timeout SECS] [--request-timeout SECS]`.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Port to listen on (0: let the kernel choose)
    pub port: u16,
    /// Serve files from this directory only [default: the current directory]
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Give up on a client that stops reading for this many seconds
    #[arg(long, default_value = "30", value_parser = crate::parse_timeout)]
    pub timeout: Duration,
    /// Give up on a client that sends no path for this many seconds after connecting
    #[arg(long, default_value = "5", value_parser = crate::parse_timeout)]
    pub request_timeout: Duration,
}

impl ServerArgs {
    /// The directory served: `--root`, or the current directory.
    pub fn served_dir(&self) -> &Path {
        self.root.as_deref().unwrap_or(Path::new("."))
    }

    /// The two timeouts the options set.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            request: self.request_timeout,
            data: self.timeout,
        }
    }
}
