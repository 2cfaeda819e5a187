//! Signals: UNP's `Signal` and `Signal_intr`, a SIGCHLD reaper, and a way to print from
//! a handler.
//!
//! # Why handlers are dangerous
//!
//! A signal handler runs *in the middle of* whatever the program was doing: between two
//! instructions of `println!`, while `malloc` holds its lock, halfway through updating a
//! `Vec`. If the handler then calls `println!` or allocates, it may wait forever on a lock
//! its own thread already holds, or see half-updated data. POSIX therefore lists the few
//! *async-signal-safe* functions a handler may call (`signal-safety(7)`): `write`,
//! `waitpid`, `_exit`, `kill` and a few dozen more. Everything in this module keeps to
//! them:
//!
//! - a handler may set an atomic flag, call `waitpid(-1, WNOHANG)`, `write(2)` a message
//!   built in a stack buffer ([`SafeLine`]), or `_exit`;
//! - it must not call `println!`, format with `format!`, allocate, lock a mutex or
//!   touch a `RefCell`;
//! - it must save and restore `errno`, because the interrupted code may be about to read
//!   it (the reaper here does).
//!
//! The compiler cannot check any of this, which is why [`signal`] and [`signal_intr`] are
//! `unsafe`: the caller promises the handler keeps to the list.
//!
//! # Restart or interrupt
//!
//! When a handler returns, a slow system call it interrupted (`accept`, `read` on a
//! socket) either restarts (`SA_RESTART`) or fails with `EINTR`. UNP's `Signal` sets
//! `SA_RESTART` for every signal except SIGALRM (so that SIGALRM can put a timeout on a
//! blocking call); `Signal_intr` never sets it. A program that uses the latter, like UNP's
//! tcpserv04 on systems without `SA_RESTART`, must handle `EINTR` itself.

use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigSet};
pub use nix::sys::signal::{SigHandler, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus};

use crate::error::{Context, Error, Result};

/// UNP's `Signal`: installs `handler` for `sig` with `sigaction(2)` and returns the
/// previous disposition.
///
/// Adds UNP's policy: `SA_RESTART` for every signal but SIGALRM, so a blocked `accept` or
/// `read` continues after the handler returns; SIGALRM interrupts (`EINTR`) so it can
/// time out a call. The mask is empty: other signals may arrive during the handler.
///
/// # Safety
///
/// A `SigHandler::Handler` must do only async-signal-safe work (see the module docs).
pub unsafe fn signal(sig: Signal, handler: SigHandler) -> Result<SigHandler> {
    let flags = if sig == Signal::SIGALRM {
        SaFlags::empty()
    } else {
        SaFlags::SA_RESTART
    };
    // SAFETY: forwarded to the caller.
    unsafe { install(sig, handler, flags) }
}

/// UNP's `Signal_intr`: like [`signal`] but never restarts: a slow system call the
/// handler interrupts fails with `EINTR`.
///
/// # Safety
///
/// As for [`signal`].
pub unsafe fn signal_intr(sig: Signal, handler: SigHandler) -> Result<SigHandler> {
    // SAFETY: forwarded to the caller.
    unsafe { install(sig, handler, SaFlags::empty()) }
}

unsafe fn install(sig: Signal, handler: SigHandler, flags: SaFlags) -> Result<SigHandler> {
    let action = SigAction::new(handler, flags, SigSet::empty());
    // SAFETY: the handler's safety is the caller's promise.
    let old = unsafe { nix::sys::signal::sigaction(sig, &action) }
        .map_err(|e| Error::errno("sigaction", e).with_detail(sig.as_str()))?;
    Ok(old.handler())
}

static REAPER_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Makes sure this process never keeps a zombie: on every SIGCHLD, reaps *all* children
/// that have exited, with `waitpid(-1, WNOHANG)` in a loop (UNP's sigchldwaitpid).
///
/// Why a loop: signals are not queued. If five children exit at once the parent may get
/// one SIGCHLD for all five; a handler that calls `wait` once (UNP's sigchldwait) reaps
/// one and leaves four zombies. The loop reaps until `waitpid` says no exited child is
/// left.
///
/// Built on signal-hook, which installs the handler with `SA_RESTART` (blocked calls
/// continue) and lets it coexist with other handlers. Children that exited before the
/// call are reaped at once. Calling it again does nothing.
///
/// Note that it reaps *every* child of the process: a program that also waits for a
/// particular child (e.g. `std::process::Command`) must not use it.
pub fn reap_children() -> Result<()> {
    if REAPER_INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    // SAFETY: the closure calls only waitpid and reads/writes errno, all
    // async-signal-safe; it allocates nothing and takes no lock.
    let registered = unsafe {
        signal_hook::low_level::register(signal_hook::consts::SIGCHLD, || {
            let saved = Errno::last_raw();
            reap_exited();
            Errno::set_raw(saved);
        })
    };
    if let Err(e) = registered {
        REAPER_INSTALLED.store(false, Ordering::SeqCst);
        return Err(e).context("sigaction");
    }
    reap_exited();
    Ok(())
}

/// Reaps every child that has already exited, without blocking; returns how many.
/// Async-signal-safe.
pub fn reap_exited() -> usize {
    reap_exited_each(|_| {})
}

/// UNP's `while ((pid = waitpid(-1, &stat, WNOHANG)) > 0)`: reaps every child that has
/// already exited and hands each status to `each` (tcpcliserv's `sig_chld_waitpid`
/// prints `child PID terminated`); returns how many. Stops when `waitpid` reports no
/// exited child left (`StillAlive`) or no child at all (`ECHILD`); `WNOHANG` keeps it
/// from blocking on children that are still running. Async-signal-safe if `each` is.
pub fn reap_exited_each(mut each: impl FnMut(WaitStatus)) -> usize {
    let mut reaped = 0;
    loop {
        match nix::sys::wait::waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return reaped,
            Ok(status) => {
                each(status);
                reaped += 1;
            }
        }
    }
}

/// A line built on the stack and written with one `write(2)`: how a handler prints
/// `child 1234 terminated` without `println!`.
///
/// Text beyond the capacity (128 bytes) is dropped.
///
/// ```
/// let mut line = unp::signal::SafeLine::new();
/// line.push_str("child ").push_int(1234).push_str(" terminated\n");
/// assert_eq!(line.as_bytes(), b"child 1234 terminated\n");
/// ```
pub struct SafeLine {
    buf: [u8; 128],
    len: usize,
}

impl Default for SafeLine {
    fn default() -> Self {
        SafeLine::new()
    }
}

impl SafeLine {
    /// An empty line.
    pub const fn new() -> Self {
        SafeLine {
            buf: [0; 128],
            len: 0,
        }
    }

    /// Appends text.
    pub fn push_str(&mut self, s: &str) -> &mut Self {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                break;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        self
    }

    /// Appends a decimal integer, without allocating.
    pub fn push_int(&mut self, n: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if n < 0 {
            self.push_str("-");
        }
        // The digits are ASCII, so this cannot fail.
        self.push_str(std::str::from_utf8(&digits[i..]).unwrap_or(""))
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Writes the line to standard output with `write(2)`; errors are ignored (there is
    /// nobody to tell inside a handler). Async-signal-safe.
    pub fn write_stdout(&self) {
        self.write_fd(nix::libc::STDOUT_FILENO);
    }

    /// As [`SafeLine::write_stdout`], to standard error.
    pub fn write_stderr(&self) {
        self.write_fd(nix::libc::STDERR_FILENO);
    }

    fn write_fd(&self, fd: i32) {
        let mut rest = self.as_bytes();
        while !rest.is_empty() {
            // SAFETY: write(2) on a buffer we own, for its exact length.
            let n = unsafe { nix::libc::write(fd, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                rest = &rest[n as usize..];
            } else if n < 0 && Errno::last() == Errno::EINTR {
                continue;
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_line_formats_integers() {
        let mut l = SafeLine::new();
        l.push_int(0)
            .push_str(" ")
            .push_int(-42)
            .push_str(" ")
            .push_int(i64::MIN);
        assert_eq!(l.as_bytes(), b"0 -42 -9223372036854775808");
    }

    #[test]
    fn safe_line_truncates_at_capacity() {
        let mut l = SafeLine::new();
        for _ in 0..50 {
            l.push_str("abc");
        }
        assert_eq!(l.as_bytes().len(), 128);
    }
}
