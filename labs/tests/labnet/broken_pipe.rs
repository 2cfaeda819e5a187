//! `labnet run ... | head -3`: the reader of labnet's output goes away mid-run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

#[test]
fn a_reader_that_goes_away_ends_the_run_quietly_and_nothing_is_left() {
    if skip("broken_pipe") || !programs_built("broken_pipe", &["lotteryserver", "lotteryclient"]) {
        return;
    }
    let name = net_name("pipe");
    let mut child = Command::new(LABNET)
        .args(["run", "lottery", "--name", &name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start labnet run");
    // What `head -3` does: read three lines, then close the pipe.
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    for _ in 0..3 {
        let mut line = String::new();
        out.read_line(&mut line).expect("a line of labnet's output");
    }
    drop(out);
    let mut status = None;
    let ended = testkit::wait_until(Duration::from_secs(60), || {
        status = child.try_wait().expect("waitpid");
        status.is_some()
    });
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
        let _ = labnet(&["down", "--name", &name]);
        panic!("labnet run went on (or hung) after its stdout closed");
    }
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
    assert_eq!(leftovers(&name), Vec::<String>::new(), "stderr: {err}");
}
