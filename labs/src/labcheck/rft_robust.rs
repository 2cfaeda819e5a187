//! The reliable transfer server's robustness checks, spoken packet by packet: a `..`
//! path and an absolute one (nothing written outside the server's directory), a
//! stranger's packets, a second client, a client that goes silent.

use std::path::Path;
use std::time::{Duration, Instant};

use udpcliserv::rft::proto::{Kind, Packet};

use super::dgram::Dgram;
use super::report::{Failure, Tag};
use super::rft::{answer, packet};
use super::session::{Done, Session, pass, skip};
use super::udpft::{explain, target, written};

/// Runs the robustness checks.
pub fn check(s: &mut Session<'_>) {
    s.step(
        "rft.traversal",
        Tag::Robustness,
        "a REQ for `../escaped.txt` gets an ERR and writes nothing outside",
        |s| {
            let path = match s.starts_program() {
                true => b"../escaped.txt".to_vec(),
                false => format!("{}/files/../escaped.txt", s.dir.display()).into_bytes(),
            };
            let outside = s.dir.join("escaped.txt");
            escape(s, &path, &outside, "refuse a path with a `..` component with an ERR: it leads out of the server's directory (--root)")
        },
    );
    s.step(
        "rft.absolute",
        Tag::Robustness,
        "a REQ for an absolute path outside the server's directory gets an ERR and writes nothing",
        |s| {
            if !s.starts_program() {
                return skip("needs a server labcheck started (with --addr its directory is not known)");
            }
            let outside = std::path::absolute(s.dir.join("absolute.txt")).unwrap_or_default();
            let path = outside.to_string_lossy().as_bytes().to_vec();
            escape(s, &path, &outside, "an absolute path names a file anywhere: refuse it with an ERR unless it lies below the server's directory (--root). Beware: in Rust root.join(\"/etc/x\") is \"/etc/x\", and in C open() takes it as it is")
        },
    );
    s.step("rft.stranger", Tag::Robustness, "a stranger's packets in the middle of an upload are not written", |s| {
        let sv = s.server()?;
        let (a, x) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "X")?);
        let (file, path) = target(s, "copy-stranger");
        answer(s, &a, sv.addr, &packet(Kind::Req, 0, &path), "REQ")?;
        answer(s, &a, sv.addr, &packet(Kind::Data, 1, b"first\n"), "DATA 1")?;
        x.send_to(b"================END", sv.addr, "the course's END, from another port")?;
        x.send_to(&packet(Kind::Data, 2, b"STRANGER\n"), sv.addr, "a DATA 2 from another port")?;
        std::thread::sleep(Duration::from_millis(50));
        answer(s, &a, sv.addr, &packet(Kind::Data, 2, b"second\n"), "DATA 2")?;
        answer(s, &a, sv.addr, &packet(Kind::Fin, 3, &13u64.to_le_bytes()), "FIN 3 (13 bytes)")?;
        written(&file, b"first\nsecond\n", s.t).map_err(|got| {
            let mut f = explain(&got, b"first\nsecond\n", file.exists());
            f.why = "an upload belongs to the address its REQ came from: take DATA only from that address (anyone can send to the port, UNP 8.8)".into();
            f
        })?;
        pass("")
    });
    s.step(
        "rft.busy",
        Tag::Robustness,
        "a second client's REQ while an upload runs: ERR busy (or served), the first goes on",
        busy,
    );
    s.step(
        "rft.idle",
        Tag::Robustness,
        "a client that goes silent: what the server does (with --idle S: it must serve the next)",
        idle,
    );
}

/// A REQ for `path`, then DATA and FIN: an ERR must come, and `outside` must not appear.
fn escape(s: &mut Session<'_>, path: &[u8], outside: &Path, why: &str) -> Result<Done, Failure> {
    let sv = s.server()?;
    let a = Dgram::bind(s, 0, "A")?;
    let shown = String::from_utf8_lossy(path).into_owned();
    let (kind, _, said) = answer(
        s,
        &a,
        sv.addr,
        &packet(Kind::Req, 0, path),
        &format!("REQ {shown}"),
    )?;
    let _ = a.send_to(&packet(Kind::Data, 1, b"escaped\n"), sv.addr, "DATA 1");
    let _ = a.send_to(&packet(Kind::Fin, 2, &8u64.to_le_bytes()), sv.addr, "FIN 2");
    std::thread::sleep(Duration::from_millis(200));
    let made = outside.exists();
    if kind != Kind::Err || made {
        let file = if made { "created" } else { "not created" };
        return Err(Failure::new(
            "ERR, and nothing written outside the server's directory",
            format!("{kind:?}; {} {file}", outside.display()),
            why,
        ));
    }
    pass(format!("ERR \"{}\"", unp::printable(&said)))
}

/// A second client's REQ in the middle of an upload.
fn busy(s: &mut Session<'_>) -> Result<Done, Failure> {
    let sv = s.server()?;
    let (a, b) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "B")?);
    let (file, path) = target(s, "copy-a");
    let (_, bpath) = target(s, "copy-b");
    answer(s, &a, sv.addr, &packet(Kind::Req, 0, &path), "REQ")?;
    let (kind, _, why) = answer(s, &b, sv.addr, &packet(Kind::Req, 0, &bpath), "B's REQ")?;
    answer(
        s,
        &a,
        sv.addr,
        &packet(Kind::Data, 1, b"A's file\n"),
        "DATA 1",
    )?;
    answer(
        s,
        &a,
        sv.addr,
        &packet(Kind::Fin, 2, &9u64.to_le_bytes()),
        "FIN 2",
    )?;
    written(&file, b"A's file\n", s.t)
        .map_err(|got| explain(&got, b"A's file\n", file.exists()))?;
    pass(match kind {
        Kind::Err => format!("B got ERR \"{}\"", unp::printable(&why)),
        k => format!("B got {k:?}: served at once"),
    })
}

/// A sends REQ and one DATA, then nothing; B sends REQ every 500 ms until answered ACK.
fn idle(s: &mut Session<'_>) -> Result<Done, Failure> {
    let sv = s.server()?;
    let (a, b) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "B")?);
    let (_, path) = target(s, "copy-silent");
    answer(s, &a, sv.addr, &packet(Kind::Req, 0, &path), "REQ")?;
    answer(
        s,
        &a,
        sv.addr,
        &packet(Kind::Data, 1, b"then silence\n"),
        "DATA 1, then nothing",
    )?;
    let (_, bpath) = target(s, "copy-next");
    let req = packet(Kind::Req, 0, &bpath);
    let started = Instant::now();
    let deadline = started + s.opts.idle.unwrap_or_default() + s.t;
    b.note("-> B's REQ every 500 ms until an ACK");
    while Instant::now() < deadline {
        b.send_quiet(&req, sv.addr)?;
        let asked = Instant::now();
        let got = b.recv_quiet(Duration::from_millis(500));
        std::thread::sleep(Duration::from_millis(500).saturating_sub(asked.elapsed()));
        if let Some((got, _)) = got
            && Packet::parse(&got).is_ok_and(|p| p.kind == Kind::Ack)
        {
            return pass(format!(
                "it abandoned the silent upload and served the next client after {:.1} s",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    match s.opts.idle {
        Some(idle) => Err(Failure::new(
            format!(
                "B served within {} s (--idle {} s)",
                (idle + s.t).as_secs(),
                idle.as_secs()
            ),
            "B is still refused or unanswered",
            "abandon an upload whose client has been silent for the idle time, then take the next REQ: count the time from that client's last packet (a timeout on the socket, SO_RCVTIMEO, starts again with every packet, anyone's — here B's REQ every 500 ms)",
        )),
        None => pass(format!(
            "after {} s it still keeps the silent upload (tell labcheck the server's idle time with --idle S)",
            s.t.as_secs()
        )),
    }
}
