//! What the labcheck tests share: running labcheck, finding the reference programs, a
//! temporary directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod zoo;

/// labcheck's own binary.
pub const LABCHECK: &str = env!("CARGO_BIN_EXE_labcheck");

/// target/debug (or release), where the workspace's programs are built.
pub fn bin_dir() -> PathBuf {
    Path::new(LABCHECK)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The path of a reference program of the workspace; fails with what to do when it was
/// not built (`cargo test -p labs` alone builds only labs' programs).
pub fn reference(name: &str) -> String {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is not built: run `cargo build --workspace --bins` (or `cargo test --workspace`) first",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

/// A fresh directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Makes `$TMPDIR/labcheck-test-NAME-PID`.
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("labcheck-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir temp dir");
        TempDir(dir)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs labcheck with `args` (no capture, run directories in a temp dir); returns
/// whether it exited 0, and its stdout and stderr.
pub fn labcheck(args: &[&str]) -> (bool, String) {
    let work = TempDir::new(&format!(
        "run-{}",
        args.iter().take(2).copied().collect::<Vec<_>>().join("-")
    ));
    labcheck_in(work.path(), args)
}

/// Runs labcheck with its run directories under `work`.
pub fn labcheck_in(work: &Path, args: &[&str]) -> (bool, String) {
    let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    if matches!(args.first(), Some(&"server") | Some(&"client")) {
        let at = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
        let extra = [
            "--capture".to_string(),
            "no".into(),
            "--workdir".into(),
            work.to_string_lossy().into_owned(),
        ];
        argv.splice(at..at, extra);
    }
    let out = Command::new(LABCHECK)
        .args(&argv)
        .output()
        .expect("run labcheck");
    let text = format!(
        "$ labcheck {}\n{}{}",
        argv.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
