//! The reliable transfer on loopback: a whole upload, and the server's answers to a
//! hand-made client that reorders, duplicates and repeats packets, byte for byte.

use std::net::{SocketAddr, UdpSocket};

use testkit::{Server, TIMEOUT};
use udpcliserv::rft::proto::{Kind, Packet};

const SERVER: &str = env!("CARGO_BIN_EXE_rftserver");
const CLIENT: &str = env!("CARGO_BIN_EXE_rftclient");

fn root(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rft-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Sends `pkt`, returns the server's answer.
fn ask(
    c: &UdpSocket,
    to: SocketAddr,
    kind: Kind,
    seq: u32,
    payload: &[u8],
) -> (Kind, u32, u64, Vec<u8>) {
    c.send_to(
        &Packet::new(kind, seq, 1000 + u64::from(seq), payload).emit(),
        to,
    )
    .unwrap();
    let mut buf = [0u8; 2048];
    let n = c.recv(&mut buf).expect("an answer");
    let p = Packet::parse(&buf[..n]).expect("a packet");
    (p.kind, p.seq, p.stamp, p.payload.to_vec())
}

#[test]
fn the_server_reassembles_in_order_and_acks_cumulatively() {
    let dir = root("order");
    let mut s = Server::spawn(SERVER, &["--port", "0", "--root", dir.to_str().unwrap()]);
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    assert_eq!(
        ask(&c, to, Kind::Req, 0, b"out.txt"),
        (Kind::Ack, 1, 1000, vec![])
    );
    assert_eq!(
        ask(&c, to, Kind::Req, 0, b"out.txt"),
        (Kind::Ack, 1, 1000, vec![]),
        "a repeated REQ"
    );
    assert_eq!(
        ask(&c, to, Kind::Data, 2, b"world"),
        (Kind::Ack, 1, 1002, vec![]),
        "early: kept, ACK 1 again"
    );
    assert_eq!(
        ask(&c, to, Kind::Data, 1, b"hello "),
        (Kind::Ack, 3, 1001, vec![]),
        "the hole filled: both written"
    );
    assert_eq!(
        ask(&c, to, Kind::Data, 1, b"hello "),
        (Kind::Ack, 3, 1001, vec![]),
        "a duplicate"
    );
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    other.set_read_timeout(Some(TIMEOUT)).unwrap();
    let busy = ask(&other, to, Kind::Req, 0, b"x");
    assert_eq!(
        (busy.0, busy.3),
        (Kind::Err, b"busy: another upload is in progress".to_vec())
    );
    assert_eq!(
        ask(&c, to, Kind::Fin, 3, &11u64.to_le_bytes()),
        (Kind::Ack, 4, 1003, vec![])
    );
    assert_eq!(
        ask(&c, to, Kind::Fin, 3, &11u64.to_le_bytes()),
        (Kind::Ack, 4, 1003, vec![]),
        "FIN again: its ACK was lost"
    );
    s.proc.expect_line("the end", |l| {
        l.contains("wrote 11 bytes in 2 packets to out.txt (1 duplicates dropped)")
    });
    assert_eq!(std::fs::read(dir.join("out.txt")).unwrap(), b"hello world");
    let refused = ask(&other, to, Kind::Req, 0, b"../x");
    assert_eq!(
        (refused.0, String::from_utf8_lossy(&refused.3).into_owned()),
        (
            Kind::Err,
            "refused: `..` may lead outside the server's root (../x)".to_string()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_upload_arrives_identical() {
    let dir = root("whole");
    let s = Server::spawn(SERVER, &["--port", "0", "--root", dir.to_str().unwrap()]);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 / 7) as u8).collect();
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    let origin = dir.join("data.bin");
    let args = [
        "127.0.0.1",
        origin.to_str().unwrap(),
        "copy.bin",
        "--port",
        &s.port().to_string(),
        "--window",
        "8",
    ];
    let (status, out, err) = testkit::run_with_input(CLIENT, &args, b"");
    assert!(status.success(), "{err}");
    assert!(out.starts_with("sent 300000 bytes in "), "{out}");
    assert_eq!(std::fs::read(dir.join("copy.bin")).unwrap(), data);
    let (status, _, err) = testkit::run_with_input(
        CLIENT,
        &[
            "127.0.0.1",
            origin.to_str().unwrap(),
            "/etc/x",
            "--port",
            &s.port().to_string(),
        ],
        b"",
    );
    assert!(!status.success());
    assert_eq!(
        err,
        "rftclient: the server refused: refused: an absolute path outside the server's root (/etc/x)\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
