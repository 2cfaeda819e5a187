//! pollftserver: many transfers at once in one thread, and a client that stops reading
//! holds up nobody.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use filetransfer::proto::{self, SEGMENT_SIZE};
use testkit::{Server, TIMEOUT};

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("unplab-pollft-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Requests `path` and decodes the segments until the end-of-file segment.
fn fetch(port: u16, path: &str) -> Vec<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    c.write_all(path.as_bytes()).expect("send path");
    let mut wire = Vec::new();
    c.read_to_end(&mut wire).expect("read to the server's FIN");
    assert_eq!(wire.len() % SEGMENT_SIZE, 0, "whole 260-byte segments");
    let mut data = Vec::new();
    for frame in wire.chunks_exact(SEGMENT_SIZE) {
        let frame: &[u8; SEGMENT_SIZE] = frame.try_into().expect("260 bytes");
        match proto::parse(frame) {
            Ok(proto::Segment::Data(d)) => data.extend_from_slice(d),
            Ok(proto::Segment::EndOfFile) => return data,
            other => panic!("not a data segment: {other:?}"),
        }
    }
    panic!("no end-of-file segment after {} bytes", data.len());
}

fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn one_thread_serves_many_transfers_and_a_stalled_reader_blocks_nobody() {
    let dir = TempDir::new("many");
    let big = content(8 << 20);
    let small = content(300_000);
    std::fs::write(dir.0.join("big.bin"), &big).expect("write");
    std::fs::write(dir.0.join("small.bin"), &small).expect("write");
    let root = dir.0.to_str().expect("utf-8 temp dir");
    let s = Server::spawn(env!("CARGO_BIN_EXE_pollftserver"), &["0", "--root", root]);
    let port = s.port();
    // A client that asks for 8 MB and never reads: its segments fill the socket buffers.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stalled.write_all(b"big.bin").expect("send path");
    // Meanwhile twenty clients at once get their files whole.
    let got: Vec<Vec<u8>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..20)
            .map(|_| sc.spawn(|| fetch(port, "small.bin")))
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    assert!(
        got.iter().all(|g| *g == small),
        "every transfer complete and correct"
    );
    // The stalled client reads at last and gets all of it.
    stalled.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut wire = Vec::new();
    stalled.read_to_end(&mut wire).expect("read");
    assert_eq!(
        wire.len(),
        big.len().div_ceil(256) * SEGMENT_SIZE + SEGMENT_SIZE
    );
    #[cfg(target_os = "linux")]
    {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", s.proc.pid())).map(|d| d.count());
        assert_eq!(tasks.ok(), Some(1), "one thread");
    }
}

#[test]
fn a_path_outside_the_root_gets_an_error_segment() {
    let dir = TempDir::new("refuse");
    let root = dir.0.to_str().expect("utf-8 temp dir");
    let s = Server::spawn(env!("CARGO_BIN_EXE_pollftserver"), &["0", "--root", root]);
    let mut c = TcpStream::connect(("127.0.0.1", s.port())).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    c.write_all(b"../etc/passwd").expect("send");
    let mut wire = Vec::new();
    c.read_to_end(&mut wire).expect("read");
    let frame: &[u8; SEGMENT_SIZE] = wire.as_slice().try_into().expect("one segment");
    let seg = proto::parse(frame).expect("segment");
    assert!(
        seg.error_message().is_some_and(|m| m.contains("refused")),
        "{seg:?}"
    );
}
