//! `pthread_create(3)` for [`super::thread_per_client`], as UNP's threads/tcpserv01.c
//! calls it: a detached thread (nobody joins it) with a small stack.
//!
//! Why not `std::thread::spawn`: a thread per client starts and ends thousands of
//! threads a second, and two things std does for each one cost more than the client's
//! exchange (measured with `perf` on tcpservthread; docs/lab4-instructor.md):
//!
//! - std gives every thread it starts its own signal stack, so that a stack overflow
//!   can be reported: `mmap` and `mprotect` when the thread starts, `munmap` when it
//!   ends. Unmapping memory in a process whose threads run on several CPUs makes the
//!   kernel interrupt the other CPUs to flush their TLBs, and wait for them: at 12,000
//!   connections/s these calls took 30 % of the server's CPU.
//! - std's default stack is 2 MiB; glibc keeps only 40 MiB of ended threads' stacks for
//!   reuse, so with a hundred clients at a time many threads (4 in 10 here) `mmap` a
//!   new stack and `munmap` another.
//!
//! A thread created here has neither: [`STACK`] bytes of stack, reused by glibc from
//! one thread to the next. Everything else — thread-locals, `std::thread::current`,
//! panics — works as in a std thread; a panic ends only that thread. What it loses is
//! std's message for a stack overflow: an overflow still hits the guard page and ends
//! the process, with a plain SIGSEGV.

use std::ffi::c_void;
use std::io;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};

use nix::libc;

/// Each client's thread gets 128 KiB of stack. Enough: the services need under 16 KiB
/// (they ran with glibc's minimum, 16 KiB), and the deepest thing a thread here may do,
/// printing a panic's backtrace (`RUST_BACKTRACE=full`), needs under 32 KiB. A service
/// that wants a large buffer puts it on the heap.
pub const STACK: usize = 128 * 1024;

/// `pthread_create` of a detached thread that runs `job` on a [`STACK`]-byte stack.
/// On failure (`EAGAIN`: too many threads) `job` is dropped without running, and the
/// error is returned.
pub fn create_detached<F: FnOnce() + Send + 'static>(job: F) -> io::Result<()> {
    let job = Box::into_raw(Box::new(job));
    // SAFETY: `run::<F>` takes exactly this kind of Box; its ownership passes to the
    // new thread only if pthread_create succeeds.
    let created = unsafe { create(run::<F>, job.cast()) };
    if created.is_err() {
        // SAFETY: no thread was created, so the Box is still ours.
        drop(unsafe { Box::from_raw(job) });
    }
    created
}

/// The start routine of a thread: `arg` in, nothing out.
type Start = extern "C" fn(*mut c_void) -> *mut c_void;

/// `pthread_attr_init`, the stack size, the detached state, `pthread_create`,
/// `pthread_attr_destroy`.
///
/// # Safety
///
/// `start` must be safe to call with `arg` on another thread.
unsafe fn create(start: Start, arg: *mut c_void) -> io::Result<()> {
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    let attr = attr.as_mut_ptr();
    // SAFETY: `attr` is initialised before any other use and destroyed once.
    unsafe {
        check(libc::pthread_attr_init(attr))?;
        let created = check(libc::pthread_attr_setstacksize(attr, STACK))
            .and_then(|()| {
                let detached = libc::PTHREAD_CREATE_DETACHED;
                check(libc::pthread_attr_setdetachstate(attr, detached))
            })
            .and_then(|()| {
                let mut thread = MaybeUninit::<libc::pthread_t>::uninit();
                check(libc::pthread_create(thread.as_mut_ptr(), attr, start, arg))
            });
        libc::pthread_attr_destroy(attr);
        created
    }
}

/// The new thread's start routine: takes the job back out of its Box and runs it. A
/// panic must not unwind out of an `extern "C"` function: it is caught here (the panic
/// hook has already printed it) and ends only this thread.
extern "C" fn run<F: FnOnce() + Send + 'static>(job: *mut c_void) -> *mut c_void {
    // SAFETY: `job` is the Box that create_detached handed to this thread, used once.
    let job = unsafe { Box::from_raw(job.cast::<F>()) };
    let _ = catch_unwind(AssertUnwindSafe(job));
    std::ptr::null_mut()
}

/// pthread functions return the error number instead of setting `errno`.
fn check(code: libc::c_int) -> io::Result<()> {
    match code {
        0 => Ok(()),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}
