//! Issue 16: a dribbling server, silent connections ahead in an iterative server's
//! queue, and the requests that got the wrong answer.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{TempDir, fake_server, ftclient_cmd, run, serve};
use filetransfer::proto::{self, SEGMENT_SIZE};

/// A server sending one byte every 100 ms (a segment every 26 s) never completes a
/// segment within `--timeout 0.5`: the client gives up after about that long, and
/// says why, although bytes keep arriving.
#[test]
fn a_dribbling_server_cannot_hold_the_client() {
    let dir = TempDir::new("dribble");
    let (port, _, server) = fake_server(|mut conn| {
        let mut wire = Vec::new();
        proto::encode_segments(&[7u8; 1000], &mut wire);
        // Until the client goes away (a write fails), or 60 s at most.
        for byte in wire.iter().cycle().take(600) {
            if conn.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let (status, _, err) = run(&mut ftclient_cmd(
        port,
        "x",
        &dir.str("out"),
        &["--timeout", "0.5"],
        false,
    ));
    let took = start.elapsed();
    server.join().unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "timed out: the server sent less than one segment (260 bytes) in 0.5 s (--timeout)"
        ),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "gave up after {took:?}");
    assert_eq!(dir.names(), Vec::<String>::new());
}

/// The rule counts bytes, not reads: a slow server that still sends a segment's worth
/// within every `--timeout` is not given up on.
#[test]
fn a_slow_server_that_keeps_up_one_segment_per_timeout_is_served() {
    let dir = TempDir::new("slow-ok");
    let data = common::content(3 * 256 + 10, 4);
    let sent = data.clone();
    let (port, _, server) = fake_server(move |mut conn| {
        let mut wire = Vec::new();
        proto::encode_piece(&sent, true, &mut wire); // the data, then the end-of-file segment
        // Half a segment every 100 ms: 1,300 bytes per 0.5 s.
        for piece in wire.chunks(SEGMENT_SIZE / 2) {
            conn.write_all(piece).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (status, _, err) = run(&mut ftclient_cmd(
        port,
        "x",
        &dir.str("out"),
        &["--timeout", "2"],
        false,
    ));
    server.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), data);
}

/// The iterative server's promise: a client queued behind a few connections that never
/// send a path is served with the default options (issue 16: 7 of them made it time
/// out after 31.9 s, 5 s each).
#[test]
fn a_client_queued_behind_seven_silent_connections_is_served() {
    let root = TempDir::new("queue7-root");
    let dir = TempDir::new("queue7");
    std::fs::write(root.join("a"), b"temp file\n").unwrap();
    let mut server = serve(&root.0, &[]);
    let silent: Vec<_> = (0..7).map(|_| server.connect()).collect();
    let (status, _, err) = run(&mut ftclient_cmd(
        server.port(),
        "a",
        &dir.str("a"),
        &[],
        false,
    ));
    assert!(status.success(), "the queued client: {err}");
    assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"temp file\n");
    for _ in &silent {
        server
            .proc
            .expect_stderr_line("a silent connection's log line", |l| {
                l.contains("timed out waiting for the path (1 s, --request-timeout)")
            });
    }
}

/// What an iterative server cannot promise: with more silent connections ahead than
/// `--timeout` / `--request-timeout`, a queued client gives up, and its message says
/// that a server serving one client at a time may be busy with others.
#[test]
fn a_client_queued_too_long_says_the_server_may_be_busy() {
    let root = TempDir::new("queue-busy-root");
    let dir = TempDir::new("queue-busy");
    std::fs::write(root.join("a"), b"A").unwrap();
    let server = serve(&root.0, &["--request-timeout", "3"]);
    let _silent: Vec<_> = (0..3).map(|_| server.connect()).collect();
    let (status, _, err) = run(&mut ftclient_cmd(
        server.port(),
        "a",
        &dir.str("a"),
        &["--timeout", "0.5"],
        false,
    ));
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "timed out waiting for the server: nothing received for 0.5 s (--timeout); \
             a server that serves one client at a time (iterftserver) may be busy with \
             others ahead of this one"
        ),
        "{err}"
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

/// A Unix-domain socket in the served directory is refused like a FIFO, not with
/// `open`'s ENXIO (`No such device or address`).
#[test]
fn a_unix_socket_is_refused_as_not_a_regular_file() {
    let root = TempDir::new("unix-socket-root");
    let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    let server = serve(&root.0, &[]);
    let dir = TempDir::new("unix-socket");
    let (status, _, err) = run(&mut ftclient_cmd(
        server.port(),
        "sock",
        &dir.str("s"),
        &[],
        false,
    ));
    assert_eq!(status.code(), Some(1));
    assert!(
        err.contains("server error: refused: not a regular file"),
        "{err}"
    );
}

/// `hello.txt/` names a directory that `hello.txt` is not: refused as a shell would
/// (`cat hello.txt/`: Not a directory), not served as `hello.txt`.
#[test]
fn a_trailing_slash_after_a_file_is_not_a_directory() {
    let root = TempDir::new("slash-root");
    std::fs::write(root.join("hello.txt"), b"hello").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    let server = serve(&root.0, &[]);
    let dir = TempDir::new("slash");
    for (remote, message) in [
        ("hello.txt/", "Not a directory: hello.txt/"),
        ("hello.txt/.", "Not a directory: hello.txt/."),
        ("sub/", "refused: not a regular file"),
        ("sub/.", "refused: not a regular file"),
    ] {
        let (status, _, err) = run(&mut ftclient_cmd(
            server.port(),
            remote,
            &dir.str("o"),
            &[],
            false,
        ));
        assert_eq!(status.code(), Some(1), "{remote}: {err}");
        assert!(
            err.contains(&format!("server error: {message}")),
            "{remote}: {err}"
        );
    }
    assert_eq!(dir.names(), Vec::<String>::new());
    let (status, _, err) = run(&mut ftclient_cmd(
        server.port(),
        "hello.txt",
        &dir.str("o"),
        &[],
        false,
    ));
    assert!(status.success(), "{err}");
}
