//! The file-transfer programs, run for real on loopback with port 0.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use filetransfer::partial;
use filetransfer::proto::{self, SEGMENT_SIZE};
use testkit::{Proc, Server, run_with_input};

const FTSERVER: &str = env!("CARGO_BIN_EXE_ftserver");
const FTCLIENT: &str = env!("CARGO_BIN_EXE_ftclient");
const ITERFTSERVER: &str = env!("CARGO_BIN_EXE_iterftserver");
const ITERFTCLIENT: &str = env!("CARGO_BIN_EXE_iterftclient");

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ft-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn str(&self, name: &str) -> String {
        self.join(name).to_string_lossy().into_owned()
    }

    /// The names in the directory, sorted (hidden temp files included).
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic, non-repeating-looking file content.
fn content(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn serve(bin: &str, root: &Path) -> Server {
    Server::spawn(bin, &["0", "--root", &root.to_string_lossy()])
}

fn ftclient(port: u16, remote: &str, local: &str, extra: &[&str]) -> (ExitStatus, String, String) {
    let port = port.to_string();
    let mut args = vec!["127.0.0.1", &port, remote, local];
    args.extend_from_slice(extra);
    run_with_input(FTCLIENT, &args, b"")
}

/// A server the test controls: accepts one connection on 127.0.0.1, reads the request,
/// then lets `act` do whatever a broken or C-style server would do.
fn fake_server(act: impl FnOnce(TcpStream) + Send + 'static) -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    let h = thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut req = vec![0u8; 256];
        let n = conn.read(&mut req).expect("read request");
        req.truncate(n);
        act(conn);
        req
    });
    (port, h)
}

/// All bytes the server sends for `request`, read as the C client's kernel sees them.
fn raw_exchange(port: u16, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(testkit::TIMEOUT)).unwrap();
    s.write_all(request).expect("send request");
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("read reply");
    all
}

#[test]
fn oneshot_server_prints_the_path_and_sends_an_exact_copy() {
    let dir = TempDir::new("oneshot");
    let data = b"temp file\nfor test\nnetwork programming\n";
    std::fs::write(dir.join("temp1"), data).unwrap();
    let mut server = serve(FTSERVER, &dir.0);
    let (status, out, err) = ftclient(server.port(), "temp1", &dir.str("copy"), &[]);
    assert!(status.success(), "ftclient failed: {err}");
    assert_eq!(
        out, "",
        "ftclient prints nothing when stdout is not a terminal"
    );
    assert_eq!(std::fs::read(dir.join("copy")).unwrap(), data);
    let (status, out, _) = server.proc.wait_exit();
    assert!(status.success());
    assert_eq!(
        out, "temp1\n",
        "the path on its own line after 'listening on'"
    );
}

#[test]
fn exact_copies_of_empty_short_aligned_and_large_files() {
    let dir = TempDir::new("copies");
    let root = TempDir::new("copies-root");
    let files = [
        ("empty", 0),
        ("six", 600),
        ("aligned", 256 * 4),
        ("big", 3 * 1024 * 1024 + 123),
    ];
    for (i, (name, len)) in files.iter().enumerate() {
        std::fs::write(root.join(name), content(*len, i as u32)).unwrap();
    }
    let mut server = serve(ITERFTSERVER, &root.0);
    for (name, _) in files {
        let local = dir.str(name);
        let (status, _, err) = ftclient(server.port(), name, &local, &[]);
        assert!(status.success(), "{name}: {err}");
        assert_eq!(
            std::fs::read(&local).unwrap(),
            std::fs::read(root.join(name)).unwrap(),
            "{name} differs"
        );
        server
            .proc
            .expect_line("the path", |l| l == format!("{name}\n"));
    }
    assert!(server.proc.is_running());
    assert_eq!(dir.names(), ["aligned", "big", "empty", "six"]);
}

/// The end-of-file segment as it must appear on the wire: length 0, 256 zero bytes.
fn end_of_file_bytes() -> Vec<u8> {
    let mut v = vec![0u8; 4]; // len = 0, little-endian
    v.extend_from_slice(&[0u8; 256]);
    v
}

#[test]
fn wire_bytes_are_whole_260_byte_segments_with_le_lengths_then_the_end_of_file_segment() {
    let root = TempDir::new("wire");
    let data = content(600, 7);
    std::fs::write(root.join("six"), &data).unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(root.join("aligned"), content(512, 8)).unwrap();
    let server = serve(ITERFTSERVER, &root.0);

    let wire = raw_exchange(server.port(), b"six");
    assert_eq!(wire.len(), 4 * SEGMENT_SIZE);
    let mut got = Vec::new();
    for (i, frame) in wire.chunks_exact(SEGMENT_SIZE).take(3).enumerate() {
        let want_len: u32 = [256, 256, 88][i];
        assert_eq!(&frame[..4], &want_len.to_le_bytes(), "segment {i} length");
        got.extend_from_slice(&frame[4..4 + want_len as usize]);
    }
    assert_eq!(got, data);
    assert_eq!(
        &wire[3 * SEGMENT_SIZE..],
        end_of_file_bytes(),
        "the marker last"
    );

    assert_eq!(
        raw_exchange(server.port(), b"empty"),
        end_of_file_bytes(),
        "an empty file is just the end-of-file segment"
    );
    let wire = raw_exchange(server.port(), b"aligned");
    assert_eq!(wire.len(), 3 * SEGMENT_SIZE);
    assert_eq!(&wire[SEGMENT_SIZE..SEGMENT_SIZE + 4], &[0, 1, 0, 0]);
    assert_eq!(&wire[2 * SEGMENT_SIZE..], end_of_file_bytes());
}

#[test]
fn a_big_file_goes_out_as_whole_segments_in_many_writes_then_the_end_of_file_segment() {
    // More than one write's worth (1024 segments): the segments of every write, the
    // short last one, then the marker, exactly as the protocol module encodes them.
    let root = TempDir::new("wire-big");
    let data = content(1024 * 256 * 2 + 300, 11);
    std::fs::write(root.join("big"), &data).unwrap();
    let server = serve(ITERFTSERVER, &root.0);
    let mut expected = Vec::new();
    proto::encode_segments(&data, &mut expected);
    expected.extend_from_slice(&end_of_file_bytes());
    assert!(raw_exchange(server.port(), b"big") == expected);
}

/// A file whose size `fstat` gives as 0 but that has content: `/proc/PID/status`. The
/// server must not pass it off as a complete empty file.
#[cfg(target_os = "linux")]
#[test]
fn a_file_that_grows_while_sent_ends_with_an_error_segment() {
    let mut server = Server::spawn(ITERFTSERVER, &["0", "--root", "/proc/self"]);
    let message = "file changed while being sent: status";
    assert_raw_refused(server.port(), b"status", message);
    server
        .proc
        .expect_stderr_line("the failure", |l| l.ends_with(&format!(": {message}\n")));
    assert_refused(server.port(), "status", message);
}

/// A C-style server (no end-of-file segment) sending `data` as full segments and a
/// short last one, then closing.
fn c_style_server(data: Vec<u8>) -> (u16, JoinHandle<Vec<u8>>) {
    fake_server(move |mut conn| {
        let mut wire = Vec::new();
        proto::encode_segments(&data, &mut wire);
        conn.write_all(&wire).unwrap();
    })
}

#[test]
fn a_close_after_full_segments_without_the_marker_is_refused_unless_trusted() {
    // What a server killed on a segment boundary looks like (and what the C FTServer
    // sends for a file whose size is a multiple of 256).
    let data = content(3 * 256, 5);
    let dir = TempDir::new("cut");
    std::fs::write(dir.join("out"), b"previous content").unwrap();
    let (port, server) = c_style_server(data.clone());
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &[]);
    server.join().unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "after 768 bytes, at the end of a full segment, without an end-of-file segment"
        ),
        "{err}"
    );
    assert!(err.contains("may have been cut short"), "{err}");
    assert!(err.contains("C FTServer"), "{err}");
    assert!(err.contains("--trust-close"), "{err}");
    assert!(err.contains("not written"), "{err}");
    assert_eq!(dir.names(), ["out"], "no temp file left");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"previous content");

    let (port, server) = c_style_server(data.clone());
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &["--trust-close"]);
    server.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), data);
    assert_eq!(dir.names(), ["out"]);
}

#[test]
fn a_c_style_empty_transfer_needs_trust_close() {
    let dir = TempDir::new("c-empty");
    let (port, server) = c_style_server(Vec::new());
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &[]);
    server.join().unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("without sending any segment"), "{err}");
    assert!(err.contains("--trust-close"), "{err}");
    assert_eq!(dir.names(), Vec::<String>::new());

    let (port, server) = c_style_server(Vec::new());
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &["--trust-close"]);
    server.join().unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"");
}

#[test]
fn iterftclient_takes_trust_close_too() {
    let dir = TempDir::new("iter-trust");
    let data = content(512, 9);
    for (extra, ok) in [(None, false), (Some("--trust-close"), true)] {
        let (port, server) = c_style_server(data.clone());
        let port = port.to_string();
        let mut args = vec!["127.0.0.1", port.as_str()];
        args.extend(extra);
        let input = format!("x\n{}\n", dir.str("out"));
        let (status, _, err) = run_with_input(ITERFTCLIENT, &args, input.as_bytes());
        server.join().unwrap();
        assert_eq!(status.success(), ok, "{extra:?}: {err}");
        assert_eq!(dir.join("out").exists(), ok, "{extra:?}");
    }
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), data);
}

#[test]
fn c_style_segments_with_garbage_after_length_arrive_exactly() {
    let dir = TempDir::new("garbage");
    let data = content(1000, 3);
    let sent = data.clone();
    let (port, server) = fake_server(move |mut conn| {
        // As the C server: the whole struct each time, stale bytes after `len`.
        let mut wire = Vec::new();
        for chunk in sent.chunks(256) {
            let mut frame = [0xEEu8; SEGMENT_SIZE];
            frame[..4].copy_from_slice(&(chunk.len() as i32).to_le_bytes());
            frame[4..4 + chunk.len()].copy_from_slice(chunk);
            wire.extend_from_slice(&frame);
        }
        // Written in pieces that cut frames anywhere.
        for piece in wire.chunks(97) {
            conn.write_all(piece).unwrap();
        }
    });
    // No end-of-file segment: the short last segment is how the C server ends a file.
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &[]);
    assert_eq!(server.join().unwrap(), b"x", "the request is the bare path");
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), data);
}

/// Checks one refused request through ftclient: status 1, the server's message on
/// stderr, and nothing left in the client's directory.
fn assert_refused(port: u16, remote: &str, message: &str) {
    let dir = TempDir::new("refused-client");
    let (status, _, err) = ftclient(port, remote, &dir.str("out"), &[]);
    assert_eq!(status.code(), Some(1), "{remote}: {err}");
    assert!(
        err.contains(&format!("server error: {message}")),
        "{remote}: stderr {err:?} lacks {message:?}"
    );
    assert_eq!(dir.names(), Vec::<String>::new(), "{remote}: files left");
}

/// Checks that a raw request gets exactly one error segment and then the close.
fn assert_raw_refused(port: u16, request: &[u8], message: &str) {
    let wire = raw_exchange(port, request);
    assert_eq!(wire.len(), SEGMENT_SIZE, "one segment for {request:?}");
    let frame: &[u8; SEGMENT_SIZE] = wire[..].try_into().unwrap();
    assert_eq!(proto::segment_length(frame), -1);
    assert_eq!(
        proto::parse(frame).unwrap().error_message().as_deref(),
        Some(message)
    );
}

#[test]
fn every_refusal_leaves_no_file_and_the_server_serving() {
    let top = TempDir::new("refusals");
    let root = top.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(top.join("secret"), b"outside").unwrap();
    std::fs::write(root.join("ok"), b"fine").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink(top.join("secret"), root.join("link")).unwrap();
    std::os::unix::fs::symlink("../secret", root.join("rellink")).unwrap();
    std::os::unix::fs::symlink("ok", root.join("inlink")).unwrap();
    std::os::unix::fs::symlink(&top.0, root.join("outdir")).unwrap();
    std::os::unix::fs::symlink("../..", root.join("sub/subout")).unwrap();
    nix::unistd::mkfifo(
        &root.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let mut server = serve(ITERFTSERVER, &root);
    let port = server.port();
    let outside = "refused: outside the served directory";
    let not_regular = "refused: not a regular file";

    assert_refused(port, "../secret", outside);
    assert_refused(port, &top.str("secret"), outside);
    assert_refused(port, "sub/../../secret", outside);
    assert_refused(port, "../nonexistent", outside);
    // Symbolic links are never followed, wherever they point; and what lies behind one
    // is not told apart (finding 8: "No such file" used to reveal what exists outside).
    let symlink = "refused: symbolic link";
    assert_refused(port, "link", symlink);
    assert_refused(port, "rellink", symlink);
    assert_refused(port, "inlink", symlink);
    assert_refused(port, "outdir/secret", symlink);
    assert_refused(port, "outdir/nonexistent", symlink);
    assert_refused(port, "sub/subout/secret", symlink);
    assert_refused(port, "outdir/../root/ok", outside);
    assert_refused(port, "outdir/../nonexistent", outside);
    assert_refused(port, "sub/../ok", outside);
    assert_refused(port, "sub", not_regular);
    assert_refused(port, ".", not_regular);
    assert_refused(port, "fifo", not_regular);
    assert_refused(
        port,
        "missing.txt",
        "No such file or directory: missing.txt",
    );
    assert_raw_refused(
        port,
        &[b'a'; 300],
        "refused: path too long (256 bytes, at most 255)",
    );
    assert_raw_refused(port, b"a\xffb", "refused: path is not UTF-8");
    assert_raw_refused(port, b"ok\0junk", "refused: path contains a NUL byte");

    // A device node inside the root (needs CAP_MKNOD; skipped without it).
    let dev = root.join("null");
    match nix::sys::stat::mknod(
        &dev,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    ) {
        Ok(()) => assert_refused(port, "null", not_regular),
        Err(e) => testkit::skip(
            "UNPLAB_REQUIRE_ROOT",
            &format!("the device case: mknod needs CAP_MKNOD: {e}"),
        ),
    }

    // An unreadable file. A user who reads mode 000 files anyway (root) asks a second
    // server, run as a fresh user id without privileges.
    let locked = root.join("locked");
    std::fs::write(&locked, b"x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_err() {
        assert_refused(port, "locked", "Permission denied: locked");
    } else {
        let mut cmd = std::process::Command::new(ITERFTSERVER);
        cmd.args(["0", "--root", &root.to_string_lossy()]);
        if testkit::as_fresh_user(&mut cmd, ITERFTSERVER, "the unreadable case") {
            let unprivileged = Server::spawn_cmd(&mut cmd);
            assert_refused(unprivileged.port(), "locked", "Permission denied: locked");
        }
    }

    server
        .proc
        .expect_stderr_line("a refusal log line", |l| l.contains(outside));
    // Still serving, absolute paths inside the root included.
    let dir = TempDir::new("refusals-after");
    for remote in [
        "ok".to_string(),
        root.join("ok").to_string_lossy().into_owned(),
    ] {
        let (status, _, err) = ftclient(port, &remote, &dir.str("ok"), &[]);
        assert!(status.success(), "{remote}: {err}");
        assert_eq!(std::fs::read(dir.join("ok")).unwrap(), b"fine");
    }
    assert!(server.proc.is_running());
}

#[test]
fn oneshot_server_reports_a_refusal_and_exits_nonzero() {
    let root = TempDir::new("oneshot-refused");
    let mut server = serve(FTSERVER, &root.0);
    assert_refused(
        server.port(),
        "../x",
        "refused: outside the served directory",
    );
    let (status, out, err) = server.proc.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "../x\n");
    assert!(
        err.contains("refused: outside the served directory"),
        "{err}"
    );
}

#[test]
fn a_server_dying_mid_segment_leaves_no_file_and_fails() {
    for reset in [false, true] {
        let dir = TempDir::new("dies");
        std::fs::write(dir.join("out"), b"previous content").unwrap();
        let (port, server) = fake_server(move |mut conn| {
            let mut wire = Vec::new();
            proto::encode_segments(&[5u8; 256], &mut wire);
            wire.extend_from_slice(&wire.clone()[..130]);
            conn.write_all(&wire).unwrap();
            if reset {
                unp::sock::set_linger(&conn, Some(Duration::ZERO)).unwrap();
            }
        });
        let (status, _, err) = ftclient(port, "x", &dir.str("out"), &[]);
        server.join().unwrap();
        assert_eq!(status.code(), Some(1), "reset={reset}: {err}");
        let expected = if reset {
            "Connection reset by peer"
        } else {
            "in the middle of a segment (130 of 260 bytes)"
        };
        assert!(err.contains(expected), "reset={reset}: {err}");
        assert_eq!(dir.names(), ["out"], "no temp file left");
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"previous content");
    }
}

#[test]
fn a_bad_segment_length_is_a_protocol_error() {
    let dir = TempDir::new("badlen");
    let (port, server) = fake_server(|mut conn| {
        let mut frame = [0u8; SEGMENT_SIZE];
        frame[..4].copy_from_slice(&300i32.to_le_bytes());
        conn.write_all(&frame).unwrap();
    });
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &[]);
    server.join().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(
        err.contains("protocol error: segment length 300 is outside -1..=256"),
        "{err}"
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn a_stalled_server_times_out() {
    let dir = TempDir::new("stall");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (port, server) = fake_server(move |conn| {
        let _ = rx.recv(); // hold the connection open, silent, until the test is done
        drop(conn);
    });
    let (status, _, err) = ftclient(port, "x", &dir.str("out"), &["--timeout", "0.3"]);
    tx.send(()).unwrap();
    server.join().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn an_existing_longer_local_file_is_replaced_whole() {
    let dir = TempDir::new("replace");
    let root = TempDir::new("replace-root");
    std::fs::write(root.join("short"), b"new").unwrap();
    std::fs::write(dir.join("out"), vec![b'o'; 10_000]).unwrap();
    let server = serve(ITERFTSERVER, &root.0);
    let (status, _, err) = ftclient(server.port(), "short", &dir.str("out"), &[]);
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"new");
    assert_eq!(dir.names(), ["out"]);
}

#[test]
fn iterative_client_fetches_three_files_from_piped_input() {
    let dir = TempDir::new("iter");
    let root = TempDir::new("iter-root");
    let names = ["a", "b", "c"];
    for (i, n) in names.iter().enumerate() {
        std::fs::write(root.join(n), content(100 + 1000 * i, i as u32)).unwrap();
    }
    let server = serve(ITERFTSERVER, &root.0);
    let mut input = String::new();
    let mut expected = String::new();
    for (i, n) in names.iter().enumerate() {
        let local = dir.str(&format!("{n}.copy"));
        input.push_str(&format!("{n}\n{local}\n"));
        expected.push_str(&format!(
            "remote path: local path: received {} bytes into {local}\n",
            100 + 1000 * i
        ));
    }
    expected.push_str("remote path: \n");
    let port = server.port().to_string();
    let (status, out, err) = run_with_input(ITERFTCLIENT, &["127.0.0.1", &port], input.as_bytes());
    assert!(status.success(), "{err}");
    assert_eq!(out, expected);
    for n in names {
        assert_eq!(
            std::fs::read(dir.join(&format!("{n}.copy"))).unwrap(),
            std::fs::read(root.join(n)).unwrap()
        );
    }
}

#[test]
fn iterative_client_goes_on_after_a_failure_and_stops_on_an_empty_path() {
    let dir = TempDir::new("iter-fail");
    let root = TempDir::new("iter-fail-root");
    std::fs::write(root.join("a"), b"A").unwrap();
    let server = serve(ITERFTSERVER, &root.0);
    let port = server.port().to_string();
    let mut p = Proc::spawn(ITERFTCLIENT, &["127.0.0.1", &port]);
    let input = format!(
        "missing\n{}\na\n{}\n\nnot read\n",
        dir.str("m"),
        dir.str("a")
    );
    p.write_stdin(input.as_bytes());
    let (status, out, err) = p.wait_exit();
    assert_eq!(status.code(), Some(1), "one transfer failed");
    assert!(
        err.contains("server error: No such file or directory: missing"),
        "{err}"
    );
    assert!(
        out.ends_with(&format!(
            "received 1 bytes into {}\nremote path: ",
            dir.str("a")
        )),
        "{out:?}"
    );
    assert_eq!(dir.names(), ["a"]);
}

/// Ctrl-C (and SIGTERM) while the client is blocked in `read`: the handler removes the
/// temporary file and exits 130. Deterministic: the signal is sent only once the
/// temporary file exists, and nothing depends on how fast the machine is.
#[test]
fn ctrl_c_during_a_transfer_removes_the_temporary_file() {
    use nix::sys::signal::Signal;
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        let dir = TempDir::new("sigint");
        std::fs::write(dir.join("out"), b"previous content").unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (port, server) = fake_server(move |mut conn| {
            let mut wire = Vec::new();
            proto::encode_segments(&[1u8; 256], &mut wire);
            conn.write_all(&wire).unwrap();
            let _ = rx.recv(); // then stall until the test is done
        });
        let port = port.to_string();
        let local = dir.str("out");
        let mut client = Proc::spawn(FTCLIENT, &["127.0.0.1", &port, "x", &local]);
        // Generous: under load the client may take long to start; a working client
        // makes this return at once.
        let slow = Duration::from_secs(120);
        assert!(
            testkit::wait_until(slow, || dir.names().len() == 2),
            "{sig}: the temporary file never appeared"
        );
        client.signal(sig);
        assert!(
            testkit::wait_until(slow, || !client.is_running()),
            "{sig}: the client ignored the signal"
        );
        let (status, _, err) = client.wait_exit();
        tx.send(()).unwrap();
        server.join().unwrap();
        assert_eq!(status.code(), Some(130), "{sig}: {err}");
        assert_eq!(
            err,
            format!("ftclient: interrupted ({local} not written)\n"),
            "{sig}"
        );
        assert_eq!(dir.names(), ["out"], "{sig}: the temporary file is gone");
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"previous content");
    }
}

#[test]
fn a_silent_connection_does_not_make_a_queued_client_time_out() {
    let root = TempDir::new("queue-root");
    let dir = TempDir::new("queue");
    std::fs::write(root.join("a"), b"temp file\n").unwrap();
    // --timeout 60: were the path awaited that long, the client (30 s) would give up.
    let mut server = Server::spawn(
        ITERFTSERVER,
        &[
            "0",
            "--root",
            &root.0.to_string_lossy(),
            "--timeout",
            "60",
            "--request-timeout",
            "0.3",
        ],
    );
    // Connected, but never sends a path (like `sleep 40 | socat - TCP:...`). It is in
    // the listen queue before the client, so the server takes it first.
    let mut silent = server.connect();
    let (status, _, err) = ftclient(server.port(), "a", &dir.str("a"), &[]);
    assert!(status.success(), "the queued client: {err}");
    assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"temp file\n");
    server
        .proc
        .expect_stderr_line("the silent client's log line", |l| {
            l.contains("timed out waiting for the path (0.3 s, --request-timeout)")
        });
    server.proc.expect_line("the path", |l| l == "a\n");
    server.proc.expect_line("the transfer's log line", |l| {
        l.starts_with("sent 10 bytes to ")
    });
    assert!(
        testkit::sees_close(&mut silent),
        "the silent connection is closed"
    );
}

#[test]
fn a_missing_local_directory_is_named_not_the_temporary_file() {
    let root = TempDir::new("nodir-root");
    let dir = TempDir::new("nodir");
    std::fs::write(root.join("a"), b"A").unwrap();
    let server = serve(ITERFTSERVER, &root.0);
    let port = server.port().to_string();
    let local = dir.str("sub/nodir/x");
    let input = format!("a\n{local}\na\n{}\n", dir.str("a"));
    let (status, out, err) = run_with_input(ITERFTCLIENT, &["127.0.0.1", &port], input.as_bytes());
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "cannot write {local}: directory {} does not exist ({local} not written)",
            dir.str("sub/nodir")
        )),
        "{err}"
    );
    assert!(!err.contains("ftpart"), "the temporary name leaks: {err}");
    assert!(
        out.contains("received 1 bytes into"),
        "the loop goes on: {out}"
    );
    let (status, _, err) = ftclient(server.port(), "a", &local, &[]);
    assert_eq!(status.code(), Some(1));
    assert!(
        err.contains(&format!("cannot write {local}: directory")),
        "{err}"
    );
    assert_eq!(dir.names(), ["a"]);
}

#[test]
fn a_local_path_that_is_not_a_regular_file_is_refused_and_left_alone() {
    let root = TempDir::new("dest-kinds-root");
    std::fs::write(root.join("f"), b"new content").unwrap();
    let server = serve(ITERFTSERVER, &root.0);
    let dir = TempDir::new("dest-kinds");
    std::fs::write(dir.join("target"), b"old").unwrap();
    std::os::unix::fs::symlink(dir.join("target"), dir.join("link")).unwrap();
    nix::unistd::mkfifo(
        &dir.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let mut cases = vec![("link", "a symbolic link"), ("fifo", "a FIFO")];
    match nix::sys::stat::mknod(
        &dir.join("null"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    ) {
        Ok(()) => cases.push(("null", "a character device")),
        Err(e) => testkit::skip(
            "UNPLAB_REQUIRE_ROOT",
            &format!("the device case: mknod needs CAP_MKNOD: {e}"),
        ),
    }
    let before = dir.names();
    for (name, kind) in cases {
        let local = dir.str(name);
        for client in [FTCLIENT, ITERFTCLIENT] {
            let (status, _, err) = if client == FTCLIENT {
                ftclient(server.port(), "f", &local, &[])
            } else {
                let port = server.port().to_string();
                run_with_input(
                    ITERFTCLIENT,
                    &["127.0.0.1", &port],
                    format!("f\n{local}\n").as_bytes(),
                )
            };
            assert_eq!(status.code(), Some(1), "{name}: {err}");
            assert!(
                err.contains(&format!(
                    "cannot write {local}: not a regular file ({kind})"
                )),
                "{name}: {err}"
            );
            let t = std::fs::symlink_metadata(dir.join(name))
                .unwrap()
                .file_type();
            assert_eq!(partial::kind_of(t), kind, "{name} was replaced");
            assert_eq!(dir.names(), before, "files left behind");
        }
    }
    assert_eq!(std::fs::read(dir.join("target")).unwrap(), b"old");
}

#[test]
fn a_client_that_stops_reading_is_given_up_after_one_timeout() {
    use socket2::{Domain, Socket, Type};
    let root = TempDir::new("stops-reading");
    std::fs::write(root.join("big"), content(16 << 20, 3)).unwrap();
    std::fs::write(root.join("small"), b"small").unwrap();
    let mut server = Server::spawn(
        ITERFTSERVER,
        &["0", "--root", &root.0.to_string_lossy(), "--timeout", "0.5"],
    );
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], server.port())).into())
        .unwrap();
    let mut conn: TcpStream = sock.into();
    conn.write_all(b"big").unwrap();
    let me = conn.local_addr().unwrap();
    // Never reads. One deadline for the stall, and a log line that says what happened
    // (it used to be `write error: Resource temporarily unavailable (EAGAIN)`, after
    // twice the timeout).
    let line = server
        .proc
        .expect_stderr_line("the stall", |l| l.contains(&me.to_string()));
    assert_eq!(
        line.trim_end(),
        format!("iterftserver: {me}: timed out: the client stopped reading for 0.5 s")
    );
    drop(conn);
    let dir = TempDir::new("stops-reading-after");
    let (status, _, err) = ftclient(server.port(), "small", &dir.str("small"), &[]);
    assert!(status.success(), "{err}");
    assert_eq!(std::fs::read(dir.join("small")).unwrap(), b"small");
}

#[test]
fn control_characters_in_a_path_are_escaped_in_the_server_log() {
    let root = TempDir::new("log-injection");
    let mut server = serve(ITERFTSERVER, &root.0);
    let wire = raw_exchange(server.port(), b"a\nforged line\x1b[31m");
    assert_eq!(wire.len(), SEGMENT_SIZE);
    let shown = r"a\nforged line\x1b[31m";
    let line = server.proc.expect_line("the path", |l| l.starts_with('a'));
    assert_eq!(line.trim_end(), shown);
    let line = server
        .proc
        .expect_stderr_line("the refusal", |l| l.contains("No such file"));
    assert!(
        line.trim_end()
            .ends_with(&format!(": No such file or directory: {shown}")),
        "{line:?}"
    );
}

#[test]
fn control_characters_in_an_error_segment_are_escaped_on_the_client() {
    let dir = TempDir::new("client-escape");
    let (port, server) = fake_server(|mut conn| {
        conn.write_all(&proto::encode_error("bad\x1b[2J\nftclient: all fine"))
            .unwrap();
    });
    let (status, _, err) = ftclient(port, "x", &dir.str("x"), &[]);
    server.join().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(!err.contains('\x1b'), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(
        err.contains(r"server error: bad\x1b[2J\nftclient: all fine"),
        "{err:?}"
    );
}

#[test]
fn the_iterative_server_keeps_serving_when_its_stdout_reader_exits() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let root = TempDir::new("stdout-closed");
    std::fs::write(root.join("f"), b"still here").unwrap();
    let mut child = Kill(
        Command::new(ITERFTSERVER)
            .args(["0", "--root", &root.0.to_string_lossy()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let port = testkit::parse_listening(first.trim_end())
        .expect("listening line")
        .port();
    drop(out); // the reader of the server's stdout goes away
    let dir = TempDir::new("stdout-closed-client");
    for i in 0..3 {
        let (status, _, err) = ftclient(port, "f", &dir.str("f"), &[]);
        assert!(status.success(), "transfer {i}: {err}");
        assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"still here");
    }
    assert!(child.0.try_wait().unwrap().is_none(), "the server exited");
}

#[test]
fn the_oneshot_server_names_a_client_that_sends_no_path() {
    let root = TempDir::new("oneshot-silent");
    let mut server = serve(FTSERVER, &root.0);
    let conn = server.connect();
    let me = conn.local_addr().unwrap();
    drop(conn);
    let (status, _, err) = server.proc.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        err,
        format!("ftserver: {me}: the client closed without sending a path\n")
    );
}
