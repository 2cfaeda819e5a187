//! The server side: which paths may be served, and streaming a file as segments.
//!
//! The C FTServer passes whatever path arrives to `open(2)`: `../../etc/shadow`, a
//! directory, `/dev/zero` (an endless "file") or a FIFO (where `open` blocks forever).
//! [`Root`] is the policy that closes those holes, and [`send_file`] is the fast, still
//! byte-for-byte compatible, replacement of the one-segment-per-`write` loop.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, openat};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{Mode, SFlag, fstatat};
use unp::{Context, Error, Result};

use crate::proto::{self, BUFSIZE, RequestError};

/// How many segments the server builds per `write(2)`: 1024 segments = 260 KiB per
/// system call instead of 260 bytes (the file is read 256 KiB at a time likewise).
pub const SEGMENTS_PER_WRITE: usize = 1024;

/// How long a server waits for the path after `accept` (`--request-timeout`).
///
/// A client program sends the path right after `connect`, so a connection silent this
/// long is given up on. It is much shorter than the client's own timeout (30 s): the
/// iterative server serves one connection at a time, and a client queued behind a silent
/// one must be served before it gives up.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A server's two timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long to wait for the path after `accept`.
    pub request: Duration,
    /// How long a `write` of segments may block (a client that stopped reading).
    pub data: Duration,
}

impl From<Duration> for Timeouts {
    /// One duration for data stalls; the request waits that long or
    /// [`DEFAULT_REQUEST_TIMEOUT`], whichever is shorter.
    fn from(data: Duration) -> Timeouts {
        Timeouts {
            request: data.min(DEFAULT_REQUEST_TIMEOUT),
            data,
        }
    }
}

/// Why a request is not served. [`Refusal::message`] is what the error segment says.
#[derive(Debug)]
pub enum Refusal {
    /// The request bytes are not an acceptable path.
    Request(RequestError),
    /// The path climbs with `..`, or is absolute and not inside the root.
    Outside,
    /// A component of the path is a symbolic link (never followed, wherever it points).
    Symlink,
    /// A directory, device, FIFO or socket.
    NotRegular,
    /// The operating system said no (missing file, permission denied).
    Os {
        /// The OS error.
        err: io::Error,
        /// The path as the client sent it.
        path: String,
    },
}

impl Refusal {
    /// The text for the error segment: `No such file or directory: x.txt`,
    /// `refused: outside the served directory`.
    pub fn message(&self) -> String {
        match self {
            Refusal::Request(e) => format!("refused: {e}"),
            Refusal::Outside => "refused: outside the served directory".to_string(),
            Refusal::Symlink => "refused: symbolic link".to_string(),
            Refusal::NotRegular => "refused: not a regular file".to_string(),
            Refusal::Os { err, path } => match err.raw_os_error() {
                Some(code) => format!("{}: {path}", unp::error::strerror(code)),
                None => format!("{err}: {path}"),
            },
        }
    }
}

/// The directory a server serves from (`--root`, by default where it was started).
///
/// It is opened once, and every request is looked up from that descriptor one component
/// at a time (`openat(2)` with `O_NOFOLLOW`), so nothing that changes in the file system
/// between a check and an open can lead a request outside.
#[derive(Debug, Clone)]
pub struct Root {
    /// The root as given, made absolute (no symlinks resolved).
    given: PathBuf,
    /// The root with every symlink resolved (`realpath(3)`).
    real: PathBuf,
    /// The root directory, opened once (`O_DIRECTORY`).
    dir: Arc<OwnedFd>,
}

/// The flags for a directory on the way to a requested file.
fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

impl Root {
    /// A root for `dir`, which must be an existing directory.
    pub fn new(dir: &Path) -> Result<Root> {
        let real = std::fs::canonicalize(dir)
            .context("realpath")
            .map_err(|e| e.with_detail(dir.display().to_string()))?;
        if !real.is_dir() {
            return Err(Error::msg(format!("{}: not a directory", dir.display())));
        }
        // The root itself may be reached through symlinks (an administrator's choice);
        // only what lies below it is looked up without following any.
        let fd = openat(
            AT_FDCWD,
            &real,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            Error::os("open", io::Error::from(e)).with_detail(dir.display().to_string())
        })?;
        let cwd = std::env::current_dir().context("getcwd")?;
        Ok(Root {
            given: normalize(&cwd.join(dir)),
            real,
            dir: Arc::new(fd),
        })
    }

    /// The directory, symlinks resolved.
    pub fn path(&self) -> &Path {
        &self.real
    }

    /// The components of a request below the root, or why there are none.
    ///
    /// Purely lexical: a `..` anywhere is refused (the server never resolves one), an
    /// absolute path must begin with the root (as given or resolved), `.` is skipped.
    fn components<'a>(&self, path: &'a Path) -> std::result::Result<Vec<&'a OsStr>, Refusal> {
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(Refusal::Outside);
        }
        let below = if path.is_absolute() {
            path.strip_prefix(&self.real)
                .or_else(|_| path.strip_prefix(&self.given))
                .map_err(|_| Refusal::Outside)?
        } else {
            path
        };
        Ok(below
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect())
    }

    /// Opens the file a request names, or says why not.
    ///
    /// Relative paths are taken inside the root; absolute ones must lie inside it. A
    /// `..` component is refused (as outside), and so is a symbolic link anywhere in the
    /// path, wherever it points. The lookup starts at the root's descriptor and opens one
    /// component at a time with `openat(2)` and `O_NOFOLLOW` (directories with
    /// `O_DIRECTORY`, the file with `O_NONBLOCK` so that a FIFO cannot block the server),
    /// then `fstat` must say "regular file". No name is ever looked up twice, so a
    /// directory swapped for a symlink meanwhile is refused, not followed.
    pub fn open(&self, request: &[u8]) -> std::result::Result<File, Refusal> {
        let path = proto::decode_request(request).map_err(Refusal::Request)?;
        let names = self.components(Path::new(path))?;
        let os = |err: Errno| Refusal::Os {
            err: io::Error::from(err),
            path: path.to_string(),
        };
        let Some((last, dirs)) = names.split_last() else {
            return Err(Refusal::NotRegular); // the root itself
        };
        let mut dir: Option<OwnedFd> = None;
        for name in dirs {
            let at = dir.as_ref().map_or(self.dir.as_fd(), |d| d.as_fd());
            match openat(at, *name, dir_flags(), Mode::empty()) {
                Ok(fd) => dir = Some(fd),
                Err(e) => return Err(why(at, name, e).unwrap_or_else(|| os(e))),
            }
        }
        let at = dir.as_ref().map_or(self.dir.as_fd(), |d| d.as_fd());
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = openat(at, *last, flags, Mode::empty())
            .map_err(|e| why(at, last, e).unwrap_or_else(|| os(e)))?;
        let file = File::from(fd);
        if !file
            .metadata()
            .map_err(|e| Refusal::Os {
                err: e,
                path: path.to_string(),
            })?
            .is_file()
        {
            return Err(Refusal::NotRegular);
        }
        Ok(file)
    }
}

/// Explains a failed `openat` of `name` when the cause is a symbolic link (`ELOOP` from
/// `O_NOFOLLOW`; `ENOTDIR` on systems that check `O_DIRECTORY` first). The `fstatat`
/// only chooses the message: the link was already not followed.
fn why(dir: BorrowedFd<'_>, name: &OsStr, err: Errno) -> Option<Refusal> {
    if !matches!(err, Errno::ELOOP | Errno::ENOTDIR | Errno::EMLINK) {
        return None;
    }
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st)
            if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFLNK =>
        {
            Some(Refusal::Symlink)
        }
        _ => None,
    }
}

/// Removes `.` and `..` components without looking at the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads the request: one `read(2)` of at most 256 bytes, as the C server does.
///
/// The protocol has no terminator, so the path is whatever the first read returns; the
/// C client sends it in one small `write`, which arrives in one piece on any real
/// network. 256 bytes means the path was too long (the limit is 255).
pub fn read_request(conn: &mut TcpStream) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; BUFSIZE];
    let n = loop {
        match conn.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => {
                let secs = conn.read_timeout().ok().flatten().unwrap_or_default();
                return Err(Error::msg(format!(
                    "read error: timed out waiting for the path ({} s, --request-timeout)",
                    secs.as_secs_f64()
                )));
            }
            Err(e) => return Err(Error::os("read", e)),
        }
    };
    buf.truncate(n);
    Ok(buf)
}

/// True for the error a socket timeout (`SO_RCVTIMEO`/`SO_SNDTIMEO`) produces.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Streams `file` (`size` bytes, as `fstat` said at open) to `conn` as segments, then
/// the end-of-file segment; returns the number of file bytes sent.
///
/// The wire format is the C one, 260 bytes per 256 bytes of file, but the file is read
/// [`SEGMENTS_PER_WRITE`] × 256 bytes at a time and the segments go out in one `write`.
/// The end-of-file segment rides in the last `write`, so it costs no system call.
///
/// The end-of-file segment promises a complete file, so the size is checked: if the
/// file ends before `size` bytes (truncated meanwhile) or goes on past them (it grew),
/// the stream ends with the error segment `file changed while being sent: NAME` instead,
/// and the client refuses the transfer. A read error on the file is likewise reported
/// as an error segment (`read error: ...`).
pub fn send_file(
    file: &mut impl Read,
    size: u64,
    name: &str,
    conn: &mut impl Write,
) -> Result<u64> {
    let mut data = vec![0u8; SEGMENTS_PER_WRITE * BUFSIZE];
    let mut wire = Vec::with_capacity((SEGMENTS_PER_WRITE + 2) * proto::SEGMENT_SIZE);
    let mut sent = 0u64;
    let mut read = |buf: &mut [u8], conn: &mut dyn Write| match unp::readn(file, buf) {
        Ok(n) => Ok(n),
        Err(e) => {
            let _ = conn.write_all(&proto::encode_error(&format!("read error: {e}")));
            Err(e)
        }
    };
    loop {
        let want = (size - sent).min(data.len() as u64) as usize;
        let n = read(&mut data[..want], conn)?;
        let mut changed = n < want;
        let end = !changed && sent + n as u64 == size;
        if end {
            // One more byte must be the end of the file (else it grew).
            changed = read(&mut [0u8; 1], conn)? != 0;
        }
        wire.clear();
        proto::encode_segments(&data[..n], &mut wire);
        let changed_message = format!("file changed while being sent: {name}");
        if changed {
            wire.extend_from_slice(&proto::encode_error(&changed_message));
        } else if end {
            wire.extend_from_slice(&proto::encode_end_of_file());
        }
        conn.write_all(&wire).map_err(|e| {
            if e.kind() == ErrorKind::TimedOut {
                Error::msg(format!("timed out: {e}"))
            } else {
                Error::os("write", e)
            }
        })?;
        sent += n as u64;
        if changed {
            return Err(Error::msg(changed_message));
        }
        if end {
            return Ok(sent);
        }
    }
}

/// The sending side of a connection, for a client that may stop reading: a `write` that
/// cannot go on waits at most `timeout` for the client to make room, in total.
///
/// `SO_SNDTIMEO` is not enough: it bounds one `write(2)`, and a write that moved some
/// bytes before it blocked returns that partial count when the timer expires; the next
/// write then waits the whole timeout again, so a client that never reads held the
/// server for twice `--timeout`, and the second write's `EAGAIN` was logged as an odd
/// `write error`. Here the socket is non-blocking and every wait is a `poll(2)` until
/// one deadline, set when the client stopped taking data. It fails with `TimedOut`:
/// `the client stopped reading for N s`.
#[derive(Debug)]
pub struct StallLimited<'a> {
    conn: &'a TcpStream,
    timeout: Duration,
}

impl<'a> StallLimited<'a> {
    /// Makes `conn` non-blocking and wraps it.
    pub fn new(conn: &'a TcpStream, timeout: Duration) -> Result<StallLimited<'a>> {
        conn.set_nonblocking(true).context("fcntl O_NONBLOCK")?;
        Ok(StallLimited { conn, timeout })
    }
}

/// The error of a stall: `the client stopped reading for 30 s`.
fn stalled(timeout: Duration) -> io::Error {
    io::Error::new(
        ErrorKind::TimedOut,
        format!("the client stopped reading for {} s", timeout.as_secs_f64()),
    )
}

impl Write for StallLimited<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut deadline = None;
        loop {
            match (&mut &*self.conn).write(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + self.timeout);
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(stalled(self.timeout));
                    }
                    // Rounded up, so that the wait never ends just before the deadline.
                    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
                    let mut fds = [PollFd::new(self.conn.as_fd(), PollFlags::POLLOUT)];
                    match poll(&mut fds, timeout) {
                        // No room made until the deadline: the client stopped reading.
                        // Do not try another `write`: it could still squeeze in a few
                        // bytes (POLLOUT waits for a third of the buffer to be free,
                        // `write` does not), and restart the wait: a doubled timeout.
                        Ok(0) => return Err(stalled(self.timeout)),
                        Ok(_) | Err(Errno::EINTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What happened to one connection.
#[derive(Debug)]
pub enum Outcome {
    /// The file was sent: its size in bytes.
    Sent(u64),
    /// The request was refused with an error segment; the message it carried.
    Refused(String),
}

/// Serves one connection: reads the path, prints it on its own line (as FTServer does),
/// sends the file or an error segment, and closes.
///
/// A refusal is an [`Outcome`], not an error; errors are I/O failures (the client went
/// away, a timeout). The error segment is followed by a FIN, and the server reads what
/// the client may still send before closing, so the segment is not lost to a reset.
pub fn serve_connection(mut conn: TcpStream, root: &Root, timeouts: Timeouts) -> Result<Outcome> {
    conn.set_read_timeout(Some(timeouts.request))
        .context("setsockopt SO_RCVTIMEO")?;
    conn.set_write_timeout(Some(timeouts.data))
        .context("setsockopt SO_SNDTIMEO")?;
    let request = read_request(&mut conn)?;
    if request.is_empty() {
        return Err(Error::msg("the client closed without sending a path"));
    }
    unp::log(format_args!("{}", unp::error::printable(&request)));
    match root.open(&request) {
        Ok(mut file) => {
            let size = file.metadata().context("fstat")?.len();
            let name = String::from_utf8_lossy(&request);
            let mut out = StallLimited::new(&conn, timeouts.data)?;
            let sent = send_file(&mut file, size, &name, &mut out)?;
            Ok(Outcome::Sent(sent))
        }
        Err(refusal) => {
            let message = refusal.message();
            unp::writen(&mut conn, &proto::encode_error(&message))?;
            drain_and_close(conn);
            Ok(Outcome::Refused(message))
        }
    }
}

/// Half-closes, then discards what the client still sends (a path longer than one read)
/// until it closes too, for at most a second: closing with unread data would send RST,
/// and a reset can make the client's kernel drop the error segment it has not read yet.
fn drain_and_close(mut conn: TcpStream) {
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let mut sink = [0u8; 4096];
    let mut left = 64 * 1024;
    while left > 0 {
        match conn.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left -= n.min(left),
        }
    }
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
    /// Opens the served directory, then listens (socket, bind, listen: UNP's
    /// tcp_listen) and prints the `listening on` line.
    pub fn listen(&self) -> Result<(TcpListener, Root)> {
        let root = Root::new(self.root.as_deref().unwrap_or(Path::new(".")))?;
        let listener = unp::addr::listen_announced(self.port, "port 10000")?;
        Ok((listener, root))
    }

    /// The two timeouts the options set.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            request: self.request_timeout,
            data: self.timeout,
        }
    }
}

/// `accept(2)` that outlasts a shortage: out of descriptors, memory or buffers
/// ([`unp::sock::is_resource_shortage`]) is reported on stderr (`err_ret`), then the
/// server waits [`unp::sock::SHORTAGE_PAUSE`] (the connection stays queued in the
/// kernel) and accepts again, instead of exiting for everyone. Other errors end it.
pub fn accept_patiently(listener: &TcpListener) -> Result<(TcpStream, std::net::SocketAddr)> {
    loop {
        if let Some(accepted) = unp::sock::accept_or_pause(listener)? {
            return Ok(accepted);
        }
    }
}

/// FTServer: accepts one client, serves its request and returns. A refused request is
/// returned as an error (the program reports it and exits 1); so is a failed transfer.
/// Both name the client: `127.0.0.1:53412: the client closed without sending a path`.
pub fn oneshot(listener: &TcpListener, root: &Root, timeouts: impl Into<Timeouts>) -> Result<()> {
    let (conn, peer) = accept_patiently(listener)?;
    let who = unp::sock_ntop(&peer);
    match serve_connection(conn, root, timeouts.into()) {
        Ok(Outcome::Sent(_)) => Ok(()),
        Ok(Outcome::Refused(message)) => Err(Error::msg(format!(
            "{who}: {}",
            unp::error::printable(message.as_bytes())
        ))),
        Err(e) => Err(Error::msg(format!(
            "{who}: {}",
            unp::error::printable(e.to_string().as_bytes())
        ))),
    }
}

/// The iterative server of Requirement 3: one connection, one file, then the next
/// connection, forever. A refused or failed request is logged on stderr and the loop
/// goes on; a client waiting meanwhile sits in the listen queue (the lesson of P3.4),
/// which is why a connection that sends no path is dropped after `timeouts.request`.
///
/// Log lines go through [`unp::log`]: a closed stdout (a pipe whose reader exited)
/// loses the log, not the service. A requested path is shown with control characters
/// escaped ([`unp::error::printable`]) in every line.
pub fn iterative(listener: &TcpListener, root: &Root, timeouts: impl Into<Timeouts>) -> Result<()> {
    let timeouts = timeouts.into();
    loop {
        let (conn, peer) = accept_patiently(listener)?;
        let who = unp::sock_ntop(&peer);
        match serve_connection(conn, root, timeouts) {
            Ok(Outcome::Sent(n)) => unp::log(format_args!("sent {n} bytes to {who}")),
            Ok(Outcome::Refused(message)) => unp::err_msg(format!(
                "{who}: {}",
                unp::error::printable(message.as_bytes())
            )),
            Err(e) => unp::err_msg(format!(
                "{who}: {}",
                unp::error::printable(e.to_string().as_bytes())
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_caps_the_request_timeout() {
        let t = Timeouts::from(Duration::from_secs(30));
        assert_eq!(t.request, DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(t.data, Duration::from_secs(30));
        let t = Timeouts::from(Duration::from_secs(1));
        assert_eq!(t.request, Duration::from_secs(1));
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("/a/../../..")), Path::new("/"));
    }

    #[test]
    fn refusal_messages() {
        let e = Refusal::Os {
            err: io::Error::from_raw_os_error(2),
            path: "x.txt".into(),
        };
        assert_eq!(e.message(), "No such file or directory: x.txt");
        assert_eq!(
            Refusal::Outside.message(),
            "refused: outside the served directory"
        );
        assert_eq!(
            Refusal::Request(RequestError::NotUtf8).message(),
            "refused: path is not UTF-8"
        );
    }

    #[test]
    fn send_file_writes_whole_segments() {
        let dir = std::env::temp_dir().join(format!("ft-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        let data: Vec<u8> = (0..(SEGMENTS_PER_WRITE * BUFSIZE + 300))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&p, &data).unwrap();
        let mut out = Vec::new();
        let sent = send_file(
            &mut File::open(&p).unwrap(),
            data.len() as u64,
            "f",
            &mut out,
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(sent, data.len() as u64);
        let mut expected = Vec::new();
        proto::encode_segments(&data, &mut expected);
        expected.extend_from_slice(&proto::encode_end_of_file());
        assert_eq!(out, expected);
    }

    /// What `send_file` writes for a file of `actual` bytes that `fstat` said had `size`.
    fn sent_for(actual: usize, size: u64) -> (Result<u64>, Vec<u8>) {
        let data: Vec<u8> = (0..actual).map(|i| (i % 253) as u8).collect();
        let mut out = Vec::new();
        let r = send_file(&mut &data[..], size, "f.bin", &mut out);
        (r, out)
    }

    #[test]
    fn a_file_that_shrinks_or_grows_while_sent_ends_with_an_error_segment() {
        let changed = proto::encode_error("file changed while being sent: f.bin");
        let big = SEGMENTS_PER_WRITE * BUFSIZE;
        for (actual, size) in [
            (100, 300),
            (0, 1),
            (big, big as u64 + 10),
            (301, 300),
            (big + 1, big as u64),
            (1, 0),
        ] {
            let (r, out) = sent_for(actual, size);
            let e = r.unwrap_err();
            assert_eq!(
                e.to_string(),
                "file changed while being sent: f.bin",
                "{actual} vs {size}"
            );
            assert_eq!(
                &out[out.len() - proto::SEGMENT_SIZE..],
                &changed[..],
                "{actual} vs {size}"
            );
            assert!(out.len() % proto::SEGMENT_SIZE == 0);
            // Never more data than the size promised.
            assert!(
                out.len()
                    <= (size as usize).div_ceil(BUFSIZE) * proto::SEGMENT_SIZE
                        + proto::SEGMENT_SIZE
            );
        }
        for n in [0, 1, 256, big, big + 1] {
            let (r, out) = sent_for(n, n as u64);
            assert_eq!(r.unwrap(), n as u64);
            assert_eq!(
                &out[out.len() - proto::SEGMENT_SIZE..],
                &proto::encode_end_of_file()[..]
            );
        }
    }
}
