//! The reliable transfer's client checks (`rftclient IP ORIGIN COPY --port P`): labcheck
//! plays the server with a receiver of its own (cumulative ACKs echoing timestamps,
//! early packets kept aside, duplicates dropped), first directly, then behind its lossy
//! [`relay`](super::relay); the data must arrive identical and the client end with
//! status 0. Then a refusal and a server that is not there.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use udpcliserv::rft::proto::{Kind, Packet};

use super::dgram::Dgram;
use super::ftfiles::{content, first_difference};
use super::proc::{Program, describe_status};
use super::relay::{Impair, Relay};
use super::report::{Failure, Tag, shown};
use super::rft::IMPAIRED;
use super::session::{Session, pass};

/// What labcheck's receiver got.
#[derive(Default)]
struct Received {
    data: Vec<u8>,
    packets: u64,
    duplicates: u64,
}

/// Receives one upload of `remote` on `sv`: answers every packet, ends at a FIN that
/// completes it (then answers repeated FINs until the client ends).
fn receive(
    s: &Session<'_>,
    prog: &mut Program,
    sv: &Dgram,
    remote: &str,
) -> Result<Received, Failure> {
    let (mut r, mut next, mut early) = (Received::default(), 0u32, BTreeMap::<u32, Vec<u8>>::new());
    let mut client: Option<SocketAddr> = None;
    let mut last = Instant::now();
    let mut done = false;
    loop {
        let limit = if done {
            Duration::from_millis(300)
        } else {
            s.t
        };
        let Some((dg, from)) = sv.recv_quiet(Duration::from_millis(50)) else {
            if done && (last.elapsed() > limit || prog.exited().is_some()) {
                return Ok(r);
            }
            if last.elapsed() > limit
                || (prog.exited().is_some() && last.elapsed() > Duration::from_millis(300))
            {
                sv.note(format!(
                    "<- {} bytes in {} packets, then nothing for {} s",
                    r.data.len(),
                    r.packets,
                    limit.as_secs()
                ));
                let state = prog.exited().map_or("it is still running".into(), |st| {
                    format!("it ended ({}); {}", describe_status(st), prog.said())
                });
                return Err(Failure::new(
                    "the upload, ending with a FIN",
                    format!("no FIN; {state}"),
                    "send the REQ, DATA numbered from 1, then FIN with the file's length; resend what is not acknowledged when its timer runs out",
                ));
            }
            continue;
        };
        last = Instant::now();
        let pkt = match Packet::parse(&dg) {
            Ok(p) => p,
            Err(e) => {
                return Err(Failure::new(
                    "a packet of the protocol (16-byte header)",
                    format!("{}: {e}", shown(&dg)),
                    "every datagram starts with the header of docs/protocols/udp-rft.md",
                ));
            }
        };
        if client.is_some_and(|c| c != from) {
            continue;
        }
        r.packets += 1;
        match pkt.kind {
            Kind::Req if next == 0 => {
                sv.note(format!("<- REQ {}", shown(pkt.payload)));
                if pkt.payload != remote.as_bytes() {
                    return Err(Failure::new(
                        format!("REQ with the path {remote:?}"),
                        shown(pkt.payload),
                        "the REQ carries COPY_PATH's bytes, no terminator",
                    ));
                }
                (client, next) = (Some(from), 1);
            }
            Kind::Data if pkt.seq == next => {
                r.data.extend_from_slice(pkt.payload);
                next += 1;
                while let Some(d) = early.remove(&next) {
                    r.data.extend_from_slice(&d);
                    next += 1;
                }
            }
            Kind::Data if pkt.seq > next && next > 0 => {
                r.duplicates += u64::from(early.insert(pkt.seq, pkt.payload.to_vec()).is_some());
            }
            Kind::Fin if pkt.seq == next && next > 0 => {
                if pkt.fin_length() != Some(r.data.len() as u64) {
                    return Err(Failure::new(
                        format!("FIN with the length {}", r.data.len()),
                        format!("FIN with {:?}", pkt.fin_length()),
                        "FIN carries the file's length, 8 bytes little-endian",
                    ));
                }
                if !done {
                    sv.note(format!(
                        "<- FIN after {} bytes in {} packets",
                        r.data.len(),
                        r.packets
                    ));
                }
                (done, next) = (true, next + 1);
            }
            Kind::Fin if done => {}
            _ => r.duplicates += 1,
        }
        let ack = Packet::new(Kind::Ack, next, pkt.stamp, b"").emit();
        sv.send_quiet(&ack, from)?;
    }
}

/// One upload of `data`, directly or through a relay with `imp`.
fn upload(
    s: &mut Session<'_>,
    name: &str,
    data: &[u8],
    imp: Option<Impair>,
) -> Result<String, Failure> {
    let local = format!("orig-{name}");
    std::fs::write(s.dir.join(&local), data).map_err(|e| {
        Failure::new(
            "the file to upload",
            e.to_string(),
            "labcheck could not write it",
        )
    })?;
    let remote = format!("copy-{name}");
    let front = match s.opts.fixed_port {
        Some(p) => p,
        None => s.port()?,
    };
    let sv = Dgram::bind(s, if imp.is_some() { 0 } else { front }, "S")?;
    let relay = match imp {
        Some(imp) => Some(
            Relay::start(front, super::proc::loopback(sv.port()), imp, 15).map_err(|e| {
                Failure::new(
                    "labcheck's relay",
                    e.to_string(),
                    "labcheck could not bind it",
                )
            })?,
        ),
        None => None,
    };
    if let Some(imp) = imp {
        s.say(format!(
            "relay on port {front} to labcheck's server on {}: {}",
            sv.port(),
            imp.describe()
        ));
    }
    let argv = s.argv(&[
        ("{host}", "127.0.0.1"),
        ("{port}", &front.to_string()),
        ("{local}", &local),
        ("{remote}", &remote),
    ]);
    let mut prog = s.spawn(&argv)?;
    let got = receive(s, &mut prog, &sv, &remote);
    let tally = relay.map(Relay::stop).map(|(up, down)| {
        format!("; the relay toward the server: {up}; toward the client: {down}")
    });
    let tally = tally.unwrap_or_default();
    s.say(format!("upload ended{tally}"));
    let got = got?;
    if got.data != data {
        return Err(Failure::new(
            format!("the {} bytes of {local}", data.len()),
            first_difference(&got.data, data),
            "DATA n carries the file's bytes from (n-1)·1024: read() the file in order, 1024 bytes a packet",
        ));
    }
    match prog.wait_exit(s.t.max(Duration::from_secs(5))) {
        Some(st) if st.success() => Ok(format!(
            "{} bytes identical: {} packets came, {} of them again{tally}",
            data.len(),
            got.packets,
            got.duplicates
        )),
        Some(st) => Err(Failure::new(
            "exit status 0",
            describe_status(st),
            prog.said(),
        )),
        None => Err(Failure::new(
            "the client ends once its FIN is acknowledged",
            "still running",
            "the upload is done when the ACK of the FIN arrives",
        )),
    }
}

/// Runs every rft client check.
pub fn check(s: &mut Session<'_>) {
    for (name, size) in [
        ("size-0", 0),
        ("size-1", 1),
        ("size-1024", 1024),
        ("size-1025", 1025),
        ("size-300k", 300 * 1024 + 7),
    ] {
        let title = format!("a file of {size} bytes arrives identical, the client ends");
        s.step(&format!("rft-client.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, &content(size), None)?)
        });
    }
    for (name, imp) in IMPAIRED {
        let title = format!("100 KiB arrive identical with {}", imp.describe());
        s.step(&format!("rft-client.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, &content(100 * 1024 + 3), Some(imp))?)
        });
    }
    s.step(
        "rft-client.refused",
        Tag::Robustness,
        "an ERR to the REQ: the client ends with the message and a non-zero status",
        |s| {
            std::fs::write(s.dir.join("orig-refused"), b"data\n").map_err(|e| {
                Failure::new(
                    "the file to upload",
                    e.to_string(),
                    "labcheck could not write it",
                )
            })?;
            let port = s.port()?;
            let sv = Dgram::bind(s, port, "S")?;
            let argv = s.argv(&[
                ("{host}", "127.0.0.1"),
                ("{port}", &port.to_string()),
                ("{local}", "orig-refused"),
                ("{remote}", "copy-refused"),
            ]);
            let mut prog = s.spawn(&argv)?;
            let (req, from) = sv.recv_from_program(&mut prog, s.t, "a REQ")?;
            let stamp = Packet::parse(&req).map(|p| p.stamp).unwrap_or(0);
            sv.send_to(
                &Packet::new(Kind::Err, 0, stamp, b"refused: labcheck says no").emit(),
                from,
                "ERR refused: labcheck says no",
            )?;
            match prog.wait_exit(s.t) {
                Some(st) if !st.success() && prog.said().contains("labcheck says no") => {
                    pass(prog.said())
                }
                Some(st) => Err(Failure::new(
                    "a non-zero status and the server's message",
                    format!("{}; {}", describe_status(st), prog.said()),
                    "an ERR ends the upload: print its message and exit(1)",
                )),
                None => Err(Failure::new(
                    "the client ends",
                    "still running",
                    "an ERR ends the upload: print its message and exit(1)",
                )),
            }
        },
    );
    s.step("rft-client.no-server", Tag::Robustness, "nothing at the server's port: the client ends with a message", |s| {
        std::fs::write(s.dir.join("orig-alone"), b"data\n").map_err(|e| Failure::new("the file to upload", e.to_string(), "labcheck could not write it"))?;
        let port = s.port()?;
        let argv = s.argv(&[("{host}", "127.0.0.1"), ("{port}", &port.to_string()), ("{local}", "orig-alone"), ("{remote}", "copy-alone")]);
        let mut prog = s.spawn(&argv)?;
        match prog.wait_exit(Duration::from_secs(30)) {
            Some(st) if !st.success() => pass(prog.said()),
            Some(st) => Err(Failure::new("a non-zero status and a message", describe_status(st), "the upload failed: say so and exit(1)")),
            None => Err(Failure::new("the client gives up with a message", "still running after 30 s", "retransmit a limited number of times (rftclient: 12), or connect() the socket and take ECONNREFUSED (UNP 8.11)")),
        }
    });
}
