//! The client side: request a file, read segments, and replace the local file only when
//! the whole transfer succeeded.
//!
//! The C FTClient reads with `read(sockfd, &segment, sizeof segment)` and trusts that
//! each call returns one whole segment. TCP promises no such thing: past about 100 KiB
//! reads start returning pieces, and the client writes a length taken from the middle of
//! the data. [`receive`] instead reads as much as the socket has, cuts it into 260-byte
//! frames and keeps an incomplete one for the next read.
//!
//! A FIN alone does not say "the file is complete": a server killed on a segment
//! boundary closes exactly like one that finished. [`receive`] therefore accepts a
//! transfer only if it ended with unplab's end-of-file segment, or with a short data
//! segment (how the C FTServer ends a file whose size is not a multiple of 256), or if the
//! caller trusts the close (`--trust-close`, for the C FTServer's other files).
//!
//! Ctrl-C during a transfer is handled by the signal handler itself (see
//! [`clean_up_on_interrupt`]): it removes the temporary file and ends the process, so no
//! window exists in which the signal is noticed too late.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{BufWriter, ErrorKind, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use unp::{Context, Error, Result};

use crate::progress::Progress;
use crate::proto::{self, BUFSIZE, SEGMENT_SIZE, Segment};
use crate::serve::is_timeout;

/// How many frames the client asks the socket for per `read(2)` (260 KiB).
pub const SEGMENTS_PER_READ: usize = 1024;

/// The default read timeout: a server silent this long is given up on.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the interrupt handler needs to clean up after the running transfer, prepared in
/// advance so that the handler only reads memory and makes system calls.
#[derive(Debug)]
struct Pending {
    /// The temporary file, as the C string `unlink(2)` takes.
    temp: CString,
    /// `PROGRAM: interrupted (LOCAL not written)\n`, for `write(2)` to stderr.
    message: Box<[u8]>,
}

/// The running transfer's [`Pending`], or null between transfers. A `Pending` is
/// leaked, never freed: a handler running on another thread could still be reading one
/// that was just swapped out (a few dozen bytes per transfer).
static PENDING: AtomicPtr<Pending> = AtomicPtr::new(ptr::null_mut());

/// Whether [`clean_up_on_interrupt`] installed the handler (else nothing is registered).
static HANDLER_INSTALLED: AtomicBool = AtomicBool::new(false);

/// The SIGINT/SIGTERM handler. During a transfer it removes the temporary file and says
/// so; in every case it ends the process with status 130 (128 + SIGINT, as shells do).
///
/// Doing the work here, rather than setting a flag for the main loop, is what makes it
/// race-free: a flag set just after the loop checked it, and just before the loop blocks
/// in `read(2)`, is only seen when that read returns, up to `--timeout` later.
/// Async-signal-safe: an atomic load, `unlink(2)`, `write(2)` and `_exit(2)`.
extern "C" fn on_interrupt(_sig: nix::libc::c_int) {
    let p = PENDING.load(Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: a non-null PENDING comes from Box::leak and is never freed or changed.
        let p = unsafe { &*p };
        // SAFETY: unlink and write are async-signal-safe; the pointers are valid, and
        // the C string is NUL-terminated.
        unsafe {
            nix::libc::unlink(p.temp.as_ptr());
            nix::libc::write(2, p.message.as_ptr().cast(), p.message.len());
        }
    }
    // SAFETY: _exit(2) is async-signal-safe and runs no Rust code.
    unsafe { nix::libc::_exit(130) }
}

/// Makes Ctrl-C (SIGINT) and SIGTERM clean up: during a transfer the handler removes the
/// temporary file, prints `PROGRAM: interrupted (LOCAL not written)` and exits with
/// status 130; between transfers it just exits with 130.
pub fn clean_up_on_interrupt() -> Result<()> {
    use unp::signal::{SigHandler, signal};
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: on_interrupt is async-signal-safe (see there).
        unsafe { signal(sig, SigHandler::Handler(on_interrupt))? };
    }
    HANDLER_INSTALLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// Runs `f` with SIGINT and SIGTERM blocked on this thread, so that the handler sees the
/// temporary file and [`PENDING`] change together: a signal arriving meanwhile is
/// delivered when the mask is restored.
fn with_interrupts_blocked<T>(f: impl FnOnce() -> T) -> T {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    let mut old = SigSet::empty();
    let blocked = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)).is_ok();
    let result = f();
    if blocked {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    result
}

/// How a stream of segments ended, as far as [`receive`] has read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// No segment yet.
    Nothing,
    /// The last segment carried 256 bytes: more may have been meant to follow.
    Full,
    /// The last segment was short: the end of the file, as the C server sends it.
    Short,
    /// unplab's end-of-file segment: complete; only the FIN may follow.
    EndOfFile,
}

/// The error for a stream that ended without a sign that the file was complete.
fn cut_short(what: String) -> Error {
    Error::msg(format!(
        "{what}: the transfer may have been cut short (the handout's C FTServer sends \
         no end-of-file segment: for such a server, --trust-close accepts a transfer \
         that ends with the server's close)"
    ))
}

fn after_end_of_file() -> Error {
    Error::msg("protocol error: data after the end-of-file segment")
}

/// Reads segments from `conn` until the server closes, writing their data to `out`.
///
/// Returns the number of data bytes. The transfer is complete if the end-of-file
/// segment arrived (then nothing but the FIN may follow), or if the last data segment
/// was short; otherwise (the close came after a full segment, or with no segment at all)
/// it fails unless `trust_close`. It also fails on an error segment (with the server's
/// message), a length outside -1..=256, a stream that ends inside a segment, a reset or
/// a timeout. `progress` is called with the running total after every `read`.
pub fn receive(
    conn: &mut impl Read,
    out: &mut impl Write,
    trust_close: bool,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut buf = vec![0u8; SEGMENTS_PER_READ * SEGMENT_SIZE];
    let mut filled = 0;
    let mut total = 0u64;
    let mut seen = Seen::Nothing;
    loop {
        let n = match conn.read(&mut buf[filled..]) {
            Ok(n) => n,
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
        if seen == Seen::EndOfFile {
            return Err(after_end_of_file());
        }
        filled += n;
        let whole = filled - filled % SEGMENT_SIZE;
        for frame in buf[..whole].chunks_exact(SEGMENT_SIZE) {
            if seen == Seen::EndOfFile {
                return Err(after_end_of_file());
            }
            let frame: &[u8; SEGMENT_SIZE] = frame.try_into().expect("chunks are 260 bytes");
            match proto::decode_segment(frame).map_err(|e| Error::msg(e.to_string()))? {
                Segment::Data(d) => {
                    out.write_all(d).context("write")?;
                    total += d.len() as u64;
                    seen = if d.len() < BUFSIZE {
                        Seen::Short
                    } else {
                        Seen::Full
                    };
                }
                Segment::EndOfFile => seen = Seen::EndOfFile,
                Segment::Error(m) => {
                    // Escaped: the text comes from the peer and must not drive the
                    // terminal (ESC sequences) or forge lines.
                    return Err(Error::msg(format!(
                        "server error: {}",
                        unp::error::printable(m)
                    )));
                }
            }
        }
        buf.copy_within(whole..filled, 0);
        filled -= whole;
        if seen == Seen::EndOfFile && filled != 0 {
            return Err(after_end_of_file());
        }
        progress(total);
    }
    if filled != 0 {
        return Err(Error::msg(format!(
            "the server closed the connection in the middle of a segment ({filled} of {SEGMENT_SIZE} bytes)"
        )));
    }
    match seen {
        Seen::EndOfFile | Seen::Short => Ok(total),
        _ if trust_close => Ok(total),
        Seen::Full => Err(cut_short(format!(
            "the server closed the connection after {total} bytes, at the end of a full \
             segment, without an end-of-file segment"
        ))),
        Seen::Nothing => Err(cut_short(
            "the server closed the connection without sending any segment, not even an \
             end-of-file segment"
                .to_string(),
        )),
    }
}

/// What a file that is not a regular one is, for a message: `a character device`.
pub fn kind_of(t: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

/// Refuses a destination that exists and is not a regular file: `rename(2)` would
/// replace a device node, a FIFO or a socket with a regular file (as root, `ftclient ...
/// /dev/null` would replace `/dev/null`), and would replace a symbolic link itself, not
/// what it points to. A symlink is refused too (`lstat`, not `stat`): simplest and
/// safest. A directory keeps its own message, `is a directory`.
fn check_destination(dest: &Path) -> Result<()> {
    match fs::symlink_metadata(dest) {
        Ok(m) if m.is_dir() => Err(Error::msg(format!("{}: is a directory", dest.display()))),
        Ok(m) if !m.file_type().is_file() => Err(Error::msg(format!(
            "cannot write {}: not a regular file ({})",
            dest.display(),
            kind_of(m.file_type())
        ))),
        _ => Ok(()),
    }
}

/// A file being received: created beside its destination under a hidden name, renamed
/// over the destination by [`Download::commit`], removed if dropped before that (or by
/// the interrupt handler, if [`clean_up_on_interrupt`] installed it).
#[derive(Debug)]
pub struct Download {
    temp: PathBuf,
    dest: PathBuf,
    file: Option<BufWriter<File>>,
    /// This download's entry for the interrupt handler, if it is installed.
    pending: Option<&'static Pending>,
}

static DOWNLOADS: AtomicU64 = AtomicU64::new(0);

impl Download {
    /// Creates `.NAME.ftpart-PID-N` in the destination's directory (`O_EXCL`: never an
    /// existing file). Fails early if `dest` is a directory or its directory is missing;
    /// errors name `dest`, never the temporary file.
    pub fn create(dest: &Path) -> Result<Download> {
        check_destination(dest)?;
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
        let pending = if HANDLER_INSTALLED.load(Ordering::SeqCst) {
            let mut message = String::new();
            if std::io::stdout().is_terminal() {
                message.push('\n'); // end a progress line first
            }
            message.push_str(&format!(
                "{}: interrupted ({} not written)\n",
                unp::error::program_name(),
                dest.display()
            ));
            let temp_c = CString::new(temp.as_os_str().as_bytes())
                .map_err(|_| Error::msg(format!("{}: contains a NUL byte", dest.display())))?;
            Some(&*Box::leak(Box::new(Pending {
                temp: temp_c,
                message: message.into_bytes().into_boxed_slice(),
            })))
        } else {
            None
        };
        let opened = with_interrupts_blocked(|| {
            let opened = File::options().write(true).create_new(true).open(&temp);
            if let (Ok(_), Some(p)) = (&opened, pending) {
                PENDING.store(ptr::from_ref(p).cast_mut(), Ordering::SeqCst);
            }
            opened
        });
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound && !dir.is_dir() => {
                return Err(Error::msg(format!(
                    "cannot write {}: directory {} does not exist",
                    dest.display(),
                    dir.display()
                )));
            }
            Err(e) => return Err(Error::os("open", e).with_detail(dest.display().to_string())),
        };
        Ok(Download {
            temp,
            dest: dest.to_path_buf(),
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            pending,
        })
    }

    /// Where the data goes meanwhile.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("writer used after commit")
    }

    /// Takes this download's entry out of the interrupt handler's reach (if it is still
    /// the registered one). Called with SIGINT and SIGTERM blocked.
    fn unregister(&self) {
        if let Some(p) = self.pending {
            let _ = PENDING.compare_exchange(
                ptr::from_ref(p).cast_mut(),
                ptr::null_mut(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
        }
    }

    /// Flushes and closes the file, gives it the old destination's permissions if there
    /// was one, and renames it over the destination (`rename(2)` is atomic: a reader
    /// sees the old file or the new one, never a mix, and no stale tail can remain).
    pub fn commit(mut self) -> Result<()> {
        if let Some(w) = self.file.take() {
            let file = w
                .into_inner()
                .map_err(|e| Error::os("write", e.into_error()))?;
            if let Ok(old) = fs::symlink_metadata(&self.dest) {
                let _ = file.set_permissions(old.permissions());
            }
            drop(file);
        }
        // Again just before the rename: the destination may have been replaced meanwhile.
        if let Err(e) = check_destination(&self.dest) {
            with_interrupts_blocked(|| {
                let _ = fs::remove_file(&self.temp);
                self.unregister();
            });
            return Err(e);
        }
        // The rename and the unregistering happen together: Ctrl-C never removes a file
        // that was already renamed, nor leaves one behind.
        with_interrupts_blocked(|| {
            let renamed = fs::rename(&self.temp, &self.dest);
            if renamed.is_ok() {
                self.unregister();
            } else {
                let _ = fs::remove_file(&self.temp);
                self.unregister();
            }
            renamed
        })
        .context("rename")
        .map_err(|e| e.with_detail(self.dest.display().to_string()))
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            with_interrupts_blocked(|| {
                let _ = fs::remove_file(&self.temp);
                self.unregister();
            });
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
    /// Accept a transfer that ends with the server's close after a full segment, or with
    /// no segment at all (`--trust-close`: for the handout's C FTServer, which sends no
    /// end-of-file segment).
    pub trust_close: bool,
}

/// The options both clients share: `[--timeout SECS] [--trust-close]`.
#[derive(clap::Args, Debug)]
pub struct ClientArgs {
    /// Give up if the server sends nothing for this many seconds
    #[arg(long, default_value = "30", value_parser = crate::parse_timeout)]
    pub timeout: Duration,
    /// Accept a transfer that ends with the server's close even without an end-of-file
    /// segment (for the handout's C FTServer, which sends none)
    #[arg(long)]
    pub trust_close: bool,
}

impl ClientArgs {
    /// The transfer options these arguments ask for, with a progress line on a terminal.
    pub fn options(&self) -> Options {
        Options {
            timeout: self.timeout,
            progress: true,
            trust_close: self.trust_close,
        }
    }
}

/// One whole transfer: connect to `host`:`port`, ask for `remote`, store it as `local`.
/// Returns the number of bytes received. On any failure `local` is untouched.
///
/// If [`clean_up_on_interrupt`] was called, SIGINT and SIGTERM during the transfer
/// remove the temporary file and end the process.
pub fn fetch(host: &str, port: u16, remote: &str, local: &Path, opts: &Options) -> Result<u64> {
    let request =
        proto::encode_request(remote).map_err(|e| Error::msg(format!("{remote:?}: {e}")))?;
    let mut download = Download::create(local)?;
    let mut conn: TcpStream = unp::tcp_connect(host, port)?;
    conn.set_read_timeout(Some(opts.timeout))
        .context("setsockopt SO_RCVTIMEO")?;
    unp::writen(&mut conn, request)?;
    let mut bar = Progress::new(opts.progress);
    let total = receive(&mut conn, download.writer(), opts.trust_close, |n| {
        bar.update(n)
    })?;
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

    fn wire_of(data: &[u8], end_of_file: bool) -> Vec<u8> {
        let mut wire = Vec::new();
        proto::encode_segments(data, &mut wire);
        if end_of_file {
            wire.extend_from_slice(&proto::encode_end_of_file());
        }
        wire
    }

    fn receive_all(wire: &[u8], step: usize, trust_close: bool) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let n = receive(&mut Trickle(wire, step), &mut out, trust_close, |_| {})?;
        assert_eq!(n, out.len() as u64);
        Ok(out)
    }

    #[test]
    fn receive_reassembles_frames_cut_anywhere() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        for end_of_file in [true, false] {
            let wire = wire_of(&data, end_of_file);
            for step in [1, 13, 259, 260, 261, 4096, 1 << 20] {
                let out = receive_all(&wire, step, false).unwrap();
                assert_eq!(out, data, "step {step}, end_of_file {end_of_file}");
            }
        }
    }

    #[test]
    fn a_close_after_a_full_segment_or_no_segment_needs_the_end_of_file_segment() {
        for data in [&[9u8; 512][..], &[]] {
            // unplab's server: the marker says the file is complete.
            assert_eq!(receive_all(&wire_of(data, true), 100, false).unwrap(), data);
            // Without it the close may be a crash on a segment boundary.
            let e = receive_all(&wire_of(data, false), 100, false).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("may have been cut short"), "{text}");
            assert!(text.contains("--trust-close"), "{text}");
            // Unless the user trusts the close (the C FTServer).
            assert_eq!(receive_all(&wire_of(data, false), 100, true).unwrap(), data);
        }
        let e = receive_all(&wire_of(&[1; 512], false), 1000, false).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "the server closed the connection after 512 bytes, at the end of a full \
                 segment, without an end-of-file segment"
            ),
            "{e}"
        );
    }

    #[test]
    fn nothing_may_follow_the_end_of_file_segment() {
        let mut wire = wire_of(b"abc", true);
        proto::encode_segments(b"more", &mut wire);
        for step in [1, 260, 1000] {
            let e = receive_all(&wire, step, true).unwrap_err();
            assert_eq!(
                e.to_string(),
                "protocol error: data after the end-of-file segment",
                "step {step}"
            );
        }
        let mut wire = wire_of(b"abc", true);
        wire.push(0);
        let e = receive_all(&wire, 1000, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "protocol error: data after the end-of-file segment"
        );
    }

    #[test]
    fn receive_fails_on_a_cut_segment_and_on_an_error_segment() {
        let wire = wire_of(&[1; 300], true);
        let cut = &wire[..400];
        let e = receive_all(cut, 100, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server closed the connection in the middle of a segment (140 of 260 bytes)"
        );
        let mut wire = wire_of(&[1; 10], false);
        wire.extend_from_slice(&proto::encode_error("No such file or directory: x"));
        let e = receive_all(&wire, 1000, true).unwrap_err();
        assert_eq!(e.to_string(), "server error: No such file or directory: x");
    }
}
