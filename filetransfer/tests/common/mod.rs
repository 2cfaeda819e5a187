//! Helpers shared by the test files that were written for issue 16 (temporary
//! directories, fake servers, running the clients).
#![allow(dead_code)] // each test file uses a part of them

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use filetransfer::proto;
use testkit::Server;

pub const FTCLIENT: &str = env!("CARGO_BIN_EXE_ftclient");
pub const ITERFTCLIENT: &str = env!("CARGO_BIN_EXE_iterftclient");
pub const ITERFTSERVER: &str = env!("CARGO_BIN_EXE_iterftserver");

/// The environment variable that makes the clients use a named temporary file, as on a
/// system or file system without `O_TMPFILE`.
pub const NAMED_TEMP: &str = "UNPLAB_FT_NAMED_TEMP";

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ft16-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn str(&self, name: &str) -> String {
        self.join(name).to_string_lossy().into_owned()
    }

    /// The names in the directory, sorted (hidden files included).
    pub fn names(&self) -> Vec<String> {
        names_in(&self.0)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The names in `dir`, sorted (hidden files included).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Deterministic, non-repeating-looking file content.
pub fn content(len: usize, seed: u32) -> Vec<u8> {
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

/// `iterftserver 0 --root ROOT EXTRA...`.
pub fn serve(root: &Path, extra: &[&str]) -> Server {
    let root = root.to_string_lossy();
    let mut args = vec!["0", "--root", &root];
    args.extend_from_slice(extra);
    Server::spawn(ITERFTSERVER, &args)
}

/// `ftclient 127.0.0.1 PORT REMOTE LOCAL EXTRA...`, in named-temporary-file mode if
/// `named`.
pub fn ftclient_cmd(port: u16, remote: &str, local: &str, extra: &[&str], named: bool) -> Command {
    let mut cmd = Command::new(FTCLIENT);
    cmd.args(["127.0.0.1", &port.to_string(), remote, local])
        .args(extra);
    if named {
        cmd.env(NAMED_TEMP, "1");
    } else {
        cmd.env_remove(NAMED_TEMP);
    }
    cmd
}

/// Runs a client command to its end, stdin empty: status, stdout, stderr. (No time
/// limit of its own: the clients' `--timeout` ends every case.)
pub fn run(cmd: &mut Command) -> (ExitStatus, String, String) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status, text(&out.stdout), text(&out.stderr))
}

/// Both modes of the clients' temporary file: unnamed (`O_TMPFILE`, Linux) and named.
pub const MODES: [bool; 2] = [false, true];

/// The mode's name for messages.
pub fn mode(named: bool) -> &'static str {
    if named { "named" } else { "unnamed" }
}

/// A server the test controls: accepts one connection on 127.0.0.1, reads the request,
/// tells the test (the receiver returned) that the client is past its request, then lets
/// `act` do whatever a broken server would do.
pub fn fake_server(
    act: impl FnOnce(TcpStream) + Send + 'static,
) -> (u16, Receiver<()>, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    let (tx, rx) = mpsc::channel();
    let h = thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut req = vec![0u8; 256];
        let n = conn.read(&mut req).expect("read request");
        req.truncate(n);
        let _ = tx.send(());
        act(conn);
        req
    });
    (port, rx, h)
}

/// A fake server that sends one data segment, then holds the connection open and silent
/// until the sender returned is used or dropped.
pub fn stalling_server() -> (u16, Receiver<()>, Sender<()>, JoinHandle<Vec<u8>>) {
    let (release, held) = mpsc::channel::<()>();
    let (port, requested, h) = fake_server(move |mut conn| {
        let mut wire = Vec::new();
        proto::encode_segments(&[1u8; 256], &mut wire);
        let _ = conn.write_all(&wire);
        let _ = held.recv();
    });
    (port, requested, release, h)
}
