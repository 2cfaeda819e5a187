//! The one way a test skips, and the course's captures in shared/.

use super::*;

/// True when the environment variable `requirement` (e.g. `UNPLAB_REQUIRE_NETNS`) says
/// that the tests needing it must run here: set, and neither empty nor `0`.
pub fn required(requirement: &str) -> bool {
    std::env::var_os(requirement).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The one way a test, or a part of one, skips for want of something this machine lacks
/// (root, a tool, network namespaces, the course's captures). The caller returns (or
/// skips the part) right after.
///
/// - With `requirement` set (see [`required`]; CI sets every one it can satisfy), the
///   test fails instead: `TEST cannot run here, but REQUIREMENT is set: REASON`.
/// - Otherwise `SKIP FILE::TEST: REASON (set REQUIREMENT=1 to make this a failure)` goes
///   to stderr where `cargo test` shows it even for a passing test (libtest captures only
///   what `print!`/`eprint!` write, not writes to the stderr handle), and the same line
///   is appended to the file named by `UNPLAB_SKIP_LOG`, if set, for `.ci/run`'s list.
#[track_caller]
pub fn skip(requirement: &str, reason: &str) {
    let test = test_name(std::panic::Location::caller().file());
    if required(requirement) {
        panic!("{test} cannot run here, but {requirement} is set: {reason}");
    }
    let line = format!("SKIP {test}: {reason} (set {requirement}=1 to make this a failure)\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("UNPLAB_SKIP_LOG") {
        // One write per line on an O_APPEND file: lines of parallel tests never mix.
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = appended {
            panic!("cannot record the skip in UNPLAB_SKIP_LOG={log:?}: {e}");
        }
    }
}

/// `FILE::TEST`: the calling test's source file and its name (libtest names each test's
/// thread after the test; with one test thread it may be `main`, then the file alone).
fn test_name(file: &str) -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => format!("{file}::{name}"),
        _ => file.to_string(),
    }
}

/// The course's capture `name` from `shared/captures/`, or `None` after a [`skip`]
/// (requirement `UNPLAB_REQUIRE_SHARED`) when it is absent. `shared/` sits beside the
/// project here and in CI, but it is not part of a user's clone; `UNPLAB_SHARED_DIR`
/// names it when it is elsewhere (e.g. for a git worktree).
#[track_caller]
pub fn course_capture(name: &str) -> Option<std::path::PathBuf> {
    // This crate's directory is PROJECT/testkit; shared/ sits beside PROJECT.
    let beside = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(|dir| dir.join("shared"));
    let shared = std::env::var_os("UNPLAB_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .or(beside)
        .unwrap_or_default();
    let path = shared.join("captures").join(name);
    if path.is_file() {
        return Some(path);
    }
    skip(
        "UNPLAB_REQUIRE_SHARED",
        &format!(
            "the course capture {} is absent (shared/ sits beside the project here and in \
             CI, but not in a user's clone; UNPLAB_SHARED_DIR names it elsewhere)",
            path.display()
        ),
    );
    None
}
