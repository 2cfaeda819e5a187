//! The lab's open question — "how can we build the file transfer server with I/O
//! multiplexing?" — answered: one [`Transfer`] per connection, a small state machine
//! that remembers where that client is, so that one thread can serve every client a
//! little at a time, whenever `poll` says its socket is ready.
//!
//! ```text
//!            readable: one read = the path
//!  Request ───────────────────────────────▶ Sending { file, pending }
//!     │ FIN / bad path                        │ writable: write what the socket takes;
//!     ▼                                       │ pending empty: read the next 4 KiB of the
//!   Done ◀────────────────────────────────────┘ file and encode 260-byte segments;
//!            file done, end-of-file segment       at the file's end, the end-of-file
//!            written                              segment
//! ```
//!
//! The socket is nonblocking: a `write` takes what fits in the send buffer and the
//! rest stays in `pending` (the per-connection buffer is the "context" the handout
//! hints at). A blocking write would let one slow reader stop every other transfer.
//! The wire format is the unchanged 260-byte segments ([`crate::proto`]).

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use crate::jail::Root;
use crate::proto::{self, BUFSIZE};

/// How much of the file one step reads (and encodes) at most: 16 segments.
const CHUNK: usize = 16 * BUFSIZE;

/// Where one client's transfer is.
#[derive(Debug)]
pub enum State {
    /// Waiting for the path: the client sends it in one write, the server takes one read.
    Request,
    /// Sending: `pending[sent..]` is encoded but not written yet; `file` is `None`
    /// once its end (or an error segment) has been encoded.
    Sending {
        /// The file, while there is more to read.
        file: Option<File>,
        /// Encoded segments the socket has not taken yet.
        pending: Vec<u8>,
        /// How much of `pending` is written.
        sent: usize,
    },
    /// Finished: close the connection.
    Done,
}

/// One connection and its state.
#[derive(Debug)]
pub struct Transfer {
    /// The connected socket, nonblocking.
    pub conn: TcpStream,
    /// The client's address, for the log.
    pub peer: String,
    /// Where it is.
    pub state: State,
    /// Data bytes sent so far.
    pub bytes: u64,
}

impl Transfer {
    /// A client just accepted: its socket made nonblocking, waiting for its path.
    pub fn new(conn: TcpStream, peer: String) -> std::io::Result<Transfer> {
        conn.set_nonblocking(true)?;
        Ok(Transfer {
            conn,
            peer,
            state: State::Request,
            bytes: 0,
        })
    }

    /// What to wait for: readable (the path), or writable (room for segments).
    pub fn wants_to_write(&self) -> bool {
        matches!(self.state, State::Sending { .. })
    }

    /// Does what the ready socket allows without blocking; returns whether the
    /// transfer goes on. Errors (a reset) end this transfer only.
    pub fn step(&mut self, root: &Root) -> std::io::Result<bool> {
        match &mut self.state {
            State::Request => {
                let mut path = [0u8; BUFSIZE];
                self.state = match (&self.conn).read(&mut path) {
                    Ok(0) => State::Done,
                    Ok(n) => open(root, &path[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
                    Err(e) => return Err(e),
                };
            }
            State::Sending {
                file,
                pending,
                sent,
            } => {
                if *sent == pending.len() {
                    pending.clear();
                    *sent = 0;
                    let Some(f) = file else {
                        self.state = State::Done;
                        return Ok(false);
                    };
                    let mut data = [0u8; CHUNK];
                    match f.read(&mut data) {
                        Ok(0) => {
                            pending.extend_from_slice(&proto::encode_end_of_file());
                            *file = None;
                        }
                        Ok(n) => {
                            proto::encode_segments(&data[..n], pending);
                            self.bytes += n as u64;
                        }
                        Err(e) => {
                            pending.extend_from_slice(&proto::encode_error(&format!(
                                "read error: {e}"
                            )));
                            *file = None;
                        }
                    }
                }
                match (&self.conn).write(&pending[*sent..]) {
                    Ok(n) => *sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            State::Done => {}
        }
        Ok(!matches!(self.state, State::Done))
    }
}

/// Opens the requested file under `root` ([`Root::open`]: the same path policy as
/// ftserver), or prepares the error segment that says why not.
fn open(root: &Root, request: &[u8]) -> State {
    match root.open(request) {
        Ok(file) => State::Sending {
            file: Some(file),
            pending: Vec::new(),
            sent: 0,
        },
        Err(refusal) => State::Sending {
            file: None,
            pending: proto::encode_error(&refusal.message()).to_vec(),
            sent: 0,
        },
    }
}
