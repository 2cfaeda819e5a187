//! UNP 13.4's `daemon_init`: turn the running program into a daemon, a process with no
//! controlling terminal that keeps running after its user logs out, and that logs
//! instead of printing.
//!
//! The steps, in order, and why (each is a line of [`daemon_init`]):
//! 1. `fork`, and the parent exits: the shell sees the command finish, and the child is
//!    not a process-group leader, so that
//! 2. `setsid` can make it the leader of a new session with no controlling terminal;
//! 3. ignore `SIGHUP`, which the next step's session leader's exit would send;
//! 4. `fork` again, and the first child exits: the daemon is not a session leader, so
//!    opening a terminal can never make it the daemon's controlling terminal. Its parent
//!    is now init (or the nearest "subreaper", e.g. systemd --user, or a test);
//! 5. `chdir("/")`: not to keep a file system busy (it could not be unmounted);
//! 6. `umask(0)`: files get exactly the modes the daemon asks for;
//! 7. close every descriptor inherited (the terminal's among them), and open
//!    `/dev/null` as 0, 1 and 2, so a stray `printf` or `read` harms nothing;
//! 8. log: through `syslog(3)` where a syslog daemon listens (`/dev/log`), or to a log
//!    file. Containers and minimal systems often run no syslog daemon (no `/dev/log`):
//!    then [`LogTo::File`] is the only way the messages arrive; [`LogTo::auto`] chooses.
//!    With a file, standard output and error go to it too, so a server's usual lines
//!    (`listening on ...`, errors) land in the log.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigHandler, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{ForkResult, dup2_stderr, dup2_stdin, dup2_stdout};

use crate::error::{Context, Error, Result};

/// Where a daemon's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTo {
    /// `syslog(3)`, facility LOG_DAEMON, tagged with the program's name and pid.
    Syslog,
    /// Appended to this file (standard output and error too).
    File(PathBuf),
}

impl LogTo {
    /// Syslog if a syslog daemon listens on `/dev/log`, else the file `fallback`.
    pub fn auto(fallback: &Path) -> LogTo {
        if Path::new("/dev/log").exists() {
            LogTo::Syslog
        } else {
            LogTo::File(fallback.to_path_buf())
        }
    }
}

/// UNP's `daemon_init`: makes this process a daemon (see the module docs for the steps)
/// and sets up [`log`]. Returns in the grandchild only; the two parents exit with 0.
///
/// Call it first thing, before any thread starts: `fork` copies only the calling thread.
/// A relative log path is taken from the directory the program was started in.
pub fn daemon_init(to: &LogTo) -> Result<()> {
    let to = match to {
        LogTo::File(p) => LogTo::File(std::env::current_dir().context("getcwd")?.join(p)),
        LogTo::Syslog => LogTo::Syslog,
    };
    // SAFETY: called before any other thread exists (documented); the child only
    // makes system calls and continues as the whole program.
    if let ForkResult::Parent { .. } = unsafe { nix::unistd::fork() }.context("fork")? {
        std::process::exit(0); // 1. the parent terminates
    }
    nix::unistd::setsid().context("setsid")?; // 2. a new session, no controlling terminal
    // SAFETY: SIG_IGN installs no handler code.
    unsafe { nix::sys::signal::signal(Signal::SIGHUP, SigHandler::SigIgn) }.context("signal")?; // 3.
    // SAFETY: as above; still one thread.
    if let ForkResult::Parent { .. } = unsafe { nix::unistd::fork() }.context("fork")? {
        std::process::exit(0); // 4. the session leader terminates
    }
    std::env::set_current_dir("/").context("chdir")?; // 5.
    nix::sys::stat::umask(Mode::empty()); // 6.
    close_inherited(); // 7. then 0, 1, 2 on /dev/null, or stdout and stderr on the log file
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("open")?;
    dup2_stdin(&null).context("dup2")?;
    dup2_stdout(&null).context("dup2")?;
    dup2_stderr(&null).context("dup2")?;
    match &to {
        LogTo::File(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::os("open", e).with_detail(path.display().to_string()))?;
            dup2_stdout(&file).context("dup2")?;
            dup2_stderr(&file).context("dup2")?;
        }
        LogTo::Syslog => open_syslog()?, // 8.
    }
    let _ = SYSLOG.set(matches!(to, LogTo::Syslog));
    Ok(())
}

static SYSLOG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

#[cfg(target_os = "linux")]
fn open_syslog() -> Result<()> {
    use nix::syslog::{Facility, LogFlags, openlog};
    openlog(None, LogFlags::LOG_PID, Facility::LOG_DAEMON).context("openlog")
}

#[cfg(not(target_os = "linux"))]
fn open_syslog() -> Result<()> {
    use nix::syslog::{Facility, LogFlags, openlog};
    openlog(None::<&str>, LogFlags::LOG_PID, Facility::LOG_DAEMON).context("openlog")
}

/// Closes every descriptor above 2 that this process inherited (UNP closes up to
/// MAXFD, 64; here up to the descriptor limit, at most 65536), and 0–2 are replaced next.
fn close_inherited() {
    // SAFETY: sysconf(3) only reads a system limit.
    let limit = unsafe { nix::libc::sysconf(nix::libc::_SC_OPEN_MAX) };
    let limit = if limit <= 0 { 1024 } else { limit.min(65536) };
    for fd in 3..limit as i32 {
        // SAFETY: nothing in this process owns these descriptors yet (called before any
        // file is opened); close(2) on an unused number fails harmlessly with EBADF.
        unsafe { nix::libc::close(fd) };
    }
}

/// One line to the daemon's log: `syslog(LOG_INFO)` or the log file (stdout), as
/// [`daemon_init`] chose. Errors are ignored: a daemon has nobody to tell.
pub fn log(args: std::fmt::Arguments<'_>) {
    if SYSLOG.get() == Some(&true) {
        let _ = nix::syslog::syslog(nix::syslog::Severity::LOG_INFO, &args.to_string());
    } else {
        crate::error::log(args);
    }
}
