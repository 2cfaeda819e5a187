//! zoo: unplab's reliable UDP file server (docs/protocols/udp-rft.md) with one
//! deliberate mistake. `rft_server PORT BUG`: one upload at a time below its working
//! directory, a silent upload given up after 1 s.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

mod rft_wire;
use rft_wire::{packet, parse, ACK, DATA, ERR, FIN, REQ};

struct Upload {
    client: SocketAddr,
    file: File,
    next: u32,
    early: BTreeMap<u32, Vec<u8>>,
    bytes: u64,
    heard: Instant,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(1).and_then(|p| p.parse::<u16>().ok()).unwrap_or(49313);
    let bug = args.get(2).cloned().unwrap_or_default();
    let sock = match UdpSocket::bind(("0.0.0.0", port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rft_server: bind error: {e}");
            std::process::exit(1);
        }
    };
    let idle = Duration::from_secs(1);
    let (mut up, mut finished): (Option<Upload>, Option<(SocketAddr, u32)>) = (None, None);
    let mut buf = [0u8; 2048];
    loop {
        let left = up.as_ref().map(|u| idle.saturating_sub(u.heard.elapsed()));
        let _ = sock.set_read_timeout(left.map(|l| l.max(Duration::from_millis(1))));
        let got = sock.recv_from(&mut buf);
        if up.as_ref().is_some_and(|u| u.heard.elapsed() >= idle) {
            up = None; // silent for the idle time: abandoned
        }
        let Ok((n, from)) = got else { continue };
        let Some((kind, seq, stamp, payload)) = parse(&buf[..n]) else { continue };
        let ours = up.as_ref().is_some_and(|u| u.client == from);
        let reply = match (kind, up.as_mut()) {
            (REQ, None) => match create(payload, &bug) {
                Some(file) => {
                    let heard = Instant::now();
                    let early = BTreeMap::new();
                    up = Some(Upload { client: from, file, next: 1, early, bytes: 0, heard });
                    packet(ACK, 1, stamp, b"")
                }
                None => packet(ERR, 0, stamp, b"refused: outside the server's directory"),
            },
            (REQ, Some(u)) if ours => {
                u.heard = Instant::now(); // its ACK was lost: the client is still there
                packet(ACK, u.next, stamp, b"")
            }
            (REQ, Some(_)) => packet(ERR, 0, stamp, b"busy: another upload is in progress"),
            (FIN, _) if !ours && finished == Some((from, seq.wrapping_add(1))) => {
                if bug == "forgets-fin" || bug == "no-fin-ack" {
                    continue; // the upload is over: a FIN sent again is ignored
                }
                packet(ACK, seq.wrapping_add(1), stamp, b"")
            }
            (DATA | FIN, Some(u)) if ours => {
                u.heard = Instant::now();
                match receive(u, kind, seq, payload, &bug) {
                    Some(done) => {
                        up = None;
                        finished = Some((from, done));
                        if bug == "no-fin-ack" {
                            continue; // the file is complete: nothing to say
                        }
                        packet(ACK, done, stamp, b"")
                    }
                    None => packet(ACK, u.next, stamp, b""),
                }
            }
            _ => continue,
        };
        let _ = sock.send_to(&reply, from);
    }
}

/// The file a REQ names, below the working directory: no `..`, nothing absolute.
fn create(path: &[u8], bug: &str) -> Option<File> {
    let path = std::path::Path::new(std::str::from_utf8(path).ok()?);
    let up = path.components().any(|c| c == std::path::Component::ParentDir);
    if (up && bug != "traversal") || (path.is_absolute() && bug != "absolute") {
        return None;
    }
    // "absolute": `..` refused, but Path::new(".").join("/x") is "/x"
    File::create(std::path::Path::new(".").join(path)).ok()
}

/// A DATA or FIN of the current upload; Some(the final ACK number) when it completes.
fn receive(u: &mut Upload, kind: u8, seq: u32, payload: &[u8], bug: &str) -> Option<u32> {
    if bug == "arrival-order" {
        // sequence numbers ignored: written as they come, each packet ACKed
        if kind == DATA {
            let _ = u.file.write_all(payload);
        }
        u.next = seq.wrapping_add(1);
        return (kind == FIN).then_some(u.next);
    }
    match kind {
        DATA if seq == u.next => {
            let _ = u.file.write_all(payload);
            u.bytes += payload.len() as u64;
            u.next += 1;
            while let Some(d) = u.early.remove(&u.next) {
                let _ = u.file.write_all(&d);
                u.bytes += d.len() as u64;
                u.next += 1;
            }
        }
        DATA if seq > u.next && seq - u.next < 1024 => {
            u.early.insert(seq, payload.to_vec());
        }
        DATA if bug == "dup-twice" => {
            let _ = u.file.write_all(payload); // a DATA already written, written again
        }
        FIN if seq == u.next && payload == u.bytes.to_le_bytes() => return Some(seq.wrapping_add(1)),
        _ => {}
    }
    None
}
