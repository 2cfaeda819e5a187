//! The temporary file itself: unnamed where the system offers it (Linux `O_TMPFILE`),
//! else named `.ftpart-XXXXXX`; and the system calls that put it in place.
//!
//! Every call is relative to LOCAL_PATH's directory, opened once (`openat`, `linkat`,
//! `renameat`, `unlinkat`), so no path longer than LOCAL_PATH itself is ever built.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, openat, renameat};
use nix::sys::stat::{Mode, fstat, fstatat};
use nix::unistd::{UnlinkatFlags, linkat, unlinkat};

use super::leftovers::{new_name, same_file, try_lock};
use super::signals;

/// The environment variable that makes the clients use a named temporary file even
/// where `O_TMPFILE` works, as on macOS or a file system without it (for the tests, and
/// to see the difference).
pub const NAMED_TEMP_VAR: &str = "UNPLAB_FT_NAMED_TEMP";

/// How many random names to try before giving up (each taken one is unlikely).
const TRIES: usize = 100;

/// Who may read a new file before `umask`: as `open(2)` with `O_CREAT`, 0666.
fn new_file_mode() -> Mode {
    Mode::from_bits_truncate(0o666)
}

/// A temporary file in a directory.
#[derive(Debug)]
pub(super) enum Temp {
    /// `O_TMPFILE`: no name; it vanishes with its last descriptor, however the process
    /// ends.
    Unnamed,
    /// `.ftpart-XXXXXX`, removed by [`Temp::discard`] or by the signal handler.
    Named(CString),
}

/// Creates the temporary file in `dir`, locked (`flock`) for as long as it is open.
pub(super) fn create(dir: BorrowedFd<'_>) -> io::Result<(File, Temp)> {
    if std::env::var_os(NAMED_TEMP_VAR).is_none() {
        if let Some(file) = unnamed(dir)? {
            return Ok((file, Temp::Unnamed));
        }
    }
    let (file, name) = named(dir, |name| {
        openat(
            dir,
            name.as_c_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            new_file_mode(),
        )
        .map(File::from)
    })?;
    Ok((file, Temp::Named(name)))
}

/// `openat(dir, ".", O_TMPFILE)`, if the system and the file system support it and
/// `/proc/self/fd` is there to name it later; `None` otherwise.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed(dir: BorrowedFd<'_>) -> io::Result<Option<File>> {
    let flags = OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC;
    let fd = match openat(dir, ".", flags, new_file_mode()) {
        Ok(fd) => fd,
        // No O_TMPFILE in this kernel or on this file system.
        Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let named_by_proc = fstatat(AT_FDCWD, proc_path(&fd).as_c_str(), AtFlags::empty());
    let linkable = matches!((fstat(&fd), named_by_proc), (Ok(a), Ok(b)) if same_file(&a, &b));
    // No one else can reach an unnamed file: the lock is for the moment it has a name
    // (where the file system has no locks, that moment goes unprotected).
    let _ = try_lock(fd.as_fd());
    Ok(linkable.then(|| File::from(fd)))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn unnamed(_dir: BorrowedFd<'_>) -> io::Result<Option<File>> {
    Ok(None)
}

/// `/proc/self/fd/N`: the name through which `linkat(AT_SYMLINK_FOLLOW)` gives an
/// unnamed file a name (without `CAP_DAC_READ_SEARCH`, which `AT_EMPTY_PATH` needs).
fn proc_path(fd: &impl AsRawFd) -> CString {
    // Digits and slashes: no NUL.
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default()
}

/// Makes a new name in `dir` with `make` (which fails with `EEXIST` if the name is
/// taken), registered for the signal handler from the moment it exists, and locked.
/// Retries with a fresh name when the name is taken, or when another client's sweep
/// took the new file for a leftover before it was locked.
fn named<T: AsFd>(
    dir: BorrowedFd<'_>,
    make: impl Fn(&CString) -> nix::Result<T>,
) -> io::Result<(T, CString)> {
    for _ in 0..TRIES {
        let name = new_name();
        let entry = signals::temp_entry(dir.as_raw_fd(), &name);
        let made = signals::with_signals_blocked(|| {
            let made = make(&name);
            if made.is_ok() {
                signals::set_temp(entry);
            }
            made
        });
        let made = match made {
            Ok(m) => m,
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e.into()),
        };
        // A file system without locks (ENOLCK) leaves the file unprotected, not unusable.
        let ours = try_lock(made.as_fd()).unwrap_or(true)
            && matches!(
                (fstat(made.as_fd()), fstatat(dir, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)),
                (Ok(a), Ok(b)) if same_file(&a, &b)
            );
        if ours {
            return Ok((made, name));
        }
        remove(dir, &name);
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name",
    ))
}

/// Removes the named temporary file `name` (and its entry for the handler).
fn remove(dir: BorrowedFd<'_>, name: &CString) {
    signals::with_signals_blocked(|| {
        let _ = unlinkat(dir, name.as_c_str(), UnlinkatFlags::NoRemoveDir);
        signals::set_temp(None);
    });
}

impl Temp {
    /// Removes a named temporary file (and its entry for the handler); nothing to do for
    /// an unnamed one, which vanishes when closed.
    pub(super) fn discard(&self, dir: BorrowedFd<'_>) {
        if let Temp::Named(name) = self {
            remove(dir, name);
        }
    }

    /// Puts the temporary file (`file`) in place as `name` in `dir`, atomically: a
    /// reader sees the old file or the new one, never a mix, never none (if there was
    /// one). `check` runs just before a file is replaced (a destination that is not a
    /// regular file must not be). Call with signals blocked.
    ///
    /// Named: `renameat(2)` over `name`; if that fails, the file is left for
    /// [`Temp::discard`]. Unnamed: `linkat(2)` from `/proc/self/fd/N` straight to
    /// `name` if nothing has that name; else the file gets a temporary name (`linkat`)
    /// and is renamed over `name` (`renameat`), or the temporary name removed. Signals
    /// being blocked, only SIGKILL or a power cut between the two calls can leave that
    /// name, which the next run then removes ([`super::leftovers`]).
    pub(super) fn publish(
        &self,
        file: &File,
        dir: BorrowedFd<'_>,
        name: &CString,
        dest: &Path,
        check: impl Fn() -> unp::Result<()>,
    ) -> unp::Result<()> {
        let os = |call: &'static str, e: Errno| {
            unp::Error::os(call, e.into()).with_detail(dest.display().to_string())
        };
        let source = proc_path(file);
        let link = |to: &CString| {
            linkat(
                AT_FDCWD,
                source.as_c_str(),
                dir,
                to.as_c_str(),
                AtFlags::AT_SYMLINK_FOLLOW,
            )
        };
        let temp = match self {
            Temp::Named(temp) => {
                check()?;
                renameat(dir, temp.as_c_str(), dir, name.as_c_str())
                    .map_err(|e| os("rename", e))?;
                signals::set_temp(None);
                return Ok(());
            }
            Temp::Unnamed => match link(name) {
                Ok(()) => return Ok(()),
                Err(Errno::EEXIST) => {
                    check()?;
                    named(dir, |n| link(n).map(|()| file.as_fd()))
                        .map_err(|e| {
                            unp::Error::os("link", e).with_detail(dest.display().to_string())
                        })?
                        .1
                }
                Err(e) => return Err(os("link", e)),
            },
        };
        match renameat(dir, temp.as_c_str(), dir, name.as_c_str()) {
            Ok(()) => {
                signals::set_temp(None);
                Ok(())
            }
            Err(e) => {
                remove(dir, &temp);
                Err(os("rename", e))
            }
        }
    }
}
