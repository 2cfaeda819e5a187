//! The servers against hostile or unlucky conditions: out of descriptors or processes,
//! a stdout that goes away, peers that send control characters or endless lines.
//! Real binaries on loopback, port 0; resource limits are set in the child before exec.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use testkit::{self, Headless, Server, TIMEOUT, read_exactly, wait_until};

macro_rules! bin {
    ($name:literal) => {
        env!(concat!("CARGO_BIN_EXE_", $name))
    };
}

/// `bin ARGS` whose descriptors are limited to `n` (soft and hard), as under
/// `prlimit --nofile=n:n`.
fn with_nofile(bin: &str, args: &[&str], n: u64) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    testkit::limit_descriptors(&mut cmd, n);
    cmd
}

/// `bin ARGS` as a fresh user with at most `n` processes, or `None` after a skip (not
/// root: see [`testkit::limit_processes_as_fresh_user`]).
#[track_caller]
fn with_nproc(bin: &str, args: &[&str], n: u64) -> Option<Command> {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    testkit::limit_processes_as_fresh_user(&mut cmd, bin, n).then_some(cmd)
}

/// Connects, sends `msg`, and reads the echo; `None` if the server is not there or did
/// not echo (connection closed, refused, reset).
fn echo_once(port: u16, msg: &[u8]) -> Option<Vec<u8>> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(TIMEOUT)).ok()?;
    c.write_all(msg).ok()?;
    let mut got = vec![0u8; msg.len()];
    c.read_exact(&mut got).ok()?;
    Some(got)
}

/// Within [`TIMEOUT`], some new client gets its echo (a client the server had to turn
/// away while the shortage lasted is simply retried).
fn a_new_client_is_served(port: u16) -> bool {
    wait_until(TIMEOUT, || {
        echo_once(port, b"after the storm\n").as_deref() == Some(b"after the storm\n")
    })
}

#[test]
fn tcpservthread_survives_running_out_of_descriptors() {
    let mut s = Server::spawn_cmd(&mut with_nofile(bin!("tcpservthread"), &["-p", "0"], 16));
    // More connections than descriptors: the kernel completes them all (the backlog),
    // the server accepts until it has none left.
    let storm = testkit::exhaust_descriptors(
        &mut s,
        30,
        "tcpservthread: accept error: Too many open files (EMFILE)\n",
    );
    testkit::expect_recovery(&mut s, storm, a_new_client_is_served);
}

#[test]
fn tcpserv04_survives_fork_failing_for_want_of_processes() {
    survives_running_out_of_processes(bin!("tcpserv04"), "tcpserv04: fork error: ");
}

#[test]
fn tcpservthread_survives_pthread_create_failing() {
    // RLIMIT_NPROC counts threads too.
    survives_running_out_of_processes(
        bin!("tcpservthread"),
        "tcpservthread: pthread_create error: ",
    );
}

/// Runs `bin` with room for itself and two more processes or threads (RLIMIT_NPROC 3):
/// two clients are served, the third cannot be and must see its connection closed, the
/// server reports `PREFIX... (EAGAIN)`, and once the two leave a new client is served.
fn survives_running_out_of_processes(bin: &str, prefix: &str) {
    let Some(mut cmd) = with_nproc(bin, &["-p", "0"], 3) else {
        return;
    };
    let mut s = Server::spawn_cmd(&mut cmd);
    let mut held = Vec::new();
    for i in 0..2 {
        let mut c = s.connect();
        let msg = format!("client {i}\n");
        c.write_all(msg.as_bytes()).unwrap();
        assert_eq!(read_exactly(&mut c, msg.len()), msg.as_bytes());
        held.push(c);
    }
    testkit::expect_unserved_client(&mut s, prefix);
    testkit::expect_recovery(&mut s, held, a_new_client_is_served);
}

#[test]
fn servers_keep_serving_when_their_stdout_goes_away() {
    let echoers: [(&str, &[&str]); 6] = [
        (bin!("echoserver"), &["0"]),
        (bin!("tcpserv01"), &["-p", "0"]),
        (bin!("tcpserv02"), &["-p", "0"]),
        (bin!("tcpserv04"), &["-p", "0"]),
        (bin!("tcpservthread"), &["-p", "0"]),
        (bin!("tcpserv08"), &["-p", "0"]),
    ];
    for (bin, args) in echoers {
        let (mut server, port) = Headless::spawn_cmd(Command::new(bin).args(args));
        for i in 0..2 {
            // tcpserv08 answers "1 2\n" with "3\n"; the echo servers echo it.
            let reply = echo_once_any(port, b"1 2\n");
            assert!(
                reply.as_deref() == Some(b"1 2\n") || reply.as_deref() == Some(b"3\n"),
                "{bin}: client {i} got {reply:?}; server running: {}",
                server.is_running()
            );
        }
        assert!(server.is_running(), "{bin} exited");
    }
    let (mut server, port) =
        Headless::spawn_cmd(Command::new(bin!("daytimetcpsrv")).args(["-p", "0"]));
    for i in 0..2 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut reply = Vec::new();
        c.read_to_end(&mut reply).expect("read the time");
        assert_eq!(reply.len(), 26, "daytime client {i} got {reply:?}");
    }
    assert!(server.is_running(), "daytimetcpsrv exited");
}

/// Sends `msg` and reads one reply line.
fn echo_once_any(port: u16, msg: &[u8]) -> Option<Vec<u8>> {
    let c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(TIMEOUT)).ok()?;
    (&c).write_all(msg).ok()?;
    let mut line = Vec::new();
    BufReader::new(&c).read_until(b'\n', &mut line).ok()?;
    (!line.is_empty()).then_some(line)
}

#[test]
fn echoserver_escapes_what_the_client_sent() {
    let mut s = Server::spawn(bin!("echoserver"), &["0"]);
    let mut c = s.connect();
    let hostile = b"hi\n127.0.0.1:40000 left\n\x1b[2J\x1b]0;pwned\x07 gr\xc3\xbc\xc3\x9f";
    c.write_all(hostile).unwrap();
    assert_eq!(
        read_exactly(&mut c, hostile.len()),
        hostile,
        "echoed unchanged"
    );
    s.proc
        .expect_line("connection from", |l| l.starts_with("connection from"));
    let line = s.proc.expect_line("the data", |_| true);
    assert_eq!(
        line,
        "Data Received: hi\\n127.0.0.1:40000 left\\n\\x1b[2J\\x1b]0;pwned\\x07 grüß\n"
    );
    drop(c);
    // The next line is the real one, not a forged one.
    let left = s.proc.expect_line("left", |_| true);
    assert!(
        left.starts_with("127.0.0.1:") && left.ends_with(" left\n"),
        "{left:?}"
    );
    assert_ne!(left, "127.0.0.1:40000 left\n");
}

/// A test-side server that sends `reply` to the first client after reading `want`
/// bytes, then closes; returns its port.
fn one_shot_server(want: usize, reply: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = l.accept() {
            let mut buf = vec![0u8; want];
            let _ = c.read_exact(&mut buf);
            let _ = c.write_all(reply);
        }
    });
    port
}

#[test]
fn clients_escape_what_the_server_sent() {
    let port = one_shot_server(3, b"a\x1b[2J\x1b]0;pwned\x07\tb\r\n");
    let (status, out, _) = testkit::run_with_input(
        bin!("tcpcli01"),
        &["127.0.0.1", "-p", &port.to_string()],
        b"hi\n",
    );
    assert!(status.success());
    assert_eq!(out, "a\\x1b[2J\\x1b]0;pwned\\x07\\tb\r\n");

    let port = one_shot_server(4, b"\x1b[2J");
    let (_, out, _) = testkit::run_with_input(
        bin!("echoclient"),
        &["127.0.0.1", &port.to_string()],
        b"abcd\n",
    );
    assert_eq!(out, "Echo from Server: \\x1b[2J\n");

    let port = one_shot_server(0, b"Tue Sep  5 11:04:47 2017\x1b[2J\r\n");
    let (status, out, _) = testkit::run_with_input(
        bin!("daytimetcpcli"),
        &["127.0.0.1", "-p", &port.to_string()],
        b"",
    );
    assert!(status.success());
    assert_eq!(out, "Tue Sep  5 11:04:47 2017\\x1b[2J\r\n");
}

#[test]
fn tcpserv08_answers_an_over_long_line_once() {
    let s = Server::spawn(bin!("tcpserv08"), &["-p", "0"]);
    let mut c = s.connect();
    let mut long = vec![b'7'; 3 * unp::MAXLINE + 10];
    long.extend_from_slice(b"\n1 2\n");
    c.write_all(&long).unwrap();
    let mut r = BufReader::new(&c);
    let mut replies = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            r.read_line(&mut line).expect("a reply") > 0,
            "closed after {replies:?}"
        );
        let done = line == "3\n";
        replies.push(line);
        if done {
            break;
        }
    }
    assert_eq!(replies, ["input error\n", "3\n"]);
    drop(r);
    // A line of exactly MAXLINE - 1 bytes and its \n is not over-long.
    let mut edge = b"1 2".to_vec();
    edge.resize(unp::MAXLINE - 1, b' ');
    edge.push(b'\n');
    c.write_all(&edge).unwrap();
    assert_eq!(read_exactly(&mut c, 2), b"3\n");
}
