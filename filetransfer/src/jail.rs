//! Armour: a request that tries to leave the served directory (`--root`).
//!
//! The C FTServer passes whatever path arrives to `open(2)`: `../../etc/shadow`, a
//! directory, `/dev/zero` (an endless "file") or a FIFO (where `open` blocks forever).
//! [`Root::open`] is the one call the server makes instead: it opens only a regular file
//! below the root, looked up race-free (one `openat(2)` per component, no symlink
//! followed), and says why not otherwise ([`Refusal`]).

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstatat};
use unp::{Context, Error, Result};

use crate::proto::{self, RequestError};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
