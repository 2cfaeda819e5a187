//! Armour: a transfer that fails, or is killed, never leaves a partial or hidden file.
//!
//! The C FTClient opens LOCAL_PATH with `O_CREAT|O_WRONLY` and writes into it as segments
//! arrive: a transfer that fails halfway leaves half a file, and a shorter file leaves the
//! old file's tail behind (no `O_TRUNC`). unplab writes into a temporary file in
//! LOCAL_PATH's directory ([`Download`]) and puts it in place, atomically, only when the
//! transfer is complete and the data is on disk (`fsync`); until then LOCAL_PATH is
//! untouched.
//!
//! - **The temporary file has no name** where the system offers that (Linux:
//!   `open(DIR, O_TMPFILE)`): it vanishes with the process however it ends, SIGKILL
//!   and a power cut included, and the commit gives it its name (`linkat(2)`). Replacing
//!   an existing LOCAL_PATH needs a name for the moment of a `rename(2)` (see
//!   `partial/temp.rs`). Elsewhere (macOS, a file system without `O_TMPFILE`) it is
//!   named `.ftpart-XXXXXX` and removed on every failure; what a killed run leaves is
//!   found and removed by the next run in that directory (`partial/leftovers.rs`).
//! - **A full disk** at any point (a `write`, the last flush, the `fsync`) fails the
//!   transfer like any other error: the temporary file goes, whatever step failed.
//! - **Fatal signals** (SIGHUP, SIGINT, SIGTERM, SIGQUIT…, see
//!   [`clean_up_on_fatal_signals`]): a handler removes the named temporary file, says
//!   `PROGRAM: interrupted by SIGHUP (LOCAL not written)` and exits with 128 + the
//!   signal's number.
//! - **Any legal LOCAL_PATH**: the temporary file's name (none, or 14 bytes) never adds
//!   to LOCAL_PATH's, and every call is relative to the directory, so a name of 255
//!   bytes (NAME_MAX) in a path of up to PATH_MAX works.

mod leftovers;
mod signals;
mod temp;

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{AT_FDCWD, OFlag, openat};
use nix::sys::stat::{Mode, fchmod};
use unp::{Error, Result};

pub use signals::clean_up_on_fatal_signals;
pub use temp::NAMED_TEMP_VAR;

use signals::Pending;
use temp::Temp;

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

/// A file being received: a temporary file in the destination's directory, put in
/// place by [`Download::commit`], gone if dropped before that (or if a fatal signal
/// ends the process, with [`clean_up_on_fatal_signals`]).
#[derive(Debug)]
pub struct Download {
    dest: PathBuf,
    /// The destination's directory, and its name there.
    dir: OwnedFd,
    name: CString,
    temp: Temp,
    file: Option<BufWriter<File>>,
    /// This download's message for the signal handler, if it is installed.
    pending: Option<&'static Pending>,
    /// Set once the file is in place: nothing to clean up any more.
    done: bool,
}

impl Download {
    /// Creates the temporary file in the destination's directory (removing what killed
    /// runs left there first). Fails early if `dest` is a directory or not a regular
    /// file, or its directory is missing; errors name `dest`, never the temporary file.
    pub fn create(dest: &Path) -> Result<Download> {
        check_destination(dest)?;
        let name = dest
            .file_name()
            .ok_or_else(|| Error::msg(format!("{}: not a file name", dest.display())))?;
        let name = CString::new(name.as_bytes())
            .map_err(|_| Error::msg(format!("{}: contains a NUL byte", dest.display())))?;
        let dir_path = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dir = open_directory(&dir_path, dest)?;
        leftovers::sweep(dir.as_fd(), &dir_path);
        let pending = signals::message_for(dest, io::stdout().is_terminal());
        signals::with_signals_blocked(|| signals::set_pending(pending));
        let (file, temp) = match temp::create(dir.as_fd()) {
            Ok(created) => created,
            Err(e) => {
                signals::with_signals_blocked(|| signals::set_pending(None));
                return Err(Error::os("open", e).with_detail(dest.display().to_string()));
            }
        };
        Ok(Download {
            dest: dest.to_path_buf(),
            dir,
            name,
            temp,
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            pending,
            done: false,
        })
    }

    /// Flushes the data, makes sure it is on disk (`fsync`), gives the file the old
    /// destination's permissions if there was one, and puts it in place of the
    /// destination, atomically: a reader sees the old file or the new one, never a mix,
    /// and no stale tail can remain. On any failure the temporary file goes (on drop).
    pub fn commit(mut self) -> Result<()> {
        let writer = self
            .file
            .take()
            .ok_or_else(|| Error::msg("the file was already committed"))?;
        let file = writer
            .into_inner()
            .map_err(|e| Error::os("write", e.into_error()))?;
        file.sync_data().map_err(|e| Error::os("fsync", e))?;
        if let Ok(old) = fs::symlink_metadata(&self.dest) {
            use std::os::unix::fs::PermissionsExt;
            let mode = Mode::from_bits_truncate(old.permissions().mode() as _);
            let _ = fchmod(&file, mode);
        }
        // With signals blocked, the file is put in place and the handler forgets it
        // together: a signal never says "not written" about a file that was.
        signals::with_signals_blocked(|| {
            let published =
                self.temp
                    .publish(&file, self.dir.as_fd(), &self.name, &self.dest, || {
                        check_destination(&self.dest) // again: it may have been replaced meanwhile
                    });
            if published.is_ok() {
                self.done = true;
                signals::set_pending(None);
            }
            published
        })?;
        let _ = nix::unistd::fsync(&self.dir); // make the new name itself durable
        Ok(())
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed"))
    }
}

/// Opens the directory a download goes to; a missing one is said plainly:
/// `cannot write ./sub/x: directory ./sub does not exist`.
fn open_directory(dir: &Path, dest: &Path) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    openat(AT_FDCWD, dir, flags, Mode::empty()).map_err(|e| match e {
        nix::errno::Errno::ENOENT => Error::msg(format!(
            "cannot write {}: directory {} does not exist",
            dest.display(),
            dir.display()
        )),
        e => Error::errno("open", e).with_detail(dest.display().to_string()),
    })
}

impl Drop for Download {
    fn drop(&mut self) {
        if !self.done {
            self.file = None;
            self.temp.discard(self.dir.as_fd());
            if self.pending.is_some() {
                signals::with_signals_blocked(|| signals::set_pending(None));
            }
        }
    }
}

impl Write for Download {
    /// Writes to the temporary file (buffered: 256 KiB per `write(2)`).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}
