//! Armour: a transfer that fails never leaves a partial file as LOCAL_PATH.
//!
//! The C FTClient opens LOCAL_PATH with `O_CREAT|O_WRONLY` and writes into it as segments
//! arrive: a transfer that fails halfway leaves half a file, and a shorter file leaves the
//! old file's tail behind (no `O_TRUNC`). unplab writes into a hidden temporary file
//! beside the destination ([`Download`]) and `rename(2)`s it over LOCAL_PATH only when
//! the transfer is complete; on any failure the temporary file is removed.
//!
//! Ctrl-C during a transfer is handled by the signal handler itself (see
//! [`clean_up_on_interrupt`]): it removes the temporary file and ends the process, so no
//! window exists in which the signal is noticed too late.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, BufWriter, ErrorKind, IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use unp::{Context, Error, Result};

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

impl Write for Download {
    /// Writes to the temporary file (buffered: 256 KiB per `write(2)`).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}
