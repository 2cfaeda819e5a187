//! Integration tests: the real binaries on loopback, port 0, spoken to byte for byte as
//! the C peers from the book would.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;

use tcpcliserv::proto::{daytime, sum_binary};
use testkit::{Proc, Server, TIMEOUT, read_exactly, run_with_input, sees_close, wait_until};

macro_rules! bin {
    ($name:literal) => {
        env!(concat!("CARGO_BIN_EXE_", $name))
    };
}

/// Sends `request` and reads exactly `reply_len` bytes back.
fn exchange(conn: &mut TcpStream, request: &[u8], reply_len: usize) -> Vec<u8> {
    conn.write_all(request).expect("write to server");
    read_exactly(conn, reply_len)
}

/// A test-side server standing in for the C server, to see what a client sends.
fn test_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    l.set_nonblocking(true).expect("nonblocking");
    let port = l.local_addr().expect("local_addr").port();
    (l, port)
}

/// Accepts one connection within [`TIMEOUT`], never blocking forever.
fn accept_within(l: &TcpListener) -> TcpStream {
    let mut got = None;
    assert!(
        wait_until(TIMEOUT, || match l.accept() {
            Ok((s, _)) => {
                got = Some(s);
                true
            }
            Err(_) => false,
        }),
        "no client connected"
    );
    let s = got.expect("accepted");
    s.set_nonblocking(false).expect("blocking");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    s
}

fn stderr_of(status: std::process::ExitStatus, err: &str) -> String {
    format!("status {status:?}, stderr {err:?}")
}

// ---------------------------------------------------------------- daytime

#[test]
fn daytime_server_sends_one_ctime_line_then_closes() {
    let s = Server::spawn(bin!("daytimetcpsrv"), &["-p", "0"]);
    for host in ["127.0.0.1", "::1"] {
        let Ok(mut c) = TcpStream::connect((host, s.port())) else {
            testkit::skip(
                "UNPLAB_REQUIRE_IPV6",
                &format!("the {host} half: cannot connect (no IPv6 on this host?)"),
            );
            continue;
        };
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut reply = Vec::new();
        c.read_to_end(&mut reply)
            .expect("read until the server's FIN");
        let text = daytime::decode_reply(&reply).expect("one line ending in \\r\\n");
        let t = daytime::parse_ctime(text).unwrap_or_else(|| panic!("not ctime: {text:?}"));
        assert_eq!(reply, daytime::encode_reply(&t), "exactly %.24s\\r\\n");
        assert_eq!(reply.len(), 26);
    }
}

#[test]
fn daytime_client_prints_every_byte_until_eof() {
    // A server that sends the line in two pieces: the client must print both.
    let (l, port) = test_listener();
    let mut client = Proc::spawn(
        bin!("daytimetcpcli"),
        &["127.0.0.1", "-p", &port.to_string()],
    );
    let mut c = accept_within(&l);
    c.write_all(b"Tue Sep  5 11:04:").unwrap();
    c.flush().unwrap();
    c.write_all(b"47 2017\r\n").unwrap();
    drop(c);
    let (status, out, err) = client.wait_exit();
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "Tue Sep  5 11:04:47 2017\r\n");
}

#[test]
fn daytime_client_and_server_over_ipv6_and_ipv4() {
    let s = Server::spawn(bin!("daytimetcpsrv"), &["-p", "0"]);
    let port = s.port().to_string();
    for host in ["127.0.0.1", "::1", "localhost"] {
        let (status, out, err) = run_with_input(bin!("daytimetcpcli"), &[host, "-p", &port], b"");
        if !status.success() && err.contains("connect error") {
            testkit::skip(
                "UNPLAB_REQUIRE_IPV6",
                &format!("the {host} half: {}", err.trim_end()),
            );
            continue;
        }
        assert!(status.success(), "{host}: {}", stderr_of(status, &err));
        let t = daytime::decode_reply(out.as_bytes()).and_then(daytime::parse_ctime);
        assert!(t.is_some(), "{host}: not a ctime line: {out:?}");
    }
}

#[test]
fn daytime_port_13_without_privileges_explains_and_suggests_p() {
    // As root, the server runs as a fresh user in a network namespace of its own, where
    // port 13 is privileged whatever this machine's ip_unprivileged_port_start says (root
    // itself may bind it: see the doc test of unp::addr::explain_privileged_port).
    let Some(output) = testkit::run_without_privileges(bin!("daytimetcpsrv"), &[], 13) else {
        return;
    };
    let status = output.status;
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(1), "{}", stderr_of(status, &err));
    assert_eq!(out, "");
    assert!(
        err.starts_with(
            "daytimetcpsrv: bind error: Permission denied (EACCES): port 13 is a privileged port"
        ),
        "{err:?}"
    );
    assert!(err.contains("-p 1313"), "{err:?}");
}

// ---------------------------------------------------------------- echo servers

/// The echo exchange a C str_cli (or any C client) makes, byte for byte.
fn assert_echoes(s: &Server) {
    let mut c = s.connect();
    assert_eq!(exchange(&mut c, b"hello\n", 6), b"hello\n");
    // No framing: partial lines, binary bytes and a big block all come back unchanged.
    assert_eq!(exchange(&mut c, b"no newline", 10), b"no newline");
    assert_eq!(exchange(&mut c, b"\x00\xff\r\n", 4), b"\x00\xff\r\n");
    let big: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(exchange(&mut c, &big, big.len()), big);
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(sees_close(&mut c), "server closes after the client's FIN");
}

#[test]
fn every_echo_server_echoes_byte_for_byte() {
    for bin in [
        bin!("tcpserv01"),
        bin!("tcpserv02"),
        bin!("tcpserv04"),
        bin!("tcpservthread"),
    ] {
        let s = Server::spawn(bin, &["-p", "0"]);
        assert_echoes(&s);
        // IPv6 too, where the host has it.
        if let Ok(mut c6) = TcpStream::connect(("::1", s.port())) {
            c6.set_read_timeout(Some(TIMEOUT)).unwrap();
            assert_eq!(exchange(&mut c6, b"six\n", 4), b"six\n", "{bin} over ::1");
        }
    }
}

#[test]
fn servers_print_the_real_port_and_a_second_one_fails_with_eaddrinuse() {
    let s = Server::spawn(bin!("tcpserv04"), &["-p", "0"]);
    assert_ne!(s.port(), 0);
    let (status, out, err) = run_with_input(bin!("tcpserv04"), &["-p", &s.port().to_string()], b"");
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "tcpserv04: bind error: Address already in use (EADDRINUSE)\n"
    );
    assert_echoes(&s);
}

#[cfg(target_os = "linux")]
mod zombies {
    use super::*;
    use testkit::{children_with_state, zombie_children};

    /// Connects `n` clients, has each make one exchange (so its child is serving), and
    /// returns them.
    fn clients(s: &Server, n: usize) -> Vec<TcpStream> {
        (0..n)
            .map(|i| {
                let mut c = s.connect();
                let msg = format!("client {i}\n");
                assert_eq!(exchange(&mut c, msg.as_bytes(), msg.len()), msg.as_bytes());
                c
            })
            .collect()
    }

    #[test]
    fn tcpserv01_leaves_one_zombie_per_finished_client() {
        let s = Server::spawn(bin!("tcpserv01"), &["-p", "0"]);
        const N: usize = 3;
        for c in clients(&s, N) {
            drop(c);
        }
        let pid = s.proc.pid();
        assert!(
            wait_until(TIMEOUT, || zombie_children(pid).len() == N),
            "expected {N} zombies, children: {:?}",
            children_with_state(pid)
        );
        // Still serving, and still nobody reaps: the count stays N while a new child runs.
        let mut c = s.connect();
        assert_eq!(exchange(&mut c, b"more\n", 5), b"more\n");
        assert_eq!(zombie_children(pid).len(), N);
    }

    #[test]
    fn tcpserv04_reaps_30_simultaneous_exits_and_keeps_accepting() {
        let mut s = Server::spawn(bin!("tcpserv04"), &["-p", "0"]);
        let pid = s.proc.pid();
        const N: usize = 30;
        let all = clients(&s, N);
        drop(all); // 30 FINs at once: 30 children exit together
        for _ in 0..N {
            s.proc
                .expect_line("'child PID terminated'", |l| l.ends_with(" terminated\n"));
        }
        assert!(
            wait_until(TIMEOUT, || zombie_children(pid).is_empty()),
            "zombies left: {:?}",
            zombie_children(pid)
        );
        // Each exit interrupted accept (Signal_intr): the server must have restarted it.
        assert!(s.proc.is_running(), "server died (EINTR not handled?)");
        let mut c = s.connect();
        assert_eq!(exchange(&mut c, b"still here\n", 11), b"still here\n");
    }

    /// A child whose client only connects and closes exits at once. When the parent,
    /// back from `fork`, printed `child N serves ADDR`, the reaper's `child N
    /// terminated` came first for about one child in ten here; the child says it
    /// itself, before it can exit, so it always comes second: tcpserv04 (the fork
    /// written out) and tcpserv08 (`unp::serve::process_per_client`).
    #[test]
    fn child_serves_is_printed_before_child_terminated() {
        for prog in [bin!("tcpserv04"), bin!("tcpserv08")] {
            let mut s = Server::spawn(prog, &["-p", "0"]);
            const N: usize = 100;
            for _ in 0..N {
                drop(s.connect()); // the quickest client: its child reads EOF at once
            }
            let pid_of = |line: &str| line.split(' ').nth(1).unwrap_or("").to_string();
            let mut serving = std::collections::HashSet::new();
            let mut ended = 0;
            while ended < N {
                let line = s
                    .proc
                    .expect_line("'child PID serves ADDR' or 'terminated'", |l| {
                        is_terminated(l) || (l.starts_with("child ") && l.contains(" serves "))
                    });
                if is_terminated(&line) {
                    let pid = pid_of(&line);
                    assert!(
                        serving.remove(&pid),
                        "{prog}: `child {pid} terminated` before `child {pid} serves`"
                    );
                    ended += 1;
                } else {
                    serving.insert(pid_of(&line));
                }
            }
        }
    }

    fn is_terminated(line: &str) -> bool {
        line.starts_with("child ") && line.ends_with(" terminated\n")
    }

    /// Runs tcpcli04 against `s` with `input`: five connections, one exchange on the
    /// first, then all five closed at once when it exits. Waits for the server's five
    /// `child PID serves ADDR` lines (counting the `child PID terminated` lines read
    /// meanwhile in `terminated`) and until none of its children is running any more;
    /// returns tcpcli04's stdout and how many zombies the server then has.
    fn tcpcli04_round(s: &mut Server, input: &[u8], terminated: &mut usize) -> (String, usize) {
        let (status, out, err) = run_with_input(
            bin!("tcpcli04"),
            &["127.0.0.1", "-p", &s.port().to_string()],
            input,
        );
        assert!(status.success(), "{}", stderr_of(status, &err));
        let mut serves = 0;
        while serves < 5 {
            let line = s.proc.expect_line("'child PID serves ADDR'", |l| {
                is_terminated(l) || (l.starts_with("child ") && l.contains(" serves "))
            });
            if is_terminated(&line) {
                *terminated += 1;
            } else {
                serves += 1;
            }
        }
        let pid = s.proc.pid();
        assert!(
            wait_until(TIMEOUT, || {
                children_with_state(pid).iter().all(|&(_, st)| st == 'Z')
            }),
            "children still running: {:?}",
            children_with_state(pid)
        );
        (out, zombie_children(pid).len())
    }

    #[test]
    fn tcpserv04_with_tcpcli04_reaps_all_five() {
        let mut s = Server::spawn(bin!("tcpserv04"), &["-p", "0"]);
        let pid = s.proc.pid();
        let mut terminated = 0;
        for round in 1..=5 {
            let (out, _) = tcpcli04_round(&mut s, b"hi\n", &mut terminated);
            assert_eq!(out, "hi\n");
            while terminated < 5 * round {
                s.proc.expect_line("'child PID terminated'", is_terminated);
                terminated += 1;
            }
            // The waitpid loop runs once more for the last exit's SIGCHLD: none is left.
            assert!(
                wait_until(TIMEOUT, || children_with_state(pid).is_empty()),
                "tcpserv04 left zombies: {:?}",
                zombie_children(pid)
            );
        }
    }

    /// How many rounds of tcpcli04 tcpserv02 gets to show its lesson.
    const ROUNDS: usize = 20;

    #[test]
    fn tcpserv02_reaps_a_lone_child_and_leaves_zombies_of_simultaneous_exits() {
        let mut s = Server::spawn(bin!("tcpserv02"), &["-p", "0"]);
        let pid = s.proc.pid();
        // One child exiting alone: one SIGCHLD, one wait, no zombie. Deterministic.
        drop(clients(&s, 1));
        s.proc
            .expect_line("'child PID terminated'", |l| l.ends_with(" terminated\n"));
        assert!(wait_until(TIMEOUT, || children_with_state(pid).is_empty()));
        // Five at once (tcpcli04): signals are not queued, so five exits may run the
        // handler fewer than five times, and each run waits for one child. Once no child
        // is running, at most two more runs can come (one whose handler has not called
        // wait yet, one pending, blocked meanwhile), each reaping one zombie: so three
        // zombies or more at that moment mean at least one stays for good. Zombies only
        // pile up from round to round (each exit sends at most one signal, each signal
        // reaps at most one child), so a few rounds show it.
        let mut zombies = 0;
        let mut rounds = 0;
        while zombies < 3 && rounds < ROUNDS {
            rounds += 1;
            let (out, left) = tcpcli04_round(&mut s, b"x\n", &mut 0);
            assert_eq!(out, "x\n");
            zombies = left;
        }
        assert!(
            zombies >= 3,
            "after {rounds} rounds of tcpcli04, tcpserv02 has {zombies} zombie(s): \
             every SIGCHLD was handled on its own"
        );
        eprintln!("tcpserv02: {zombies} zombies after {rounds} round(s) of tcpcli04");
        let mut c = s.connect();
        assert_eq!(exchange(&mut c, b"ok\n", 3), b"ok\n");
    }

    #[test]
    fn tcpservthread_serves_20_clients_at_once_without_processes() {
        let s = Server::spawn(bin!("tcpservthread"), &["-p", "0"]);
        let mut conns: Vec<TcpStream> = (0..20).map(|_| s.connect()).collect();
        // Serve the last connected first: an iterative server would still be waiting on
        // the first one and this would time out.
        for (i, c) in conns.iter_mut().enumerate().rev() {
            let msg = format!("thread {i}\n");
            assert_eq!(exchange(c, msg.as_bytes(), msg.len()), msg.as_bytes());
        }
        assert!(
            children_with_state(s.proc.pid()).is_empty(),
            "no child processes"
        );
    }
}

// ---------------------------------------------------------------- sum

#[test]
fn tcpserv08_text_sum_byte_for_byte() {
    let s = Server::spawn(bin!("tcpserv08"), &["-p", "0"]);
    let mut c = s.connect();
    assert_eq!(exchange(&mut c, b"2 5\n", 2), b"7\n");
    assert_eq!(exchange(&mut c, b"11 123\n", 4), b"134\n");
    assert_eq!(exchange(&mut c, b"-3 +1 ignored\n", 3), b"-2\n");
    assert_eq!(exchange(&mut c, b"two five\n", 12), b"input error\n");
    // Two requests in one segment, one line split over two: replies per line.
    assert_eq!(exchange(&mut c, b"1 1\n2 2\n3 ", 4), b"2\n4\n");
    assert_eq!(exchange(&mut c, b"3\n", 2), b"6\n");
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(sees_close(&mut c));
}

#[test]
fn tcpcli08_with_tcpserv08_reproduces_the_handout() {
    let s = Server::spawn(bin!("tcpserv08"), &["-p", "0"]);
    let (status, out, err) = run_with_input(
        bin!("tcpcli08"),
        &["127.0.0.1", "-p", &s.port().to_string()],
        b"2 5\n4 2\n11 123\nhello\n",
    );
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "7\n6\n134\ninput error\n");
}

#[test]
fn tcpserv09_binary_sum_byte_for_byte() {
    let s = Server::spawn(bin!("tcpserv09"), &["-p", "0"]);
    let mut c = s.connect();
    let req = [3u8, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(exchange(&mut c, &req, 8), [7u8, 0, 0, 0, 0, 0, 0, 0]);
    let neg = sum_binary::encode_request(-10, 3);
    assert_eq!(exchange(&mut c, &neg, 8), (-7i64).to_le_bytes());
    // A request split across two writes is still one request.
    c.write_all(&req[..5]).unwrap();
    c.flush().unwrap();
    assert_eq!(exchange(&mut c, &req[5..], 8), [7u8, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn tcpcli09_sends_16_little_endian_bytes_and_prints_the_sum() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli09"), &["127.0.0.1", "-p", &port.to_string()]);
    let mut c = accept_within(&l);
    client.write_stdin(b"oops\n11 -123\n");
    assert_eq!(
        read_exactly(&mut c, 16),
        sum_binary::encode_request(11, -123)
    );
    c.write_all(&(-112i64).to_le_bytes()).unwrap();
    let (status, out, err) = client.wait_exit();
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "invalid input: oops\n-112\n");

    let s = Server::spawn(bin!("tcpserv09"), &["-p", "0"]);
    let (status, out, err) = run_with_input(
        bin!("tcpcli09"),
        &["::1", "-p", &s.port().to_string()],
        b"2 5\n9223372036854775807 1\n",
    );
    if err.contains("connect error") {
        return testkit::skip(
            "UNPLAB_REQUIRE_IPV6",
            &format!("the ::1 half: {}", err.trim_end()),
        );
    }
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "7\n-9223372036854775808\n");
}

// ---------------------------------------------------------------- clients

#[test]
fn tcpcli01_sends_lines_and_prints_replies_byte_for_byte() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli01"), &["127.0.0.1", "-p", &port.to_string()]);
    let mut c = accept_within(&l);
    client.write_stdin(b"hello\n");
    assert_eq!(read_exactly(&mut c, 6), b"hello\n");
    c.write_all(b"HELLO\n").unwrap();
    assert_eq!(client.expect_line("the reply", |_| true), "HELLO\n");
    client.close_stdin();
    assert!(sees_close(&mut c), "client closes at end of input");
    let (status, _, _) = client.wait_exit();
    assert!(status.success());
}

#[test]
fn tcpcli01_reports_a_server_that_terminated_prematurely() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli01"), &["127.0.0.1", "-p", &port.to_string()]);
    let c = accept_within(&l);
    drop(c); // the server goes away before the client types
    client.write_stdin(b"anyone?\n");
    let (status, out, err) = client.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    // Usually the FIN is read first (UNP 5.12); if the RST provoked by our line wins
    // the race, the read fails instead. Both are what a user of the C client sees.
    assert!(
        err == "tcpcli01: str_cli: server terminated prematurely\n"
            || err.starts_with("tcpcli01: readline error: "),
        "{err:?}"
    );
}

#[test]
fn tcpcli01_with_tcpserv01_last_line_without_newline() {
    let s = Server::spawn(bin!("tcpserv01"), &["-p", "0"]);
    let (status, out, err) = run_with_input(
        bin!("tcpcli01"),
        &["localhost", "-p", &s.port().to_string()],
        b"one\ntwo",
    );
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "one\ntwo");
}

#[test]
fn tcpcli04_opens_five_connections_and_closes_them_together() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli04"), &["127.0.0.1", "-p", &port.to_string()]);
    let mut conns: Vec<TcpStream> = (0..5).map(|_| accept_within(&l)).collect();
    client.write_stdin(b"first\n");
    assert_eq!(read_exactly(&mut conns[0], 6), b"first\n");
    conns[0].write_all(b"first\n").unwrap();
    assert_eq!(client.expect_line("the echo", |_| true), "first\n");
    let (status, _, _) = client.wait_exit();
    assert!(status.success());
    for c in &mut conns {
        assert!(sees_close(c), "every connection is closed at exit");
    }
}

#[test]
fn tcpcli07_is_ended_by_sigalrm() {
    let s = Server::spawn(bin!("tcpserv04"), &["-p", "0"]);
    let port = s.port().to_string();
    // A long timer: the echo works as with tcpcli01.
    let (status, out, err) = run_with_input(
        bin!("tcpcli07"),
        &["127.0.0.1", "-p", &port, "--alarm-ms", "60000"],
        b"tick\n",
    );
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "tick\n");
    // A short one, and stdin left open: only the timer can end the client.
    let mut client = Proc::spawn(
        bin!("tcpcli07"),
        &["127.0.0.1", "-p", &port, "--alarm-ms", "200"],
    );
    client.expect_stderr_line("the handler's message", |l| l.contains("SIGALRM"));
    let mut status = None;
    assert!(wait_until(TIMEOUT, || {
        status = client_status(&mut client);
        status.is_some()
    }));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit(0) from the handler"
    );
}

/// The exit status if the program has exited, without closing its stdin.
fn client_status(p: &mut Proc) -> Option<std::process::ExitStatus> {
    if p.is_running() {
        None
    } else {
        Some(p.wait_exit().0)
    }
}

#[test]
fn tcpcli10_ends_with_rst_instead_of_fin() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli10"), &["127.0.0.1", "-p", &port.to_string()]);
    let mut c = accept_within(&l);
    client.write_stdin(b"bye\n");
    assert_eq!(read_exactly(&mut c, 4), b"bye\n");
    c.write_all(b"bye\n").unwrap();
    client.expect_line("the echo", |l| l == "bye\n");
    let (status, _, err) = client.wait_exit();
    assert!(status.success(), "{}", stderr_of(status, &err));
    let mut buf = [0u8; 16];
    let got = c.read(&mut buf);
    assert!(
        matches!(&got, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "expected a reset, got {got:?}"
    );
}

#[test]
fn tcpcli10_makes_tcpserv04_see_a_reset() {
    let mut s = Server::spawn(bin!("tcpserv04"), &["-p", "0"]);
    let (status, out, err) = run_with_input(
        bin!("tcpcli10"),
        &["127.0.0.1", "-p", &s.port().to_string()],
        b"x\n",
    );
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(out, "x\n");
    let serves = s.proc.expect_line("'child PID serves ADDR'", |l| {
        l.starts_with("child ") && l.contains(" serves ")
    });
    let peer = serves.trim_end().rsplit(' ').next().expect("an address");
    let line = s
        .proc
        .expect_stderr_line("the child's read error", |l| l.contains("str_echo"));
    // The child's error names its client, as tcpservthread's do.
    assert_eq!(
        line,
        format!("tcpserv04: {peer}: str_echo: read error: Connection reset by peer (ECONNRESET)\n")
    );
}

#[test]
fn tcpcli11_writes_one_byte_then_the_rest() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli11"), &["127.0.0.1", "-p", &port.to_string()]);
    let mut c = accept_within(&l);
    client.write_stdin(b"hi there\n");
    let mut first = [0u8; 64];
    let n = c.read(&mut first).unwrap();
    assert_eq!(&first[..n], b"h", "the first write carries one byte");
    assert_eq!(read_exactly(&mut c, 8), b"i there\n");
    c.write_all(b"hi there\n").unwrap();
    assert_eq!(client.expect_line("the echo", |_| true), "hi there\n");
    let (status, _, _) = client.wait_exit();
    assert!(status.success());
}

#[test]
fn tcpcli11_is_killed_by_sigpipe_when_the_server_is_gone() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("tcpcli11"), &["127.0.0.1", "-p", &port.to_string()]);
    let c = accept_within(&l);
    drop(c); // the server's side is gone: FIN now, RST for the next byte
    client.write_stdin(b"hello\n");
    let mut status = None;
    assert!(wait_until(TIMEOUT, || {
        status = client_status(&mut client);
        status.is_some()
    }));
    assert_eq!(
        status.and_then(|s| s.signal()),
        Some(nix::libc::SIGPIPE),
        "{status:?}"
    );
}

#[test]
fn tsigpipe_catches_sigpipe_and_reports_epipe() {
    let s = Server::spawn(bin!("daytimetcpsrv"), &["-p", "0"]);
    let (status, out, err) = run_with_input(
        bin!("tsigpipe"),
        &[
            "127.0.0.1",
            "-p",
            &s.port().to_string(),
            "--sleep-ms",
            "100",
        ],
        b"",
    );
    assert_eq!(status.code(), Some(1), "{}", stderr_of(status, &err));
    assert_eq!(
        out,
        "read 26 bytes, then EOF: the server has closed\nSIGPIPE received\n"
    );
    assert_eq!(err, "tsigpipe: write error: Broken pipe (EPIPE)\n");
}

// ---------------------------------------------------------------- the lab's echo pair

#[test]
fn echoclient_and_echoserver_transcript() {
    let mut s = Server::spawn(bin!("echoserver"), &["0"]);
    let (status, out, err) = run_with_input(
        bin!("echoclient"),
        &["127.0.0.1", &s.port().to_string()],
        b"hello world\n\nsecond line\n",
    );
    assert!(status.success(), "{}", stderr_of(status, &err));
    assert_eq!(
        out,
        "Echo from Server: hello world\nEcho from Server: second line\n"
    );
    s.proc.expect_line("connection from", |l| {
        l.starts_with("connection from 127.0.0.1:")
    });
    assert_eq!(
        s.proc.expect_line("data", |_| true),
        "Data Received: hello world\n"
    );
    assert_eq!(
        s.proc.expect_line("data", |_| true),
        "Data Received: second line\n"
    );
}

#[test]
fn echoclient_sends_the_line_without_terminator() {
    let (l, port) = test_listener();
    let mut client = Proc::spawn(bin!("echoclient"), &["127.0.0.1", &port.to_string()]);
    let mut c = accept_within(&l);
    client.write_stdin(b"abc\n");
    assert_eq!(read_exactly(&mut c, 3), b"abc");
    c.write_all(b"abc").unwrap();
    assert_eq!(
        client.expect_line("the echo", |_| true),
        "Echo from Server: abc\n"
    );
    let (status, _, _) = client.wait_exit();
    assert!(status.success());
}

#[test]
fn echoserver_makes_a_second_client_wait_until_the_first_leaves() {
    let mut s = Server::spawn(bin!("echoserver"), &["0"]);
    let mut first = s.connect();
    assert_eq!(exchange(&mut first, b"one", 3), b"one");
    // The second connection completes (the kernel's backlog) and its data is accepted...
    let mut second = s.connect();
    second.write_all(b"two").unwrap();
    // ...but the server is still busy with the first client, which it keeps serving.
    assert_eq!(exchange(&mut first, b"again", 5), b"again");
    second.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 8];
    let early = second.read(&mut buf);
    assert!(
        matches!(&early, Err(e) if e.kind() == ErrorKind::WouldBlock),
        "the second client got {early:?} while the first was being served"
    );
    drop(first);
    second.set_nonblocking(false).unwrap();
    assert_eq!(read_exactly(&mut second, 3), b"two");
    s.proc
        .expect_line("the second message", |l| l == "Data Received: two\n");
}

#[test]
fn a_bare_port_gets_a_usage_error_that_names_dash_p() {
    // `tcpserv04 19877`, as the lab's `echoserver 10000` is run: exit 2 (clap's status for
    // a usage error) and a message saying how the UNP programs take a port.
    let (status, out, err) = run_with_input(bin!("tcpserv04"), &["19877"], b"");
    assert_eq!(status.code(), Some(2), "{}", stderr_of(status, &err));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "tcpserv04: unexpected argument '19877': the UNP programs take the port as -p PORT, \
         e.g. tcpserv04 -p 19877\n"
    );
    let (status, _, err) = run_with_input(bin!("tcpcli01"), &["127.0.0.1", "9877"], b"");
    assert_eq!(status.code(), Some(2), "{}", stderr_of(status, &err));
    assert!(
        err.contains("take the port as -p PORT, e.g. tcpcli01 127.0.0.1 -p 9877"),
        "{err:?}"
    );
    // Any other stray argument keeps clap's own message and status.
    let (status, _, err) = run_with_input(bin!("tcpserv04"), &["--bogus"], b"");
    assert_eq!(status.code(), Some(2), "{}", stderr_of(status, &err));
    assert!(
        err.contains("unexpected argument '--bogus'") && !err.contains("-p PORT"),
        "{err:?}"
    );
}
