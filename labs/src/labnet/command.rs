//! Running `ip`, printed first the way `sh -x` prints a command (`+ ip netns add
//! labnet-client`), so that a student sees, and can type, every step labnet takes.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Stops (or resumes) printing the command trace: `labnet bench` builds a network for
/// each measurement, and its table would drown in the same commands.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Prints a line of the command trace (`+ WORDS`) on stdout.
///
/// A stdout that went away (`labnet run ... | head -3`) must not stop the teardown that
/// prints these lines: the write's error is ignored ([`unp::log`]), never a panic.
pub fn trace(line: impl std::fmt::Display) {
    if !QUIET.load(Ordering::Relaxed) {
        unp::log(format_args!("+ {line}"));
    }
}

/// Runs `ip ARGS`, printed first; returns its standard output. A failure is reported
/// the UNP way: `ip netns add error: Cannot create namespace file ...: File exists`.
pub fn ip(args: &[&str]) -> unp::Result<String> {
    trace(format_args!("ip {}", args.join(" ")));
    ip_quiet(args)
}

/// Runs `ip ARGS` without printing it (for questions, not changes).
pub fn ip_quiet(args: &[&str]) -> unp::Result<String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| unp::Error::os("ip", e).with_detail("install iproute2"))?;
    if !out.status.success() {
        let what: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| *a != "-n")
            .take(2)
            .collect();
        return Err(unp::Error::msg(format!(
            "ip {} error: {}",
            what.join(" "),
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether this process may build networks: root, or CAP_NET_ADMIN with CAP_SYS_ADMIN
/// (namespaces are mounted under /run/netns). Otherwise an error that says what works
/// without them.
pub fn check_privilege() -> unp::Result<()> {
    const NET_ADMIN: u32 = 12;
    const SYS_ADMIN: u32 = 21;
    let caps = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(0);
    let has = |bit: u32| caps & (1 << bit) != 0;
    if has(NET_ADMIN) && has(SYS_ADMIN) {
        return Ok(());
    }
    Err(unp::Error::msg(
        "labnet needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces \
         and TUN devices: run it with sudo. Without them, run the server and the client in two \
         terminals on this machine's loopback (127.0.0.1): that works, but with no impairments \
         and no second computer",
    ))
}
