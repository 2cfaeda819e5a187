//! The reliable transfer's server checks (`rftserver`, `docs/protocols/udp-rft.md`):
//! labcheck uploads with unplab's own sender (`udpcliserv::rft::sender::upload`), first
//! directly, then through its lossy [`relay`](super::relay) dropping, reordering and
//! doubling datagrams both ways; the file must arrive identical every time. Then what
//! a careful server must survive, spoken packet by packet: a `..` path, a stranger's
//! packets, a second client, a client that goes silent.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use udpcliserv::rft::proto::{Kind, Packet};

use super::dgram::Dgram;
use super::ftfiles::content;
use super::relay::{Impair, Relay};
use super::report::{Failure, Tag, shown};
use super::session::{Done, Session, pass};
use super::udpft::{explain, target, written};

/// The sizes sent directly.
const SIZES: [(&str, usize); 5] = [
    ("size-0", 0),
    ("size-1", 1),
    ("size-1024", 1024),
    ("size-1025", 1025),
    ("size-300k", 300 * 1024 + 7),
];

/// The impaired runs: each 100 KiB through the relay.
pub const IMPAIRED: [(&str, Impair); 4] = [
    (
        "loss",
        Impair {
            loss: 0.1,
            reorder: 0.0,
            duplicate: 0.0,
        },
    ),
    (
        "reorder",
        Impair {
            loss: 0.0,
            reorder: 0.1,
            duplicate: 0.0,
        },
    ),
    (
        "duplicate",
        Impair {
            loss: 0.0,
            reorder: 0.0,
            duplicate: 0.1,
        },
    ),
    (
        "all",
        Impair {
            loss: 0.1,
            reorder: 0.1,
            duplicate: 0.1,
        },
    ),
];

/// How long an upload may take before the step gives up on it.
const UPLOAD_LIMIT: Duration = Duration::from_secs(30);

/// Uploads `data` to `name` with unplab's sender, through a relay when `imp` is given.
fn upload(
    s: &mut Session<'_>,
    name: &str,
    data: &[u8],
    imp: Option<Impair>,
) -> Result<String, Failure> {
    let sv = s.server()?;
    let origin = s.dir.join(format!("orig-{name}"));
    std::fs::write(&origin, data).map_err(|e| {
        Failure::new(
            "the file to upload",
            e.to_string(),
            "labcheck could not write it",
        )
    })?;
    let (file, path) = target(s, &format!("copy-{name}"));
    let relay = match imp {
        Some(imp) => Some(Relay::start(0, sv.addr, imp, 15).map_err(|e| {
            Failure::new(
                "labcheck's relay",
                e.to_string(),
                "labcheck could not bind it",
            )
        })?),
        None => None,
    };
    let to = relay.as_ref().map_or(sv.addr, Relay::addr);
    s.say(format!(
        "A: rft upload of {} bytes to {:?} via {to} ({})",
        data.len(),
        String::from_utf8_lossy(&path),
        imp.unwrap_or_default().describe()
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(udpcliserv::rft::sender::upload(to, &origin, &path, 64));
    });
    let sent = rx.recv_timeout(UPLOAD_LIMIT.max(s.t));
    let tally = relay.map(|r| r.stop());
    if let Some((up, down)) = tally {
        s.say(format!(
            "relay toward the server: {up}; toward the client: {down}"
        ));
    }
    let sent = match sent {
        Ok(Ok(sent)) => sent,
        Ok(Err(e)) => {
            return Err(Failure::new(
                "every packet acknowledged, FIN too",
                format!("the upload failed: {e}"),
                "answer every packet of the client with an ACK of the next sequence number expected (cumulative), echoing its timestamp; ACK duplicates and old packets again: the sender retransmits until it hears an ACK",
            ));
        }
        Err(_) => {
            return Err(Failure::new(
                "the upload ends",
                format!("not done after {} s", UPLOAD_LIMIT.as_secs()),
                "the sender advances only on ACKs: is every DATA and the FIN answered?",
            ));
        }
    };
    written(&file, data, s.t).map_err(|got| {
        let mut f = explain(&got, data, file.exists());
        f.why = "write DATA in sequence order only: keep early packets aside until the gap before them is filled, and drop a packet already written (a duplicate)".into();
        f
    })?;
    let c = sent.counts;
    Ok(format!(
        "{} bytes identical: {} packets sent, {} after a timeout, {} after 3 duplicate ACKs",
        data.len(),
        c.sent,
        c.timeouts,
        c.fast
    ))
}

/// A raw packet of labcheck's.
fn packet(kind: Kind, seq: u32, payload: &[u8]) -> Vec<u8> {
    Packet::new(kind, seq, 7, payload).emit()
}

/// Sends `pkt` from `d` and returns the server's answer, parsed, as text for a report.
fn answer(
    s: &Session<'_>,
    d: &Dgram,
    to: SocketAddr,
    pkt: &[u8],
    what: &str,
) -> Result<(Kind, u32, Vec<u8>), Failure> {
    d.send_to(pkt, to, what)?;
    let Some((got, _)) = d.recv(s.t) else {
        return Err(Failure::new(
            format!("an answer to {what}"),
            format!("nothing within {} s", s.t.as_secs()),
            "every packet of the protocol gets an answer: an ACK, or an ERR",
        ));
    };
    match Packet::parse(&got) {
        Ok(p) => Ok((p.kind, p.seq, p.payload.to_vec())),
        Err(e) => Err(Failure::new(
            "an ACK or an ERR (16-byte header)",
            format!("{}: {e}", shown(&got)),
            "answer with a packet of the protocol (docs/protocols/udp-rft.md)",
        )),
    }
}

/// Runs every rft server check.
pub fn check(s: &mut Session<'_>) {
    if let Err(e) = s.serve_dir() {
        s.set_broken(format!(
            "labcheck could not make the server's directory: {e}"
        ));
    }
    s.step(
        "rft.start",
        Tag::Handout,
        "the server binds its UDP port",
        |s| match s.server() {
            Ok(_) => pass(""),
            Err(f) => {
                s.set_broken("the server did not start");
                Err(f)
            }
        },
    );
    for (name, size) in SIZES {
        let title = format!("a file of {size} bytes arrives identical");
        s.step(&format!("rft.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, &content(size), None)?)
        });
    }
    for (name, imp) in IMPAIRED {
        let title = format!("100 KiB arrive identical with {}", imp.describe());
        s.step(&format!("rft.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, &content(100 * 1024 + 3), Some(imp))?)
        });
    }
    s.step(
        "rft.second-server",
        Tag::Handout,
        "a second server on the same port fails with a message",
        super::udpecho::second_server,
    );
    s.step("rft.traversal", Tag::Robustness, "a REQ for `../escaped.txt` gets an ERR and writes nothing outside", |s| {
        let sv = s.server()?;
        let a = Dgram::bind(s, 0, "A")?;
        let path: Vec<u8> = if s.starts_program() { b"../escaped.txt".to_vec() } else { format!("{}/files/../escaped.txt", s.dir.display()).into_bytes() };
        let (kind, _, why) = answer(s, &a, sv.addr, &packet(Kind::Req, 0, &path), "REQ ../escaped.txt")?;
        let _ = a.send_to(&packet(Kind::Data, 1, b"escaped\n"), sv.addr, "DATA 1");
        let _ = a.send_to(&packet(Kind::Fin, 2, &8u64.to_le_bytes()), sv.addr, "FIN 2");
        std::thread::sleep(Duration::from_millis(200));
        if kind != Kind::Err || s.dir.join("escaped.txt").exists() {
            return Err(Failure::new("ERR, and nothing written outside the server's directory", format!("{kind:?}; escaped.txt {}", if s.dir.join("escaped.txt").exists() { "created" } else { "not created" }), "refuse a path with a `..` component (and absolute paths outside the root) with an ERR"));
        }
        pass(format!("ERR \"{}\"", unp::printable(&why)))
    });
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
        |s| {
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
        },
    );
    s.step(
        "rft.idle",
        Tag::Robustness,
        "a client that goes silent: what the server does (with --idle S: it must serve the next)",
        idle,
    );
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
