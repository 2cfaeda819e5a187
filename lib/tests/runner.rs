//! `unp::run` as a program sees it: the exact message on stderr, the exit status, stdout
//! flushed first, and a broken stdout pipe as a quiet exit.
//!
//! This test binary has no libtest harness (see lib/Cargo.toml): started with
//! `UNP_RUNNER_CASE` set it *is* the program under test; without it, it runs each case
//! by starting itself.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn program(case: &str) -> ! {
    unp::run(|| match case {
        "bind-in-use" => {
            let (_first, addr) = unp::tcp_listen(Some("127.0.0.1"), 0)?;
            print!("first on {} ", addr.port());
            unp::tcp_listen(Some("127.0.0.1"), addr.port())?;
            Ok(())
        }
        "quit" => Err(unp::Error::msg("str_cli: server terminated prematurely")),
        "ok" => {
            print!("no newline yet");
            Ok(())
        }
        "flood" => {
            let mut out = std::io::stdout().lock();
            for i in 0..1_000_000u32 {
                writeln!(out, "line {i}").map_err(unp::error::stdout_error)?;
            }
            Ok(())
        }
        other => Err(unp::Error::msg(format!("unknown case {other}"))),
    })
}

fn start(case: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("current_exe"))
        .env("UNP_RUNNER_CASE", case)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn self")
}

fn name() -> String {
    std::env::current_exe()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn bind_in_use_prints_unp_message_and_exits_1() {
    let out = start("bind-in-use").wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stdout.starts_with("first on "),
        "stdout flushed: {stdout:?}"
    );
    assert_eq!(
        stderr,
        format!(
            "{}: bind error: Address already in use (EADDRINUSE)\n",
            name()
        )
    );
}

fn err_quit_message_without_errno() {
    let out = start("quit").wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{}: str_cli: server terminated prematurely\n", name())
    );
}

fn success_flushes_stdout_and_exits_0() {
    let out = start("ok").wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"no newline yet");
    assert!(out.stderr.is_empty());
}

fn broken_stdout_pipe_is_a_quiet_exit() {
    let mut child = start("flood");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // the reader goes away, like `| head -1`
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

fn main() {
    if let Ok(case) = std::env::var("UNP_RUNNER_CASE") {
        program(&case);
    }
    let cases: [(&str, fn()); 4] = [
        (
            "bind_in_use_prints_unp_message_and_exits_1",
            bind_in_use_prints_unp_message_and_exits_1,
        ),
        (
            "err_quit_message_without_errno",
            err_quit_message_without_errno,
        ),
        (
            "success_flushes_stdout_and_exits_0",
            success_flushes_stdout_and_exits_0,
        ),
        (
            "broken_stdout_pipe_is_a_quiet_exit",
            broken_stdout_pipe_is_a_quiet_exit,
        ),
    ];
    for (n, f) in cases {
        f();
        println!("test {n} ... ok");
    }
    println!("runner: {} passed, 0 failed", cases.len());
}
