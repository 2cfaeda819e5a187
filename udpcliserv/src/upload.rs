//! Armour for the course's UDP file server: where an upload may be written.
//!
//! The C server `open`s whatever path the client sends, with `O_RDWR|O_CREAT` and no
//! `O_TRUNC`: any client can write any file the server's user may write, and a
//! shorter upload leaves the old file's tail behind. Here the path is taken below the
//! server's `--root`, looked up one component at a time from the root's descriptor
//! with `openat(2)` and `O_NOFOLLOW` (so neither `..` nor a symbolic link leads out,
//! even one swapped in meanwhile), and the file is truncated.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{AT_FDCWD, OFlag, openat};
use nix::sys::stat::Mode;
use unp::{Context, Error, Result};

/// The directory uploads go under, opened once.
#[derive(Debug)]
pub struct UploadRoot {
    real: PathBuf,
    dir: OwnedFd,
}

const DIR: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

impl UploadRoot {
    /// Opens `dir`, which must be an existing directory (it may be reached by symlinks).
    pub fn new(dir: &Path) -> Result<UploadRoot> {
        let real = std::fs::canonicalize(dir)
            .context("realpath")
            .map_err(|e| e.with_detail(dir.display().to_string()))?;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let dir = openat(AT_FDCWD, &real, flags, Mode::empty())
            .context("open")
            .map_err(|e| e.with_detail(real.display().to_string()))?;
        Ok(UploadRoot { real, dir })
    }

    /// Creates (or truncates) the file `request` names below the root, or says why not:
    /// an empty path, a `..`, an absolute path outside the root, a symbolic link on
    /// the way, a directory missing, something that is not a regular file.
    pub fn create(&self, request: &[u8]) -> Result<File> {
        let path = Path::new(OsStr::from_bytes(request));
        let refuse =
            |why: &str| Error::msg(format!("refused: {why}")).with_detail(unp::printable(request));
        if request.is_empty() || request.contains(&0) {
            return Err(refuse("an empty path or a NUL byte"));
        }
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(refuse("`..` may lead outside the server's root"));
        }
        let below = if path.is_absolute() {
            path.strip_prefix(&self.real)
                .map_err(|_| refuse("an absolute path outside the server's root"))?
        } else {
            path
        };
        let names: Vec<&OsStr> = below
            .components()
            .filter_map(|c| {
                if let Component::Normal(n) = c {
                    Some(n)
                } else {
                    None
                }
            })
            .collect();
        let Some((last, dirs)) = names.split_last() else {
            return Err(refuse("the root itself is not a file"));
        };
        let mut at: Option<OwnedFd> = None;
        for name in dirs {
            let fd = openat(
                at.as_ref().map_or(self.dir.as_fd(), |d| d.as_fd()),
                *name,
                DIR,
                Mode::empty(),
            );
            let here = at.as_ref().map_or(self.dir.as_fd(), |d| d.as_fd());
            at = Some(fd.map_err(|e| refuse(&why(here, name, e)))?);
        }
        let flags = OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_TRUNC
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_CLOEXEC;
        let mode = Mode::from_bits_truncate(0o644);
        let here = at.as_ref().map_or(self.dir.as_fd(), |d| d.as_fd());
        let fd = openat(here, *last, flags, mode).map_err(|e| refuse(&why(here, last, e)))?;
        let file = File::from(fd);
        match file.metadata() {
            Ok(m) if m.is_file() => Ok(file),
            _ => Err(refuse("not a regular file")),
        }
    }
}

/// Why `openat(at, name)` failed: a symbolic link says so (`O_NOFOLLOW` reports it as
/// ELOOP, or ENOTDIR with `O_DIRECTORY`), anything else by its `strerror`.
fn why(at: std::os::fd::BorrowedFd<'_>, name: &OsStr, err: nix::errno::Errno) -> String {
    let stat = nix::sys::stat::fstatat(at, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW);
    match stat {
        Ok(st) if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK => {
            format!(
                "{}: a symbolic link (not followed)",
                unp::printable(name.as_bytes())
            )
        }
        _ => format!("{}: {}", unp::printable(name.as_bytes()), err.desc()),
    }
}

/// An upload's idle clock (armour). A receive timeout on the socket (`SO_RCVTIMEO`)
/// starts again with every datagram, anyone's: a second client asking every half
/// second would keep a dead upload open forever. This clock counts from the uploading
/// client's last datagram only.
#[derive(Debug, Clone, Copy)]
pub struct IdleClock {
    limit: Option<std::time::Duration>,
    heard: std::time::Instant,
}

impl IdleClock {
    /// A clock that gives up after `limit` of silence (`None`: never).
    pub fn start(limit: Option<std::time::Duration>) -> IdleClock {
        IdleClock {
            limit,
            heard: std::time::Instant::now(),
        }
    }

    /// The uploading client was heard from.
    pub fn heard(&mut self) {
        self.heard = std::time::Instant::now();
    }

    /// True once the client has been silent for the whole limit (others may still
    /// be sending: the socket's timeout then never fires by itself).
    pub fn expired(&self) -> bool {
        self.limit.is_some_and(|l| self.heard.elapsed() >= l)
    }

    /// The receive timeout to set now: what is left of the limit, at least 1 ms (a
    /// zero `SO_RCVTIMEO` would mean "wait forever"); `None` without a limit.
    pub fn left(&self) -> Option<std::time::Duration> {
        let left = |l: std::time::Duration| l.saturating_sub(self.heard.elapsed());
        self.limit
            .map(|l| left(l).max(std::time::Duration::from_millis(1)))
    }
}

/// One upload in progress on the server: the file (or none, after a refusal or a
/// failed write: the datagrams are then counted and dropped) and what arrived.
#[derive(Debug)]
pub struct Upload {
    path: String,
    file: Option<File>,
    /// Data bytes received.
    pub bytes: u64,
    /// Data datagrams received.
    pub datagrams: u64,
}

impl Upload {
    /// An upload to `path` (as printed), written to `file`.
    pub fn new(path: String, file: Option<File>) -> Upload {
        Upload {
            path,
            file,
            bytes: 0,
            datagrams: 0,
        }
    }

    /// Writes one datagram's data; a failed write (disk full) is reported once and
    /// the rest of the upload is dropped.
    pub fn write(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.datagrams += 1;
        if let Some(f) = &mut self.file {
            if let Err(e) = std::io::Write::write_all(f, data) {
                unp::err_ret(&Error::os("write", e).with_detail(self.path.clone()));
                self.file = None;
            }
        }
    }

    /// The line that ends the upload: complete (END arrived) or given up after `idle`.
    pub fn summary(&self, ended: bool, idle: Option<std::time::Duration>) -> String {
        let what = format!("{} bytes in {} datagrams", self.bytes, self.datagrams);
        match (ended, &self.file) {
            (true, Some(_)) => format!("================END\nwrote {what} to {}", self.path),
            (true, None) => format!("================END\ndropped {what} (nothing written)"),
            (false, _) => format!(
                "no datagram for {:?}: the END marker was lost, or the client is gone; {} kept with {what}",
                idle.unwrap_or_default(),
                self.path
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_clock_counts_from_the_client_only() {
        use std::time::Duration;
        assert_eq!(IdleClock::start(None).left(), None);
        let mut c = IdleClock::start(Some(Duration::from_millis(30)));
        assert!(!c.expired());
        assert!(c.left().is_some_and(|l| l <= Duration::from_millis(30)));
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.expired());
        assert_eq!(c.left(), Some(Duration::from_millis(1))); // never 0: that is "forever"
        c.heard();
        assert!(!c.expired());
    }

    #[test]
    fn only_paths_below_the_root_are_created() {
        let dir = std::env::temp_dir().join(format!("upload-root-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/tmp", dir.join("link")).unwrap();
        let root = UploadRoot::new(&dir).unwrap();
        assert!(root.create(b"copy.txt").is_ok());
        assert!(root.create(b"sub/./copy.txt").is_ok());
        let inside = format!("{}/abs.txt", root.real.display());
        assert!(root.create(inside.as_bytes()).is_ok());
        for bad in [
            &b"../x"[..],
            b"/etc/passwd",
            b"",
            b"sub",
            b"link/x",
            b"link",
            b"nodir/x",
            b"a\0b",
            b".",
        ] {
            let e = root.create(bad).unwrap_err().to_string();
            assert!(e.starts_with("refused: "), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
