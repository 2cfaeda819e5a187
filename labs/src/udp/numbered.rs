//! The two protocols whose datagrams carry numbers, where a capture shows what the
//! network did: the course's sequence experiment (gaps, datagrams overtaken, copies)
//! and unplab's reliable transfer (retransmissions, the network's copies, duplicate
//! ACKs, whether the FIN was acknowledged).

use super::explain::Mark;
use super::lab::{Ending, Seen, Told};
use super::proto::describe;
use crate::decode::{Proto, Side};
use std::collections::{HashMap, HashSet};
use udpcliserv::rft::proto::{HEADER, Kind, Packet};
use udpcliserv::seq;

/// The most ranges of numbers that never arrived a summary lists (the server's own line
/// lists them all: `1-3, 7, 9-10`), then `…`.
pub(super) const RANGES: usize = 16;

/// The sequence experiment, counted by its server's own [`seq::Tally`] (`Error!` when a
/// number is not the previous one plus one; never arrived: below the highest, never
/// seen) and, datagram by datagram, what the capture shows: gaps, late arrivals, copies.
#[derive(Debug, Default)]
pub struct Sequence {
    tally: seq::Tally,
    expected: i32,
    highest: Option<i32>,
    late: u64,
    copies: u64,
}

impl Sequence {
    pub(super) fn datagram(&mut self, d: &Seen<'_>) -> Told {
        let text = describe(Proto::UdpSeq, d.side, d.payload);
        // udpseqclient's shape: 1024 bytes, a number, zeros (the server sends nothing).
        let unlike = d.side == Side::Server
            || d.len != seq::DGLEN
            || d.payload.iter().skip(4).any(|&b| b != 0);
        let number = (d.side == Side::Client)
            .then(|| seq::decode(d.payload))
            .flatten();
        let Some(n) = number else {
            return Told {
                text,
                unlike,
                ..Told::default()
            };
        };
        // A datagram of another protocol: counted as the server counts it, and no more.
        let marks = match unlike {
            true => Vec::new(),
            false => self.gaps(n),
        };
        // The server's Error!: not the previous number plus one.
        let text = match self.tally.record(n, self.expected) {
            true => text,
            false => format!("{text}, Error!"),
        };
        self.expected = n.wrapping_add(1); // the server resumes after whatever came
        Told {
            text,
            marks,
            echo_of: None,
            unlike,
        }
    }

    /// What number `n` shows that the server does not say: a gap before it, a copy, a
    /// datagram overtaken.
    fn gaps(&mut self, n: i32) -> Vec<Mark> {
        let wide = i64::from(n);
        let highest = self.highest.map_or(-1, i64::from);
        self.highest = Some(self.highest.map_or(n, |h| h.max(n)));
        let mark = if self.tally.has(n) {
            self.copies += 1;
            Mark::Duplicate {
                seq: wide,
                of: None,
            }
        } else if wide > highest + 1 {
            Mark::Missing {
                from: highest + 1,
                to: wide - 1,
                after: highest,
            }
        } else if wide < highest {
            self.late += 1;
            Mark::Late {
                seq: wide,
                after: highest,
            }
        } else {
            return Vec::new();
        };
        vec![mark]
    }

    pub(super) fn finish(&mut self) -> Ending {
        let mut lines = vec![format!(
            "udpseqserver's count, over this capture's datagrams: {}",
            self.tally.summary_listing(RANGES)
        )];
        if self.late + self.copies > 0 {
            lines.push(format!(
                "{} overtaken on the way (reordered), {} made by the network",
                self.late,
                crate::plural(self.copies, "copy")
            ));
        }
        lines.push("a capture shows what passed where it was taken: on the sender's side every datagram sent, on the receiver's what arrived".into());
        Ending {
            marks: Vec::new(),
            lines,
        }
    }
}

/// The most packets whose first frame is remembered (to tell retransmissions).
const REMEMBERED: usize = 1 << 18;

/// unplab's reliable transfer: who sent what again, and why.
#[derive(Debug, Default)]
pub struct Reliable {
    /// (kind, seq) → (first frame, its timestamp).
    first: HashMap<(u8, u32), (u64, u64)>,
    /// A client packet's timestamp → its last frame (what an ACK echoes names the packet).
    stamps: HashMap<u64, u64>,
    /// The frames that were the network's copies (an ACK of one repeats the last).
    copy_frames: HashSet<u64>,
    /// The last ACK: (its frame, next expected, echoed timestamp).
    last_ack: Option<(u64, u32, u64)>,
    dup_count: u32,
    path: Option<String>,
    data: u64,
    bytes: u64,
    retransmissions: u64,
    copies: u64,
    dup_acks: u64,
    fin: Option<(u32, u64)>,
    fin_acked: bool,
    errors: Vec<String>,
}

impl Reliable {
    pub(super) fn datagram(&mut self, d: &Seen<'_>) -> Told {
        // A packet cut by the snap length: its header read with the length it says.
        let mut patched: Vec<u8>;
        let mut bytes = d.payload;
        if d.payload.len() < d.len && d.payload.len() >= HEADER {
            patched = d.payload.to_vec();
            let left = u16::try_from(d.payload.len() - HEADER).unwrap_or(0);
            patched[2..4].copy_from_slice(&left.to_le_bytes());
            bytes = &patched;
        }
        let Ok(p) = Packet::parse(bytes) else {
            return Told {
                text: describe(Proto::Rft, d.side, d.payload),
                unlike: true,
                ..Told::default()
            };
        };
        let mut marks = Vec::new();
        match (d.side, p.kind) {
            (Side::Client, kind) => {
                if self.stamps.len() < REMEMBERED || self.stamps.contains_key(&p.stamp) {
                    self.stamps.insert(p.stamp, d.frame);
                }
                let key = (kind as u8, p.seq);
                match self.first.get(&key) {
                    Some(&(of, stamp)) if stamp == p.stamp => {
                        self.copies += 1;
                        if self.copy_frames.len() < REMEMBERED {
                            self.copy_frames.insert(d.frame);
                        }
                        marks.push(Mark::Duplicate {
                            seq: i64::from(p.seq),
                            of: Some(of),
                        });
                    }
                    Some(&(of, _)) => {
                        self.retransmissions += 1;
                        marks.push(Mark::Retransmission { seq: p.seq, of });
                    }
                    None => {
                        if self.first.len() < REMEMBERED {
                            self.first.insert(key, (d.frame, p.stamp));
                        }
                        self.first_time(&p, d.len);
                    }
                }
            }
            (Side::Server, Kind::Ack) => match self.last_ack {
                Some((of, seq, stamp)) if seq == p.seq && stamp == p.stamp => {
                    self.copies += 1;
                    self.dup_count += 1; // the client counts it as a duplicate all the same
                    marks.push(Mark::Duplicate {
                        seq: i64::from(p.seq),
                        of: Some(of),
                    });
                }
                last => {
                    if last.is_some_and(|(_, seq, _)| seq == p.seq) {
                        self.dup_count += 1;
                        self.dup_acks += 1;
                        let answers = self.stamps.get(&p.stamp).copied();
                        marks.push(Mark::DupAck {
                            seq: p.seq,
                            count: self.dup_count,
                            copy: answers.filter(|f| self.copy_frames.contains(f)),
                        });
                    } else {
                        self.dup_count = 0;
                    }
                    self.last_ack = Some((d.frame, p.seq, p.stamp));
                    if self
                        .fin
                        .is_some_and(|(fin, _)| p.seq == fin.wrapping_add(1))
                    {
                        self.fin_acked = true;
                    }
                }
            },
            (Side::Server, _) => {
                if self.errors.len() < 4 {
                    self.errors.push(unp::printable(p.payload));
                }
            }
        }
        let mut text = p.to_string();
        if d.payload.len() < d.len && p.kind == Kind::Data {
            text = format!("DATA seq={} ts={} len={}", p.seq, p.stamp, d.len - HEADER);
        }
        if let (Side::Server, Some(of)) = (d.side, self.stamps.get(&p.stamp)) {
            text.push_str(&format!(" (answers #{of})"));
        }
        Told {
            text,
            marks,
            ..Told::default()
        }
    }

    /// Counts a client packet seen for the first time.
    fn first_time(&mut self, p: &Packet<'_>, len: usize) {
        match p.kind {
            Kind::Req => self.path = Some(crate::decode::raw(p.payload)),
            Kind::Data => {
                self.data += 1;
                self.bytes += len.saturating_sub(HEADER) as u64;
            }
            Kind::Fin => self.fin = Some((p.seq, p.fin_length().unwrap_or(0))),
            _ => {}
        }
    }

    pub(super) fn finish(&mut self) -> Ending {
        let mut first = match &self.path {
            Some(path) => format!("upload to {path}: "),
            None => "no REQ in the capture: ".to_string(),
        };
        first.push_str(&format!(
            "{}, {}",
            crate::plural(self.data, "DATA packet"),
            crate::plural(self.bytes, "byte")
        ));
        if let Some((_, length)) = self.fin {
            first.push_str(&format!("; FIN says {}", crate::plural(length, "byte")));
        }
        let mut lines = vec![
            first,
            format!(
                "{}, {} made by the network, {}",
                crate::plural(self.retransmissions, "retransmission"),
                crate::plural(self.copies, "copy"),
                crate::plural(self.dup_acks, "duplicate ACK")
            ),
        ];
        lines.push(match (self.fin, self.fin_acked) {
            (Some(_), true) => "the FIN is acknowledged: the upload completed".into(),
            (Some(_), false) => {
                "no ACK of the FIN in the capture: the client sends it again until it gives up"
                    .into()
            }
            (None, _) => {
                "no FIN in the capture: the upload did not finish while it was captured".into()
            }
        });
        for e in &self.errors {
            lines.push(format!("the server refused: \"{e}\""));
        }
        Ending {
            marks: Vec::new(),
            lines,
        }
    }
}
