//! The zoo: small programs (labs/tests/zoo/*.rs, std only, built here with rustc) that
//! each make one mistake, chosen by an argument. Checked as a class with `labcheck batch`
//! (which tests the batch too): each mistake is caught by the check named for it, with
//! an explanation that names the cause; the reference programs and the zoo's own correct
//! variants (`none`) pass every check.

mod labcheck_util;

use std::path::Path;
use std::process::Command;

use labcheck_util::{LABCHECK, TempDir, reference};

/// (zoo program, mistake, check that must fail, words its explanation must hold)
const CATCHES: &[(&str, &str, &str, &str)] = &[
    (
        "lottery_server",
        "one-read",
        "lottery.byte-at-a-time",
        "one read() is not one message",
    ),
    (
        "lottery_server",
        "first-only",
        "lottery.two-in-one",
        "two commands can arrive in one segment",
    ),
    (
        "lottery_server",
        "big-endian",
        "lottery.list-empty",
        "wrong byte order",
    ),
    (
        "lottery_server",
        "range",
        "lottery.gen-format",
        "numbers must be 1–45",
    ),
    (
        "lottery_server",
        "repeat",
        "lottery.six-distinct",
        "was drawn already",
    ),
    (
        "lottery_server",
        "no-full",
        "lottery.full",
        "not the one GEN should get",
    ),
    (
        "lottery_server",
        "terminator",
        "lottery.list-empty",
        "no terminator",
    ),
    (
        "lottery_server",
        "no-close-on-end",
        "lottery.end-closes",
        "did not close the connection after END",
    ),
    (
        "lottery_server",
        "no-exit",
        "lottery.end-exits",
        "returns from main after END",
    ),
    (
        "lottery_server",
        "no-bind-check",
        "lottery.second-server",
        "check bind()'s return value",
    ),
    (
        "lottery_server",
        "eof-exit",
        "lottery.eof-between",
        "must not end the server",
    ),
    (
        "lottery_server",
        "unknown-ends",
        "lottery.unknown",
        "must not end the server",
    ),
    (
        "lottery_server",
        "dies-on-vanish",
        "lottery.vanish",
        "must not kill the server",
    ),
    ("lottery_server", "zombies", "lottery.zombies", "waitpid"),
    (
        "lottery_client",
        "big-endian",
        "lottery-client.list",
        "big-endian",
    ),
    (
        "lottery_client",
        "eof-loop",
        "lottery-client.server-closes",
        "loops on EOF",
    ),
    (
        "lottery_client",
        "no-connect-check",
        "lottery-client.refused",
        "check connect()'s return value",
    ),
    ("ft_server", "len-big-endian", "ft.size-1", "big-endian"),
    (
        "ft_server",
        "short-last",
        "ft.size-1",
        "every segment is exactly 260 bytes",
    ),
    (
        "ft_server",
        "traversal",
        "ft.traversal",
        "refuse any path with a `..`",
    ),
    (
        "ft_server",
        "no-close",
        "ft.size-0",
        "close(connfd) after the last segment",
    ),
    (
        "ft_server",
        "no-exit",
        "ft.one-then-exit",
        "one client, one file",
    ),
    ("ft_client", "whole-buffer", "ft-client.size-1", "padding"),
    (
        "ft_client",
        "one-read",
        "ft-client.split-segments",
        "read until all 260 bytes",
    ),
    ("ft_client", "stale-tail", "ft-client.stale-tail", "O_TRUNC"),
    ("ft_client", "eof-loop", "ft-client.size-0", "loops on EOF"),
];

/// The manifest line of a zoo program with `bug`.
fn line(zoo: &Path, program: &str, bug: &str) -> String {
    let p = zoo.join(program).display().to_string();
    let id = format!("{program}.{bug}");
    match program {
        "lottery_server" => format!("{id} server lottery -- {p} {{port}} {bug}"),
        "lottery_client" => format!("{id} client lottery -- {p} {{host}} {{port}} {bug}"),
        "ft_server" => format!("{id} server ft -- {p} {{port}} {bug}"),
        _ => format!("{id} client ft -- {p} {{host}} {{port}} {{remote}} {{local}} {bug}"),
    }
}

/// Builds the zoo's programs with rustc into `dir`.
fn build_zoo(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zoo");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let builds: Vec<_> = ["lottery_server", "lottery_client", "ft_server", "ft_client"]
        .iter()
        .map(|name| {
            let out = dir.join(name);
            let file = src.join(format!("{name}.rs"));
            Command::new(&rustc)
                .args(["--edition", "2021", "-o"])
                .arg(&out)
                .arg(&file)
                .spawn()
                .expect("run rustc")
        })
        .collect();
    for mut b in builds {
        assert!(
            b.wait().expect("wait rustc").success(),
            "a zoo program did not build"
        );
    }
}

#[test]
fn every_mistake_of_the_zoo_is_caught_by_the_check_named_for_it() {
    let tmp = TempDir::new("zoo");
    build_zoo(tmp.path());
    let mut manifest = vec![
        format!(
            "ref-lotteryserver server lottery -- {} {{port}}",
            reference("lotteryserver")
        ),
        format!(
            "ref-lotteryclient client lottery -- {} {{host}} {{port}}",
            reference("lotteryclient")
        ),
        format!(
            "ref-ftserver server ft -- {} {{port}}",
            reference("ftserver")
        ),
        format!(
            "ref-ftclient client ft -- {} {{host}} {{port}} {{remote}} {{local}} --trust-close",
            reference("ftclient")
        ),
    ];
    for program in ["lottery_server", "lottery_client", "ft_server", "ft_client"] {
        manifest.push(line(tmp.path(), program, "none"));
    }
    for (program, bug, _, _) in CATCHES {
        manifest.push(line(tmp.path(), program, bug));
    }
    let m = tmp.path().join("manifest");
    std::fs::write(&m, manifest.join("\n")).expect("write manifest");
    let out = tmp.path().join("out");
    let run = Command::new(LABCHECK)
        .args(["batch", "--jobs", "10", "--time-limit", "60", "--out"])
        .arg(&out)
        .arg(&m)
        .output()
        .expect("run labcheck batch");
    let said =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains(&format!("{} submissions checked", manifest.len())),
        "{said}"
    );
    let book = std::fs::read_to_string(out.join("gradebook.csv")).expect("gradebook");
    assert_eq!(book.lines().count(), manifest.len() + 1, "{book}");
    for l in manifest.iter().take(8) {
        let id = l.split(' ').next().unwrap_or_default();
        let report = std::fs::read_to_string(out.join(format!("{id}.txt"))).unwrap_or_default();
        assert!(
            report.contains(" 0 failed, 0 skipped"),
            "{id} should pass everything:\n{report}"
        );
    }
    let mut missed = Vec::new();
    for (program, bug, check, why) in CATCHES {
        let id = format!("{program}.{bug}");
        let json = std::fs::read_to_string(out.join(format!("{id}.json"))).unwrap_or_default();
        let failed = json.contains(&format!(
            "\"name\":\"{check}\",\"tag\":\"handout\",\"verdict\":\"FAIL\""
        )) || json.contains(&format!(
            "\"name\":\"{check}\",\"tag\":\"robustness\",\"verdict\":\"FAIL\""
        ));
        if !failed || !json.contains(why) {
            let text = std::fs::read_to_string(out.join(format!("{id}.txt"))).unwrap_or_default();
            missed.push(format!(
                "{id}: {check} should fail explaining {why:?}\n{text}"
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
