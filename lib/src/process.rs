//! Processes: UNP's `Fork`, `Wait` and `Waitpid`, over [`nix`].
//!
//! The concurrent servers of UNP chapter 5 fork one child per client. The parent closes
//! its copy of the connected socket, the child closes its copy of the listening socket,
//! and when the child exits the kernel sends the parent SIGCHLD. Until the parent calls
//! `wait` or `waitpid`, the dead child stays a *zombie* (state `Z` in `ps`).

use std::io::Write;

pub use nix::sys::wait::{WaitPidFlag, WaitStatus};
pub use nix::unistd::{ForkResult, Pid};

use crate::error::{Context, Result};

/// `fork(2)`: a copy of this process. Returns `ForkResult::Child` in the child and
/// `ForkResult::Parent { child }` in the parent.
///
/// Adds only the error context (`fork error: Resource temporarily unavailable (EAGAIN)`
/// when the process limit is reached).
///
/// # Safety
///
/// The child of a multi-threaded process is a copy with *one* thread: every lock another
/// thread held at the moment of the fork (stdout's, the allocator's, a logger's) stays
/// locked forever in the child. So call this only from a single-threaded program, or
/// have the child call nothing but async-signal-safe functions before it `exec`s or
/// exits. unplab's forking servers are single-threaded: they reap children from the
/// SIGCHLD handler itself, not from a helper thread.
pub unsafe fn fork() -> Result<ForkResult> {
    // SAFETY: the caller upholds the single-thread rule documented above.
    unsafe { nix::unistd::fork() }.context("fork")
}

/// Ends a forked child: flushes stdout, then `_exit(2)`.
///
/// `_exit` rather than `exit`: the child shares its parent's copy of everything the
/// parent set up (buffers, temporary files, atexit handlers); it must not run the
/// parent's clean-up a second time. The one thing it flushes is its own stdout, so
/// what it printed is not lost.
pub fn exit_child(status: i32) -> ! {
    let _ = std::io::stdout().flush();
    // SAFETY: _exit(2) ends the process at once; it touches no Rust state.
    unsafe { nix::libc::_exit(status) }
}

/// `wait(2)`: blocks until some child ends and returns its status (UNP's sigchldwait
/// calls it once per SIGCHLD, which loses children: see [`crate::signal`]).
pub fn wait() -> Result<WaitStatus> {
    nix::sys::wait::wait().context("wait")
}

/// `waitpid(2)`: waits for child `pid` (`None`: any child). With
/// `WaitPidFlag::WNOHANG` it returns `WaitStatus::StillAlive` instead of blocking, which
/// is what lets UNP's sigchldwaitpid reap *every* exited child in a loop.
pub fn waitpid(pid: Option<Pid>, flags: WaitPidFlag) -> Result<WaitStatus> {
    nix::sys::wait::waitpid(pid, Some(flags)).context("waitpid")
}
