//! Lab 5: daemons. The course's `daemon.c` (fork, setsid, umask, chdir /, close stdio,
//! then `daemon working pid: N ppid: M` to a log every 10 s), with UNP 13.4's complete
//! [`unp::daemon::daemon_init`] instead of its `daemon_start`; and two ways to run a
//! lab server as a daemon: `udpechod` (a server that calls `daemon_init` itself, UNP's
//! way) and `daemonize PROGRAM ARGS` (any program, e.g. `lotteryserver 10000`).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

use unp::daemon::{LogTo, daemon_init};
use unp::{Error, Result};

/// labdaemon: becomes a daemon, then logs `daemon working pid: N ppid: M` every
/// `interval`, forever (stop it with `kill PID`).
pub fn labdaemon(log: &LogTo, interval: Duration) -> Result<()> {
    daemon_init(log)?;
    loop {
        let (pid, ppid) = (nix::unistd::getpid(), nix::unistd::getppid());
        unp::daemon::log(format_args!("daemon working pid: {pid} ppid: {ppid}"));
        std::thread::sleep(interval);
    }
}

/// udpechod: the course's UDP echo server as a daemon; its lines go to the log.
pub fn udpechod(port: u16, log: &LogTo) -> Result<()> {
    daemon_init(log)?;
    unp::daemon::log(format_args!(
        "udpechod: pid {} started",
        nix::unistd::getpid()
    ));
    crate::echo::serve(unp::addr::wildcard(port), crate::announce)
}

/// daemonize: becomes a daemon with standard output and error on `log`, then
/// `exec`s `program` with `args` (a workspace program is found next to this one,
/// anything else on PATH). Returns only on failure.
pub fn daemonize(log: PathBuf, program: &OsString, args: &[OsString]) -> Result<()> {
    let beside = std::env::current_exe()
        .ok()
        .map(|e| e.with_file_name(program))
        .filter(|p| p.exists());
    let path = beside.unwrap_or_else(|| PathBuf::from(program));
    daemon_init(&LogTo::File(log))?;
    let err = std::process::Command::new(&path).args(args).exec();
    let e = Error::os("execvp", err).with_detail(path.display().to_string());
    unp::err_ret(&e); // to the log: nobody else would see it
    Err(e)
}
