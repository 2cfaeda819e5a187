//! Issue 16: a client that fails, is killed or runs out of disk never leaves a partial or
//! hidden file, and any legal LOCAL_PATH works.

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;

use common::{
    MODES, NAMED_TEMP, TempDir, content, fake_server, ftclient_cmd, mode, names_in, run, serve,
    stalling_server,
};
use nix::sys::signal::Signal;
use testkit::Proc;

/// The signals a terminal, a user or a timer may send whose default action ends the
/// process, and that a handler can catch.
fn fatal_signals() -> Vec<Signal> {
    use Signal::*;
    let mut v = vec![
        SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ,
        SIGVTALRM, SIGPROF,
    ];
    #[cfg(target_os = "linux")]
    v.extend([SIGSTKFLT, SIGIO, SIGPWR]);
    v
}

/// Resets every signal to its default action and unblocks all in the program `cmd`
/// starts, as a terminal's shell does: a test run may inherit some ignored (SIGINT in
/// the background, SIGHUP under nohup).
fn signals_as_in_a_terminal(cmd: &mut Command) {
    // SAFETY: between fork and exec the closure only calls sigaction(2) and
    // sigprocmask(2), both async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            for sig in 1..65 {
                if sig != nix::libc::SIGKILL && sig != nix::libc::SIGSTOP {
                    nix::libc::signal(sig, nix::libc::SIG_DFL);
                }
            }
            let mut none = std::mem::zeroed::<nix::libc::sigset_t>();
            nix::libc::sigemptyset(&mut none);
            nix::libc::sigprocmask(nix::libc::SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// The message a client prints when `sig` ends a transfer into `local`.
fn interrupted(local: &str, sig: Option<Signal>) -> String {
    match sig {
        Some(Signal::SIGINT) => format!("ftclient: interrupted ({local} not written)\n"),
        Some(sig) => format!("ftclient: interrupted by {sig} ({local} not written)\n"),
        None => format!("ftclient: interrupted by signal 37 ({local} not written)\n"),
    }
}

/// Starts ftclient against a server that sends one segment and stalls, sends the client
/// `sig` (or signal 37, a real-time signal, for `None`) once it is past its request, and
/// checks: status 128 + the signal, the message, and only `out` (unchanged) in the
/// directory.
fn signal_during_a_transfer(sig: Option<Signal>, named: bool) {
    let tag = format!("{sig:?} {}", mode(named));
    let dir = TempDir::new("signal");
    std::fs::write(dir.join("out"), b"previous content").unwrap();
    let (port, requested, release, server) = stalling_server();
    let local = dir.str("out");
    let mut cmd = ftclient_cmd(port, "x", &local, &[], named);
    signals_as_in_a_terminal(&mut cmd);
    let mut client = Proc::spawn_cmd(&mut cmd);
    requested.recv().expect("the client sends its request");
    let signo = match sig {
        Some(s) => {
            client.signal(s);
            s as i32
        }
        None => {
            let rt = 37;
            // SAFETY: kill(2) with a valid pid and signal number.
            unsafe { nix::libc::kill(client.pid() as i32, rt) };
            rt
        }
    };
    let (status, _, err) = client.wait_exit();
    let _ = release.send(());
    server.join().unwrap();
    assert_eq!(status.code(), Some(128 + signo), "{tag}: {err}");
    assert_eq!(err, interrupted(&local, sig), "{tag}");
    assert_eq!(dir.names(), ["out"], "{tag}: a temporary file is left");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"previous content");
}

#[test]
fn every_catchable_fatal_signal_during_a_transfer_leaves_nothing() {
    for named in MODES {
        for sig in fatal_signals() {
            signal_during_a_transfer(Some(sig), named);
        }
        #[cfg(target_os = "linux")]
        signal_during_a_transfer(None, named);
    }
}

/// A signal ignored when the client starts (`nohup ftclient ...`: SIGHUP) stays ignored:
/// the transfer goes on and completes.
#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    let dir = TempDir::new("nohup");
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (port, requested, server) = fake_server(move |mut conn| {
        use std::io::Write;
        let _ = held.recv();
        let mut wire = Vec::new();
        filetransfer::proto::encode_segments(b"survived", &mut wire);
        conn.write_all(&wire).unwrap();
    });
    let local = dir.str("out");
    let mut cmd = ftclient_cmd(port, "x", &local, &[], false);
    // SAFETY: signal(2) only, async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::libc::signal(nix::libc::SIGHUP, nix::libc::SIG_IGN);
            Ok(())
        });
    }
    let mut client = Proc::spawn_cmd(&mut cmd);
    requested.recv().unwrap();
    client.signal(Signal::SIGHUP);
    release.send(()).unwrap();
    let (status, _, err) = client.wait_exit();
    server.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"survived");
}

/// SIGKILL cannot be caught; on Linux the data goes into an unnamed file (`O_TMPFILE`),
/// which disappears with the process, so nothing is left even then.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_during_a_transfer_leaves_nothing_on_linux() {
    for existing in [true, false] {
        let dir = TempDir::new("sigkill");
        if existing {
            std::fs::write(dir.join("out"), b"previous content").unwrap();
        }
        let before = dir.names();
        let (port, requested, release, server) = stalling_server();
        let mut cmd = ftclient_cmd(port, "x", &dir.str("out"), &[], false);
        let mut client = Proc::spawn_cmd(&mut cmd);
        requested.recv().unwrap();
        assert_eq!(
            dir.names(),
            before,
            "existing={existing}: a name during the transfer"
        );
        client.signal(Signal::SIGKILL);
        let (status, _, _) = client.wait_exit();
        let _ = release.send(());
        server.join().unwrap();
        assert_eq!(status.code(), None, "killed");
        assert_eq!(
            dir.names(),
            before,
            "existing={existing}: something is left"
        );
    }
}

/// Without `O_TMPFILE` a killed client leaves its temporary file; the next client in that
/// directory removes it and says so, and leaves alone the one a running client writes.
#[test]
fn a_leftover_of_a_killed_run_is_removed_by_the_next_one() {
    let dir = TempDir::new("leftover");
    let root = TempDir::new("leftover-root");
    std::fs::write(root.join("f"), b"fine").unwrap();
    let server = serve(&root.0, &[]);
    // A running client (stalled): its temporary file must survive the next run.
    let (port, requested, release, stalled) = stalling_server();
    let mut running = Proc::spawn_cmd(&mut ftclient_cmd(port, "x", &dir.str("a"), &[], true));
    requested.recv().unwrap();
    let temp_of_running = dir.names();
    assert_eq!(temp_of_running.len(), 1, "{temp_of_running:?}");
    let (status, _, err) = run(&mut ftclient_cmd(
        server.port(),
        "f",
        &dir.str("b"),
        &[],
        true,
    ));
    assert!(status.success(), "{err}");
    assert_eq!(err, "", "nothing to report");
    assert!(
        dir.names().contains(&temp_of_running[0]),
        "removed while in use"
    );
    // Killed: its file is a leftover now.
    running.signal(Signal::SIGKILL);
    running.wait_exit();
    let _ = release.send(());
    stalled.join().unwrap();
    assert_eq!(dir.names().len(), 2, "{:?}", dir.names());
    let (status, _, err) = run(&mut ftclient_cmd(
        server.port(),
        "f",
        &dir.str("c"),
        &[],
        true,
    ));
    assert!(status.success(), "{err}");
    let leftover = dir.join(&temp_of_running[0]);
    assert_eq!(
        err,
        format!(
            "ftclient: removed {}, a partial file left by an earlier run that was killed\n",
            leftover.display()
        )
    );
    assert_eq!(dir.names(), ["b", "c"]);
}

/// Runs `script` in a private mount namespace with a 1 MiB tmpfs mounted on `$MNT`
/// (it disappears with the namespace: nothing to unmount). `None`, with the reason
/// printed, where no namespace or tmpfs can be made (not root, no `unshare`).
fn in_a_small_tmpfs(mnt: &TempDir, envs: &[(&str, String)], script: &str) -> Option<String> {
    let probe = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=1m tmpfs "$MNT""#)
        .env("MNT", &mnt.0)
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let why = String::from_utf8_lossy(&o.stderr);
            testkit::skip(
                "UNPLAB_REQUIRE_ROOT",
                &format!("the disk-full cases: cannot mount a tmpfs: {}", why.trim()),
            );
            return None;
        }
        Err(e) => {
            testkit::skip(
                "UNPLAB_REQUIRE_ROOT",
                &format!("the disk-full cases: cannot run unshare: {e}"),
            );
            return None;
        }
    }
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size=1m tmpfs \"$MNT\" || exit 99\n{script}"
        ))
        .env("MNT", &mnt.0)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("unshare");
    assert!(out.status.success(), "{out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_at_any_point_leaves_nothing() {
    let root = TempDir::new("enospc-root");
    // 1,100 KiB does not fit in 1 MiB: the last flush fails (1030..1279 KiB did).
    std::fs::write(root.join("big"), content(1100 << 10, 1)).unwrap();
    std::fs::write(root.join("small"), b"small").unwrap();
    let server = serve(&root.0, &[]);
    for named in MODES {
        let mnt = TempDir::new("enospc");
        let mut envs = vec![
            ("FTCLIENT", common::FTCLIENT.to_string()),
            ("ITERFTCLIENT", common::ITERFTCLIENT.to_string()),
            ("PORT", server.port().to_string()),
        ];
        if named {
            envs.push((NAMED_TEMP, "1".to_string()));
        }
        let script = r#"
            "$FTCLIENT" 127.0.0.1 "$PORT" big "$MNT/out" 2>&1; echo "big: $?"; ls -A "$MNT"
            printf 'big\n%s\nsmall\n%s\n' "$MNT/a" "$MNT/b" | "$ITERFTCLIENT" 127.0.0.1 "$PORT" >/dev/null 2>&1
            echo "iter: $?"; ls -A "$MNT"; cat "$MNT/b"; echo; rm "$MNT/b"
            head -c 2000000 /dev/zero > "$MNT/fill" 2>/dev/null; echo "fill: $?"
            "$FTCLIENT" 127.0.0.1 "$PORT" small "$MNT/x" 2>&1; echo "full: $?"; ls -A "$MNT"
        "#;
        let Some(out) = in_a_small_tmpfs(&mnt, &envs, script) else {
            return;
        };
        let m = mnt.0.display();
        let expected = format!(
            "ftclient: write error: No space left on device (ENOSPC) ({m}/out not written)\n\
             big: 1\n\
             iter: 1\nb\nsmall\n\
             fill: 1\n\
             ftclient: write error: No space left on device (ENOSPC) ({m}/x not written)\n\
             full: 1\nfill\n"
        );
        assert_eq!(out, expected, "{}", mode(named));
        assert_eq!(names_in(&mnt.0), Vec::<String>::new());
    }
}

/// Local names of 240, 250 and 255 bytes (NAME_MAX), new or replacing a file, and a
/// path of nearly PATH_MAX (4096) bytes: the temporary file adds nothing to them.
#[test]
fn any_legal_local_path_works() {
    let root = TempDir::new("names-root");
    std::fs::write(root.join("f"), b"new content").unwrap();
    let server = serve(&root.0, &[]);
    let dir = TempDir::new("names");
    // Directories of up to 200-byte names, so deep that with `/` and a 255-byte name
    // the path is PATH_MAX - 1 bytes (4,095 on Linux), the longest there is.
    let deepest = nix::libc::PATH_MAX as usize - 1 - 1 - 255;
    let mut deep = dir.0.clone();
    while deep.as_os_str().len() + 1 < deepest {
        let room = deepest - deep.as_os_str().len() - 1;
        deep.push("d".repeat(room.min(200)));
    }
    assert_eq!(deep.as_os_str().len(), deepest);
    std::fs::create_dir_all(&deep).unwrap();
    for named in MODES {
        for len in [240, 250, 255] {
            for parent in [&dir.0, &deep] {
                for existing in [false, true] {
                    let local = parent.join("L".repeat(len));
                    let tag = format!(
                        "{} {len} {} {existing}",
                        mode(named),
                        local.as_os_str().len()
                    );
                    if existing {
                        std::fs::write(&local, b"old").unwrap();
                    }
                    let local_str = local.to_string_lossy();
                    let (status, _, err) = run(&mut ftclient_cmd(
                        server.port(),
                        "f",
                        &local_str,
                        &[],
                        named,
                    ));
                    assert!(status.success(), "{tag}: {err}");
                    assert_eq!(std::fs::read(&local).unwrap(), b"new content", "{tag}");
                    let left = names_in(parent);
                    assert!(left.iter().all(|n| !n.starts_with('.')), "{tag}: {left:?}");
                    std::fs::remove_file(&local).unwrap();
                }
            }
        }
    }
}
