//! labcheck on the reference programs: every check passes, the output formats hold what
//! they should, and the exit status says so. The zoo (`labcheck_zoo.rs`) shows each
//! check catching the mistake it is named for.

mod labcheck_util;

use labcheck_util::{labcheck, reference};

#[test]
fn the_reference_lottery_server_passes_every_check() {
    let server = reference("lotteryserver");
    let (ok, out) = labcheck(&["server", "lottery", "--", &server, "{port}"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("18 passed, 0 failed, 0 skipped (9 of 9 handout checks passed)"),
        "{out}"
    );
    assert!(out.contains("serial: the second client waited"), "{out}");
    assert!(out.contains("bind error: Address already in use"), "{out}");
}

#[test]
fn the_forking_lottery_server_is_concurrent_and_leaves_no_zombies() {
    let server = reference("lotteryserver");
    let (ok, out) = labcheck(&[
        "server",
        "lottery",
        "--concurrent",
        "--",
        &server,
        "{port}",
        "--concurrency",
        "fork",
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("concurrent: the second client was answered"),
        "{out}"
    );
    assert!(out.contains("children, all reaped"), "{out}");
}

#[test]
fn the_reference_lottery_client_passes_every_check() {
    let client = reference("lotteryclient");
    let (ok, out) = labcheck(&["client", "lottery", "--", &client, "{host}", "{port}"]);
    assert!(ok, "{out}");
    assert!(out.contains("6 passed, 0 failed"), "{out}");
}

#[test]
fn json_junit_only_handout_and_the_exit_status() {
    let server = reference("lotteryserver");
    let (ok, json) = labcheck(&[
        "server", "lottery", "--only", "handout", "--format", "json", "--", &server, "{port}",
    ]);
    assert!(ok, "{json}");
    assert!(json.contains("\n{\"subject\":\"server lottery\""), "{json}");
    assert!(
        json.contains("\"name\":\"lottery.full\",\"tag\":\"handout\",\"verdict\":\"PASS\""),
        "{json}"
    );
    assert!(
        json.contains("\"name\":\"lottery.reset\",\"tag\":\"robustness\",\"verdict\":\"SKIP\""),
        "{json}"
    );
    // A program that is not a lottery server: every check fails, the status says so.
    let (ok, xml) = labcheck(&[
        "server",
        "lottery",
        "--only",
        "handout",
        "--format",
        "junit",
        "--",
        "/bin/sleep",
        "30",
    ]);
    assert!(!ok, "{xml}");
    assert!(xml.contains("\n<?xml"), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"server lottery.handout\" name=\"lottery.start\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"does it take the port from its command line"),
        "{xml}"
    );
    assert!(xml.contains("</testsuite>"), "{xml}");
}

#[test]
fn a_server_already_running_gets_fewer_checks() {
    let server = reference("lotteryserver");
    let s = testkit::Server::spawn(&server, &["0", "--concurrency", "thread"]);
    let addr = format!("127.0.0.1:{}", s.port());
    let (ok, out) = labcheck(&["server", "lottery", "--concurrent", "--addr", &addr]);
    assert!(ok, "{out}");
    assert!(
        out.contains("SKIP [handout] lottery.second-server"),
        "{out}"
    );
    assert!(out.contains("note: a server already running"), "{out}");
    drop(s.connect());
}

#[test]
fn a_program_that_is_not_there_is_said_to_be_missing() {
    // A student runs the docs' `./rftserver` from a directory without it: the shell's
    // status 127, not a lesson on bind().
    let (ok, out) = labcheck(&[
        "server",
        "rft",
        "--",
        "./no-such-server",
        "--port",
        "{port}",
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "why:      exit status 127: the program was not found: \"./no-such-server\" is neither a file (relative to where labcheck runs) nor on PATH; build it, or give its path"
        ),
        "{out}"
    );
}

#[test]
fn the_reference_file_servers_pass_every_check() {
    for (proto, program, want) in [
        ("ft", "ftserver", "13 passed, 0 failed"),
        ("iterft", "iterftserver", "14 passed, 0 failed"),
    ] {
        let server = reference(program);
        let (ok, out) = labcheck(&["server", proto, "--", &server, "{port}"]);
        assert!(ok, "{out}");
        assert!(out.contains(want), "{out}");
        // A count of 1 takes its unit in the singular, in titles and notes alike.
        assert!(
            out.contains(
                "ft.size-0: a file of 0 bytes arrives byte for byte\n       1 segment\n  3. \
                 PASS [handout] ft.size-1: a file of 1 byte arrives byte for byte\n       2 segments\n"
            ),
            "{out}"
        );
    }
}

#[test]
fn the_reference_file_clients_pass_every_check() {
    // labcheck plays the handout's C FTServer, which sends no end-of-file segment:
    // unplab's clients take its close as the end with --trust-close.
    let (ok, out) = labcheck(&[
        "client",
        "ft",
        "--",
        &reference("ftclient"),
        "{host}",
        "{port}",
        "{remote}",
        "{local}",
        "--trust-close",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("8 passed, 0 failed"), "{out}");
    let (ok, out) = labcheck(&[
        "client",
        "iterft",
        "--",
        &reference("iterftclient"),
        "{host}",
        "{port}",
        "--trust-close",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("9 passed, 0 failed"), "{out}");
}

#[test]
fn the_chapter_1_and_5_programs_and_the_lab_echo_pass_every_check() {
    let servers = [
        ("echo", "tcpserv04", vec!["--port", "{port}"], "7 passed"),
        ("labecho", "echoserver", vec!["{port}"], "7 passed"),
        ("sum08", "tcpserv08", vec!["--port", "{port}"], "8 passed"),
        ("sum09", "tcpserv09", vec!["--port", "{port}"], "7 passed"),
        (
            "daytime",
            "daytimetcpsrv",
            vec!["--port", "{port}"],
            "3 passed",
        ),
    ];
    for (proto, program, args, want) in servers {
        let path = reference(program);
        let mut argv = vec!["server", proto, "--", &path];
        argv.extend(args);
        let (ok, out) = labcheck(&argv);
        assert!(ok && out.contains(&format!("{want}, 0 failed")), "{out}");
    }
    let clients = [
        ("echo", "tcpcli01", vec!["{host}", "--port", "{port}"]),
        ("labecho", "echoclient", vec!["{host}", "{port}"]),
        ("sum08", "tcpcli08", vec!["{host}", "--port", "{port}"]),
        ("sum09", "tcpcli09", vec!["{host}", "--port", "{port}"]),
        (
            "daytime",
            "daytimetcpcli",
            vec!["{host}", "--port", "{port}"],
        ),
    ];
    for (proto, program, args) in clients {
        let path = reference(program);
        let mut argv = vec!["client", proto, "--", &path];
        argv.extend(args);
        let (ok, out) = labcheck(&argv);
        assert!(ok && out.contains("1 passed, 0 failed"), "{out}");
    }
}

#[test]
fn the_reference_udp_programs_pass_every_check() {
    let r = reference;
    let runs: [(Vec<String>, &str); 6] = [
        (
            vec![
                "server".into(),
                "udpecho".into(),
                "--".into(),
                r("udpechoserver"),
                "{port}".into(),
            ],
            "9 passed, 0 failed",
        ),
        (
            vec![
                "client".into(),
                "udpecho".into(),
                "--".into(),
                r("udpechoclient"),
                "{host}".into(),
                "{port}".into(),
            ],
            "5 passed, 0 failed",
        ),
        (
            vec![
                "server".into(),
                "udpft".into(),
                "--idle".into(),
                "1".into(),
                "--".into(),
                r("udpftserver"),
                "--port".into(),
                "{port}".into(),
                "--idle".into(),
                "1".into(),
            ],
            "16 passed, 0 failed",
        ),
        (
            vec![
                "client".into(),
                "udpft".into(),
                "--".into(),
                r("udpftclient"),
                "{host}".into(),
                "{local}".into(),
                "{remote}".into(),
                "--port".into(),
                "{port}".into(),
            ],
            "9 passed, 0 failed",
        ),
        (
            vec![
                "server".into(),
                "rft".into(),
                "--".into(),
                r("rftserver"),
                "--port".into(),
                "{port}".into(),
            ],
            "17 passed, 0 failed",
        ),
        (
            vec![
                "client".into(),
                "rft".into(),
                "--".into(),
                r("rftclient"),
                "{host}".into(),
                "{local}".into(),
                "{remote}".into(),
                "--port".into(),
                "{port}".into(),
            ],
            "12 passed, 0 failed",
        ),
    ];
    for (args, want) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = labcheck(&args);
        assert!(ok && out.contains(want), "{out}");
        if args[..2] == ["server", "udpft"] {
            // A count of 1 takes its unit in the singular.
            let step = "PASS [handout] udpft.size-1: a file of 1 byte is written byte for byte\n       1 byte written exactly in ";
            assert!(out.contains(step), "{out}");
        }
    }
}

#[test]
fn a_udp_server_with_a_fixed_port_is_started_for_each_step() {
    // The course's UDP_FTServ always binds 49312: labcheck is given the port instead of
    // a {port} on the command line (here a free one, as the test must not collide).
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port().to_string())
        .expect("a free port");
    let server = reference("udpftserver");
    let args = [
        "server", "udpft", "--port", &port, "--only", "handout", "--", &server, "--port", &port,
    ];
    let (ok, out) = labcheck(&args);
    assert!(ok, "{out}");
    assert!(out.contains("10 passed, 0 failed, 6 skipped"), "{out}");
    assert!(out.contains("PASS [handout] udpft.second-server"), "{out}");
}

/// Lab 4: the echo checks apply to the select, poll and epoll servers, and the
/// concurrency check calls each concurrent (one process, no fork, no thread); the
/// multiplexed file server passes the file checks and is concurrent too.
///
/// The course's variants are 01 with another timeout and lines of their own: 02 (both)
/// waits forever, select03 5 s, poll04 1000 ms (both print `timeout!` when it runs
/// out), and select04 and poll03 do not wait at all: they spin, a core at 100 % and
/// two lines per turn. labcheck keeps 64 KiB of a program's output and closes the
/// stream after 4 MiB, so the spinners cost this test a core for a second or two each,
/// one after the other, and their concurrency step (the second client answered within
/// a second) is the one they pass most easily: they look at every socket all the time.
#[test]
fn the_lab4_multiplexing_servers_pass_the_echo_and_file_checks_and_are_concurrent() {
    let mut servers = vec![
        "tcpservselect01",
        "tcpservselect02",
        "tcpservselect03",
        "tcpservselect04",
        "tcpservpoll01",
        "tcpservpoll02",
        "tcpservpoll03",
        "tcpservpoll04",
    ];
    if cfg!(target_os = "linux") {
        servers.push("tcpservepoll");
    }
    for program in servers {
        let path = reference(program);
        let argv = [
            "server",
            "echo",
            "--concurrent",
            "--",
            &path,
            "--port",
            "{port}",
        ];
        let (ok, out) = labcheck(&argv);
        assert!(ok && out.contains("7 passed, 0 failed"), "{program}: {out}");
        for verdict in [
            "PASS [handout] echo.exchange",
            "PASS [robustness] echo.reset",
            "concurrent: the second client was served while the first was connected",
        ] {
            assert!(out.contains(verdict), "{program}: no {verdict:?} in {out}");
        }
        let bind_error = format!("{program}: bind error: Address already in use (EADDRINUSE)");
        assert!(out.contains(&bind_error), "{program}: {out}");
    }
    let path = reference("pollftserver");
    let (ok, out) = labcheck(&["server", "ft", "--concurrent", "--", &path, "{port}"]);
    assert!(ok && out.contains("14 passed, 0 failed"), "{out}");
    assert!(out.contains("PASS [handout] ft.next-request"), "{out}");
    assert!(
        out.contains("concurrent: the second client was served while the first was connected"),
        "{out}"
    );
}

/// The concurrency check tells the iterative tcpserv01_non from the others: serial is
/// right for it, and a failure when it is declared `--concurrent`.
#[test]
fn the_iterative_lab4_server_is_serial_and_fails_when_declared_concurrent() {
    let path = reference("tcpserv01_non");
    let (ok, out) = labcheck(&["server", "echo", "--", &path, "--port", "{port}"]);
    assert!(ok && out.contains("7 passed, 0 failed"), "{out}");
    assert!(
        out.contains("serial: the second client waited until the first left"),
        "{out}"
    );
    let argv = [
        "server",
        "echo",
        "--concurrent",
        "--",
        &path,
        "--port",
        "{port}",
    ];
    let (ok, out) = labcheck(&argv);
    assert!(!ok && out.contains("6 passed, 1 failed"), "{out}");
    assert!(out.contains("FAIL [robustness] echo.concurrency"), "{out}");
    assert!(
        out.contains("fork a child or start a thread per client, or watch every socket"),
        "{out}"
    );
}
