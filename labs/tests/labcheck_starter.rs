//! Starter code for lotteryserver, all four promises in one test: it builds as
//! generated; running it stops at the first blank, naming it; labcheck fails on it with
//! that message; putting the reference statements back gives the reference source, which
//! builds into a program that passes every check.

mod labcheck_util;

use std::path::Path;
use std::process::Command;

use labcheck_util::{LABCHECK, TempDir, labcheck};

/// Builds the starter project in `dir` (its own target dir under the workspace's, shared
/// by runs so that the dependencies build once).
fn build(dir: &Path) -> std::path::PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/labcheck-starter");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "the starter does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug/lotteryserver")
}

#[test]
fn the_lotteryserver_starter_builds_stops_fails_and_passes_once_filled() {
    let tmp = TempDir::new("starter");
    let dir = tmp.path().join("lotteryserver");
    let made = Command::new(LABCHECK)
        .args(["starter", "lotteryserver"])
        .arg(&dir)
        .output()
        .expect("run labcheck starter");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stdout).contains("6 blanks to fill"));

    // 1. It builds as generated.
    let program = build(&dir);
    // 2. Running it stops at the first blank, naming it.
    let run = Command::new(&program)
        .arg("0")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run the starter");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("not yet implemented: ① socket(): a TCP endpoint, no address yet; see docs/lab3.md#requirement-1-fill-in-the-blanks"), "{stderr}");
    // 3. labcheck fails on it with that message.
    let path = program.to_string_lossy().into_owned();
    let (ok, out) = labcheck(&["server", "lottery", "--", &path, "{port}"]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL [handout] lottery.start"), "{out}");
    assert!(
        out.contains("it stopped at \"not yet implemented: ① socket()"),
        "{out}"
    );

    // 4. The reference statements put back: the reference source, and every check passes.
    let reference = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../lottery/src/server.rs"),
    )
    .expect("reference");
    let (blanked, blanks) = labs::labcheck::starter::blank_source(
        &reference,
        &['①', '②', '③', '④', '⑤', '⑥'],
        "requirement-1-fill-in-the-blanks",
    )
    .expect("blank");
    let server = dir.join("src/server.rs");
    let mut text = std::fs::read_to_string(&server).expect("starter server.rs");
    assert_eq!(text, blanked);
    for b in &blanks {
        assert_eq!(text.matches(&b.replacement).count(), 1, "{}", b.replacement);
        text = text.replace(&b.replacement, &b.original);
    }
    assert_eq!(
        text, reference,
        "filling the blanks must give back the reference source"
    );
    std::fs::write(&server, text).expect("write server.rs");
    build(&dir);
    let (ok, out) = labcheck(&["server", "lottery", "--", &path, "{port}"]);
    assert!(ok, "{out}");
    assert!(out.contains("18 passed, 0 failed"), "{out}");
}
