//! Names of the clients' named temporary files, and what earlier runs left of them.
//!
//! A named temporary file is `.ftpart-` and 6 random characters from `0-9a-z` (14 bytes,
//! whatever LOCAL_PATH's name is), in LOCAL_PATH's directory. A client holds an
//! exclusive `flock(2)` on its temporary file while it lives, and the kernel drops the
//! lock when the process ends, however it ends. So when a client starts in a directory
//! it can tell the temporary files of clients running there now (locked) from the
//! leftovers of runs that were killed (unlocked), and removes the latter, saying so:
//!
//! ```text
//! ftclient: removed ./.ftpart-k3x9q0, a partial file left by an earlier run that was killed
//! ```
//!
//! A leftover it cannot remove (another user's, in a sticky directory) is reported.
//! Where `O_TMPFILE` works (Linux), a named file exists only for the two system calls
//! that put a file in place of an existing LOCAL_PATH, so there is almost never
//! anything to find.

use std::ffi::{CString, OsStr};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::libc;
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};

/// What every named temporary file's name starts with.
pub(super) const PREFIX: &str = ".ftpart-";
/// How many random characters follow [`PREFIX`].
const RANDOM_CHARS: usize = 6;
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A fresh random name, `.ftpart-XXXXXX` (the caller creates it with `O_EXCL` and tries
/// another if it exists).
pub(super) fn new_name() -> CString {
    static N: AtomicU64 = AtomicU64::new(0);
    let seed = (std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let mut x = RandomState::new().hash_one(seed);
    let mut name = PREFIX.as_bytes().to_vec();
    for _ in 0..RANDOM_CHARS {
        name.push(ALPHABET[(x % 36) as usize]);
        x /= 36;
    }
    // The bytes are ASCII letters, digits, `.` and `-`: no NUL.
    CString::new(name).unwrap_or_default()
}

/// True for a name [`new_name`] makes.
pub(super) fn is_temp_name(name: &[u8]) -> bool {
    name.len() == PREFIX.len() + RANDOM_CHARS
        && name.starts_with(PREFIX.as_bytes())
        && name[PREFIX.len()..].iter().all(|b| ALPHABET.contains(b))
}

/// `flock(fd, LOCK_EX | LOCK_NB)`: true if this process now holds the lock.
pub(super) fn try_lock(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: flock(2) on a descriptor we hold open.
    match unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } {
        0 => Ok(true),
        _ => match Errno::last() {
            Errno::EWOULDBLOCK => Ok(false),
            e => Err(e.into()),
        },
    }
}

/// True if `a` and `b` are the same file.
pub(super) fn same_file(a: &FileStat, b: &FileStat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// Removes the leftovers of killed runs from `dir` (shown as `dir_path`), and reports
/// each one on stderr. Never fails: a directory it cannot read is left to the transfer
/// to complain about.
pub(super) fn sweep(dir: BorrowedFd<'_>, dir_path: &Path) {
    let Ok(entries) = std::fs::read_dir(dir_path) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !is_temp_name(name.as_bytes()) {
            continue;
        }
        let shown = dir_path.join(&name);
        match remove_if_abandoned(dir, &name) {
            Ok(true) => unp::err_msg(format_args!(
                "removed {}, a partial file left by an earlier run that was killed",
                shown.display()
            )),
            Ok(false) => {} // a running client's, or gone meanwhile
            Err(e) => unp::err_msg(format_args!(
                "{} may be a partial file left by an earlier run; cannot remove it: {e}",
                shown.display()
            )),
        }
    }
}

/// Removes `name` if it is a regular file that no running client holds locked. Returns
/// whether it did.
fn remove_if_abandoned(dir: BorrowedFd<'_>, name: &OsStr) -> unp::Result<bool> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(false),
        Err(e) => return Err(unp::Error::errno("open", e)),
    };
    let st = fstat(&fd).map_err(|e| unp::Error::errno("fstat", e))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
        return Ok(false);
    }
    if !try_lock(fd.as_fd()).map_err(|e| unp::Error::os("flock", e))? {
        return Ok(false); // a client is writing it
    }
    // Still the file that was locked (not replaced since it was opened)?
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(now) if same_file(&now, &st) => {}
        _ => return Ok(false),
    }
    unlinkat(dir, name, UnlinkatFlags::NoRemoveDir).map_err(|e| unp::Error::errno("unlink", e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_are_recognised_and_short() {
        let a = new_name();
        let b = new_name();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), 14);
        assert!(is_temp_name(a.as_bytes()));
        assert!(!is_temp_name(b".ftpart-ABCDEF"));
        assert!(!is_temp_name(b".ftpart-abc"));
        assert!(!is_temp_name(b".out.ftpart-123-0"));
    }
}
