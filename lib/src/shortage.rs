//! Armour: a server that runs short of descriptors, memory or processes pauses instead
//! of exiting.
//!
//! `accept`, `fork` and `pthread_create` can fail although nothing is wrong with the
//! listening socket: every client holds a descriptor (`EMFILE` once the limit is
//! reached), the user may run only so many processes (`EAGAIN` from `fork`). A server
//! that exits on such an error lets a few hundred idle clients stop it for everyone. So
//! every unplab server loop calls [`pause`] in one line beside its lesson:
//!
//! ```text
//! Err(e) if unp::shortage::pause(&e) => continue, // out of descriptors: reported, paused
//! ```
//!
//! The connections that arrive meanwhile stay queued in the kernel (the listen backlog)
//! and are accepted once a client leaves.

use std::time::Duration;

use nix::errno::Errno;

use crate::error::{Error, err_ret};

/// How long a server waits after a resource shortage before it goes on.
pub const PAUSE: Duration = Duration::from_millis(100);

/// True for failures that come from a shortage of resources at this moment, not from
/// the socket: out of descriptors (`EMFILE`, `ENFILE`), memory or buffers (`ENOMEM`,
/// `ENOBUFS`), processes or threads (`EAGAIN` from `fork` or `pthread_create`).
pub fn is_shortage(err: &Error) -> bool {
    matches!(
        err.raw_os_error().map(Errno::from_raw),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM | Errno::ENOBUFS | Errno::EAGAIN)
    )
}

/// If `err` is a resource shortage ([`is_shortage`]): reports it on stderr
/// (`accept error: Too many open files (EMFILE)`), waits [`PAUSE`] so that the server
/// does not spin while the shortage lasts, and returns true: "call again". Any other
/// error returns false at once and is the caller's to handle.
pub fn pause(err: &Error) -> bool {
    if !is_shortage(err) {
        return false;
    }
    err_ret(err);
    std::thread::sleep(PAUSE);
    true
}
