//! The ASCII ladder: the client's timeline on the left, the server's on the right, one
//! arrow per segment labelled with its flags, numbers and payload.

use crate::decode::Side;
use crate::tcp::Row;
use std::fmt::Write as _;

/// The label on a segment's arrow: flags, numbers, payload.
pub fn label(row: &Row) -> String {
    let mut s = numbers(row);
    if let Some(d) = &row.decoded {
        let _ = write!(s, " {d}");
    }
    s
}

/// A segment's flags and numbers: `[P.] seq=1 ack=1 len=4` (no ack without the ACK
/// flag, no len without payload).
pub(super) fn numbers(row: &Row) -> String {
    let mut s = format!("[{}] seq={}", row.flags.tcpdump(), row.seq);
    if row.flags.has(crate::packet::Flags::ACK) {
        let _ = write!(s, " ack={}", row.ack);
    }
    if row.len > 0 {
        let _ = write!(s, " len={}", row.len);
    }
    s
}

/// Appends the column names: the two timelines.
pub(super) fn heading(s: &mut String) {
    let _ = write!(s, "      {:<32}{:>33}", "client", "server");
}

/// Width of the ladder's arrow between the two timelines.
const LADDER: usize = 64;

/// Appends one segment's arrow, its frame number on the left, its phase on the right.
pub(super) fn line(s: &mut String, row: &Row) {
    arrow(s, row.frame, row.side, &label(row), &row.phase.to_string());
}

/// Appends an arrow from `side` labelled `label` (cut to fit), `frame` on its left and
/// `right` on its right: a TCP segment's or a UDP datagram's.
pub(super) fn arrow(s: &mut String, frame: u64, side: Side, label: &str, right: &str) {
    let mut text: String = label.chars().take(LADDER - 10).collect();
    text = format!(" {text} ");
    let fill = LADDER.saturating_sub(text.chars().count() + 6);
    let line = match side {
        Side::Client => format!("|---{text}{}>|", "-".repeat(fill + 1)),
        Side::Server => format!("|<{}{text}---|", "-".repeat(fill + 1)),
    };
    let _ = match right {
        "" => writeln!(s, "{frame:>5} {line}"),
        _ => writeln!(s, "{frame:>5} {line}  {right}"),
    };
}
