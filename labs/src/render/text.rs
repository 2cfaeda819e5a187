//! The text view: one line per segment (frame, time, direction, flags, relative Seq and
//! Ack, window, length, phase, what the payload says), and after each data exchange and
//! the close the handout's bookkeeping table.

use super::arrow;
use crate::tcp::{ConnInfo, Row, Table, TableKind, TableRow};
use std::fmt::Write as _;

/// Appends the text view's headings under a connection's first line: how the SYNs set
/// window scaling (when they did), then the column names.
pub(super) fn heading(s: &mut String, info: &ConnInfo) {
    if info.window_scale.iter().any(Option::is_some) {
        let factor = |shift: Option<u8>| match shift {
            Some(s) => format!("× {}", 1u32 << s),
            None => "× 1 (no scaling)".to_string(),
        };
        let _ = writeln!(
            s,
            "window scale option in the SYNs: win = header value {} from the client, {} from the server",
            factor(info.window_scale[0]),
            factor(info.window_scale[1])
        );
    }
    let _ = write!(
        s,
        "{:>6}  {:>9}  {:<4} {:<6} {:>6} {:>6} {:>8} {:>5}  {:<15} payload",
        "#", "time", "dir", "flags", "seq", "ack", "win", "len", "phase"
    );
}

/// Appends one segment's line, with the tables around it: an exchange cut short by this
/// segment ends before it; a table this segment completes includes it.
pub(super) fn segment(s: &mut String, row: &Row) {
    segment_with(s, row, &mut table);
}

/// [`segment`], with the tables written by `table` (the quiz's blanks, the marked answers).
pub(super) fn segment_with(s: &mut String, row: &Row, table: &mut dyn FnMut(&mut String, &Table)) {
    if let Some(t) = &row.cut_short {
        table(s, t);
    }
    line(s, row);
    for note in crate::tcp::explain::sentences(row) {
        let _ = writeln!(s, "        ↳ {note}");
    }
    if let Some(t) = &row.table {
        table(s, t);
    }
}

/// Appends the line that ends a connection whose close (or reset) the capture lacks.
pub(super) fn no_close(s: &mut String) {
    let _ = writeln!(s, "        ↳ {}", crate::tcp::explain::NO_CLOSE);
}

/// Appends one segment's line, its columns under [`heading`]'s names.
pub(super) fn line(s: &mut String, row: &Row) {
    let _ = writeln!(
        s,
        "{:>6}  {:>9.6}  {:<4} {:<6} {:>6} {:>6} {:>8} {:>5}  {:<15} {}",
        row.frame,
        row.time,
        arrow(row.side),
        format!("[{}]", row.flags.tcpdump()),
        row.seq,
        ack_text(row),
        row.win,
        row.len,
        row.phase.to_string(),
        row.decoded.as_deref().unwrap_or("")
    );
}

/// The Ack column: `-` when the ACK flag is off (the field means nothing then).
fn ack_text(row: &Row) -> String {
    if row.flags.has(crate::packet::Flags::ACK) {
        row.ack.to_string()
    } else {
        "-".to_string()
    }
}

/// What the bookkeeping columns mean, printed above a connection's first table (the
/// definition is [`crate::tcp::Bookkeeping`]'s).
pub const BOOKKEEPING_LEGEND: &str = concat!(
    "        bookkeeping: each side's Seq and Ack are those of the last segment it sent;\n",
    "        a SYN counts as Seq 1 (it uses up Seq 0), so after the handshake both sides are at Seq 1 Ack 1\n",
);

/// Appends a bookkeeping table, with the legend above the connection's first one.
pub(super) fn table(s: &mut String, t: &Table) {
    if !s.contains(BOOKKEEPING_LEGEND) {
        s.push_str(BOOKKEEPING_LEGEND);
    }
    table_heading(s, t);
    for r in &t.rows {
        let what = row_label(r);
        let b = r.book;
        let _ = writeln!(
            s,
            "        {what:<24} {:>10} {:>10} {:>10} {:>10}",
            b.server_seq, b.server_ack, b.client_seq, b.client_ack
        );
    }
    if t.more > 0 {
        let b = t.last;
        let what = format!("… {} more, then", t.more);
        let _ = writeln!(
            s,
            "        {what:<24} {:>10} {:>10} {:>10} {:>10}",
            b.server_seq, b.server_ack, b.client_seq, b.client_ack
        );
    }
}

/// Appends a table's headings: what it follows, then the four columns.
pub(super) fn table_heading(s: &mut String, t: &Table) {
    let _ = writeln!(
        s,
        "        {:<24} {:>10} {:>10} {:>10} {:>10}",
        table_title(t),
        "Server Seq",
        "Server Ack",
        "Client Seq",
        "Client Ack"
    );
}

/// A table's first heading: what it follows.
pub(super) fn table_title(t: &Table) -> &'static str {
    match t.kind {
        TableKind::Exchange => "data exchange",
        TableKind::Close => "close",
    }
}

/// A table row's first column, naming its segment: `#4 C→S [P.] len 4`.
pub(super) fn row_label(r: &TableRow) -> String {
    format!("#{} {} [{}] len {}", r.frame, arrow(r.side), r.flags, r.len)
}
