//! "Server and client should be executed on different computers" (Lab 3), on one machine:
//! two Linux network namespaces joined by a veth pair stand for two hosts on one
//! Ethernet segment. The server runs in one, the client in the other, and the client
//! reaches the server only through the server's address on the link.
//!
//! Each test makes its own pair of namespaces (named after the test process and the
//! test, so parallel runs never meet) and deletes them when it ends, also on failure.
//! The tests need root and iproute2's `ip`; without them they skip with a printed
//! reason, unless UNPLAB_REQUIRE_NETNS=1 (`.ci/run` sets it as root), where they fail.

#![cfg(target_os = "linux")]

use std::process::{Command, Output};
use std::sync::Mutex;

use lottery::draw::Draw;
use lottery::proto::Reply;
use testkit::{Proc, Server, TIMEOUT, wait_until};

const SERVER: &str = env!("CARGO_BIN_EXE_lotteryserver");
const CLIENT: &str = env!("CARGO_BIN_EXE_lotteryclient");
const PROMPT: &str = "Command (0:GEN 1:LIST 2:END): ";

/// The first `ip netns add` on a machine sets up the /run/netns mount; two tests doing
/// that at the same moment can race, so this process adds its namespaces one at a time.
static NETNS_ADD: Mutex<()> = Mutex::new(());

/// Runs `ip ARGS` and returns its output (stderr says why it failed).
fn ip(args: &[&str]) -> std::io::Result<Output> {
    Command::new("ip").args(args).output()
}

/// Runs `ip ARGS`, panicking with its stderr if it fails (for steps after the checks).
fn ip_ok(args: &[&str]) -> String {
    let out = ip(args).unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace this test created; deleted on drop. Processes still inside keep
/// it alive until they end, so the programs' handles are dropped first (declared later).
struct Netns(String);

impl Netns {
    /// `ip netns add NAME`, or the reason it failed.
    fn add(name: String) -> Result<Netns, String> {
        let _one_at_a_time = NETNS_ADD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A namespace of this name can only be left over from an earlier run whose
        // process had this pid and was killed before cleaning up.
        let _ = ip(&["netns", "delete", &name]);
        let out = ip(&["netns", "add", &name]).map_err(|e| format!("cannot run ip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ip netns add {name}: {}",
                String::from_utf8_lossy(&out.stderr).trim_end()
            ));
        }
        Ok(Netns(name))
    }

    /// `ip netns exec NAME` followed by a program and its arguments.
    fn exec(&self, bin: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0, bin]).args(args);
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting a namespace also deletes its end of the veth pair, and with it the peer.
        let _ = ip(&["netns", "delete", &self.0]);
    }
}

/// Two "hosts": namespaces `srv` and `cli`, linked by `veth-srv` <-> `veth-cli`.
struct TwoHosts {
    srv: Netns,
    cli: Netns,
}

/// Why two hosts cannot be built here, if they cannot: not root, no `ip`, or a kernel
/// or container that refuses network namespaces.
fn why_not() -> Option<String> {
    // SAFETY: geteuid(2) only reads the process's credentials.
    if unsafe { nix::libc::geteuid() } != 0 {
        return Some("network namespaces need root".into());
    }
    match ip(&["-V"]) {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`ip -V` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        )),
        Err(e) => Some(format!("cannot run `ip` ({e}); install iproute2")),
    }
}

/// Says why the test is skipped, or fails when UNPLAB_REQUIRE_NETNS=1 (`.ci/run` sets it).
fn skip(why: &str) {
    testkit::skip(
        "UNPLAB_REQUIRE_NETNS",
        &format!("two network namespaces cannot be made here: {why}"),
    );
}

impl TwoHosts {
    /// Builds the two hosts for the test tagged `tag`, with `srv_addr` and `cli_addr`
    /// (with prefix, e.g. `10.200.1.1/24`) on the link, or says why it cannot.
    fn new(tag: &str, srv_addr: &str, cli_addr: &str) -> Result<TwoHosts, String> {
        if let Some(why) = why_not() {
            return Err(why);
        }
        let tag = format!("{}-{tag}", std::process::id());
        let srv = Netns::add(format!("unplab-srv-{tag}"))?;
        let cli = Netns::add(format!("unplab-cli-{tag}"))?;
        // `ip netns exec` also needs a private mount namespace; some containers refuse it.
        let probe = srv
            .exec("true", &[])
            .output()
            .map_err(|e| format!("cannot run ip: {e}"))?;
        if !probe.status.success() {
            return Err(format!(
                "ip netns exec: {}",
                String::from_utf8_lossy(&probe.stderr).trim_end()
            ));
        }
        let hosts = TwoHosts { srv, cli };
        let (s, c) = (hosts.srv.0.as_str(), hosts.cli.0.as_str());
        // The pair is made inside `srv` with its peer put straight into `cli`, so the
        // interface names never appear in the machine's own namespace.
        ip_ok(&[
            "-n", s, "link", "add", "veth-srv", "type", "veth", "peer", "name", "veth-cli",
            "netns", c,
        ]);
        for (ns, dev, addr) in [(s, "veth-srv", srv_addr), (c, "veth-cli", cli_addr)] {
            let mut args = vec!["-n", ns, "addr", "add", addr, "dev", dev];
            if addr.contains(':') {
                // No duplicate address detection: the address is usable at once, and no
                // other host can be on this link.
                args.push("nodad");
            }
            ip_ok(&args);
            ip_ok(&["-n", ns, "link", "set", "lo", "up"]);
            ip_ok(&["-n", ns, "link", "set", dev, "up"]);
        }
        // Packets flow once the kernel has seen the carrier of both ends (state UP); an
        // IPv6 address must also have left the tentative state (with nodad it does at
        // once). Wait for that instead of guessing a delay. The link-local fe80::
        // addresses the kernel adds stay tentative for a second or two: not waited for,
        // the test never uses them.
        let ready = |ns: &str, dev: &str, addr: &str| {
            let link = ip_ok(&["-n", ns, "-o", "link", "show", "dev", dev]);
            let addrs = ip_ok(&["-n", ns, "-o", "addr", "show", "dev", dev]);
            link.contains("LOWER_UP")
                && link.contains("state UP")
                && addrs
                    .lines()
                    .any(|l| l.contains(&format!(" {addr} ")) && !l.contains("tentative"))
        };
        assert!(
            wait_until(TIMEOUT, || ready(s, "veth-srv", srv_addr)
                && ready(c, "veth-cli", cli_addr)),
            "the veth pair did not come up:\n{}\n{}",
            ip_ok(&["-n", s, "addr"]),
            ip_ok(&["-n", c, "addr"])
        );
        Ok(hosts)
    }
}

/// The numbers a server started with `--seed seed` draws, in order.
fn expected_draw(seed: u64, n: usize) -> Vec<u8> {
    let mut d = Draw::seeded(seed);
    (0..n)
        .map(|_| match d.generate() {
            Reply::NewNumber(n) => n,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The lab's session across the link: the server listens on every address of its host
/// and sees the client's address on the link; the client reaches it only by the
/// server's address on the link, not by its own loopback.
fn session_across(tag: &str, srv_addr: &str, cli_addr: &str) {
    let hosts = match TwoHosts::new(tag, srv_addr, cli_addr) {
        Ok(hosts) => hosts,
        Err(why) => return skip(&why),
    };
    let server_ip = srv_addr.split('/').next().expect("address/prefix");
    let client_ip = cli_addr.split('/').next().expect("address/prefix");
    let v6 = server_ip.contains(':');

    let mut s = Server::spawn_cmd(&mut hosts.srv.exec(SERVER, &["0", "--seed", "7"]));
    assert!(
        s.addr.ip().is_unspecified(),
        "the server binds all addresses: {}",
        s.addr
    );
    let port = s.port().to_string();

    // From the client's host, its own loopback is another machine's: nobody listens there.
    let loopback = if v6 { "::1" } else { "127.0.0.1" };
    let (status, out, err) =
        Proc::spawn_cmd(&mut hosts.cli.exec(CLIENT, &[loopback, &port])).wait_exit();
    assert_eq!(
        (status.code(), out.as_str(), err.as_str()),
        (
            Some(1),
            "",
            "lotteryclient: connect error: Connection refused (ECONNREFUSED)\n"
        ),
        "{loopback} port {port} from the client's namespace must not reach the server"
    );
    assert!(s.proc.is_running());

    let mut client = hosts.cli.exec(CLIENT, &[server_ip, &port]);
    let mut c = Proc::spawn_cmd(&mut client);
    c.write_stdin(b"0\n1\n2\n");
    let (status, out, err) = c.wait_exit();
    let n = expected_draw(7, 1)[0];
    assert_eq!(
        out,
        format!("{PROMPT}New number generated: {n}\n{PROMPT}numbers: {n} 0 0 0 0 0\n{PROMPT}")
    );
    assert_eq!(err, "");
    assert_eq!(status.code(), Some(0));

    // END ends the iterative server; its log names the client by its address on the link.
    let (status, log, err) = s.proc.wait_exit();
    assert_eq!(status.code(), Some(0), "{err}");
    let first = log.lines().next().unwrap_or_default();
    let peer = first
        .strip_prefix("connection from ")
        .unwrap_or_else(|| panic!("no connection line first: {log:?}"));
    let want_prefix = if v6 {
        format!("[{client_ip}]:")
    } else {
        format!("{client_ip}:")
    };
    assert!(
        peer.starts_with(&want_prefix) && peer[want_prefix.len()..].parse::<u16>().is_ok(),
        "the server saw the client as {peer}, not {want_prefix}PORT"
    );
    assert_eq!(
        log,
        format!(
            "connection from {peer}\n{peer}: GEN -> New number generated: {n}\n\
             {peer}: LIST -> numbers: {n} 0 0 0 0 0\n{peer}: END\n"
        )
    );
}

#[test]
fn lottery_between_two_hosts_over_ipv4() {
    session_across("v4", "10.200.1.1/24", "10.200.1.2/24");
}

#[test]
fn lottery_between_two_hosts_over_ipv6() {
    session_across("v6", "fd00:200::1/64", "fd00:200::2/64");
}
