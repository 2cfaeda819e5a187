//! Helpers for the integration tests of unplab's programs (a dev-only crate: never in `unp`).
//!
//! Tests spawn the real binaries on loopback with port 0. Every server prints
//! `listening on ADDR` as its first line of stdout; [`Server::spawn`] waits for that line
//! (with a timeout, never a sleep) and reads the port the kernel chose from it. Every
//! child is killed and reaped when its handle is dropped, also when a test fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once on loopback.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Polls `cond` every few milliseconds until it holds or `timeout` passes; returns
/// whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

mod allocs;
mod drills;
mod net;
mod process;
mod procfs;
mod skips;
mod tempdir;

pub use allocs::{Counting, allocations};
pub use drills::*;
pub use net::*;
pub use process::*;
pub use procfs::*;
pub use skips::*;
pub use tempdir::TempDir;
