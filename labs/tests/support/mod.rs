//! Helpers shared by labtrace's test files: running labtrace, temporary directories,
//! skipping without a tool, capturing loopback traffic with tcpdump.

#![allow(dead_code)] // each test file uses some of them

use std::path::Path;
use std::process::Command;
use testkit::Proc;

/// Runs labtrace with `args`: (exit status, stdout, stderr).
pub fn labtrace(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_labtrace"))
        .args(args)
        .output()
        .expect("run labtrace");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh temporary directory for `name`, removed when the guard is dropped (also when
/// the test fails): keep it in a variable for as long as its files are used.
pub fn tmpdir(name: &str) -> testkit::TempDir {
    testkit::TempDir::new(&format!("labtrace-{name}"))
}

/// True if `tool` runs; otherwise skips `what` (the test or a part of it), saying why,
/// or fails under UNPLAB_REQUIRE_CAPTURE=1 (CI).
#[track_caller]
pub fn have(tool: &str, what: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        testkit::skip(
            "UNPLAB_REQUIRE_CAPTURE",
            &format!("{what}: {tool} is not installed (apt-get install {tool})"),
        );
    }
    ok
}

/// Captures loopback traffic to `file` with tcpdump while `traffic` runs; `false` after
/// a skip when tcpdump may not capture here (not root, no CAP_NET_RAW).
#[track_caller]
pub fn capture(iface: &str, port: u16, file: &Path, traffic: impl FnOnce() -> usize) -> bool {
    let sessions = std::cell::Cell::new(0);
    // Stop only once every session's last segment is in the file.
    capture_until(
        iface,
        &format!("tcp port {port}"),
        file,
        || sessions.set(traffic()),
        |json| {
            json.matches(r#""phase":"close 4/4""#).count()
                + json.matches(r#""phase":"reset""#).count()
                >= sessions.get()
        },
    )
}

/// Captures on `iface` with tcpdump's `filter` (words) into `file` while `traffic` runs,
/// and stops once labtrace's JSON of the file satisfies `done` (all of the run is in
/// it); `false` after a skip when tcpdump may not capture here (not root, no
/// CAP_NET_RAW).
#[track_caller]
pub fn capture_until(
    iface: &str,
    filter: &str,
    file: &Path,
    traffic: impl FnOnce(),
    done: impl Fn(&str) -> bool,
) -> bool {
    let mut args = vec![
        "-i",
        iface,
        "--immediate-mode",
        // The default buffer drops packets on `any` in small VMs.
        "-B",
        "32768",
        "-U",
        "-w",
        file.to_str().unwrap(),
    ];
    args.extend(filter.split(' '));
    let mut tcpdump = Proc::spawn("tcpdump", &args);
    let line = tcpdump.expect_stderr_line("'listening on' or why not", |l| {
        l.contains("listening on") || l.contains("permission") || l.contains("not permitted")
    });
    if !line.contains("listening on") {
        testkit::skip(
            "UNPLAB_REQUIRE_CAPTURE",
            &format!(
                "tcpdump may not capture here (run as root): {}",
                line.trim_end()
            ),
        );
        return false;
    }
    traffic();
    let complete = testkit::wait_until(testkit::TIMEOUT, || {
        let (_, out, _) = labtrace(&["--format", "json", file.to_str().unwrap()]);
        done(&out)
    });
    let (_, json, _) = labtrace(&["--format", "json", file.to_str().unwrap()]);
    assert!(complete, "tcpdump did not write the whole run:\n{json}");
    tcpdump.signal(nix::sys::signal::Signal::SIGINT);
    let (status, _, err) = tcpdump.wait_exit();
    assert!(status.success(), "tcpdump: {err}");
    true
}

/// A field of a JSON line written by labtrace, as text (strings without their quotes).
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let tag = format!("\"{key}\":");
    let at = line
        .find(&tag)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + tag.len();
    let rest = &line[at..];
    match rest.strip_prefix('"') {
        Some(text) => &text[..text.find('"').unwrap_or(text.len())],
        None => &rest[..rest.find([',', '}']).unwrap_or(rest.len())],
    }
}
