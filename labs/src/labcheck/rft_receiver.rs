//! labcheck's receiver for the reliable transfer's client checks: it plays rftserver
//! (cumulative ACKs echoing timestamps, early packets kept aside, duplicates dropped),
//! counts what came again, and says which packet the upload is stuck at.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use udpcliserv::rft::proto::{Kind, Packet};

use super::dgram::Dgram;
use super::proc::{Program, describe_status};
use super::report::{Failure, shown};
use super::session::Session;

/// What labcheck's receiver got.
#[derive(Default)]
pub struct Received {
    /// The file's bytes, in order.
    pub data: Vec<u8>,
    /// Packets that came from the client.
    pub packets: u64,
    /// Packets that came again (the same kind and number as one before).
    pub repeats: u64,
    /// The shortest time from a packet's first copy to its next one, by the client's
    /// own timestamps (through a relay that delays, arrival times bunch up).
    pub soonest_repeat: Option<Duration>,
}

impl Received {
    /// Counts a packet; `first` holds the timestamp of each packet's first copy.
    fn came(&mut self, first: &mut HashMap<(u8, u32), u64>, pkt: &Packet<'_>) {
        self.packets += 1;
        let Some(&stamp) = first.get(&(pkt.kind as u8, pkt.seq)) else {
            first.insert((pkt.kind as u8, pkt.seq), pkt.stamp);
            return;
        };
        self.repeats += 1;
        let gap = Duration::from_micros(pkt.stamp.saturating_sub(stamp));
        self.soonest_repeat = Some(self.soonest_repeat.map_or(gap, |g| g.min(gap)));
    }
}

/// What labcheck's receiver expects of one upload.
pub struct Expect<'a> {
    /// The path the REQ must carry.
    pub remote: &'a str,
    /// The FIN's sequence number (the file's DATA packets + 1).
    pub fin: u32,
    /// The relay drops datagrams on the way.
    pub lossy: bool,
}

/// Receives one upload on `sv`: answers every packet, ends at a FIN that completes it
/// (then answers repeated FINs until the client ends).
pub fn receive(
    s: &Session<'_>,
    prog: &mut Program,
    sv: &Dgram,
    want: &Expect<'_>,
) -> Result<Received, Failure> {
    let (mut r, mut next, mut early) = (Received::default(), 0u32, BTreeMap::<u32, Vec<u8>>::new());
    let mut first = HashMap::new();
    let (mut client, mut fin_ahead): (Option<SocketAddr>, bool) = (None, false);
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
                    "<- {} in {}, then nothing for {} s",
                    crate::plural(r.data.len(), "byte"),
                    crate::plural(r.packets, "packet"),
                    limit.as_secs()
                ));
                let after = early.len() + usize::from(fin_ahead);
                return Err(stuck(prog, want, next, after));
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
        r.came(&mut first, &pkt);
        match pkt.kind {
            Kind::Req if next == 0 => {
                sv.note(format!("<- REQ {}", shown(pkt.payload)));
                if pkt.payload != want.remote.as_bytes() {
                    return Err(Failure::new(
                        format!("REQ with the path {:?}", want.remote),
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
                early.insert(pkt.seq, pkt.payload.to_vec());
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
                        "<- FIN after {} in {}",
                        crate::plural(r.data.len(), "byte"),
                        crate::plural(r.packets, "packet")
                    ));
                }
                (done, next) = (true, next + 1);
            }
            Kind::Fin if pkt.seq > next && next > 0 => fin_ahead = true,
            _ => {}
        }
        let ack = Packet::new(Kind::Ack, next, pkt.stamp, b"").emit();
        sv.send_quiet(&ack, from)?;
    }
}

/// The upload stopped before its FIN: the packet numbered `next` is missing, `after`
/// packets behind it came. Through a lossy relay, with the client still waiting or
/// packets after it here, it was lost and never sent again.
fn stuck(prog: &mut Program, want: &Expect<'_>, next: u32, after: usize) -> Failure {
    let state = prog.exited().map_or("it is still running".into(), |st| {
        format!("it ended ({}); {}", describe_status(st), prog.said())
    });
    if !want.lossy || (after == 0 && prog.exited().is_some()) {
        return Failure::new(
            "the upload, ending with a FIN",
            format!("no FIN; {state}"),
            "send the REQ, DATA numbered from 1, then FIN with the file's length; resend what is not acknowledged when its timer runs out",
        );
    }
    let hole = match next {
        0 => "the REQ".to_string(),
        n if n == want.fin => format!("the FIN (seq {n})"),
        n => format!("DATA {n}"),
    };
    let (expected, got) = match after {
        0 if next == 0 => (
            "the REQ sent again".to_string(),
            format!("the REQ never arrived (the relay dropped it) and was not sent again; {state}"),
        ),
        0 => (
            format!("{hole}, or the packet before it, sent again"),
            format!(
                "nothing came after the packet before {hole}: the relay dropped {hole} or labcheck's ACK of what came before it, and the client sent nothing again; {state}"
            ),
        ),
        n => (
            format!("{hole} sent again"),
            format!(
                "{hole} never arrived ({} after it did) and was not sent again; {state}",
                crate::plural(n, "packet")
            ),
        ),
    };
    Failure::new(
        expected,
        got,
        "your client does not retransmit: datagrams are lost both ways (a packet, or the ACK that answers it) — keep a timer for the oldest unacknowledged packet and send it again when the timer runs out (rftclient: UNP 22.5's timeout from measured round trips)",
    )
}
