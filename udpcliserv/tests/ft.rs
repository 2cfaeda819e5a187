//! The course's UDP file transfer: the real programs and a test socket speaking as the
//! C client, on loopback port 0; the server's path policy; a lost END.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};

use testkit::{Server, TIMEOUT};

const SERVER: &str = env!("CARGO_BIN_EXE_udpftserver");
const CLIENT: &str = env!("CARGO_BIN_EXE_udpftclient");

/// A fresh directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("udpft-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn server(root: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--port", "0", "--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::spawn(SERVER, &args)
}

fn noise(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn an_upload_arrives_whole_and_truncates_the_old_file() {
    let dir = Dir::new("whole");
    let root = dir.0.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("copy.bin"), vec![b'x'; 50_000]).unwrap();
    let data = noise(10_000);
    std::fs::write(dir.0.join("data.bin"), &data).unwrap();
    let mut s = server(&root, &["--once"]);
    let origin = dir.0.join("data.bin");
    let args = [
        "127.0.0.1",
        origin.to_str().unwrap(),
        "copy.bin",
        "--port",
        &s.port().to_string(),
    ];
    let (status, out, err) = testkit::run_with_input(CLIENT, &args, b"");
    assert!(status.success(), "{err}");
    assert_eq!(
        out,
        "Filename sent.\nsent 10000 bytes in 10 datagrams, then ================END\n"
    );
    let (status, out, _) = s.proc.wait_exit();
    assert!(status.success());
    assert_eq!(
        out,
        "Received from client: [copy.bin]\n================END\nwrote 10000 bytes in 10 datagrams to copy.bin\n"
    );
    assert_eq!(
        std::fs::read(root.join("copy.bin")).unwrap(),
        data,
        "truncated, then written"
    );
}

/// Speaks as the C client: path, `ok`, 1024-byte datagrams, END.
#[test]
fn the_server_speaks_the_c_clients_protocol_byte_for_byte() {
    let dir = Dir::new("c");
    let mut s = server(&dir.0, &[]);
    let c = UdpSocket::bind("[::1]:0").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let to: SocketAddr = format!("[::1]:{}", s.port()).parse().unwrap();
    c.send_to(b"c.txt", to).unwrap();
    let mut buf = [0u8; 1024];
    let (n, from) = c.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"ok"[..], to));
    let data = noise(2500);
    for chunk in data.chunks(1024) {
        c.send_to(chunk, to).unwrap();
    }
    // A stranger's datagram in the middle is not written.
    UdpSocket::bind("[::1]:0")
        .unwrap()
        .send_to(b"forged", to)
        .unwrap();
    c.send_to(b"================END", to).unwrap();
    s.proc.expect_line("the end", |l| {
        l.starts_with("wrote 2500 bytes in 3 datagrams")
    });
    assert_eq!(std::fs::read(dir.0.join("c.txt")).unwrap(), data);
}

#[test]
fn paths_outside_the_root_are_refused_and_the_server_goes_on() {
    let dir = Dir::new("refuse");
    let root = dir.0.join("root");
    std::fs::create_dir(&root).unwrap();
    std::os::unix::fs::symlink(&dir.0, root.join("up")).unwrap();
    let origin = dir.0.join("data.bin");
    std::fs::write(&origin, b"evil").unwrap();
    let mut s = server(&root, &[]);
    let port = s.port().to_string();
    for (bad, why) in [
        ("../escaped", "`..` may lead outside the server's root"),
        ("/tmp/escaped", "an absolute path outside the server's root"),
        ("up/escaped", "up: a symbolic link (not followed)"),
    ] {
        let args = ["127.0.0.1", origin.to_str().unwrap(), bad, "--port", &port];
        let (status, out, err) = testkit::run_with_input(CLIENT, &args, b"");
        assert!(!status.success());
        assert_eq!(out, "", "no `Filename sent.`");
        assert_eq!(
            err,
            format!("udpftclient: the server answered: refused: {why} ({bad})\n")
        );
        s.proc.expect_line("the refusal", |l| {
            l == format!("Received from client: [{bad}]\n")
        });
    }
    assert!(!dir.0.join("escaped").exists() && !Path::new("/tmp/escaped").exists());
}

#[test]
fn a_lost_end_leaves_the_server_waiting_until_idle_gives_up() {
    let dir = Dir::new("noend");
    let mut s = server(&dir.0, &["--idle", "0.2", "--once"]);
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    c.send_to(b"part.bin", to).unwrap();
    c.recv_from(&mut [0u8; 16]).unwrap();
    c.send_to(&[1u8; 1024], to).unwrap(); // ... and END never comes
    let (status, out, _) = s.proc.wait_exit();
    assert!(status.success());
    assert!(
        out.ends_with(
            "no datagram for 200ms: the END marker was lost, or the client is gone; \
             part.bin kept with 1024 bytes in 1 datagrams\n"
        ),
        "{out}"
    );
}
