//! What labcheck leaves behind: a run's directory is removed when the run ends; the
//! pcap of a failed run stays, alone in it, and the report says where; a passed run's
//! pcap goes unless `--keep-captures`. Capturing needs tcpdump and root: skipped with a
//! reason unless UNPLAB_REQUIRE_CAPTURE=1 (the run without a capture always runs).

mod labcheck_util;

use std::path::{Path, PathBuf};
use std::process::Command;

use labcheck_util::{LABCHECK, TempDir, reference};

/// Runs `labcheck ARGS` with its run directories in `work`: (exit 0, its stdout).
fn run(work: &Path, args: &[&str], command: &[&str]) -> (bool, String) {
    let out = Command::new(LABCHECK)
        .args(args)
        .arg("--workdir")
        .arg(work)
        .arg("--")
        .args(command)
        .output()
        .expect("run labcheck");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Everything below `dir`, relative to it.
fn left(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        found.push(path.strip_prefix(dir).unwrap_or(&path).to_path_buf());
        if path.is_dir() {
            found.extend(
                left(&path)
                    .into_iter()
                    .map(|p| path.strip_prefix(dir).unwrap_or(&path).join(p)),
            );
        }
    }
    found
}

/// The pcap the report's last line names: `capture kept: PATH (labtrace PATH)`.
fn kept(report: &str) -> Option<PathBuf> {
    let line = report.lines().find(|l| l.starts_with("capture kept: "))?;
    let path = line["capture kept: ".len()..].split(" (labtrace ").next()?;
    Some(PathBuf::from(path))
}

/// The pcap the report names, which must be alone in its run's directory under `work`.
fn kept_alone(report: &str, work: &Path) -> PathBuf {
    let pcap = kept(report).unwrap_or_else(|| panic!("no `capture kept:` line:\n{report}"));
    let dir = pcap.parent().expect("the run's directory");
    assert_eq!(dir.parent(), Some(work), "{report}");
    assert_eq!(left(dir), [PathBuf::from("labcheck.pcap")], "{report}");
    pcap
}

fn can_capture() -> bool {
    let ok = labs::labcheck::pcap::permitted();
    if !ok {
        testkit::skip(
            "UNPLAB_REQUIRE_CAPTURE",
            "labcheck_capture: tcpdump is missing or not permitted (run as root)",
        );
    }
    ok
}

#[test]
fn a_passed_runs_capture_is_removed_unless_asked_to_keep_it() {
    if !can_capture() {
        return;
    }
    let work = TempDir::new("capture-pass");
    let server = reference("daytimetcpsrv");
    let argv = [server.as_str(), "-p", "{port}"];
    let (ok, report) = run(work.path(), &["server", "daytime"], &argv);
    assert!(ok, "{report}");
    assert!(
        report.contains(
            "\nnote: every check passed: the capture was removed (--keep-captures keeps it)\n"
        ),
        "{report}"
    );
    assert_eq!(kept(&report), None, "{report}");
    assert_eq!(left(work.path()), Vec::<PathBuf>::new(), "{report}");

    let (ok, report) = run(
        work.path(),
        &["server", "daytime", "--keep-captures"],
        &argv,
    );
    assert!(ok, "{report}");
    let pcap = kept_alone(&report, work.path());
    // the whole run is in it: labtrace finds the daytime line (tcpdump in immediate mode:
    // without it a run of 0.1 s ended before tcpdump got its first packet)
    let trace = Command::new(env!("CARGO_BIN_EXE_labtrace"))
        .arg(&pcap)
        .output()
        .expect("run labtrace");
    let trace = String::from_utf8_lossy(&trace.stdout);
    let answer =
        |l: &str| l.contains("S→C  [P.]") && l.contains(" 26  data ") && l.contains("daytime \"");
    assert!(trace.lines().any(answer), "{trace}");
}

#[test]
fn a_failed_runs_capture_is_kept_alone_and_named() {
    if !can_capture() {
        return;
    }
    let work = TempDir::new("capture-fail");
    // a daytime server checked as an echo server fails `echo.exchange`
    let server = reference("daytimetcpsrv");
    let argv = [server.as_str(), "-p", "{port}"];
    let (ok, report) = run(work.path(), &["server", "echo", "--only", "handout"], &argv);
    assert!(!ok, "{report}");
    assert!(
        report.contains(" FAIL [handout] echo.exchange: "),
        "{report}"
    );
    let pcap = kept_alone(&report, work.path());
    assert!(report.ends_with(&format!(
        "capture kept: {p} (labtrace {p})\n",
        p = pcap.display()
    )));
}

#[test]
fn a_run_without_a_capture_leaves_nothing() {
    let work = TempDir::new("capture-none");
    let server = reference("daytimetcpsrv");
    let argv = [server.as_str(), "-p", "{port}"];
    let args = ["server", "echo", "--only", "handout", "--capture", "no"];
    let (ok, report) = run(work.path(), &args, &argv);
    assert!(!ok, "{report}");
    assert_eq!(kept(&report), None, "{report}");
    assert_eq!(left(work.path()), Vec::<PathBuf>::new(), "{report}");
}
