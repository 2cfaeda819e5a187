//! The clients' handler for fatal signals: it removes a named temporary file, says what
//! happened, and ends the process.
//!
//! Which signals: every one whose default action ends the process and that a handler
//! can catch, when it comes from outside: a closed terminal (SIGHUP), Ctrl-C and Ctrl-\
//! (SIGINT, SIGQUIT), `kill` (SIGTERM, SIGUSR1, SIGUSR2, the real-time signals…), timers
//! and limits (SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ), SIGPIPE. Not the faults
//! a bug of the program itself raises (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
//! SIGSYS, SIGTRAP): Rust's own handlers report those. Nor SIGKILL, which nothing can
//! catch. For those, the unnamed temporary file of Linux leaves nothing anyway, and
//! elsewhere the next run in that directory finds what is left ([`super::leftovers`]).
//!
//! A signal that was ignored when the program started stays ignored (`nohup ftclient
//! ...` keeps running when its terminal closes; a background job ignores Ctrl-C), as
//! every well-behaved Unix program does. SIGPIPE is the exception: Rust itself ignores
//! it before `main`, so it is always handled, and between transfers the handler does
//! nothing, which is what ignoring it did.
//!
//! Doing the work in the handler, rather than setting a flag for the main loop, is what
//! makes it race-free: a flag set just after the loop checked it, and just before the
//! loop blocks in `read(2)`, is only seen when that read returns, up to `--timeout`
//! later. The handler only loads atomics and calls `unlinkat(2)`, `write(2)` and
//! `_exit(2)`, all async-signal-safe (`signal-safety(7)`); everything it reads was
//! built before, and is never freed.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use nix::libc::{self, c_int};
use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
use unp::signal::SafeLine;
use unp::{Error, Result};

/// The running transfer's message, in three parts around the signal's name:
/// `PROGRAM: interrupted` + ` by SIGHUP` + ` (LOCAL not written)\n`.
#[derive(Debug)]
pub(super) struct Pending {
    head: Box<[u8]>,
    tail: Box<[u8]>,
}

/// A named temporary file for the handler to remove: its directory and its name there.
#[derive(Debug)]
pub(super) struct NamedTemp {
    dir: RawFd,
    name: CString,
}

/// The running transfer's [`Pending`], or null between transfers.
static PENDING: AtomicPtr<Pending> = AtomicPtr::new(ptr::null_mut());
/// The named temporary file that exists now, or null.
static TEMP: AtomicPtr<NamedTemp> = AtomicPtr::new(ptr::null_mut());
/// Whether [`clean_up_on_fatal_signals`] installed the handler.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The signals the handler is for (see the module docs).
fn catchable_fatal_signals() -> Vec<c_int> {
    use libc::*;
    #[allow(unused_mut)] // only Linux adds more
    let mut v = vec![
        SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ,
        SIGVTALRM, SIGPROF,
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        v.extend([SIGSTKFLT, SIGIO, SIGPWR]);
        v.extend(SIGRTMIN()..=SIGRTMAX());
    }
    v
}

/// The name the message gives a signal, or `None` (then `signal N`).
fn name(sig: c_int) -> Option<&'static str> {
    nix::sys::signal::Signal::try_from(sig)
        .ok()
        .map(|s| s.as_str())
}

/// The handler. During a transfer it removes the named temporary file (if there is one)
/// and writes `PROGRAM: interrupted by SIGHUP (LOCAL not written)` (just `interrupted`
/// for SIGINT, Ctrl-C); then it ends the process with status 128 + the signal's number,
/// as a shell reports a process killed by it. Between transfers it just ends the
/// process, except for SIGPIPE, which it ignores then.
extern "C" fn on_fatal_signal(sig: c_int) {
    let pending = PENDING.load(Ordering::SeqCst);
    if pending.is_null() && sig == libc::SIGPIPE {
        return;
    }
    let temp = TEMP.load(Ordering::SeqCst);
    if !temp.is_null() {
        // SAFETY: a non-null TEMP comes from Box::leak and is never freed; unlinkat(2)
        // is async-signal-safe and the name is NUL-terminated.
        unsafe {
            let t = &*temp;
            libc::unlinkat(t.dir, t.name.as_ptr(), 0);
        }
    }
    if !pending.is_null() {
        // SAFETY: as for TEMP: leaked, never freed.
        let p = unsafe { &*pending };
        write_stderr(&p.head);
        if sig != libc::SIGINT {
            let mut by = SafeLine::new();
            match name(sig) {
                Some(n) => by.push_str(" by ").push_str(n),
                None => by.push_str(" by signal ").push_int(sig.into()),
            };
            write_stderr(by.as_bytes());
        }
        write_stderr(&p.tail);
    }
    // SAFETY: _exit(2) is async-signal-safe and runs no Rust code.
    unsafe { libc::_exit(128 + sig) }
}

/// `write(2)` of all of `bytes` to stderr, as far as it goes. Async-signal-safe.
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: write(2) of a buffer we hold, for its length.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// True if `sig` is ignored now (as the program was started: `nohup`, a background job).
fn is_ignored(sig: c_int) -> bool {
    // SAFETY: sigaction(2) with no new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Makes every fatal signal a handler can catch clean up: during a transfer the handler
/// removes the named temporary file (an unnamed one needs nothing), prints `PROGRAM:
/// interrupted (LOCAL not written)` (SIGINT) or `PROGRAM: interrupted by SIGHUP (LOCAL
/// not written)` (the others), and exits with 128 + the signal's number; between
/// transfers it just exits so (SIGPIPE excepted: ignored then).
///
/// The signals: SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
/// SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, and on Linux SIGSTKFLT, SIGIO, SIGPWR and the
/// real-time signals. One ignored when the program started stays ignored (`nohup`, a
/// background job), SIGPIPE excepted (Rust ignores it before `main`). Not the faults
/// of a buggy program (SIGSEGV, SIGBUS, SIGABRT…), nor SIGKILL: the unnamed temporary
/// file, or the next run's clean-up of leftovers, covers those. While the handler runs,
/// every other signal waits.
pub fn clean_up_on_fatal_signals() -> Result<()> {
    for sig in catchable_fatal_signals() {
        if sig != libc::SIGPIPE && is_ignored(sig) {
            continue;
        }
        // SAFETY: the action is filled in completely before sigaction(2) reads it, and
        // the handler is async-signal-safe (see there).
        let failed = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as extern "C" fn(c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigfillset(&mut action.sa_mask);
            libc::sigaction(sig, &action, ptr::null_mut()) != 0
        };
        if failed {
            return Err(Error::last_os("sigaction"));
        }
    }
    INSTALLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// Runs `f` with every signal blocked on this thread, so that the handler sees a file
/// and its registration change together: a signal arriving meanwhile is delivered when
/// the mask is restored.
pub(super) fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    let mut old = SigSet::empty();
    let blocked =
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut old)).is_ok();
    let result = f();
    if blocked {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    result
}

/// The message for a transfer into `local`, if the handler is installed (else `None`).
/// Leaked: a handler may read it at any time (a few dozen bytes per transfer).
pub(super) fn message_for(
    local: &std::path::Path,
    progress_line: bool,
) -> Option<&'static Pending> {
    if !INSTALLED.load(Ordering::SeqCst) {
        return None;
    }
    let mut head = String::new();
    if progress_line {
        head.push('\n'); // end a progress line first
    }
    head.push_str(&format!("{}: interrupted", unp::error::program_name()));
    let tail = format!(" ({} not written)\n", local.display());
    Some(Box::leak(Box::new(Pending {
        head: head.into_bytes().into_boxed_slice(),
        tail: tail.into_bytes().into_boxed_slice(),
    })))
}

/// A named temporary file's entry for the handler, if it is installed. Leaked like
/// [`Pending`].
pub(super) fn temp_entry(dir: RawFd, name: &CString) -> Option<&'static NamedTemp> {
    INSTALLED.load(Ordering::SeqCst).then(|| {
        &*Box::leak(Box::new(NamedTemp {
            dir,
            name: name.clone(),
        }))
    })
}

/// Makes `p` the running transfer's message. Call with signals blocked.
pub(super) fn set_pending(p: Option<&'static Pending>) {
    swap(&PENDING, p);
}

/// Makes `t` the temporary file the handler removes (or none). Call with signals blocked.
pub(super) fn set_temp(t: Option<&'static NamedTemp>) {
    swap(&TEMP, t);
}

fn swap<T>(slot: &AtomicPtr<T>, value: Option<&'static T>) {
    let raw = value.map_or(ptr::null_mut(), |v| ptr::from_ref(v).cast_mut());
    slot.store(raw, Ordering::SeqCst);
}
