//! Resource drills: fresh user ids, RLIMIT_NPROC, RLIMIT_NOFILE, and what a server must survive.

use super::*;

/// Whether a user other than the owner (a test that drops to another user id) can run
/// the program at `path`: every directory above it searchable by others, the file
/// executable by others. `Err` says what is in the way, for the test's skip message.
pub fn others_can_execute(path: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::path::Path::new(path);
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode())
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    if mode(path)? & 0o001 == 0 {
        return Err(format!("{} is not executable by others", path.display()));
    }
    for dir in path
        .ancestors()
        .skip(1)
        .filter(|d| !d.as_os_str().is_empty())
    {
        if mode(dir)? & 0o001 == 0 {
            return Err(format!("{} is not searchable by others", dir.display()));
        }
    }
    Ok(())
}

/// Prepares `cmd` (which runs `program`) to run as a fresh, unused user id with at most
/// `n` processes and threads (RLIMIT_NPROC), to make `fork` or `pthread_create` fail
/// on purpose. Returns `false` after a [`skip`] (requirement `UNPLAB_REQUIRE_ROOT`) when
/// that is impossible here: not root, or the program is not reachable by another user.
///
/// A fresh id per call rather than `nobody`: the limit counts every process of the
/// user, so only an id that owns nothing else makes `n` exact, also with tests running
/// in parallel. (As root itself the limit would not bind at all.)
#[track_caller]
pub fn limit_processes_as_fresh_user(cmd: &mut Command, program: &str, n: u64) -> bool {
    use std::os::unix::process::CommandExt;
    if !as_fresh_user(cmd, program, "the RLIMIT_NPROC drill") {
        return false;
    }
    // SAFETY: runs in the child after std's setgroups/setgid/setuid and before exec;
    // setrlimit(2) is async-signal-safe and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NPROC, n, n)
                .map_err(std::io::Error::from)
        });
    }
    true
}

/// Prepares `cmd` (which runs `program`) to run as a fresh user id that owns nothing
/// and has no privileges. Returns `false` after a [`skip`] (requirement
/// `UNPLAB_REQUIRE_ROOT`) when that is impossible: only root can change user, and the
/// program must be reachable by another user. `what` names the test's need in the skip.
#[track_caller]
pub fn as_fresh_user(cmd: &mut Command, program: &str, what: &str) -> bool {
    use std::os::unix::process::CommandExt;
    let Some(id) = fresh_user_id(program, what) else {
        return false;
    };
    cmd.uid(id).gid(id);
    true
}

/// A user id no process has used, or `None` after a [`skip`] (see [`as_fresh_user`]).
#[track_caller]
fn fresh_user_id(program: &str, what: &str) -> Option<u32> {
    if !nix::unistd::geteuid().is_root() {
        skip(
            "UNPLAB_REQUIRE_ROOT",
            &format!("{what} needs root: only root can start a program as another, fresh user id"),
        );
        return None;
    }
    if let Err(why) = others_can_execute(program) {
        skip(
            "UNPLAB_REQUIRE_ROOT",
            &format!("{what}: another user cannot run the program here: {why}"),
        );
        return None;
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Some(3_000_000 + std::process::id() * 16 + call)
}

/// Limits the program's descriptors to `n` (RLIMIT_NOFILE), as `prlimit --nofile=n:n`
/// would, to make `accept` fail with EMFILE on purpose.
pub fn limit_descriptors(cmd: &mut Command, n: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // setrlimit(2), which is async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, n, n)
                .map_err(std::io::Error::from)
        });
    }
}

/// Opens `connections` connections to a server started with few descriptors (the
/// kernel completes them all: the backlog), waits for its first `accept error` line on
/// stderr and asserts it is exactly `expected`. Returns the connections, still open.
pub fn exhaust_descriptors(s: &mut Server, connections: usize, expected: &str) -> Vec<TcpStream> {
    let storm: Vec<TcpStream> = (0..connections).map(|_| s.connect()).collect();
    let line = s
        .proc
        .expect_stderr_line("accept failing with EMFILE", |l| l.contains("accept error"));
    assert_eq!(line, expected);
    storm
}

/// With every process or thread the server may have in use: one more client connects,
/// the server reports `PREFIX... (EAGAIN)` (fork or pthread_create failed) and the
/// client sees its connection closed, not left hanging.
pub fn expect_unserved_client(s: &mut Server, prefix: &str) {
    let mut refused = s.connect();
    let line = s
        .proc
        .expect_stderr_line("a failure with EAGAIN", |l| l.contains("(EAGAIN)"));
    assert!(
        line.starts_with(prefix) && line.ends_with("(EAGAIN)\n"),
        "{line:?}"
    );
    assert!(
        sees_close(&mut refused),
        "the unserved client was not closed"
    );
}

/// After a shortage the test caused by holding `held`: releases them and asserts that
/// the server is still running and serves a new client (`served`, which should poll
/// with [`wait_until`]).
pub fn expect_recovery(s: &mut Server, held: Vec<TcpStream>, served: impl Fn(u16) -> bool) {
    drop(held);
    assert!(
        served(s.port()),
        "no client served after the shortage; server running: {}",
        s.proc.is_running()
    );
    assert!(s.proc.is_running());
}

/// Runs `program ARGS` as a student without privileges would, to see a bind to port
/// `port` (below 1024) fail with EACCES, and returns its output. As root, the program
/// runs as a fresh user id in a network namespace of its own, where the kernel's default
/// holds (ports below 1024 privileged) whatever `ip_unprivileged_port_start` this machine
/// has; otherwise it runs as is. `None` after a [`skip`] (requirement
/// `UNPLAB_REQUIRE_PRIVILEGED_PORTS`) when neither way works here.
#[track_caller]
pub fn run_without_privileges(
    program: &str,
    args: &[&str],
    port: u16,
) -> Option<std::process::Output> {
    let requirement = "UNPLAB_REQUIRE_PRIVILEGED_PORTS";
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    if nix::unistd::geteuid().is_root() {
        #[cfg(target_os = "linux")]
        if !as_fresh_user_in_own_network(&mut cmd, program) {
            return None;
        }
        #[cfg(not(target_os = "linux"))]
        {
            skip(
                requirement,
                "as root, the test needs Linux network namespaces",
            );
            return None;
        }
    } else {
        let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .unwrap_or(1024);
        if start <= port {
            skip(
                requirement,
                &format!(
                    "this machine lets anyone listen on port {port} \
                     (ip_unprivileged_port_start={start}); as root the test makes a \
                     network namespace where it cannot"
                ),
            );
            return None;
        }
    }
    match cmd.output() {
        Ok(out) => Some(out),
        Err(e) => {
            skip(
                requirement,
                &format!("cannot start {program} unprivileged: {e}"),
            );
            None
        }
    }
}

/// Prepares `cmd` to run as a fresh user id in a new network namespace; `false` after a
/// [`skip`] (see [`as_fresh_user`]).
#[cfg(target_os = "linux")]
#[track_caller]
fn as_fresh_user_in_own_network(cmd: &mut Command, program: &str) -> bool {
    use std::os::unix::process::CommandExt;
    let Some(id) = fresh_user_id(program, "binding a privileged port unprivileged") else {
        return false;
    };
    let (uid, gid) = (
        nix::unistd::Uid::from_raw(id),
        nix::unistd::Gid::from_raw(id),
    );
    // SAFETY: runs in the child between fork and exec; unshare(2), setgroups(2),
    // setgid(2) and setuid(2) are plain system calls and nothing is allocated. The
    // namespace comes first: a user without privileges could not make one.
    unsafe {
        cmd.pre_exec(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
            nix::unistd::setgroups(&[])?;
            nix::unistd::setgid(gid)?;
            nix::unistd::setuid(uid)?;
            Ok(())
        });
    }
    true
}
