//! The handout's bookkeeping tables: where each side's Seq and Ack stand after each
//! segment of a data exchange (a request, its reply and their ACKs) and of the close.

use super::conn::Conn;
use super::phase::Phase;
use crate::decode::Side;
use crate::packet::{Flags, Segment};

/// The most rows a bookkeeping table keeps (a bulk transfer is one long exchange).
pub const MAX_TABLE_ROWS: usize = 8;

/// Where each side stands, as the handout's Server Seq / Server Ack / Client Seq /
/// Client Ack tables list it.
///
/// The definition: **a side's Seq and Ack are the (relative) Seq and Ack fields of the
/// last segment that side sent, where a SYN counts as Seq 1** (the SYN uses up
/// sequence number 0), so the handshake leaves both sides at Seq 1 Ack 1. Ack is 0
/// until the side has sent a segment with the ACK flag.
///
/// Why the SYN rule: after a Linux handshake the server's last segment is its SYN/ACK
/// (Seq=0 Ack=1); macOS sends one more `[TCP Window Update]` ACK (Seq=1 Ack=1), which
/// the handout's capture shows. Counting the SYN as Seq 1 gives the handout's first two
/// tables on both systems: after the client sends "0" (Seq=1 Len=4), 1/1/1/1; after the
/// server's ACK (Seq=1 Ack=5), 1/5/1/1.
///
/// The handout's tables 3 and 4 do not follow any one definition, and labtrace does not
/// copy them. After the server's reply (Seq=1 Ack=5 Len=23) it gives the client Seq 5
/// Ack 23, values the client has not sent yet (its next segment says Seq=5 Ack=24);
/// after that ACK it gives the server Seq 23, its next sequence number (which is 24,
/// 1 + 23). labtrace shows, by the definition above, 1/5/1/1 after the reply and
/// 1/5/5/24 after the client's ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bookkeeping {
    /// Server's Seq.
    pub server_seq: u32,
    /// Server's Ack.
    pub server_ack: u32,
    /// Client's Seq.
    pub client_seq: u32,
    /// Client's Ack.
    pub client_ack: u32,
}

/// The segment a side's bookkeeping numbers come from: the last one that side sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Its frame number.
    pub frame: u64,
    /// Its relative Seq field (a SYN's is 0; the table counts it as 1).
    pub seq: u32,
    /// Its relative Ack field (raw when the ACK flag is off; the table counts it as 0).
    pub ack: u32,
    /// Its payload length.
    pub len: u32,
    /// Its flags.
    pub flags: Flags,
}

/// One row of a bookkeeping table: which segment, and the table after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// The segment's frame number.
    pub frame: u64,
    /// Who sent it.
    pub side: Side,
    /// Its flags in tcpdump notation.
    pub flags: String,
    /// Its payload length.
    pub len: u32,
    /// The table after it.
    pub book: Bookkeeping,
    /// The segments the table's numbers come from: the last one each side had sent
    /// (this one included), the client's first; `None` for a side that sent nothing yet.
    pub sent: [Option<Sent>; 2],
}

/// What a bookkeeping table follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// A data exchange: a request, its reply and their ACKs (the handout's step 2).
    Exchange,
    /// The FIN/ACK close (the handout's step 3), with a reset that ends it.
    Close,
}

/// A finished data exchange or close: the rows of the handout's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// What the table follows.
    pub kind: TableKind,
    /// The first rows (at most [`MAX_TABLE_ROWS`]).
    pub rows: Vec<TableRow>,
    /// How many more segments the exchange had.
    pub more: usize,
    /// The table after the exchange's last segment.
    pub last: Bookkeeping,
}

impl Conn {
    /// Adds the segment to the table it belongs to: the current data exchange, or the
    /// close. Returns the exchange the segment cut short and the table it completed.
    pub(super) fn bookkeep(
        &mut self,
        frame: u64,
        side: Side,
        seg: &Segment<'_>,
        phase: Phase,
        ends: bool,
    ) -> (Option<Table>, Option<Table>) {
        let book = Bookkeeping {
            server_seq: self.dirs[1].last.0,
            server_ack: self.dirs[1].last.1,
            client_seq: self.dirs[0].last.0,
            client_ack: self.dirs[0].last.1,
        };
        let row = TableRow {
            frame,
            side,
            flags: seg.flags.tcpdump(),
            len: seg.len,
            book,
            sent: [self.dirs[0].sent, self.dirs[1].sent],
        };
        match phase {
            Phase::Data | Phase::Retransmission | Phase::Ack => {}
            Phase::Close(_)
            | Phase::CloseAckAndFin
            | Phase::FinAgain
            | Phase::SimultaneousClose(_)
            | Phase::AckAgain
            | Phase::Reset => {
                self.replied = false;
                let cut = self.exchange.take();
                // A reset outside a close ends the connection without a close table.
                if phase != Phase::Reset || self.closing.is_some() {
                    push(&mut self.closing, TableKind::Close, row);
                }
                let done = if ends { self.closing.take() } else { None };
                return (cut, done);
            }
            Phase::Handshake(_) | Phase::SimultaneousOpen(_) => {
                self.replied = false;
                return (self.exchange.take(), None);
            }
        }
        if self.exchange.is_none() && seg.len == 0 {
            return (None, None);
        }
        push(&mut self.exchange, TableKind::Exchange, row);
        if side == Side::Server && seg.len > 0 {
            self.replied = true;
        }
        // The exchange (request, reply and their ACKs, as in the handout) is over when
        // the server has replied and each side has acknowledged all the other sent.
        let settled = seg.len == 0
            && self.replied
            && book.client_ack == self.dirs[1].high
            && book.server_ack == self.dirs[0].high;
        if settled {
            self.replied = false;
            (None, self.exchange.take())
        } else {
            (None, None)
        }
    }
}

/// Appends `row` to the table in `slot`, starting one of `kind` if there is none; past
/// [`MAX_TABLE_ROWS`] rows only counts it and keeps its numbers as the table's last.
fn push(slot: &mut Option<Table>, kind: TableKind, row: TableRow) {
    let t = slot.get_or_insert(Table {
        kind,
        rows: Vec::new(),
        more: 0,
        last: row.book,
    });
    t.last = row.book;
    if t.rows.len() < MAX_TABLE_ROWS {
        t.rows.push(row);
    } else {
        t.more += 1;
    }
}
