//! Lab 5's daemons, observed in /proc: no controlling terminal, not a session leader,
//! the parent is init or a subreaper (this test makes itself one, to see and reap the
//! daemon), cwd `/`, umask 0, stdin on /dev/null, the log arriving, and the daemon
//! still logging after its terminal is hung up.

#![cfg(target_os = "linux")]

use std::ffi::OsStr;
use std::net::UdpSocket;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testkit::{TIMEOUT, wait_until};

const LABDAEMON: &str = env!("CARGO_BIN_EXE_labdaemon");
const UDPECHOD: &str = env!("CARGO_BIN_EXE_udpechod");
const DAEMONIZE: &str = env!("CARGO_BIN_EXE_daemonize");

/// Fields of /proc/PID/stat: (ppid, session, tty_nr).
fn stat(pid: i32) -> (i32, i32, i32) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the daemon runs");
    let f: Vec<i32> = s[s.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .skip(1)
        .take(5)
        .map(|x| x.parse().unwrap())
        .collect();
    (f[0], f[2], f[3])
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("daemon-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A terminal session: a shell that is the session leader with a fresh
/// pseudo-terminal as its controlling terminal, as a login shell is. It runs `program`
/// `args` (the launcher, which exits once the daemon is detached), then waits on the
/// terminal (`cat`), so the session lives until the test hangs it up by closing the
/// master side.
struct Terminal {
    master: Option<OwnedFd>,
    shell: std::process::Child,
}

impl Terminal {
    fn run(program: &str, args: &[&std::ffi::OsStr]) -> Terminal {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        for fd in [&pty.master, &pty.slave] {
            // Another test's children must not inherit this terminal: the hangup needs
            // every descriptor of the master side closed.
            let cloexec = nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC);
            nix::fcntl::fcntl(fd, cloexec).expect("FD_CLOEXEC");
        }
        let io = || Stdio::from(pty.slave.try_clone().expect("dup"));
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#""$0" "$@" && exec cat"#)
            .arg(program)
            .args(args);
        cmd.stdin(io()).stdout(io()).stderr(io());
        // SAFETY: setsid(2) and ioctl(2) are async-signal-safe; nothing is allocated.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if nix::libc::ioctl(0, nix::libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let shell = cmd.spawn().expect("spawn sh");
        Terminal {
            master: Some(pty.master),
            shell,
        }
    }

    /// Closes the terminal: the kernel sends SIGHUP to its session.
    fn hang_up(&mut self) {
        drop(self.master.take());
        let _ = self.shell.wait();
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.shell.kill();
        self.hang_up();
    }
}

/// Waits for a log line containing `what`; returns the whole log.
fn log_with(log: &Path, what: &str) -> String {
    let mut text = String::new();
    let found = wait_until(TIMEOUT, || {
        text = std::fs::read_to_string(log).unwrap_or_default();
        text.contains(what)
    });
    assert!(found, "no {what:?} in {}: {text:?}", log.display());
    text
}

/// Checks what makes `pid` a daemon, then ends and reaps it (and its first parent).
fn check_daemon_and_end(pid: i32) {
    let me = std::process::id() as i32;
    let (ppid, session, tty) = stat(pid);
    assert_eq!(tty, 0, "no controlling terminal");
    assert_ne!(session, pid, "not a session leader");
    assert!(
        ppid == 1 || ppid == me,
        "the parent is init or the subreaper: {ppid}"
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/")
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap(),
        Path::new("/dev/null")
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("Umask:\t0000"), "{status}");
    kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
    let _ = nix::sys::wait::waitpid(Pid::from_raw(session), None); // the first child, orphaned to us
}

/// One terminal at a time: openpty and FD_CLOEXEC are two steps.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn labdaemon_detaches_logs_and_survives_its_terminal() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let dir = tmp("lab");
    let log = dir.join("daemon.log");
    let mut terminal = Terminal::run(
        LABDAEMON,
        &[
            "--interval".as_ref(),
            "0.02".as_ref(),
            "--log".as_ref(),
            log.as_os_str(),
        ],
    );
    let text = log_with(&log, "daemon working pid: ");
    let line = text.lines().next().unwrap();
    let pid: i32 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    // Its first line may still name the first child (the session leader that forked it
    // and is about to exit); once that one has gone, the daemon's parent is this test,
    // the subreaper, and its lines say so.
    let me = std::process::id();
    log_with(&log, &format!("daemon working pid: {pid} ppid: {me}\n"));
    assert_eq!(stat(pid).0, me as i32);
    terminal.hang_up(); // the terminal closes: its session gets SIGHUP; the daemon is not in it
    let before = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(
        wait_until(TIMEOUT, || std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .count()
            > before + 2),
        "still logging"
    );
    check_daemon_and_end(pid);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The daemon's UDP echo: its port from the log's `listening on` line, one exchange,
/// the server's lines in the log. Returns the daemon's pid (from `udpechod: pid N`
/// or the socket's owner).
fn echo_through(log: &Path) -> u16 {
    let text = log_with(log, "listening on ");
    let port = testkit::parse_listening(&text).expect("an address").port();
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.send_to(b"hi daemon\n", ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 64];
    let n = c.recv(&mut buf).expect("the echo");
    assert_eq!(&buf[..n], b"hi daemon\n");
    log_with(log, "Data: hi daemon\n");
    port
}

/// The pid of the process that owns the UDP socket on `port` (from /proc/*/fd).
fn owner_of(log: &Path) -> i32 {
    let text = std::fs::read_to_string(log).unwrap();
    let pid = text
        .lines()
        .find_map(|l| l.strip_prefix("udpechod: pid "))
        .and_then(|r| r.split_whitespace().next()?.parse().ok());
    pid.unwrap_or_else(|| {
        let me = std::process::id() as i32;
        // daemonize execs: the daemon is the one child of ours (a subreaper) that runs udpechoserver.
        testkit::children_with_state(me as u32)
            .into_iter()
            .map(|(p, _)| p as i32)
            .find(|p| {
                std::fs::read_link(format!("/proc/{p}/exe"))
                    .is_ok_and(|e| e.ends_with("udpechoserver"))
            })
            .expect("the daemon is our child (subreaper)")
    })
}

#[test]
fn the_echo_server_runs_as_a_daemon_both_ways() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let dir = tmp("echo");
    let log = dir.join("udpechod.log");
    let _terminal = Terminal::run(
        UDPECHOD,
        &[OsStr::new("0"), "--log".as_ref(), log.as_os_str()],
    );
    echo_through(&log);
    check_daemon_and_end(owner_of(&log));
    let log = dir.join("daemonize.log");
    let _terminal = Terminal::run(
        DAEMONIZE,
        &[
            "--log".as_ref(),
            log.as_os_str(),
            "udpechoserver".as_ref(),
            "0".as_ref(),
        ],
    );
    echo_through(&log);
    check_daemon_and_end(owner_of(&log));
    std::fs::remove_dir_all(&dir).unwrap();
}
