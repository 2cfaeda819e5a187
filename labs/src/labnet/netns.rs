//! Building a network and tearing it down.
//!
//! [`Network::up`] makes the state directory (`/run/labnet/NAME/`, holding the link's
//! pid), the two namespaces and their TUN devices, printing each `ip` command. From
//! its first step on, a [`Network`] guard exists whose `Drop` runs [`teardown`]: a
//! returned error, a panic (unwinding), the end of `labnet up` after Ctrl-C or SIGTERM
//! all pass through it. Only SIGKILL skips it; `labnet down` then runs the same
//! [`teardown`] from another process.

use std::fs::{self, File};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::command::{ip, trace};
use super::impair::PerDirection;
use super::names::{Names, Side, StateLock, TUN_NAME, free_index};
use super::tun;

/// Test-only: with this variable set to N, `up` waits N ms between choosing its index
/// and recording it, so that a test can check that networks started together still
/// get different indexes.
pub const INDEX_PAUSE_ENV: &str = "LABNET_TEST_INDEX_PAUSE_MS";

fn pause_for_test() {
    let ms = std::env::var(INDEX_PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    if let Some(ms) = ms {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Packets the queue between a namespace's kernel and labnet holds (`txqueuelen`).
pub const TUN_QUEUE: &str = "10000";

/// A network this process built; torn down when dropped.
pub struct Network {
    names: Names,
}

/// The TUN devices of a network: the client's, then the server's.
pub type Tuns = (File, File);

impl Network {
    /// Builds the network `names` with the lowest free index, or says why not (it
    /// exists already: `labnet down`); what a killed link left is removed first when
    /// nothing runs in it (see [`clear_leftovers`]). `offload`: which directions take large segments
    /// (the client's TUN device reads client→server, the server's server→client).
    pub fn up(names: &Names, offload: PerDirection<bool>) -> unp::Result<(Network, Tuns)> {
        // Held until the index is recorded and the namespaces exist: two labnets
        // starting at once take turns (and `ip netns add` mounts /run/netns only once).
        let lock = StateLock::take()?;
        clear_leftovers(names)?;
        let names = &names.clone().with_index(free_index(names.name()));
        pause_for_test();
        let dir = names.state_dir();
        fs::create_dir(&dir).map_err(|e| {
            unp::Error::os("mkdir", e).with_detail(format!(
                "{} (is another labnet starting? else: {})",
                dir.display(),
                names.command("down", "")
            ))
        })?;
        // From here on, whatever fails, the guard removes what was made.
        let net = Network {
            names: names.clone(),
        };
        let write = |file: &str, text: String| {
            fs::write(dir.join(file), text).map_err(|e| {
                unp::Error::os("write", e).with_detail(dir.join(file).display().to_string())
            })
        };
        write("pid", format!("{}\n", std::process::id()))?;
        write("index", format!("{}\n", names.index()))?;
        for side in Side::BOTH {
            ip(&["netns", "add", &names.netns(side)])?;
        }
        drop(lock);
        let client = net.configure(Side::Client, offload.to_server)?;
        let server = net.configure(Side::Server, offload.to_client)?;
        Ok((net, (client, server)))
    }

    /// Opens the TUN device of `side` and gives it its addresses.
    fn configure(&self, side: Side, offload: bool) -> unp::Result<File> {
        let ns = self.names.netns(side);
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        let tun = tun::open_in(&ns, TUN_NAME, offload)?;
        // No IPv6 link-local address: the capture shows only the lab's own traffic.
        ip(&["-n", &ns, "link", "set", TUN_NAME, "addrgenmode", "none"])?;
        let v4 = format!("{}/24", self.names.ipv4(side));
        ip(&["-n", &ns, "addr", "add", &v4, "dev", TUN_NAME])?;
        // nodad: usable at once; no other host can be on this link.
        let v6 = format!("{}/64", self.names.ipv6(side));
        ip(&["-n", &ns, "addr", "add", &v6, "dev", TUN_NAME, "nodad"])?;
        // The queue from the kernel to labnet: TCP does not see it fill, and at 500
        // packets it overflowed whenever labnet's thread waited for a core a few
        // milliseconds, losing segments no impairment drew. 10000 is more than a TCP
        // window (6 MB, 4300 segments) holds.
        ip(&["-n", &ns, "link", "set", TUN_NAME, "txqueuelen", TUN_QUEUE])?;
        ip(&["-n", &ns, "link", "set", TUN_NAME, "up"])?;
        Ok(tun)
    }

    /// The network's names.
    pub fn names(&self) -> &Names {
        &self.names
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for problem in teardown(&self.names) {
            unp::err_msg(problem);
        }
    }
}

/// What is left of a network called like `names`: refused while its link runs;
/// removed when its link is dead (killed with SIGKILL: nothing tore it down) and no
/// program runs in its namespaces, since then nothing of anybody's is lost; refused,
/// with the programs listed, when some still run (ending a user's server or shell is
/// `labnet down`'s job, asked for by the user).
fn clear_leftovers(names: &Names) -> unp::Result<()> {
    let Some(there) = leftover(names) else {
        return Ok(());
    };
    let (name, down) = (names.name(), names.command("down", ""));
    let link = recorded_pid(names);
    if let Some(pid) = link.filter(|pid| is_labnet(*pid)) {
        return Err(unp::Error::msg(format!(
            "a network called {name} exists already (its link is labnet, pid {pid}): use it \
             (`{}`), pick another --name, or end it with `{down}`",
            names.command("shell", "server")
        )));
    }
    let Some(pid) = link else {
        return Err(unp::Error::msg(format!(
            "{} exists, but no labnet records it (no {}): pick another --name, or remove \
             what is left with `{down}`",
            there.display(),
            names.state_dir().join("pid").display()
        )));
    };
    let running = programs_in(names);
    if !running.is_empty() {
        return Err(unp::Error::msg(format!(
            "the link of network {name} (pid {pid}) is dead, but its namespaces still run \
             {}: `{down}` ends them and removes the network; then `{}` again",
            running.join(", "),
            names.command("up", "")
        )));
    }
    unp::log(format_args!(
        "labnet: the link of network {name} (pid {pid}) is dead and nothing runs in its \
         namespaces: removing what it left, as `{down}` would"
    ));
    let problems = teardown(names);
    match problems.is_empty() {
        true => Ok(()),
        false => Err(unp::Error::msg(problems.join("; "))),
    }
}

/// The first file of network `names` that exists (a namespace, the state directory).
fn leftover(names: &Names) -> Option<PathBuf> {
    Side::BOTH
        .iter()
        .map(|s| names.netns_path(*s))
        .chain([names.state_dir()])
        .find(|p| p.exists())
}

/// True when anything of network `names` is left.
pub fn exists(names: &Names) -> bool {
    leftover(names).is_some()
}

/// The link's pid recorded in `/run/labnet/NAME/pid`.
pub fn recorded_pid(names: &Names) -> Option<Pid> {
    let text = fs::read_to_string(names.state_dir().join("pid")).ok()?;
    Some(Pid::from_raw(text.trim().parse().ok()?))
}

/// Whether `pid` runs labnet (a recycled pid is left alone) and is alive: a killed
/// labnet whose parent has not reaped it yet is a zombie, `labnet (Z)` in /proc, and
/// its link is as dead as if it were gone.
pub fn is_labnet(pid: Pid) -> bool {
    // /proc/PID/stat: `PID (COMM) STATE ...`
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    stat.contains(" (labnet) ") && !matches!(state, None | Some('Z' | 'X'))
}

/// The programs running in the namespaces of `names`: `PID NAME` each.
fn programs_in(names: &Names) -> Vec<String> {
    Side::BOTH
        .iter()
        .filter(|side| names.netns_path(**side).exists())
        .flat_map(|side| pids_in(&names.netns(*side), true))
        .map(|pid| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("{pid} {}", comm.trim())
        })
        .collect()
}

/// Removes everything of network `names` that exists: the processes inside its
/// namespaces (SIGTERM, SIGKILL after 1 s), the namespaces (with their TUN devices),
/// the state directory. Returns what could not be removed.
pub fn teardown(names: &Names) -> Vec<String> {
    let mut problems = Vec::new();
    for side in Side::BOTH {
        if !names.netns_path(side).exists() {
            continue;
        }
        let ns = names.netns(side);
        stop_processes_in(&ns);
        if let Err(e) = ip(&["netns", "delete", &ns]) {
            problems.push(e.to_string());
        }
    }
    let dir = names.state_dir();
    if dir.exists() {
        trace(format_args!("rm -r {}", dir.display()));
        if let Err(e) = fs::remove_dir_all(&dir) {
            problems.push(format!("rm error: {}: {e}", dir.display()));
        }
    }
    problems
}

/// The processes in namespace `ns` (`ip netns pids`, printed unless `quiet`).
fn pids_in(ns: &str, quiet: bool) -> Vec<Pid> {
    let out = match quiet {
        true => super::command::ip_quiet(&["netns", "pids", ns]),
        false => ip(&["netns", "pids", ns]),
    };
    out.unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .map(Pid::from_raw)
        .collect()
}

/// Ends the processes still inside namespace `ns`.
fn stop_processes_in(ns: &str) {
    let pids = |quiet: bool| pids_in(ns, quiet);
    let running = pids(false);
    if running.is_empty() {
        return;
    }
    for pid in &running {
        trace(format_args!("kill {pid}"));
        let _ = kill(*pid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if pids(true).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids(true) {
        trace(format_args!("kill -KILL {pid}"));
        let _ = kill(pid, Signal::SIGKILL);
    }
}
