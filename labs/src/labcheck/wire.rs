//! Talking to the program under check: a connection whose every read and write has a
//! timeout and is written to the step's transcript, with the bytes in hex.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::report::{Failure, hex, shown};

/// The step's transcript, shared by its connections.
pub type Transcript = Rc<RefCell<Vec<String>>>;

/// How a wait for bytes ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The connection is still open (the wait timed out or went quiet).
    Open,
    /// The peer closed its side (FIN: `read` returned 0).
    Eof,
    /// The peer reset the connection (RST).
    Reset,
}

impl End {
    /// How it reads in a report.
    pub fn describe(self) -> &'static str {
        match self {
            End::Open => "the connection stayed open",
            End::Eof => "then the connection was closed (FIN)",
            End::Reset => "then the connection was reset (RST)",
        }
    }
}

/// A connection to the program under check.
pub struct Conn {
    stream: TcpStream,
    log: Transcript,
    /// The connection's name in the transcript: `A`, `B`, ...
    name: String,
}

impl Conn {
    /// Connects to `addr` within `timeout`.
    pub fn connect(
        addr: SocketAddr,
        timeout: Duration,
        name: &str,
        log: &Transcript,
    ) -> Result<Conn, Failure> {
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| {
            Failure::new(
                format!("the server accepts a connection on {addr}"),
                format!("connect error: {e}"),
                "nothing listens on the port: did the server call bind() and listen() on the port given on its command line?",
            )
        })?;
        let _ = stream.set_nodelay(true);
        let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
        log.borrow_mut()
            .push(format!("{name}: connected from port {port}"));
        Ok(Conn {
            stream,
            log: log.clone(),
            name: name.to_string(),
        })
    }

    /// Wraps a connection accepted from a client under check.
    pub fn accepted(stream: TcpStream, name: &str, log: &Transcript) -> Conn {
        let _ = stream.set_nodelay(true);
        log.borrow_mut()
            .push(format!("{name}: accepted the client's connection"));
        Conn {
            stream,
            log: log.clone(),
            name: name.to_string(),
        }
    }

    /// The local port (the client port of a connection labcheck made).
    pub fn local_port(&self) -> u16 {
        self.stream.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Adds a line to the transcript.
    pub fn note(&self, line: impl Into<String>) {
        self.log
            .borrow_mut()
            .push(format!("{}: {}", self.name, line.into()));
    }

    /// Sends `bytes` in one write, described as `what` (`GEN`).
    pub fn send(&mut self, bytes: &[u8], what: &str) -> Result<(), Failure> {
        self.note(format!("-> {} {what}", hex(bytes)));
        let _ = self.stream.set_write_timeout(Some(Duration::from_secs(5)));
        self.stream.write_all(bytes).map_err(|e| {
            Failure::new(
                format!("the program takes {what}"),
                format!("write error: {e}"),
                "the program closed or reset the connection before labcheck could send",
            )
        })
    }

    /// Sends `bytes` without a transcript line (the caller wrote one for many writes).
    pub fn send_quiet(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let _ = self.stream.set_write_timeout(Some(Duration::from_secs(5)));
        self.stream.write_all(bytes).map_err(|e| {
            Failure::new(
                "the peer reads what labcheck sends",
                format!("write error after the transcript's last line: {e}"),
                "the program closed or reset the connection, or stopped reading",
            )
        })
    }

    /// Reads whatever arrives first, waiting up to `timeout`: one `read`'s worth.
    pub fn read_some(&mut self, max: usize, timeout: Duration) -> (Vec<u8>, End) {
        let mut buf = vec![0u8; max];
        let _ = self.stream.set_read_timeout(Some(timeout));
        let (got, end) = match self.stream.read(&mut buf) {
            Ok(0) => (Vec::new(), End::Eof),
            Ok(n) => (buf[..n].to_vec(), End::Open),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => (Vec::new(), End::Reset),
            Err(_) => (Vec::new(), End::Open),
        };
        self.log_got(&got, end);
        (got, end)
    }

    /// Reads until `want` bytes came, the peer closed, or `timeout` passed.
    pub fn read_n(&mut self, want: usize, timeout: Duration) -> (Vec<u8>, End) {
        self.read_while(timeout, None, |got| got.len() < want, want)
    }

    /// Reads until the peer closes (or `timeout` passes, or `cap` bytes came).
    pub fn read_to_end(&mut self, timeout: Duration, cap: usize) -> (Vec<u8>, End) {
        self.read_while(timeout, None, |_| true, cap)
    }

    /// Reads until nothing more arrives for `quiet` after the first bytes (or `timeout`).
    pub fn read_until_quiet(&mut self, timeout: Duration, quiet: Duration) -> (Vec<u8>, End) {
        self.read_while(timeout, Some(quiet), |_| true, 1 << 20)
    }

    fn read_while(
        &mut self,
        timeout: Duration,
        quiet: Option<Duration>,
        more: impl Fn(&[u8]) -> bool,
        cap: usize,
    ) -> (Vec<u8>, End) {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        let end = loop {
            if !more(&got) || got.len() >= cap {
                break End::Open;
            }
            let now = Instant::now();
            if now >= deadline {
                break End::Open;
            }
            let mut wait = deadline - now;
            if let (Some(q), false) = (quiet, got.is_empty()) {
                wait = wait.min(q);
            }
            let _ = self
                .stream
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            let room = (cap - got.len()).min(buf.len());
            match self.stream.read(&mut buf[..room]) {
                Ok(0) => break End::Eof,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break End::Reset,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if quiet.is_some() && !got.is_empty() {
                        break End::Open;
                    }
                }
                Err(_) => break End::Reset,
            }
        };
        self.log_got(&got, end);
        (got, end)
    }

    fn log_got(&self, got: &[u8], end: End) {
        let what = match (got.is_empty(), end) {
            (true, End::Open) => "<- nothing (timed out)".to_string(),
            (true, End::Eof) => "<- FIN (end of file)".to_string(),
            (true, End::Reset) => "<- RST (connection reset)".to_string(),
            (false, End::Open) => format!("<- {}", shown(got)),
            (false, e) => format!("<- {} {}", shown(got), e.describe()),
        };
        self.note(what);
    }

    /// Closes with a reset instead of a FIN (`SO_LINGER` with a zero time).
    pub fn reset(self) {
        self.note("-> RST (close with SO_LINGER 0)");
        let sock = socket2::SockRef::from(&self.stream);
        let _ = sock.set_linger(Some(Duration::ZERO));
    }

    /// Closes its sending side only (FIN), keeping the connection to read.
    pub fn shutdown_write(&self) {
        self.note("-> FIN (shutdown SHUT_WR)");
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// Closes the connection (FIN).
    pub fn close(self) {
        self.note("-> FIN (close)");
    }
}
