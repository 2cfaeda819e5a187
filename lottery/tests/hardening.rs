//! The lottery server against hostile or unlucky conditions (out of descriptors or
//! processes, a stdout that goes away) and the client against a hostile server.
//! Real binaries on loopback, port 0; resource limits are set in the child before exec.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use lottery::proto::Command as Lottery;
use testkit::{self, Headless, Server, TIMEOUT, run_with_input, wait_until};

const SERVER: &str = env!("CARGO_BIN_EXE_lotteryserver");
const CLIENT: &str = env!("CARGO_BIN_EXE_lotteryclient");
const PROMPT: &str = "Command (0:GEN 1:LIST 2:END): ";

/// The server in `mode` with a fixed seed, port 0, as a prepared command.
fn server_cmd(mode: &str) -> Command {
    let mut cmd = Command::new(SERVER);
    cmd.args(["0", "--seed", "7", "--concurrency", mode]);
    cmd
}

/// Connects and asks LIST; the reply, or `None` if the server closed, refused or reset.
fn list_once(port: u16) -> Option<String> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(TIMEOUT)).ok()?;
    c.write_all(&Lottery::List.encode()).ok()?;
    let mut buf = [0u8; 255];
    let n = c.read(&mut buf).ok()?;
    (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn a_new_client_is_served(port: u16) -> bool {
    wait_until(TIMEOUT, || {
        list_once(port).is_some_and(|r| r.starts_with("numbers: "))
    })
}

#[test]
fn thread_mode_survives_running_out_of_descriptors() {
    let mut cmd = server_cmd("thread");
    testkit::limit_descriptors(&mut cmd, 16);
    let mut s = Server::spawn_cmd(&mut cmd);
    let storm = testkit::exhaust_descriptors(
        &mut s,
        30,
        "lotteryserver: accept error: Too many open files (EMFILE)\n",
    );
    testkit::expect_recovery(&mut s, storm, a_new_client_is_served);
}

#[test]
fn fork_mode_survives_fork_failing_for_want_of_processes() {
    survives_running_out_of_processes("fork", "lotteryserver: fork error: ");
}

#[test]
fn thread_mode_survives_pthread_create_failing() {
    // RLIMIT_NPROC counts threads too.
    survives_running_out_of_processes("thread", "lotteryserver: pthread_create error: ");
}

/// The server in `mode` with room for itself and two more processes or threads: two
/// clients are served, the third sees its connection closed while the server reports
/// `PREFIX... (EAGAIN)`, and once the two leave a new client is served.
fn survives_running_out_of_processes(mode: &str, prefix: &str) {
    let mut cmd = server_cmd(mode);
    if !testkit::limit_processes_as_fresh_user(&mut cmd, SERVER, 3) {
        return;
    }
    let mut s = Server::spawn_cmd(&mut cmd);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = s.connect();
        c.write_all(&Lottery::List.encode()).unwrap();
        let mut buf = [0u8; 255];
        let n = c.read(&mut buf).expect("a reply");
        assert!(buf[..n].starts_with(b"numbers: "));
        held.push(c);
    }
    testkit::expect_unserved_client(&mut s, prefix);
    testkit::expect_recovery(&mut s, held, a_new_client_is_served);
}

#[test]
fn every_mode_keeps_serving_when_stdout_goes_away() {
    for mode in ["iterative", "fork", "thread"] {
        // As `lotteryserver 0 ... | head -n 1`: the reader takes one line and leaves.
        let (mut server, port) = Headless::spawn_cmd(&mut server_cmd(mode));
        for i in 0..2 {
            let reply = list_once(port);
            assert!(
                reply.as_deref().is_some_and(|r| r.starts_with("numbers: ")),
                "{mode}: client {i} got {reply:?}; server running: {}",
                server.is_running()
            );
        }
        assert!(server.is_running(), "{mode}: server exited");
    }
}

#[test]
fn client_escapes_control_characters_in_replies() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut c, _) = l.accept().expect("accept");
        let mut cmd = [0u8; 4];
        c.read_exact(&mut cmd).expect("a command");
        c.write_all(b"\x1b[2J\x1b]0;pwned\x07\nnumbers: 1").unwrap();
        let _ = c.read_exact(&mut cmd); // END
    });
    let (status, out, err) = run_with_input(CLIENT, &["127.0.0.1", &port.to_string()], b"1\n");
    fake.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(
        out,
        format!("{PROMPT}\\x1b[2J\\x1b]0;pwned\\x07\\nnumbers: 1\n{PROMPT}")
    );
}
