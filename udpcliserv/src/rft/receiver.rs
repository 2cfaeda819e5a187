//! The reliable transfer's server: [`serve`] is the lesson (one socket, one
//! `recvfrom`/`sendto` loop, every packet answered); [`Session`] is the receiving
//! half of the protocol — reassembly in order, duplicates and stale packets recognised.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use unp::addr::unmap;
use unp::{Error, Result, printable, sock_ntop};

use super::proto::{Kind, MAX_PACKET, Packet};
use crate::upload::{IdleClock, UploadRoot};

/// How far ahead of the next expected packet the server keeps early arrivals.
pub const MAX_AHEAD: u32 = 1024;

/// The rftserver: receives uploads on `servaddr`, one client at a time, into `root`.
/// Every packet gets an answer: an ACK of everything received so far (echoing the
/// packet's timestamp, for the sender's RTT), or an ERR. An upload that hears
/// nothing for `idle` is abandoned.
pub fn serve(
    servaddr: SocketAddr,
    root: &UploadRoot,
    idle: Duration,
    announce: impl FnOnce(&UdpSocket) -> Result<()>,
) -> Result<()> {
    let sockfd: UdpSocket = unp::udp::socket(&servaddr)?;
    unp::udp::bind(&sockfd, &servaddr)?;
    announce(&sockfd)?;
    let mut buf = [0u8; MAX_PACKET];
    let mut session: Option<Session> = None;
    let mut finished: Option<(SocketAddr, u32)> = None; // to re-ACK a repeated FIN
    loop {
        // the silence left to the uploading client (armour: not restarted by others)
        unp::udp::set_rcvtimeo(&sockfd, session.as_ref().and_then(|s| s.idle.left()))?;
        // recvfrom(): any packet, from any client, in any order, maybe twice
        let (n, from) = match unp::udp::recvfrom(&sockfd, &mut buf) {
            Ok(got) => got,
            Err(e) if unp::udp::is_timeout(&e) => {
                if let Some(s) = session.take() {
                    unp::log(format_args!("{}", s.abandon(idle)));
                }
                continue;
            }
            Err(e) if e.is_interrupted() => continue,
            Err(e) => return Err(e),
        };
        if session
            .as_ref()
            .is_some_and(|s| s.idle.expired() && unmap(s.client) != unmap(from))
        {
            if let Some(s) = session.take() {
                unp::log(format_args!("{}", s.abandon(idle))); // armour: others talked, the client did not
            }
        }
        let Ok(pkt) = Packet::parse(&buf[..n]) else {
            continue;
        }; // not ours: drop it
        let ours = session
            .as_ref()
            .is_some_and(|s| unmap(s.client) == unmap(from));
        let reply: Vec<u8> = match (pkt.kind, ours) {
            (Kind::Req, false) if session.is_none() => {
                let (started, reply) = Session::start(root, from, &pkt, idle);
                session = started;
                reply
            }
            (Kind::Req | Kind::Data | Kind::Fin, false) => match finished {
                Some((client, next)) if client == from && pkt.kind == Kind::Fin => {
                    ack(next, pkt.stamp)
                }
                _ if pkt.kind == Kind::Req => err(pkt.stamp, "busy: another upload is in progress"),
                _ => continue, // a stray packet of an old or foreign transfer
            },
            (_, true) => match session.as_mut().map(|s| s.receive(&pkt)) {
                Some(Received::Ack(next)) => ack(next, pkt.stamp),
                Some(Received::Done(next)) => {
                    finished = Some((from, next));
                    if let Some(s) = session.take() {
                        s.finish();
                    }
                    ack(next, pkt.stamp)
                }
                Some(Received::Refused(why)) => err(pkt.stamp, &why),
                None => continue,
            },
            (Kind::Ack | Kind::Err, false) => continue,
        };
        // sendto(): the answer, to whoever sent the packet
        crate::report_send_error(unp::udp::sendto(&sockfd, &reply, &from), &from);
    }
}

fn ack(next: u32, stamp: u64) -> Vec<u8> {
    Packet::new(Kind::Ack, next, stamp, b"").emit()
}

fn err(stamp: u64, why: &str) -> Vec<u8> {
    Packet::new(Kind::Err, 0, stamp, why.as_bytes()).emit()
}

/// What a packet did to a session.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Answer with an ACK of everything below this number.
    Ack(u32),
    /// The FIN completed the file: ACK this number; the session is over.
    Done(u32),
    /// Answer with an ERR.
    Refused(String),
}

/// One upload: the file, the next sequence number expected, the early arrivals.
#[derive(Debug)]
pub struct Session {
    client: SocketAddr,
    path: String,
    file: File,
    next: u32,
    early: BTreeMap<u32, Vec<u8>>,
    bytes: u64,
    duplicates: u64,
    idle: IdleClock,
}

impl Session {
    /// A REQ from `client`: the file is created below `root`, or refused.
    pub fn start(
        root: &UploadRoot,
        client: SocketAddr,
        req: &Packet<'_>,
        idle: Duration,
    ) -> (Option<Session>, Vec<u8>) {
        let path = printable(req.payload);
        unp::log(format_args!("{}: upload to [{path}]", sock_ntop(&client)));
        match root.create(req.payload) {
            Ok(file) => {
                let s = Session {
                    client,
                    path,
                    file,
                    next: 1,
                    early: BTreeMap::new(),
                    bytes: 0,
                    duplicates: 0,
                    idle: IdleClock::start(Some(idle)),
                };
                (Some(s), ack(1, req.stamp))
            }
            Err(e) => {
                unp::err_ret(&Error::msg(e.to_string()).with_peer(sock_ntop(&client)));
                (None, err(req.stamp, &e.to_string()))
            }
        }
    }

    /// Takes one packet of this session's client.
    pub fn receive(&mut self, pkt: &Packet<'_>) -> Received {
        self.idle.heard();
        match pkt.kind {
            Kind::Req => Received::Ack(self.next.max(1)), // our ACK of the REQ was lost
            Kind::Data if pkt.seq == self.next => {
                if let Err(e) = self.file.write_all(pkt.payload) {
                    return Received::Refused(format!("write error: {e}"));
                }
                self.bytes += pkt.payload.len() as u64;
                self.next += 1;
                while let Some(data) = self.early.remove(&self.next) {
                    if let Err(e) = self.file.write_all(&data) {
                        return Received::Refused(format!("write error: {e}"));
                    }
                    self.bytes += data.len() as u64;
                    self.next += 1;
                }
                Received::Ack(self.next)
            }
            Kind::Data if pkt.seq > self.next && pkt.seq - self.next < MAX_AHEAD => {
                if self.early.insert(pkt.seq, pkt.payload.to_vec()).is_some() {
                    self.duplicates += 1;
                }
                Received::Ack(self.next)
            }
            Kind::Data => {
                self.duplicates += 1; // already written (or absurdly far ahead)
                Received::Ack(self.next)
            }
            Kind::Fin if pkt.seq == self.next => match pkt.fin_length() {
                Some(len) if len == self.bytes => Received::Done(self.next + 1),
                other => Received::Refused(format!(
                    "length mismatch: FIN says {other:?}, received {}",
                    self.bytes
                )),
            },
            Kind::Fin | Kind::Ack | Kind::Err => Received::Ack(self.next),
        }
    }

    /// The FIN arrived: the file is complete.
    pub fn finish(self) {
        unp::log(format_args!(
            "{}: wrote {} bytes in {} packets to {} ({} duplicates dropped)",
            sock_ntop(&self.client),
            self.bytes,
            self.next.saturating_sub(1),
            self.path,
            self.duplicates
        ));
    }

    /// Nothing came for `idle`: the client is gone; the file stays incomplete.
    pub fn abandon(self, idle: Duration) -> String {
        format!(
            "{}: nothing for {idle:?}: upload abandoned, {} incomplete with {} bytes",
            sock_ntop(&self.client),
            self.path,
            self.bytes
        )
    }
}
