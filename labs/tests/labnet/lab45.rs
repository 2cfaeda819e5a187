//! The Lab 4 and Lab 5 scenarios of `labnet run`: two clients of the select server and
//! of the iterative one (their time lines), and the UDP echo daemon, which must leave
//! nothing behind, neither after `labnet run daemon` nor after `labnet down`.

use std::path::Path;
use std::time::Duration;

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::harness::*;

/// The time line of `echo-select` / `echo-iterative`: (seconds, client, text).
fn timeline(t: &str) -> Vec<(f64, u8, String)> {
    t.lines()
        .filter_map(|l| {
            let (at, rest) = l.trim_start().split_once(" [client ")?;
            let (n, what) = rest.split_once("] ")?;
            Some((at.parse().ok()?, n.parse().ok()?, what.to_string()))
        })
        .collect()
}

const TYPED: [&str; 3] = [
    "client 1, first line",
    "client 2, while client 1 is connected",
    "client 1, second line",
];

/// The clients and lines of a time line.
fn shown(events: &[(f64, u8, String)]) -> Vec<(u8, String)> {
    events.iter().map(|(_, n, w)| (*n, w.clone())).collect()
}

/// The time line a server should give: client 2's echo while client 1 is connected
/// (`at_once`), or only after client 1 left.
fn expected(server: &str, at_once: bool) -> Vec<(u8, String)> {
    let cli = format!("tcpcli01 {server} -p 9877");
    let ok = || "exits (exit status: 0)".to_string();
    let typed = |i: usize| format!("types \"{}\"", TYPED[i]);
    let start = vec![
        (1, format!("$ {cli}")),
        (1, typed(0)),
        (1, TYPED[0].to_string()),
        (2, format!("$ printf '{}\\n' | {cli}", TYPED[1])),
    ];
    let two = vec![(2, TYPED[1].to_string()), (2, ok())];
    let one = vec![
        (1, typed(2)),
        (1, TYPED[2].to_string()),
        (1, "types Ctrl-D".to_string()),
        (1, ok()),
    ];
    match at_once {
        true => [start, two, one].concat(),
        false => {
            let waits = vec![(2, "(no echo in 3s: client 1 types on)".to_string())];
            [start, waits, one, two].concat()
        }
    }
}

#[test]
fn the_select_server_answers_client_2_while_client_1_is_connected() {
    let programs = ["tcpservselect01", "tcpcli01", "labtrace"];
    if skip("select") || !programs_built("select", &programs) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("sel", &["echo-select", "--delay", "20ms"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    let events = timeline(&t);
    assert_eq!(shown(&events), expected(&tr.addrs[2], true), "{t}");
    // Each echo is a round trip (40 ms) after its line; client 2's also waits for its
    // handshake.
    assert!(events[2].0 - events[1].0 >= 0.04, "{t}");
    assert!(events[4].0 - events[3].0 >= 0.08, "{t}");
    let verdict = format!(
        "echo-select: client 2 got its echo at {:.3} s, while client 1 was connected (until \
         {:.3} s): the server served both at once",
        events[4].0, events[9].0
    );
    assert!(t.lines().any(|l| l == verdict), "{verdict}\n{t}");
    assert_eq!(
        tr.server[..2],
        [
            "[server] $ tcpservselect01 -p 9877",
            "listening on [::]:9877"
        ]
    );
    let from = format!("connection from {}:", tr.addrs[0]);
    assert_eq!(
        tr.server.iter().filter(|l| l.starts_with(&from)).count(),
        2,
        "{t}"
    );
    assert_eq!(
        tr.server.iter().filter(|l| l.ends_with(" left")).count(),
        2,
        "{t}"
    );
    // On the wire: client 2's echo comes back before client 1 sends its second line.
    let echo2 = tshark_frames(&pcap, "tcp.srcport == 9877 && tcp contains \"client 2\"");
    let second = tshark_frames(&pcap, "tcp.dstport == 9877 && tcp contains \"second line\"");
    assert!(
        echo2.len() == 1 && second.len() == 1 && echo2[0] < second[0],
        "{t}"
    );
    assert_eq!(traced(&t, "(echo)").len(), 2, "{t}");
}

#[test]
fn the_iterative_server_answers_client_2_only_after_client_1_leaves() {
    let programs = ["tcpserv01_non", "tcpcli01", "labtrace"];
    if skip("iterative") || !programs_built("iterative", &programs) {
        return;
    }
    let (out, _pcap, _dir) = run_scenario("itr", &["echo-iterative"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    let events = timeline(&t);
    assert_eq!(shown(&events), expected(&tr.addrs[2], false), "{t}");
    assert!(events[4].0 - events[3].0 >= 3.0, "{t}");
    let verdict = format!(
        "echo-iterative: client 2 got its echo at {:.3} s, only after client 1 left at {:.3} \
         s: the server serves one client at a time",
        events[9].0, events[8].0
    );
    assert!(t.lines().any(|l| l == verdict), "{verdict}\n{t}");
    // The server: client 1 in and out, only then client 2.
    let server: Vec<&str> = tr.server.iter().map(String::as_str).collect();
    let kinds: Vec<bool> = server[2..]
        .iter()
        .map(|l| l.starts_with("connection from "))
        .collect();
    assert_eq!(kinds, [true, false, true, false], "{t}");
    assert_eq!(
        server[3],
        format!("{} left", &server[2]["connection from ".len()..])
    );
}

/// The udpechod processes, also zombies, whose command line contains `text`.
fn udpechods(text: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (comm.trim() == "udpechod" && cmdline.contains(text))
                .then(|| format!("{:?}: {cmdline}", e.file_name()))
        })
        .collect()
}

#[test]
fn the_daemon_runs_detached_in_the_server_and_nothing_is_left() {
    let programs = ["udpechod", "udpechoclient", "labtrace"];
    if skip("daemon") || !programs_built("daemon", &programs) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("dmn", &["daemon"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    let lines: Vec<&str> = t.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in:\n{t}"))
    };
    let start = at("[server] $ udpechod 10000 --log /");
    assert!(lines[start].ends_with("/udpechod.log"), "{t}");
    assert_eq!(
        lines[start + 1],
        "(udpechod returned at once, exit status: 0; its daemon lives on)"
    );
    let ps = at("[server] $ ps -o pid,ppid,pgid,sid,tty,stat,comm -p ");
    let pid: u32 = lines[ps].rsplit(' ').next().unwrap().parse().unwrap();
    // ps's row: PID PPID PGID SID TT STAT COMMAND.
    let row: Vec<&str> = lines[ps + 2].split_whitespace().collect();
    assert_eq!(row.len(), 7, "{t}");
    let (ppid, pgid, sid) = (row[1], row[2], row[3]);
    assert_eq!(row[0], pid.to_string(), "{t}");
    assert_eq!((row[4], row[6]), ("?", "udpechod"), "{t}");
    assert!(pgid == sid && sid != row[0], "{t}");
    assert_eq!(
        lines[ps + 3],
        format!(
            "daemon: udpechod (pid {pid}) has no controlling terminal (TT ?), is not its \
             session's leader ({sid}), and its parent is labnet ({ppid}), which made itself a \
             subreaper (without one: init, 1)"
        )
    );
    assert_eq!(tr.client, udp_echo_client(&tr.addrs[2]), "{t}");
    let kill = at("[server] $ kill ");
    assert_eq!(lines[kill], format!("[server] $ kill {pid}"));
    assert_eq!(
        lines[kill + 1],
        format!("udpechod (pid {pid}) ended: killed by SIGTERM")
    );
    assert!(lines[kill + 2].starts_with("[server] $ cat /"), "{t}");
    assert_eq!(
        lines[kill + 3],
        format!("udpechod: pid {pid} started"),
        "{t}"
    );
    assert_eq!(lines[kill + 4], "listening on [::]:10000", "{t}");
    assert!(
        lines[kill + 5].starts_with(&format!("Received packet from {}:", tr.addrs[0])),
        "{t}"
    );
    assert_eq!(lines[kill + 6], "Data: hello across the link", "{t}");
    // Nothing is left: the daemon and the first child (the session's leader, whose pid
    // is the session's id) were reaped, no zombie either; no udpechod of this run.
    for gone in [pid.to_string(), sid.to_string()] {
        let comm = std::fs::read_to_string(format!("/proc/{gone}/comm")).unwrap_or_default();
        assert_ne!(comm.trim(), "udpechod", "{gone} is left: {t}");
    }
    assert_eq!(
        udpechods(&format!("labnet-{}-", net_name("dmn"))),
        Vec::<String>::new()
    );
    assert_eq!(tshark_count(&pcap, "udp.port == 10000"), 4, "{t}");
}

#[test]
fn down_ends_a_daemon_started_in_the_network() {
    let programs = ["udpechod", "udpechoclient"];
    if skip("daemon-down") || !programs_built("daemon-down", &programs) {
        return;
    }
    let bin = |p: &str| Path::new(LABNET).with_file_name(p).display().to_string();
    let net = Net::up("dmnd", &[], &[]);
    let log = std::env::temp_dir().join(format!("labnet-test-{}-echo.log", net.name));
    let log_arg = log.display().to_string();
    // The daemon's orphans come to this test, which reaps the daemon below.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let started = net.exec("server", &[&bin("udpechod"), "10000", "--log", &log_arg]);
    assert!(started.status.success(), "{}", text(&started));
    let mut pid = None;
    let ready = testkit::wait_until(Duration::from_secs(10), || {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        pid = said
            .lines()
            .find_map(|l| l.strip_prefix("udpechod: pid ")?.strip_suffix(" started"))
            .and_then(|p| p.parse::<u32>().ok());
        pid.is_some() && said.contains("listening on")
    });
    let pid = pid
        .filter(|_| ready)
        .expect("the daemon's log says it listens");
    // It left the process group and session of `labnet exec`, and stays in the network.
    assert!(pids_in(&format!("{}-server", net.name)).contains(&pid));
    let (status, out, err) = testkit::run_with_input(
        LABNET,
        &[
            "exec",
            "--name",
            &net.name,
            "client",
            &bin("udpechoclient"),
            &net.addrs[2],
            "10000",
        ],
        b"hello\n",
    );
    assert!(status.success(), "{out}{err}");
    assert_eq!(
        out, "Received a message from the server : hello\n\n",
        "{err}"
    );
    let down = labnet(&["down", "--name", &net.name]);
    assert!(down.status.success(), "{}", text(&down));
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
    // Teardown ended the daemon with SIGTERM; reaped, nothing of it is left.
    let mut ended = None;
    testkit::wait_until(Duration::from_secs(5), || {
        ended = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG)).ok();
        !matches!(ended, Some(WaitStatus::StillAlive) | None)
    });
    nix::sys::prctl::set_child_subreaper(false).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        matches!(
            ended,
            Some(WaitStatus::Signaled(
                _,
                nix::sys::signal::Signal::SIGTERM,
                _
            ))
        ),
        "{ended:?}"
    );
    assert_eq!(udpechods(&log_arg), Vec::<String>::new());
}
