//! The reliable transfer's server checks (`rftserver`, `docs/protocols/udp-rft.md`):
//! labcheck uploads with unplab's own sender (`udpcliserv::rft::sender::upload`), first
//! directly, then through its lossy [`relay`](super::relay) dropping, reordering and
//! doubling datagrams both ways; the file must arrive identical every time, and a copy
//! that does not is told in DATA numbers (written twice, in arrival order, missing).
//! A FIN sent again after its ACK was lost must be ACKed again. What a careful server
//! must also survive is in [`super::rft_robust`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use udpcliserv::rft::proto::{Kind, MAX_DATA, Packet};

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

/// The size of an upload through the relay: 101 DATA packets, the last of 3 bytes.
pub const IMPAIRED_SIZE: usize = 100 * 1024 + 3;

/// The impaired runs, each of [`IMPAIRED_SIZE`] through the relay.
pub const IMPAIRED: [(&str, Impair); 4] = [
    (
        "loss",
        Impair {
            loss: 0.1,
            ..Impair::NONE
        },
    ),
    (
        "reorder",
        Impair {
            reorder: 0.1,
            ..Impair::NONE
        },
    ),
    (
        "duplicate",
        Impair {
            duplicate: 0.1,
            ..Impair::NONE
        },
    ),
    (
        "all",
        Impair {
            loss: 0.1,
            reorder: 0.1,
            duplicate: 0.1,
            ..Impair::NONE
        },
    ),
];

/// One upload of `data` as `name`, directly or through the relay with the impairment.
pub type Upload = fn(&mut Session<'_>, &str, &[u8], Option<Impair>) -> Result<String, Failure>;

/// The transfers both sides are checked with: each size directly, then 100 KiB through
/// the relay with each impairment; the steps are `PREFIX.NAME`, their titles end with
/// `ends`.
pub fn transfers(s: &mut Session<'_>, prefix: &str, ends: &str, upload: Upload) {
    for (name, size) in SIZES {
        let title = format!(
            "a file of {} arrives identical{ends}",
            crate::plural(size, "byte")
        );
        s.step(&format!("{prefix}.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, &content(size), None)?)
        });
    }
    for (name, imp) in IMPAIRED {
        let title = format!("100 KiB arrive identical with {}{ends}", imp.describe());
        s.step(&format!("{prefix}.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, &content(IMPAIRED_SIZE), Some(imp))?)
        });
    }
}

/// Writes `data` as `orig-NAME` in the run's directory, the file an upload sends; returns
/// its path.
pub fn origin(s: &Session<'_>, name: &str, data: &[u8]) -> Result<PathBuf, Failure> {
    let path = s.dir.join(format!("orig-{name}"));
    std::fs::write(&path, data).map_err(|e| {
        Failure::new(
            "the file to upload",
            e.to_string(),
            "labcheck could not write it",
        )
    })?;
    Ok(path)
}

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
    let origin = origin(s, name, data)?;
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
        "A: rft upload of {} to {:?} via {to} ({})",
        crate::plural(data.len(), "byte"),
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
        Ok(Err(e)) => return Err(unfinished(&file, data, &e.to_string())),
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
        if file.exists() {
            f.why = misplaced(&pieces(&got, data), data.len().div_ceil(MAX_DATA)).unwrap_or_else(|| "write DATA in sequence order only: keep early packets aside until the gap before them is filled, and drop a packet already written (a duplicate)".into());
        }
        f
    })?;
    let c = sent.counts;
    Ok(format!(
        "{} identical: {} sent, {} after a timeout, {} after 3 duplicate ACKs",
        crate::plural(data.len(), "byte"),
        crate::plural(c.sent, "packet"),
        c.timeouts,
        c.fast
    ))
}

/// The sender gave up (`error`): a copy already whole means only the FIN's ACK was
/// missing.
fn unfinished(file: &std::path::Path, data: &[u8], error: &str) -> Failure {
    let fin = data.len().div_ceil(MAX_DATA) + 1;
    if std::fs::read(file).is_ok_and(|got| got == data) {
        return Failure::new(
            format!("ACK {} for the FIN (seq {fin})", fin + 1),
            format!(
                "the file arrived whole, but the FIN was never acknowledged: the sender resent it until it gave up ({error})"
            ),
            "ACK the FIN too: the client cannot know that the upload is complete until that ACK comes, and resends the FIN until then",
        );
    }
    Failure::new(
        "every packet acknowledged, FIN too",
        format!("the upload failed: {error}"),
        "answer every packet of the client with an ACK of the next sequence number expected (cumulative), echoing its timestamp; ACK duplicates and old packets again: the sender retransmits until it hears an ACK",
    )
}

/// The DATA numbers whose payloads `got` holds, in the order written, as far as they
/// can be told apart (`want`'s 1024-byte pieces differ from each other up to 251 of them).
pub fn pieces(got: &[u8], want: &[u8]) -> Vec<usize> {
    let chunks: Vec<&[u8]> = want.chunks(MAX_DATA).collect();
    let (mut order, mut at) = (Vec::new(), 0);
    while at < got.len() {
        let next = order.last().copied().unwrap_or(0); // index of DATA next+1
        let found = std::iter::once(next)
            .chain(0..chunks.len())
            .find(|&i| chunks.get(i).is_some_and(|c| got[at..].starts_with(c)));
        let Some(i) = found else { break };
        order.push(i + 1);
        at += chunks[i].len();
    }
    order
}

/// What the order of the DATA numbers written (`order`, of `n`) says about the server.
pub fn misplaced(order: &[usize], n: usize) -> Option<String> {
    let mut seen = vec![false; n + 2];
    let mut expect = 1;
    for (i, &k) in order.iter().enumerate() {
        if seen[k] {
            return Some(format!(
                "DATA {k} was written twice: a packet can come again (the network doubled it, or the client resent it after a lost ACK) — write DATA only when its number is the next expected, and drop an older one (ACK it again)"
            ));
        }
        if k != expect && order[i..].contains(&expect) {
            return Some(format!(
                "DATA {k} was written before DATA {expect}, in the order they arrived: datagrams can be reordered — write DATA in sequence order only, keeping early packets aside until the gap before them is filled"
            ));
        }
        if k != expect {
            return Some(format!(
                "DATA {expect} is not in the file, yet the upload ended: your server acknowledged it without writing it — an ACK number says every packet below it arrived (a cumulative ACK), so ACK the next number expected, not the packet that came"
            ));
        }
        seen[k] = true;
        while seen[expect] {
            expect += 1;
        }
    }
    None
}

/// A raw packet of labcheck's.
pub fn packet(kind: Kind, seq: u32, payload: &[u8]) -> Vec<u8> {
    Packet::new(kind, seq, 7, payload).emit()
}

/// Sends `pkt` from `d` and returns the server's answer, parsed, as text for a report.
pub fn answer(
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
    transfers(s, "rft", "", upload);
    s.step(
        "rft.fin-again",
        Tag::Handout,
        "a FIN sent again after the upload completed (its ACK was lost) is ACKed again",
        fin_again,
    );
    s.step(
        "rft.second-server",
        Tag::Handout,
        "a second server on the same port fails with a message",
        super::udpecho::second_server,
    );
    super::rft_robust::check(s);
}

/// A whole upload of 5 bytes, then its FIN once more: the same ACK must come.
fn fin_again(s: &mut Session<'_>) -> Result<Done, Failure> {
    let sv = s.server()?;
    let a = Dgram::bind(s, 0, "A")?;
    let (file, path) = target(s, "copy-fin-again");
    answer(s, &a, sv.addr, &packet(Kind::Req, 0, &path), "REQ")?;
    answer(s, &a, sv.addr, &packet(Kind::Data, 1, b"done\n"), "DATA 1")?;
    let fin = packet(Kind::Fin, 2, &5u64.to_le_bytes());
    let (kind, seq, _) = answer(s, &a, sv.addr, &fin, "FIN 2 (5 bytes)")?;
    if (kind, seq) != (Kind::Ack, 3) {
        return Err(Failure::new(
            "ACK 3 (the upload is complete)",
            format!("{kind:?} {seq}"),
            "a FIN numbered as expected, with the right length, completes the file: ACK it with its number + 1",
        ));
    }
    written(&file, b"done\n", s.t).map_err(|got| explain(&got, b"done\n", file.exists()))?;
    a.send_to(
        &fin,
        sv.addr,
        "the same FIN 2 again, as if its ACK had been lost",
    )?;
    let got = match a.recv(s.t) {
        None => format!("nothing within {} s", s.t.as_secs()),
        Some((d, _)) => match Packet::parse(&d) {
            Ok(p) if (p.kind, p.seq) == (Kind::Ack, 3) => return pass("ACK 3 again"),
            Ok(p) => p.to_string(),
            Err(e) => format!("{}: {e}", shown(&d)),
        },
    };
    Err(Failure::new(
        "ACK 3 again (the ACK of the FIN)",
        got,
        "an ACK can be lost like any datagram: the client then sends its FIN again and waits — remember the last finished client and the number its FIN was ACKed with, and answer a repeated FIN with that ACK again (otherwise the client resends until it gives up, and reports a failed upload that in fact arrived)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_told_in_data_numbers() {
        let want = content(5 * MAX_DATA + 3); // DATA 1..=6, the last of 3 bytes
        let piece = |k: usize| &want[(k - 1) * MAX_DATA..(k * MAX_DATA).min(want.len())];
        let copy = |order: &[usize]| {
            order
                .iter()
                .flat_map(|&k| piece(k).to_vec())
                .collect::<Vec<u8>>()
        };
        let told = |order: &[usize]| misplaced(&pieces(&copy(order), &want), 6);
        assert_eq!(pieces(&want, &want), [1, 2, 3, 4, 5, 6]);
        assert_eq!(told(&[1, 2, 3, 4, 5, 6]), None);
        let twice = told(&[1, 2, 2, 3, 4, 5, 6]).unwrap_or_default();
        assert!(twice.starts_with("DATA 2 was written twice"), "{twice}");
        let swapped = told(&[1, 3, 2, 4, 5, 6]).unwrap_or_default();
        assert!(
            swapped.starts_with("DATA 3 was written before DATA 2, in the order they arrived"),
            "{swapped}"
        );
        let short_last = told(&[1, 2, 3, 4, 6, 5]).unwrap_or_default();
        assert!(
            short_last.starts_with("DATA 6 was written before DATA 5"),
            "{short_last}"
        );
        let missing = told(&[1, 2, 4, 5, 6]).unwrap_or_default();
        assert!(
            missing.starts_with("DATA 3 is not in the file, yet the upload ended"),
            "{missing}"
        );
    }
}
