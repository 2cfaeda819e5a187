//! `reap_children` leaves no zombie when many children exit at the same moment, the case
//! where a handler that calls `wait` once per SIGCHLD loses most of them.
//!
//! Alone in its test binary: the reaper reaps every child of the process.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::kill;
use std::os::fd::AsRawFd;

use nix::unistd::{Pid, pipe, read};
use unp::process::{ForkResult, exit_child, fork};

const CHILDREN: usize = 50;

/// True while `pid` exists, zombie or not: `kill(pid, 0)` succeeds on a zombie and
/// fails with ESRCH once it has been reaped.
fn exists(pid: Pid) -> bool {
    kill(pid, None) != Err(Errno::ESRCH)
}

#[test]
fn fifty_children_exiting_at_once_leave_no_zombie() {
    unp::signal::reap_children().unwrap();
    let (gate_read, gate_write) = pipe().unwrap();
    let mut pids = Vec::new();
    for _ in 0..CHILDREN {
        // SAFETY: the child calls only read(2) and _exit(2), both async-signal-safe,
        // so the other threads of the test harness cannot leave it stuck on a lock.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                // Close this child's copy of the write end (close(2) is
                // async-signal-safe): while any copy is open nobody sees EOF. Then wait
                // until the parent closes its copy: all children see EOF and exit
                // together.
                let _ = nix::unistd::close(gate_write.as_raw_fd());
                let mut b = [0u8; 1];
                let _ = read(&gate_read, &mut b);
                exit_child(0);
            }
            ForkResult::Parent { child } => pids.push(child),
        }
    }
    drop(gate_read);
    assert!(
        pids.iter().all(|&p| exists(p)),
        "children are waiting at the gate"
    );
    drop(gate_write); // all 50 exit now

    let start = Instant::now();
    loop {
        let left: Vec<Pid> = pids.iter().copied().filter(|&p| exists(p)).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} children still exist (zombies): {left:?}",
            left.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
