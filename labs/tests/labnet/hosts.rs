//! Telling the two computers apart, and what labnet says about its network: the
//! prompt of `labnet shell`, the hints that name a network not the default one, and
//! whether the kernel has netem.

use std::process::Command;

use testkit::Proc;

use super::harness::*;

/// `labnet shell --name NAME SIDE` with `$SHELL` = `shell`, typing `input`: its
/// status, stdout and stderr.
fn shell(net: &Net, shell: &str, side: &str, input: &str) -> (bool, String, String) {
    let mut cmd = Command::new(LABNET);
    cmd.args(["shell", "--name", &net.name, side])
        .env("SHELL", shell);
    let mut p = Proc::spawn_cmd(&mut cmd);
    p.write_stdin(input.as_bytes());
    let (status, out, err) = p.wait_exit();
    (status.success(), out, err)
}

#[test]
fn a_shell_prompt_names_its_host() {
    if skip("prompt") {
        return;
    }
    let net = Net::up("prompt", &[], &[]);
    let typed = "echo host=$LABNET_HOST name=$LABNET_NAME ns=$(ip netns identify)\nexit\n";
    for (sh, side) in [("/bin/bash", "client"), ("/bin/sh", "server")] {
        let (ok, out, err) = shell(&net, sh, side, typed);
        assert!(ok, "{sh}: {out}{err}");
        let name = &net.name;
        assert_eq!(
            out,
            format!("host={side} name={name} ns={name}-{side}\n"),
            "{err}"
        );
        let tag = format!("[labnet:{name} {side}] ");
        assert!(
            err.contains(&format!("its prompt starts with `{}`", tag.trim_end())),
            "{sh}: {err}"
        );
        // The banner names the other computer's address, as its namespace has it.
        let peer = if side == "client" { "server" } else { "client" };
        let addr = Command::new("ip")
            .args([
                "-n",
                &format!("{name}-{peer}"),
                "-4",
                "-br",
                "addr",
                "show",
                "tun0",
            ])
            .output()
            .expect("ip addr");
        let addr = String::from_utf8_lossy(&addr.stdout);
        let addr = addr.split_whitespace().nth(2).unwrap_or_default();
        let addr = addr.split('/').next().unwrap_or_default();
        assert!(!addr.is_empty(), "no address on {name}-{peer}");
        assert!(
            err.contains(&format!("; the {peer} is {addr} (")),
            "{sh}: {err}"
        );
        // An interactive shell prints its prompt before each command it reads: two.
        assert_eq!(err.matches(&tag).count(), 2, "{sh}: {err}");
        assert!(err.lines().any(|l| l.starts_with(&tag)), "{sh}: {err}");
    }
    // Any other shell keeps its prompt, gets the variables, and is told so
    // (`env` stands for it: it prints the environment it was given).
    let (ok, out, err) = shell(&net, "/usr/bin/env", "server", "");
    assert!(ok, "{out}{err}");
    assert!(out.lines().any(|l| l == "LABNET_HOST=server"), "{out}");
    assert!(
        out.lines()
            .any(|l| l == format!("LABNET_NAME={}", net.name)),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("PS1=")), "{out}");
    assert!(
        err.contains("labnet sets the prompt of bash and sh only: in env, $LABNET_HOST (server) names this host"),
        "{err}"
    );
}

#[test]
fn a_shell_without_its_network_says_to_start_it() {
    if skip("no network") {
        return;
    }
    let name = format!("nonet{}", std::process::id() % 100_000);
    let out = Command::new(LABNET)
        .args(["shell", "--name", &name, "server"])
        .env("SHELL", "/bin/bash") // bash's rcfile was written before the check
        .output()
        .expect("run labnet");
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "labnet: no namespace {name}-server: start the network first with `labnet up --name {name}`\n"
        )
    );
}

#[test]
fn hints_name_a_network_that_is_not_the_default() {
    if skip("hints") {
        return;
    }
    let net = Net::up("hints", &[], &[]);
    let said = net.said().join("\n");
    let up_line = said
        .lines()
        .find(|l| l.starts_with("labnet: up;"))
        .unwrap_or_default();
    assert_eq!(
        up_line,
        format!(
            "labnet: up; in other terminals: `labnet shell --name {0} server`, `labnet shell \
             --name {0} client`; Ctrl-C or `labnet down --name {0}` ends it",
            net.name
        )
    );
    // A second network of the same name, while the first runs.
    let again = labnet(&["up", "--name", &net.name]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("exists already"), "{}", text(&again));
    assert_hints_name(&text(&again), &net.name);
    // A command for a network that is not there.
    let gone = net_name("nohints");
    let exec = labnet(&["exec", "--name", &gone, "client", "true"]);
    assert_eq!(exec.status.code(), Some(1), "{}", text(&exec));
    assert_hints_name(&text(&exec), &gone);
}

#[test]
fn up_says_whether_the_kernel_has_netem_and_leaves_no_qdisc() {
    if skip("netem") {
        return;
    }
    let net = Net::up("netem", &[], &[]);
    let said = net.said();
    let line = said
        .iter()
        .find(|l| l.starts_with("labnet: netem"))
        .unwrap_or_else(|| panic!("no netem line in {said:#?}"));
    let either = "; the link is labnet's own either way (docs/labnet-inside.md#netem)";
    // The kernel's answer, asked the same way in a namespace of the test's own.
    let probe = net_name("nprobe");
    let ip = |args: &[&str]| Command::new("ip").args(args).output().expect("ip");
    assert!(ip(&["netns", "add", &probe]).status.success());
    let tc = Command::new("tc")
        .args(["-n", &probe, "qdisc", "add", "dev", "lo", "root", "netem"])
        .output();
    let _ = ip(&["netns", "delete", &probe]);
    match tc {
        Ok(out) if out.status.success() => {
            assert_eq!(*line, format!("labnet: netem is in this kernel{either}"))
        }
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            assert_eq!(
                *line,
                format!("labnet: netem is not in this kernel (tc: {why}){either}")
            );
        }
        Err(_) => assert!(
            line.starts_with("labnet: netem: cannot tell (cannot run tc"),
            "{line}"
        ),
    }
    // The probe left nothing on the client's loopback.
    let qdisc = net.exec("client", &["tc", "qdisc", "show", "dev", "lo"]);
    let shown = String::from_utf8_lossy(&qdisc.stdout);
    assert!(!shown.contains("qdisc netem"), "{shown}");
}
