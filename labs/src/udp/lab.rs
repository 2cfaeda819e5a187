//! What a datagram means in its flow. [`State`] holds what one flow's protocol needs to
//! remember; this module has the two protocols without sequence numbers — the UDP echo
//! (each answer paired with the request it echoes) and the course's upload (the path,
//! `ok`, each chunk at the byte offset the server writes it to, `================END`) —
//! and [`super::numbered`] the two with them.

use super::explain::Mark;
use super::numbered::{Reliable, Sequence};
use super::proto::{describe, is_text, path_shaped, preview};
use crate::decode::{Proto, Side, raw};
use std::collections::VecDeque;
use udpcliserv::ft;

/// One datagram, as a flow's protocol sees it.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// Its frame.
    pub frame: u64,
    /// Who sent it.
    pub side: Side,
    /// The payload bytes captured.
    pub payload: &'a [u8],
    /// The payload's length on the wire (more than `payload.len()` when snapped).
    pub len: usize,
}

/// What the flow's protocol says about one datagram.
#[derive(Debug, Clone, Default)]
pub struct Told {
    /// The payload column.
    pub text: String,
    /// The marks the datagram gets.
    pub marks: Vec<Mark>,
    /// For an echo: the frame of the request it answers.
    pub echo_of: Option<u64>,
    /// The datagram does not have the shape of the protocol ([`super::proto::shape`]).
    pub unlike: bool,
}

/// What the flow's protocol says at the end: marks on earlier datagrams (a request
/// never echoed) and summary lines.
#[derive(Debug, Clone, Default)]
pub struct Ending {
    /// (frame, mark) for datagrams already shown.
    pub marks: Vec<(u64, Mark)>,
    /// The protocol's summary, one line each.
    pub lines: Vec<String>,
}

/// What one flow's protocol remembers.
#[derive(Debug)]
pub enum State {
    /// UDP echo.
    Echo(Echo),
    /// The course's upload.
    Upload(Upload),
    /// The sequence experiment.
    Sequence(Sequence),
    /// unplab's reliable transfer.
    Reliable(Reliable),
    /// Anything else: bytes only.
    Raw(Proto),
}

impl State {
    /// The state of a flow that speaks `proto`.
    pub fn new(proto: Proto) -> State {
        match proto {
            Proto::UdpEcho => State::Echo(Echo::default()),
            Proto::UdpFt => State::Upload(Upload::default()),
            Proto::UdpSeq => State::Sequence(Sequence::default()),
            Proto::Rft => State::Reliable(Reliable::default()),
            p => State::Raw(p),
        }
    }

    /// Takes the flow's next datagram.
    pub fn datagram(&mut self, d: &Seen<'_>) -> Told {
        match self {
            State::Echo(e) => e.datagram(d),
            State::Upload(u) => u.datagram(d),
            State::Sequence(s) => s.datagram(d),
            State::Reliable(r) => r.datagram(d),
            State::Raw(p) => Told {
                text: describe(*p, d.side, d.payload),
                ..Told::default()
            },
        }
    }

    /// Notes that the datagram of `frame` was answered with an ICMP error (the echo
    /// does not wait for its echo any more).
    pub fn refused(&mut self, frame: u64) {
        if let State::Echo(e) = self {
            if let Some(at) = e.waiting.iter().position(|r| r.frame == frame) {
                e.waiting.remove(at);
                e.refused += 1;
            }
        }
    }

    /// Ends the flow.
    pub fn finish(&mut self) -> Ending {
        match self {
            State::Echo(e) => e.finish(),
            State::Upload(u) => u.finish(),
            State::Sequence(s) => s.finish(),
            State::Reliable(r) => r.finish(),
            State::Raw(_) => Ending::default(),
        }
    }
}

/// The most requests kept waiting for their echo; an older one counts as never echoed.
const WAITING: usize = 1024;

/// The echo's bookkeeping: requests waiting for their echo, oldest first.
#[derive(Debug, Default)]
pub struct Echo {
    waiting: VecDeque<Request>,
    /// Requests pushed out of `waiting` unanswered.
    gave_up: Vec<u64>,
    requests: u64,
    echoed: u64,
    refused: u64,
}

#[derive(Debug)]
struct Request {
    frame: u64,
    len: usize,
    /// Its first bytes (an echo is compared on what both captures hold).
    bytes: Vec<u8>,
}

/// What `recvfrom(sockfd, buf, BUFFERSIZE-1, ...)` keeps of a datagram.
const ECHO_MAX: usize = udpcliserv::text::BUFFERSIZE - 1;

impl Echo {
    fn datagram(&mut self, d: &Seen<'_>) -> Told {
        let mut told = self.answer(d);
        told.unlike = !is_text(d.payload); // a line typed, or its echo
        told
    }

    /// A request, or the echo of which waiting request.
    fn answer(&mut self, d: &Seen<'_>) -> Told {
        let text = describe(Proto::UdpEcho, d.side, d.payload);
        if d.side == Side::Client {
            self.requests += 1;
            if self.waiting.len() == WAITING
                && let Some(old) = self.waiting.pop_front()
            {
                self.gave_up.push(old.frame);
            }
            self.waiting.push_back(Request {
                frame: d.frame,
                len: d.len,
                bytes: d.payload[..d.payload.len().min(ECHO_MAX + 1)].to_vec(),
            });
            return Told {
                text,
                ..Told::default()
            };
        }
        let same = |r: &Request| {
            let n = r.bytes.len().min(d.payload.len());
            r.bytes[..n] == d.payload[..n]
        };
        let exact = self.waiting.iter().position(|r| r.len == d.len && same(r));
        let cut = || {
            self.waiting
                .iter()
                .position(|r| d.len == ECHO_MAX && r.len > ECHO_MAX && same(r))
        };
        let Some(at) = exact.or_else(cut) else {
            return Told {
                text,
                marks: vec![Mark::NotAnEcho],
                ..Told::default()
            };
        };
        let Some(request) = self.waiting.remove(at) else {
            return Told::default();
        };
        self.echoed += 1;
        let marks = if request.len == d.len {
            Vec::new()
        } else {
            vec![Mark::CutEcho { of: request.frame }]
        };
        Told {
            text: format!("{text} (echo of #{})", request.frame),
            marks,
            echo_of: Some(request.frame),
            unlike: false,
        }
    }

    fn finish(&mut self) -> Ending {
        let mut never: Vec<u64> = std::mem::take(&mut self.gave_up);
        never.extend(self.waiting.drain(..).map(|r| r.frame));
        let mut line = format!(
            "{}, {} echoed",
            crate::plural(self.requests, "request"),
            self.echoed
        );
        if self.refused > 0 {
            line.push_str(&format!(", {} refused (ICMP)", self.refused));
        }
        if !never.is_empty() {
            line.push_str(&format!("; no echo of {}", frames(&never)));
        }
        let lines = vec![line];
        Ending {
            marks: never.into_iter().map(|f| (f, Mark::NoEcho)).collect(),
            lines,
        }
    }
}

/// `#3, #7, #9` (the first 10, then how many more).
pub fn frames(list: &[u64]) -> String {
    let mut s: Vec<String> = list.iter().take(10).map(|f| format!("#{f}")).collect();
    if list.len() > 10 {
        s.push(format!("and {} more", list.len() - 10));
    }
    s.join(", ")
}

/// Where an upload stands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the client's path.
    #[default]
    Path,
    /// The path came; the client sends the file whatever the answer.
    File,
}

/// The course's upload, as its server goes through it.
#[derive(Debug, Default)]
pub struct Upload {
    stage: Stage,
    path: String,
    path_frame: u64,
    answered: bool,
    chunks: u64,
    bytes: u64,
    last_frame: u64,
    /// One line per upload that ended (at most [`UPLOADS`]).
    done: Vec<String>,
    uploads: u64,
}

/// The most finished uploads listed in a flow's summary.
const UPLOADS: usize = 8;

impl Upload {
    fn datagram(&mut self, d: &Seen<'_>) -> Told {
        let end = d.payload == ft::END_FLAG && d.len == ft::END_FLAG.len();
        let unlike = match (d.side, self.stage) {
            (Side::Server, _) => d.payload != b"ok" && !d.payload.starts_with(b"refused: "),
            (Side::Client, Stage::Path) => !end && !path_shaped(d.payload, d.len),
            (Side::Client, Stage::File) => d.len > ft::MAXLINE,
        };
        let text = match (d.side, self.stage) {
            (Side::Server, _) if d.payload == b"ok" => {
                self.answered = true;
                "ok".to_string()
            }
            (Side::Server, _) => {
                self.answered = true;
                format!("{} (not `ok`)", raw(d.payload))
            }
            (Side::Client, Stage::Path) if end => "END, with no upload under way".to_string(),
            (Side::Client, Stage::Path) => {
                (self.stage, self.path_frame, self.last_frame) = (Stage::File, d.frame, d.frame);
                (self.chunks, self.bytes, self.answered) = (0, 0, false);
                self.path = raw(d.payload);
                format!("path {}", self.path)
            }
            (Side::Client, Stage::File) if end => {
                self.stage = Stage::Path;
                self.uploads += 1;
                let line = format!("upload to {}: {}, then END", self.path, self.sizes());
                if self.done.len() < UPLOADS {
                    self.done.push(line);
                }
                format!("END: the upload ends, {}", self.sizes())
            }
            (Side::Client, Stage::File) => {
                self.chunks += 1;
                self.last_frame = d.frame;
                let at = self.bytes;
                self.bytes += d.len as u64;
                format!("chunk {} @{at} {}", self.chunks, preview(d.payload))
            }
        };
        Told {
            text,
            unlike,
            ..Told::default()
        }
    }

    /// `3 chunks, 3000 bytes`, `1 chunk, 1 byte`.
    fn sizes(&self) -> String {
        let chunks = crate::plural(self.chunks, "chunk");
        format!("{chunks}, {}", crate::plural(self.bytes, "byte"))
    }

    fn finish(&mut self) -> Ending {
        let mut end = Ending::default();
        end.lines.append(&mut self.done);
        if self.uploads > UPLOADS as u64 {
            end.lines
                .push(format!("… {} more uploads", self.uploads - UPLOADS as u64));
        }
        if self.stage == Stage::File {
            end.lines.push(format!(
                "upload to {}: {}, and no END in the capture",
                self.path,
                self.sizes()
            ));
            if !self.answered && self.chunks == 0 {
                end.marks.push((self.path_frame, Mark::NoAnswer));
            } else {
                end.marks.push((self.last_frame, Mark::NoEnd));
            }
        }
        end.lines.push("nothing numbers the chunks: had one been lost, the server would write the next one at its offset, and no one would know (rft numbers them)".into());
        end
    }
}
