//! The client side: request a file, read segments, and replace the local file only when
//! the whole transfer succeeded.
//!
//! The C FTClient reads with `read(sockfd, &segment, sizeof segment)` and trusts that
//! each call returns one whole segment. TCP promises no such thing: past about 100 KiB
//! reads start returning pieces, and the client writes a length taken from the middle of
//! the data. [`receive`] instead reads as much as the socket has, cuts it into 260-byte
//! frames and keeps an incomplete one for the next read.

use std::fs::{self, File};
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use unp::{Context, Error, Result};

use crate::progress::Progress;
use crate::proto::{self, SEGMENT_SIZE, Segment};
use crate::serve::is_timeout;

/// How many frames the client asks the socket for per `read(2)` (260 KiB).
pub const SEGMENTS_PER_READ: usize = 1024;

/// The default read timeout: a server silent this long is given up on.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

static IN_TRANSFER: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The SIGINT/SIGTERM handler: outside a transfer, end at once (`_exit`, nothing to clean
/// up); during one, only set a flag. Async-signal-safe: atomics and `_exit` only.
extern "C" fn on_interrupt(_sig: nix::libc::c_int) {
    if !IN_TRANSFER.load(Ordering::SeqCst) {
        // SAFETY: _exit(2) is async-signal-safe and touches no Rust state.
        unsafe { nix::libc::_exit(130) }
    }
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes Ctrl-C (SIGINT) and SIGTERM clean up: installed without `SA_RESTART`
/// (UNP's `Signal_intr`), so a blocked `read` or `connect` fails with `EINTR`, the
/// transfer stops, and the temporary file is removed before the program exits.
pub fn clean_up_on_interrupt() -> Result<()> {
    use unp::signal::{SigHandler, Signal, signal_intr};
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: on_interrupt only touches atomics and calls _exit.
        unsafe { signal_intr(sig, SigHandler::Handler(on_interrupt))? };
    }
    Ok(())
}

/// True once SIGINT or SIGTERM arrived during a transfer.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn interrupted_error() -> Error {
    Error::msg("interrupted")
}

/// Reads segments from `conn` until the server closes, writing their data to `out`.
///
/// Returns the number of data bytes. Fails on an error segment (with the server's
/// message), a length outside -1..=256, a stream that ends inside a segment, a reset or
/// a timeout. `progress` is called with the running total after every `read`.
pub fn receive(
    conn: &mut impl Read,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut buf = vec![0u8; SEGMENTS_PER_READ * SEGMENT_SIZE];
    let mut filled = 0;
    let mut total = 0u64;
    loop {
        let n = match conn.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(_) if interrupted() => return Err(interrupted_error()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => {
                return Err(Error::msg(
                    "read error: timed out waiting for the server".to_string(),
                ));
            }
            Err(e) => return Err(Error::os("read", e)),
        };
        if n == 0 {
            break;
        }
        filled += n;
        let whole = filled - filled % SEGMENT_SIZE;
        for frame in buf[..whole].chunks_exact(SEGMENT_SIZE) {
            let frame: &[u8; SEGMENT_SIZE] = frame.try_into().expect("chunks are 260 bytes");
            match proto::decode_segment(frame).map_err(|e| Error::msg(e.to_string()))? {
                Segment::Data(d) => {
                    out.write_all(d).context("write")?;
                    total += d.len() as u64;
                }
                Segment::Error(m) => {
                    return Err(Error::msg(format!(
                        "server error: {}",
                        String::from_utf8_lossy(m)
                    )));
                }
            }
        }
        buf.copy_within(whole..filled, 0);
        filled -= whole;
        progress(total);
    }
    if filled != 0 {
        return Err(Error::msg(format!(
            "the server closed the connection in the middle of a segment ({filled} of {SEGMENT_SIZE} bytes)"
        )));
    }
    Ok(total)
}

/// A file being received: created beside its destination under a hidden name, renamed
/// over the destination by [`Download::commit`], removed if dropped before that.
#[derive(Debug)]
pub struct Download {
    temp: PathBuf,
    dest: PathBuf,
    file: Option<BufWriter<File>>,
}

static DOWNLOADS: AtomicU64 = AtomicU64::new(0);

impl Download {
    /// Creates `.NAME.ftpart-PID-N` in the destination's directory (`O_EXCL`: never an
    /// existing file). Fails early if `dest` is a directory.
    pub fn create(dest: &Path) -> Result<Download> {
        if dest.is_dir() {
            return Err(Error::msg(format!("{}: is a directory", dest.display())));
        }
        let name = dest
            .file_name()
            .ok_or_else(|| Error::msg(format!("{}: not a file name", dest.display())))?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let n = DOWNLOADS.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".ftpart-{}-{n}", std::process::id()));
        let temp = dir.join(temp_name);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&temp)
            .context("open")
            .map_err(|e| e.with_detail(temp.display().to_string()))?;
        Ok(Download {
            temp,
            dest: dest.to_path_buf(),
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
        })
    }

    /// Where the data goes meanwhile.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("writer used after commit")
    }

    /// Flushes and closes the file, gives it the old destination's permissions if there
    /// was one, and renames it over the destination (`rename(2)` is atomic: a reader
    /// sees the old file or the new one, never a mix, and no stale tail can remain).
    pub fn commit(mut self) -> Result<()> {
        if let Some(w) = self.file.take() {
            let file = w
                .into_inner()
                .map_err(|e| Error::os("write", e.into_error()))?;
            if let Ok(old) = fs::metadata(&self.dest) {
                let _ = file.set_permissions(old.permissions());
            }
            drop(file);
        }
        fs::rename(&self.temp, &self.dest)
            .context("rename")
            .map_err(|e| e.with_detail(self.dest.display().to_string()))
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Read timeout on the connection.
    pub timeout: Duration,
    /// Show a progress line (only when stdout is a terminal).
    pub progress: bool,
}

/// One whole transfer: connect to `host`:`port`, ask for `remote`, store it as `local`.
/// Returns the number of bytes received. On any failure `local` is untouched.
///
/// While it runs, SIGINT and SIGTERM (if [`clean_up_on_interrupt`] was called) stop the
/// transfer instead of killing the process, so the temporary file is removed.
pub fn fetch(host: &str, port: u16, remote: &str, local: &Path, opts: &Options) -> Result<u64> {
    IN_TRANSFER.store(true, Ordering::SeqCst);
    let result = fetch_inner(host, port, remote, local, opts);
    IN_TRANSFER.store(false, Ordering::SeqCst);
    match result {
        Err(_) if interrupted() => Err(interrupted_error()),
        other => other,
    }
}

fn fetch_inner(host: &str, port: u16, remote: &str, local: &Path, opts: &Options) -> Result<u64> {
    let request =
        proto::encode_request(remote).map_err(|e| Error::msg(format!("{remote:?}: {e}")))?;
    let mut download = Download::create(local)?;
    let mut conn: TcpStream = unp::tcp_connect(host, port)?;
    conn.set_read_timeout(Some(opts.timeout))
        .context("setsockopt SO_RCVTIMEO")?;
    unp::writen(&mut conn, request)?;
    let mut bar = Progress::new(opts.progress);
    let total = receive(&mut conn, download.writer(), |n| bar.update(n))?;
    download.commit()?;
    bar.finish(total)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes `step` at a time, like a TCP stream cut at odd places.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn receive_reassembles_frames_cut_anywhere() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let mut wire = Vec::new();
        proto::encode_segments(&data, &mut wire);
        for step in [1, 13, 259, 260, 261, 4096, 1 << 20] {
            let mut out = Vec::new();
            let n = receive(&mut Trickle(&wire, step), &mut out, |_| {}).unwrap();
            assert_eq!(n, data.len() as u64);
            assert_eq!(out, data, "step {step}");
        }
    }

    #[test]
    fn receive_fails_on_a_cut_segment_and_on_an_error_segment() {
        let mut wire = Vec::new();
        proto::encode_segments(&[1; 300], &mut wire);
        let cut = &wire[..400];
        let e = receive(&mut Trickle(cut, 100), &mut Vec::new(), |_| {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server closed the connection in the middle of a segment (140 of 260 bytes)"
        );
        let mut wire = Vec::new();
        proto::encode_segments(&[1; 10], &mut wire);
        wire.extend_from_slice(&proto::encode_error("No such file or directory: x"));
        let e = receive(&mut Trickle(&wire, 1000), &mut Vec::new(), |_| {}).unwrap_err();
        assert_eq!(e.to_string(), "server error: No such file or directory: x");
    }
}
