//! The zoo's batch: build the broken programs with rustc, check them with the reference
//! programs as one `labcheck batch`, and require each mistake to fail its check.

use std::path::Path;
use std::process::Command;

use super::{LABCHECK, TempDir};

/// The manifest line of a zoo program with `bug`.
pub fn line(zoo: &Path, program: &str, bug: &str) -> String {
    let p = zoo.join(program).display().to_string();
    let id = format!("{program}.{bug}");
    match program {
        "lottery_server" => format!("{id} server lottery -- {p} {{port}} {bug}"),
        "lottery_client" => format!("{id} client lottery -- {p} {{host}} {{port}} {bug}"),
        "ft_server" => format!("{id} server ft -- {p} {{port}} {bug}"),
        "udp_echo_server" => format!("{id} server udpecho -- {p} {{port}} {bug}"),
        "udp_echo_client" => format!("{id} client udpecho -- {p} {{host}} {{port}} {bug}"),
        "udp_ft_server" => format!("{id} server udpft --idle 1 -- {p} {{port}} {bug}"),
        "rft_server" => format!("{id} server rft --idle 1 -- {p} {{port}} {bug}"),
        "rft_client" => {
            format!("{id} client rft -- {p} {{host}} {{local}} {{remote}} {{port}} {bug}")
        }
        "udp_ft_client" => {
            format!("{id} client udpft -- {p} {{host}} {{local}} {{remote}} {{port}} {bug}")
        }
        _ => format!("{id} client ft -- {p} {{host}} {{port}} {{remote}} {{local}} {bug}"),
    }
}

/// Builds the zoo's `programs` with rustc into `dir`.
pub fn build_zoo(dir: &Path, programs: &[&str]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zoo");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let builds: Vec<_> = programs
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

/// Checks `references` (which must pass every check), the `none` variant of `programs`
/// and each mistake of `catches` as one batch; each mistake must fail its check.
pub fn batch(
    name: &str,
    references: Vec<String>,
    programs: &[&str],
    catches: &[(&str, &str, &str, &str)],
) {
    let tmp = TempDir::new(name);
    build_zoo(tmp.path(), programs);
    let mut manifest = references;
    for program in programs {
        manifest.push(line(tmp.path(), program, "none"));
    }
    let must_pass = manifest.len();
    for (program, bug, _, _) in catches {
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
    for l in manifest.iter().take(must_pass) {
        let id = l.split(' ').next().unwrap_or_default();
        let report = std::fs::read_to_string(out.join(format!("{id}.txt"))).unwrap_or_default();
        assert!(
            report.contains(" 0 failed, 0 skipped"),
            "{id} should pass everything:\n{report}"
        );
    }
    let mut missed = Vec::new();
    for (program, bug, check, why) in catches {
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
