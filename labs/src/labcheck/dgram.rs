//! Talking UDP to the program under check: a datagram socket of labcheck's own whose
//! every receive has a timeout and whose every datagram is written to the step's
//! transcript with its bytes in hex, and waits that watch the program while they wait.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::proc::{Program, describe_status};
use super::report::{Failure, hex, shown};
use super::session::Session;
use super::wire::Transcript;

/// The largest datagram labcheck receives (a UDP payload can be up to 65507 bytes).
const MAX_DATAGRAM: usize = 65536;

/// A UDP socket of labcheck's, named in the transcript (`A`, `B`, `S`).
pub struct Dgram {
    sock: UdpSocket,
    log: Transcript,
    name: String,
}

impl Dgram {
    /// A socket on loopback, `port` 0 for a client (the kernel picks), the server's port
    /// when labcheck plays the server. Its receive buffer is made large (4 MiB where
    /// the system allows): a client under check sends as fast as it can, and a
    /// datagram that finds the buffer full is dropped without a word.
    pub fn bind(s: &mut Session<'_>, port: u16, name: &str) -> Result<Dgram, Failure> {
        let sock = super::ports::udp_socket(port).map_err(|e| {
            Failure::new(
                format!("a UDP port {port} for labcheck"),
                format!("bind error: {e}"),
                "labcheck could not bind its socket; this is not the program's fault (is another program using the port?)",
            )
        })?;
        let _ = socket2::SockRef::from(&sock).set_recv_buffer_size(4 << 20);
        let d = Dgram {
            sock,
            log: s.transcript().clone(),
            name: name.to_string(),
        };
        let port = d.port();
        s.used_port(port);
        d.note(format!("UDP socket on port {port}"));
        Ok(d)
    }

    /// The socket's port.
    pub fn port(&self) -> u16 {
        self.sock.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Adds a line to the transcript.
    pub fn note(&self, line: impl Into<String>) {
        self.log
            .borrow_mut()
            .push(format!("{}: {}", self.name, line.into()));
    }

    /// Sends one datagram to `to`, described as `what`.
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr, what: &str) -> Result<(), Failure> {
        self.note(format!("-> {} {what}", hex(bytes)));
        self.send_quiet(bytes, to)
    }

    /// Sends one datagram without a transcript line (the caller wrote one for many).
    pub fn send_quiet(&self, bytes: &[u8], to: SocketAddr) -> Result<(), Failure> {
        self.sock.send_to(bytes, to).map(|_| ()).map_err(|e| {
            Failure::new(
                format!("labcheck sends a datagram to {to}"),
                format!("sendto error: {e}"),
                "labcheck could not send; this is rarely the program's fault",
            )
        })
    }

    /// The next datagram within `timeout`, with its sender, without a transcript line.
    pub fn recv_quiet(&self, timeout: Duration) -> Option<(Vec<u8>, SocketAddr)> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = self
                .sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            match self.sock.recv_from(&mut buf) {
                Ok((n, from)) => return Some((buf[..n].to_vec(), from)),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // ECONNREFUSED from an earlier datagram to a closed port, or the timeout
                Err(_) if Instant::now() < deadline => continue,
                Err(_) => return None,
            }
        }
    }

    /// The next datagram within `timeout`, written to the transcript.
    pub fn recv(&self, timeout: Duration) -> Option<(Vec<u8>, SocketAddr)> {
        let got = self.recv_quiet(timeout);
        match &got {
            Some((d, from)) => self.note(format!("<- {} from {from}", shown(d))),
            None => self.note(format!("<- nothing within {} ms", timeout.as_millis())),
        }
        got
    }

    /// The next datagram from the client under check, while watching it: fails with
    /// what it said if it ends first, or when nothing came within `timeout`.
    pub fn recv_from_program(
        &self,
        prog: &mut Program,
        timeout: Duration,
        expected: &str,
    ) -> Result<(Vec<u8>, SocketAddr), Failure> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(got) = self.recv_quiet(Duration::from_millis(50)) {
                self.note(format!("<- {} from {}", shown(&got.0), got.1));
                return Ok(got);
            }
            if let Some(st) = prog.exited() {
                // What it sent just before it ended is still in the buffer.
                if let Some(got) = self.recv_quiet(Duration::from_millis(20)) {
                    self.note(format!("<- {} from {}", shown(&got.0), got.1));
                    return Ok(got);
                }
                return Err(Failure::new(
                    expected,
                    format!(
                        "it ended ({}) without sending it; {}",
                        describe_status(st),
                        prog.said()
                    ),
                    "a UDP client must socket() and sendto() the address and port of its command line",
                ));
            }
        }
        self.note(format!("<- nothing within {} s", timeout.as_secs()));
        Err(Failure::new(
            expected,
            format!("no datagram within {} s", timeout.as_secs()),
            "does the client sendto() the host and port of its command line? Is it waiting for input first?",
        ))
    }
}
