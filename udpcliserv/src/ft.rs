//! The course's UDP file transfer, `UDP_FTServ` / `UDP_FTCli`: an *upload*.
//!
//! Wire format (compatible with the C programs both ways):
//! 1. client → server: the path the server should write, its bytes, no terminator;
//! 2. server → client: `ok` (2 bytes). unplab's server answers a path it refuses with
//!    `refused: WHY (PATH)` instead; the C client then skips `Filename sent.`;
//! 3. client → server: the file in datagrams of at most [`MAXLINE`] bytes, in order;
//! 4. client → server: one datagram holding exactly [`END_FLAG`].
//!
//! No sequence numbers, no acknowledgements, no timeouts: a lost data datagram leaves a
//! hole the server cannot see, two datagrams that swap places are written swapped, a
//! lost path or `ok` hangs the client, a lost END hangs the server, and a file chunk
//! that happens to be `================END` ends the copy early. Docs:
//! `docs/lab4-udp.md`; the reliable transfer that fixes all of it: [`crate::rft`].

use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use unp::addr::{explain_privileged_port, unmap};
use unp::{Context, Error, Result, printable, sock_ntop};

use crate::upload::{IdleClock, Upload, UploadRoot};

/// The course's fixed port, `SERV_PORT` in UDP_FTServ.c.
pub const SERV_PORT: u16 = 49312;
/// The course's datagram size, `MAXLINE`.
pub const MAXLINE: usize = 1024;
/// The datagram that ends a transfer.
pub const END_FLAG: &[u8] = b"================END";

/// What the server may do besides the C program's one transfer.
#[derive(Debug)]
pub struct ServerOptions {
    /// Where uploads are written (armour: the C server writes anywhere).
    pub root: UploadRoot,
    /// Give an upload up after this long without a datagram (a lost END).
    pub idle: Option<Duration>,
    /// End after one upload, as the C server does.
    pub once: bool,
}

/// UDP_FTServ: receives uploads on `servaddr` (port 49312 by default), one at a time.
pub fn serve(
    servaddr: SocketAddr,
    opts: &ServerOptions,
    announce: impl FnOnce(&UdpSocket) -> Result<()>,
) -> Result<()> {
    // socket(): a datagram endpoint
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    // bind(): the port every client sends its path to
    unp::udp::bind(&sockfd, &servaddr)
        .map_err(|e| explain_privileged_port(e, servaddr.port(), "udpftserver --port 49312"))?;
    announce(&sockfd)?;
    let mut buf = [0u8; MAXLINE];
    loop {
        unp::udp::set_rcvtimeo(&sockfd, None)?; // a client may come whenever it likes
        // recvfrom(): the path the client wants written, and the client's address
        let (n, cliaddr) = match unp::udp::recvfrom(&sockfd, &mut buf) {
            Ok(got) => got,
            Err(e) if e.is_interrupted() => continue,
            Err(e) => return Err(e),
        };
        let path = printable(&buf[..n]);
        unp::log(format_args!("Received from client: [{path}]"));
        let file: Result<File> = opts.root.create(&buf[..n]); // armour: only below --root, truncated
        let answer = file
            .as_ref()
            .map_or_else(|e| e.to_string(), |_| "ok".to_string());
        // sendto(): `ok` (or why not), to the address the path came from
        crate::report_send_error(
            unp::udp::sendto(&sockfd, answer.as_bytes(), &cliaddr),
            &cliaddr,
        );
        let mut upload = Upload::new(
            path,
            file.map_err(|e| unp::err_ret(&e.with_peer(sock_ntop(&cliaddr))))
                .ok(),
        );
        let mut idle = IdleClock::start(opts.idle); // armour: a lost END must not block forever
        let ended = loop {
            unp::udp::set_rcvtimeo(&sockfd, idle.left())?; // the silence left to the client
            // recvfrom(): the next piece of the file, or END; nothing says one was lost
            let (n, from) = match unp::udp::recvfrom(&sockfd, &mut buf) {
                Ok(got) => got,
                Err(e) if unp::udp::is_timeout(&e) => break false,
                Err(e) if e.is_interrupted() => continue,
                Err(e) => return Err(e),
            };
            if unmap(from) != unmap(cliaddr) {
                unp::log(format_args!(
                    "ignored a datagram from {} (not the uploading client)",
                    sock_ntop(&from)
                ));
                match idle.expired() {
                    true => break false, // armour: others kept talking, the client did not
                    false => continue,   // UNP 8.8: anyone can send to our port
                }
            }
            idle.heard();
            if &buf[..n] == END_FLAG {
                break true;
            }
            upload.write(&buf[..n]); // write(): the datagram's bytes, as they came
        };
        unp::log(format_args!("{}", upload.summary(ended, opts.idle)));
        if opts.once {
            return Ok(());
        }
    }
}

/// UDP_FTCli: uploads `origin` to the server's path `copy`; prints `Filename sent.`
/// after the server's `ok`, then `sent N bytes in K datagrams`.
pub fn upload(servaddr: SocketAddr, origin: &Path, copy: &[u8]) -> Result<()> {
    let mut file = File::open(origin)
        .context("open")
        .map_err(|e| e.with_detail(origin.display().to_string()))?;
    // socket(): no bind: the kernel picks our port at the first sendto
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    // sendto(): the path the server should write, no terminator
    unp::udp::sendto(&sockfd, copy, &servaddr)?;
    let mut buf = [0u8; MAXLINE];
    // recvfrom(): `ok`; if the path or the answer is lost, this waits forever
    let (n, _from): (usize, SocketAddr) = unp::udp::recvfrom(&sockfd, &mut buf)?;
    if !buf[..n].starts_with(b"ok") {
        // END anyway: the server discards a refused upload up to its END, as the C
        // client (which sends the whole file after any answer) makes it do.
        unp::udp::sendto(&sockfd, END_FLAG, &servaddr)?;
        return Err(Error::msg(format!(
            "the server answered: {}",
            printable(&buf[..n])
        )));
    }
    unp::print_flush(format_args!("Filename sent.\n"))?;
    let (mut bytes, mut datagrams) = (0u64, 0u64);
    loop {
        // read(): up to 1024 bytes of the file
        let n = unp::read(&mut file, &mut buf)
            .map_err(|e| e.with_detail(origin.display().to_string()))?;
        if n == 0 {
            break;
        }
        // sendto(): one datagram per read, as fast as the loop goes
        unp::udp::sendto(&sockfd, &buf[..n], &servaddr)?;
        (bytes, datagrams) = (bytes + n as u64, datagrams + 1);
    }
    // sendto(): END; if it is lost, the server waits for it forever
    unp::udp::sendto(&sockfd, END_FLAG, &servaddr)?;
    unp::print_flush(format_args!(
        "sent {bytes} bytes in {datagrams} datagrams, then ================END\n"
    ))
}
