//! Working with a network that is up: `labnet exec`, `labnet shell` (a command or a
//! shell inside one namespace, the handout's "other computer"), and `labnet down`
//! (for a network whose link was killed, or that another terminal started).

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::names::{Names, Side};
use super::netns::{exists, teardown};

/// Replaces this process with `ip netns exec NAME-SIDE PROGRAM ARGS` (the command is
/// printed on stderr, so that the program's own output stays clean).
pub fn exec(names: &Names, side: Side, program: &str, args: &[String]) -> unp::Result<()> {
    let ns = names.netns(side);
    if !names.netns_path(side).exists() {
        return Err(unp::Error::msg(format!(
            "no namespace {ns}: start the network first with `labnet up --name {}`",
            names.name()
        )));
    }
    eprintln!("+ ip netns exec {ns} {program} {}", args.join(" "));
    let err = Command::new("ip")
        .args(["netns", "exec", &ns, program])
        .args(args)
        .exec();
    Err(unp::Error::os("exec", err).with_detail("ip"))
}

/// `labnet shell`: the user's `$SHELL` (or `/bin/sh`) inside a namespace.
pub fn shell(names: &Names, side: Side) -> unp::Result<()> {
    let sh = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    eprintln!(
        "labnet: a shell in {} ({}, {}); `exit` leaves it",
        names.netns(side),
        names.ipv4(side),
        names.ipv6(side)
    );
    exec(names, side, &sh, &[])
}

/// `labnet down`: asks the network's link to stop (SIGTERM; it tears down itself), then
/// removes whatever is left, as when the link was killed with SIGKILL.
pub fn down(names: &Names) -> unp::Result<()> {
    if !exists(names) {
        return Err(unp::Error::msg(format!(
            "no network called {} (see `ip netns list`)",
            names.name()
        )));
    }
    if let Some(pid) = link_pid(names) {
        unp::log(format_args!(
            "+ kill {pid}    # the link of {}",
            names.name()
        ));
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_labnet(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let problems = teardown(names);
    if problems.is_empty() {
        unp::log(format_args!("labnet: network {} is down", names.name()));
        return Ok(());
    }
    Err(unp::Error::msg(problems.join("; ")))
}

/// The pid in `/run/labnet/NAME/pid`, if that process is still a labnet.
fn link_pid(names: &Names) -> Option<Pid> {
    let text = std::fs::read_to_string(names.state_dir().join("pid")).ok()?;
    let pid = Pid::from_raw(text.trim().parse().ok()?);
    (pid != Pid::this() && is_labnet(pid)).then_some(pid)
}

/// Whether `pid` is alive and runs labnet (a recycled pid is left alone).
fn is_labnet(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "labnet")
}
