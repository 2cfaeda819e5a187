//! Working with a network that is up: `labnet exec`, `labnet shell` (a command or a
//! shell inside one namespace, the handout's "other computer"), and `labnet down`
//! (for a network whose link was killed, or that another terminal started).

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::names::{Names, Side};
use super::netns::{exists, is_labnet, recorded_pid, teardown};

/// Replaces this process with `ip netns exec NAME-SIDE PROGRAM ARGS` (the command is
/// printed on stderr, so that the program's own output stays clean).
pub fn exec(names: &Names, side: Side, program: &str, args: &[String]) -> unp::Result<()> {
    exec_with(names, side, program, args, &[])
}

/// [`exec`], with `env` added to the program's environment.
fn exec_with(
    names: &Names,
    side: Side,
    program: &str,
    args: &[String],
    env: &[(&str, String)],
) -> unp::Result<()> {
    let ns = names.netns(side);
    require_netns(names, side)?;
    let words: Vec<&str> = [program]
        .into_iter()
        .chain(args.iter().map(String::as_str))
        .collect();
    eprintln!("+ ip netns exec {ns} {}", words.join(" "));
    let err = Command::new("ip")
        .args(["netns", "exec", &ns, program])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .exec();
    Err(unp::Error::os("exec", err).with_detail("ip"))
}

/// The network must be up: its namespace for `side` exists.
fn require_netns(names: &Names, side: Side) -> unp::Result<()> {
    if names.netns_path(side).exists() {
        return Ok(());
    }
    Err(unp::Error::msg(format!(
        "no namespace {}: start the network first with `{}`",
        names.netns(side),
        names.command("up", "")
    )))
}

/// `labnet shell`: the user's `$SHELL` (or `/bin/sh`) inside a namespace, its prompt
/// starting with `[labnet:NAME SIDE] ` so that two terminals tell their hosts apart.
/// bash gets an rcfile (`/run/labnet/NAME/bashrc-SIDE`: the usual ones, then the
/// prefix), sh and its kin `PS1` in the environment; any other shell sets its prompt
/// itself, and is told to use `$LABNET_HOST`, which every shell gets (with
/// `$LABNET_NAME`).
pub fn shell(names: &Names, side: Side) -> unp::Result<()> {
    require_netns(names, side)?;
    let sh = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    let tag = format!("[labnet:{} {side}] ", names.name());
    let mut env = vec![
        ("LABNET_HOST", side.to_string()),
        ("LABNET_NAME", names.name().to_string()),
    ];
    let kind = sh.rsplit('/').next().unwrap_or_default();
    let (args, prompt) = match kind {
        "bash" => {
            let rc = bash_rcfile(names, side, &tag)?;
            (vec!["--rcfile".to_string(), rc, "-i".into()], true)
        }
        "sh" | "dash" | "ash" | "ksh" | "mksh" | "busybox" => {
            let mark = if nix::unistd::geteuid().is_root() {
                "#"
            } else {
                "$"
            };
            env.push(("PS1", format!("{tag}{mark} ")));
            (vec!["-i".to_string()], true)
        }
        _ => (Vec::new(), false),
    };
    let hint = match prompt {
        true => format!("its prompt starts with `{}`", tag.trim_end()),
        false => format!(
            "labnet sets the prompt of bash and sh only: in {kind}, $LABNET_HOST ({side}) \
             names this host, e.g. PS1=\"[$LABNET_HOST] $PS1\""
        ),
    };
    let peer = match side {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    };
    eprintln!(
        "labnet: a shell in {} ({}, {}); the {peer} is {} ({}); {hint}; `exit` leaves it",
        names.netns(side),
        names.ipv4(side),
        names.ipv6(side),
        names.ipv4(peer),
        names.ipv6(peer)
    );
    exec_with(names, side, &sh, &args, &env)
}

/// Writes `/run/labnet/NAME/bashrc-SIDE`, which bash reads instead of its usual rc
/// files (`bash --rcfile`): it reads them itself, then puts `tag` before their `PS1`.
/// Returns its path.
fn bash_rcfile(names: &Names, side: Side, tag: &str) -> unp::Result<String> {
    let rc = names.state_dir().join(format!("bashrc-{side}"));
    let text = format!(
        "# labnet shell {side}: the usual rc files, then a prompt naming this host\n\
         [ -f /etc/bash.bashrc ] && . /etc/bash.bashrc\n\
         [ -f ~/.bashrc ] && . ~/.bashrc\n\
         PS1='{tag}'\"$PS1\"\n"
    );
    std::fs::write(&rc, text)
        .map_err(|e| unp::Error::os("write", e).with_detail(rc.display().to_string()))?;
    Ok(rc.display().to_string())
}

/// `labnet down`: asks the network's link to stop (SIGTERM; it tears down itself), then
/// removes whatever is left, as when the link was killed with SIGKILL.
pub fn down(names: &Names) -> unp::Result<()> {
    if !exists(names) {
        return Err(unp::Error::msg(format!(
            "no network called {} (see `ip netns list`)",
            names.name()
        )));
    }
    if let Some(pid) = link_pid(names) {
        unp::log(format_args!(
            "+ kill {pid}    # the link of {}",
            names.name()
        ));
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_labnet(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let problems = teardown(names);
    if problems.is_empty() {
        unp::log(format_args!("labnet: network {} is down", names.name()));
        return Ok(());
    }
    Err(unp::Error::msg(problems.join("; ")))
}

/// The pid in `/run/labnet/NAME/pid`, if that process is still a labnet.
fn link_pid(names: &Names) -> Option<Pid> {
    recorded_pid(names).filter(|pid| *pid != Pid::this() && is_labnet(*pid))
}
