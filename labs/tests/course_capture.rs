//! unplab's lottery against the C programs, as the course's own capture recorded them
//! (`shared/captures/lottery-macos-lo0.pcap`, LotteryServer/LotteryClient on a Mac):
//! the C client's commands are exactly the bytes unplab's client sends for the same
//! keys, and unplab's server answers them with replies of exactly the C server's forms.
//!
//! The capture sits beside the project (`../shared/captures/`) here and in CI, but it is
//! not part of a user's clone: without it the test skips, saying so
//! ([`testkit::course_capture`]; CI sets UNPLAB_REQUIRE_SHARED=1, which makes it fail).
//! The same ground is covered from generated data by the lottery crate's tests (byte
//! for byte, as the C client speaks) and by labtrace's built captures.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;

use labs::capture::Capture;
use labs::packet::tcp_segment;
use lottery::draw::Seeding;
use lottery::proto::{Command, Reply};
use unp::serve::Concurrency;

const SERVER_PORT: u16 = 12345;

/// The payloads of the capture's data segments, in order: (from the client?, bytes).
fn payloads(path: &Path) -> Vec<(bool, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("open the course capture");
    let mut out = Vec::new();
    Capture::new(file).expect("a capture").for_each(|p| {
        if let Ok(seg) = tcp_segment(p.linktype, p.data) {
            if !seg.payload.is_empty() {
                out.push((seg.dst.port() == SERVER_PORT, seg.payload.to_vec()));
            }
        }
    });
    out
}

/// The shape of a reply, without its numbers: which form, and which slots are drawn.
fn form(reply: &Reply) -> String {
    match reply {
        Reply::NewNumber(_) => "new number".into(),
        Reply::Full => "full".into(),
        Reply::Numbers(slots) => {
            let drawn: Vec<&str> = slots
                .iter()
                .map(|&n| if n == 0 { "0" } else { "n" })
                .collect();
            format!("numbers {}", drawn.join(" "))
        }
        Reply::Unknown(c) => format!("unknown {c}"),
    }
}

#[test]
fn unplab_speaks_the_course_capture_byte_for_byte() {
    let Some(path) = testkit::course_capture("lottery-macos-lo0.pcap") else {
        return;
    };
    let exchange = payloads(&path);
    let commands: Vec<&Vec<u8>> = exchange
        .iter()
        .filter(|(c, _)| *c)
        .map(|(_, b)| b)
        .collect();
    let replies: Vec<&Vec<u8>> = exchange
        .iter()
        .filter(|(c, _)| !*c)
        .map(|(_, b)| b)
        .collect();
    // The keys the student typed, as the replies show: GEN GEN LIST GEN LIST GEN GEN
    // GEN GEN(Full) LIST END. The C client's bytes are exactly what unplab's client
    // sends for the same keys.
    let keys = ["0", "0", "1", "0", "1", "0", "0", "0", "0", "1", "2"];
    let ours: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| {
            Command::parse_input(k)
                .expect("a command key")
                .encode()
                .to_vec()
        })
        .collect();
    assert_eq!(commands, ours.iter().collect::<Vec<_>>());
    assert_eq!(replies.len(), keys.len() - 1, "END has no reply");
    let sent = commands;

    // Every C reply is one of the protocol's forms...
    let c_forms: Vec<String> = replies
        .iter()
        .map(|r| form(&Reply::parse(r).unwrap_or_else(|| panic!("not a reply: {r:?}"))))
        .collect();

    // ...and unplab's server, given the same commands, answers with the same forms.
    let servaddr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (listening, bound) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let how = Concurrency::ThreadPerClient;
        lottery::server::serve(servaddr, how, Seeding::Fixed(2017), |l| {
            let _ = listening.send(unp::sock::local_addr(l));
            Ok(())
        })
    });
    let addr = bound.recv().unwrap().unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut our_forms = Vec::new();
    for cmd in &sent {
        conn.write_all(cmd).unwrap();
        if **cmd == Command::End.encode() {
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).unwrap();
            assert!(rest.is_empty(), "END gets no reply, only the close");
            break;
        }
        let mut buf = [0u8; 255];
        let n = conn.read(&mut buf).unwrap();
        our_forms.push(form(&Reply::parse(&buf[..n]).expect("a reply")));
    }
    assert_eq!(our_forms, c_forms);
}
