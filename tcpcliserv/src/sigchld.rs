//! The two SIGCHLD handlers of UNP chapter 5, for comparing side by side.
//!
//! When a child exits, the kernel sends its parent SIGCHLD and keeps the child as a
//! zombie until the parent collects its status. Both handlers below collect and print
//! `child PID terminated`; they differ in how many children they collect per signal.
//!
//! - [`sig_chld_wait`] (UNP sigchldwait.c, used by tcpserv02) calls `wait` once.
//! - [`sig_chld_waitpid`] (UNP sigchldwaitpid.c, used by tcpserv04, 08 and 09) calls
//!   `waitpid(-1, WNOHANG)` until no exited child is left. The loop is
//!   [`unp::signal::reap_exited_each`], the one every unplab reaper uses.
//!
//! Standard signals are not queued: while SIGCHLD is pending, more SIGCHLDs are merged
//! into it. When five children exit at the same moment (tcpcli04 closing its five
//! connections), the parent may run its handler fewer than five times. With `wait` once
//! per call, every lost signal is a child left as a zombie; how many depends on timing,
//! so tcpserv02 leaves anywhere from zero to four. The `waitpid` loop reaps them all.
//!
//! Both are async-signal-safe: they only call `wait`/`waitpid` and `write(2)` (through
//! [`SafeLine`]), allocate nothing, and restore `errno` for the code they interrupted.
//! UNP's own handlers call `printf`, which is not safe in a handler.

use std::ffi::c_int;

use nix::errno::Errno;
use nix::sys::wait::WaitStatus;
use unp::signal::SafeLine;

/// Prints `child PID terminated` with one `write(2)`.
fn print_terminated(status: WaitStatus) {
    if let Some(pid) = status.pid() {
        let mut line = SafeLine::new();
        line.push_str("child ")
            .push_int(i64::from(pid.as_raw()))
            .push_str(" terminated\n");
        line.write_stdout();
    }
}

/// UNP's sigchldwait.c: reaps *one* child per signal with `wait`.
///
/// Install with [`unp::signal::signal`]. Correct when children exit one at a time;
/// leaves zombies when several exit together (see the module docs).
pub extern "C" fn sig_chld_wait(_signo: c_int) {
    let saved = Errno::last_raw();
    if let Ok(status) = nix::sys::wait::wait() {
        print_terminated(status);
    }
    Errno::set_raw(saved);
}

/// UNP's sigchldwaitpid.c: reaps *every* exited child, calling `waitpid(-1, WNOHANG)`
/// until it reports none left (`StillAlive`) or no child at all (`ECHILD`), and prints
/// `child PID terminated` for each. `WNOHANG` matters: without it the loop would block
/// on children that are still serving clients.
pub extern "C" fn sig_chld_waitpid(_signo: c_int) {
    let saved = Errno::last_raw();
    // while ((pid = waitpid(-1, &stat, WNOHANG)) > 0) printf("child %d terminated\n", pid);
    // One SIGCHLD may stand for several exits: collect until no exited child is left.
    unp::signal::reap_exited_each(print_terminated);
    Errno::set_raw(saved);
}
