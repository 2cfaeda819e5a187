//! `labnet run daemon`: Lab 5's daemon on the server's computer. `udpechod 10000 --log
//! FILE` (UNP 13.4's `daemon_init`, then Lab 4's UDP echo server) returns at once, and
//! its daemon lives on in the server's namespace: no controlling terminal, a session
//! of its own that it does not lead, and a parent that is not the program that
//! started it. The client echoes two lines through it; `ps` shows it; `kill` stops it;
//! its log holds what a terminal would have shown.
//!
//! A daemon leaves its parent's process group and session on purpose, so nothing that
//! ends a process group ends it. What does: it is still in the server's namespace,
//! and teardown ends every process there (`ip netns pids`). Its parent is labnet: this
//! scenario makes labnet a *subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`, what
//! `systemd --user` is), so that the orphans of the daemon's double fork come to
//! labnet rather than to init, and labnet reaps them (an init that reaps nobody, as
//! in some containers, would keep them as zombies). [`reap_adopted`] reaps what is
//! left after teardown.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::names::{Names, Side};
use super::programs;
use super::scenario::{Play, Played, START_LIMIT, terminal};

/// What `ps` is asked to show of the daemon.
const PS_COLUMNS: &str = "pid,ppid,pgid,sid,tty,stat,comm";

/// Plays `daemon` on network `names`.
pub fn play(names: &Names, play: &Play, server: IpAddr, stop: &AtomicBool) -> unp::Result<Played> {
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| unp::Error::os("prctl", e.into()).with_detail("PR_SET_CHILD_SUBREAPER"))?;
    let log = play.workdir.join("udpechod.log");
    std::fs::create_dir_all(&play.workdir)
        .map_err(|e| unp::Error::os("mkdir", e).with_detail(play.workdir.display().to_string()))?;
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let args = words(&["10000", "--log", &log.display().to_string()]);
    let started = Instant::now();
    let ns = names.netns(Side::Server);
    let (status, said) = programs::start(&ns, "udpechod", &args, "")?.finish(START_LIMIT, stop)?;
    if play.transcript {
        terminal(Side::Server, "udpechod", &args, "", &said);
        println!("(udpechod returned at once, {status}; its daemon lives on)");
    }
    let mut daemon = Daemon::wait_for(&log, stop)?;
    reap_adopted(); // the first child, the session's leader, exits once it forked the daemon
    if play.transcript {
        show(daemon.pid);
    }
    let input = "hello across the link\nsecond line\n";
    let addr = server.to_string();
    let client_args = words(&[&addr, "10000"]);
    let client = programs::start(
        &names.netns(Side::Client),
        "udpechoclient",
        &client_args,
        input,
    );
    let (client_status, client_out) = client?.finish(play.limit, stop)?;
    let client_time = started.elapsed();
    let ended = daemon.stop();
    if play.transcript {
        terminal(
            Side::Client,
            "udpechoclient",
            &client_args,
            input,
            &client_out,
        );
        println!("[server] $ kill {}", daemon.pid);
        println!("udpechod (pid {}) {}", daemon.pid, describe(&ended));
        println!("[server] $ cat {}", log.display());
        let text = std::fs::read(&log).unwrap_or_default();
        text.strip_suffix(b"\n")
            .unwrap_or(&text)
            .split(|b| *b == b'\n')
            .for_each(|l| println!("{}", unp::printable(l)));
    }
    if !client_status.success() {
        return Err(unp::Error::msg(format!(
            "udpechoclient failed: {client_status}"
        )));
    }
    Ok(Played {
        client_time,
        bytes: 0,
    })
}

/// The daemon, stopped (and reaped) when dropped if [`Daemon::stop`] was not called.
struct Daemon {
    pid: Pid,
    stopped: bool,
}

impl Daemon {
    /// Waits until the log says the daemon listens, and holds its pid
    /// (`udpechod: pid N started`).
    fn wait_for(log: &Path, stop: &AtomicBool) -> unp::Result<Daemon> {
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let pid = text
                .lines()
                .find_map(|l| l.strip_prefix("udpechod: pid ")?.strip_suffix(" started"))
                .and_then(|p| p.parse().ok());
            if let (Some(pid), true) = (pid, text.contains("listening on")) {
                return Ok(Daemon {
                    pid: Pid::from_raw(pid),
                    stopped: false,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(unp::Error::msg(format!(
            "udpechod's log {} never said `listening on`",
            log.display()
        )))
    }

    /// `kill PID` (SIGTERM), then waits for it to end (SIGKILL after 5 s); its status
    /// when labnet reaped it.
    fn stop(&mut self) -> Option<WaitStatus> {
        self.stopped = true;
        let _ = kill(self.pid, Signal::SIGTERM);
        let started = Instant::now();
        let mut killed = false;
        while started.elapsed() < Duration::from_secs(6) {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(status) => return Some(status),
                // Not labnet's child after all: gone once /proc has it no more.
                Err(_) if !Path::new(&format!("/proc/{}", self.pid)).exists() => return None,
                Err(_) => {}
            }
            if !killed && started.elapsed() > Duration::from_secs(5) {
                let _ = kill(self.pid, Signal::SIGKILL);
                killed = true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.stopped {
            self.stop();
        }
    }
}

/// `ended: killed by SIGTERM`, `ended: exited with status 0`.
fn describe(status: &Option<WaitStatus>) -> String {
    match status {
        Some(WaitStatus::Signaled(_, sig, _)) => format!("ended: killed by {sig}"),
        Some(WaitStatus::Exited(_, code)) => format!("ended: exited with status {code}"),
        _ => "is gone".to_string(),
    }
}

/// `ps -o pid,ppid,pgid,sid,tty,stat,comm -p PID` (where ps is installed), then what
/// its columns mean for this process, from `/proc/PID/stat`.
fn show(pid: Pid) {
    println!("[server] $ ps -o {PS_COLUMNS} -p {pid}");
    match Command::new("ps")
        .args(["-o", PS_COLUMNS, "-p", &pid.to_string()])
        .output()
    {
        Ok(out) => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Err(e) => println!("(ps: {e})"),
    }
    // /proc/PID/stat: `PID (COMM) STATE PPID PGRP SESSION TTY_NR ...`
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<i64> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split(' ').skip(1).take(4))
        .into_iter()
        .flatten()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [ppid, _pgrp, session, tty] = fields[..] else {
        println!("daemon: /proc/{pid}/stat cannot be read");
        return;
    };
    let terminal = match tty {
        0 => "has no controlling terminal (TT ?)".to_string(),
        n => format!("has a controlling terminal (tty_nr {n})"),
    };
    let leader = match i64::from(pid.as_raw()) == session {
        true => "leads its session".to_string(),
        false => format!("is not its session's leader ({session})"),
    };
    let parent = match ppid {
        1 => "its parent is init (1)".to_string(),
        p if p == i64::from(std::process::id()) => format!(
            "its parent is labnet ({p}), which made itself a subreaper (without one: init, 1)"
        ),
        p => format!("its parent is {p}"),
    };
    println!("daemon: udpechod (pid {pid}) {terminal}, {leader}, and {parent}");
}

/// Reaps every child of labnet's that has ended (`waitpid(-1, WNOHANG)` until none):
/// the orphans a subreaper adopts. Call it only where labnet waits for no program of
/// its own, whose status it would take.
pub fn reap_adopted() {
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}
