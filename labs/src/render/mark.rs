//! `--answers FILE`: the text view with each bookkeeping table marked against a
//! student's answers (the format: [`super::quiz`]): every cell right (✓), wrong (✗,
//! with the rule applied to that cell) or not answered (`?`), and a score at the end.

use super::quiz::{Answer, Answers, COLUMNS, shown};
use super::text::{self, BOOKKEEPING_LEGEND};
use crate::decode::Side;
use crate::packet::Flags;
use crate::tcp::{Table, TableRow};
use std::collections::HashSet;
use std::fmt::Write as _;

/// Marks tables as they complete and counts the marks.
#[derive(Debug, Default)]
pub struct Marker {
    answers: Answers,
    /// The frames of the answer rows met so far (marked, or found to be another
    /// capture's).
    met: HashSet<u64>,
    right: usize,
    wrong: usize,
    blank: usize,
    /// Rows of the capture's tables that the file has no row for.
    missing: usize,
}

impl Marker {
    /// A marker of `answers`.
    pub fn new(answers: Answers) -> Marker {
        Marker {
            answers,
            ..Marker::default()
        }
    }

    /// Appends a table marked against the answers.
    pub(super) fn table(&mut self, s: &mut String, t: &Table) {
        if !s.contains(BOOKKEEPING_LEGEND) {
            s.push_str(BOOKKEEPING_LEGEND);
        }
        text::table_heading(s, t);
        for r in &t.rows {
            self.row(s, r);
        }
        if t.more > 0 {
            let _ = writeln!(s, "        … {} more segments, not asked", t.more);
        }
    }

    /// Appends one row: the student's numbers marked, a sentence under each wrong one.
    fn row(&mut self, s: &mut String, r: &TableRow) {
        let label = text::row_label(r);
        let _ = write!(s, "        {label:<24}");
        let Some(answer) = self.answers.rows.get(&r.frame) else {
            self.missing += 1;
            self.blank += 4;
            let _ = writeln!(s, " (no row #{} in {})", r.frame, self.answers.name);
            return;
        };
        self.met.insert(r.frame);
        if words(&answer.label) != words(&label) {
            self.blank += 4;
            let _ = writeln!(
                s,
                " (line {} says `{}`: the quiz of another capture? not marked)",
                answer.line,
                shown(&answer.label)
            );
            return;
        }
        let b = r.book;
        let want = [b.server_seq, b.server_ack, b.client_seq, b.client_ack];
        let mut rules = Vec::new();
        for (i, (got, want)) in answer.cells.iter().zip(want).enumerate() {
            let cell = match got {
                None => {
                    self.blank += 1;
                    "?".to_string()
                }
                Some(g) if *g == want => {
                    self.right += 1;
                    format!("{g} ✓")
                }
                Some(g) => {
                    self.wrong += 1;
                    rules.push(rule(r, i, *g, want));
                    format!("{g} ✗")
                }
            };
            let _ = write!(s, " {cell:>10}");
        }
        s.push('\n');
        for rule in rules {
            let _ = writeln!(s, "          ↳ {rule}");
        }
    }

    /// The score, and the answer rows that match no row of the capture's tables.
    pub(super) fn score(&self) -> String {
        let mut s = String::new();
        let mut strays: Vec<(&u64, &Answer)> = self
            .answers
            .rows
            .iter()
            .filter(|(frame, _)| !self.met.contains(frame))
            .collect();
        strays.sort_by_key(|(_, a)| a.line);
        for (frame, a) in strays {
            let _ = writeln!(
                s,
                "{}:{}: no table of this capture has a row #{frame}: not marked",
                self.answers.name, a.line
            );
        }
        let total = self.right + self.wrong + self.blank;
        let _ = write!(
            s,
            "score: {} of {total} right, {} wrong, {} not answered",
            self.right, self.wrong, self.blank
        );
        if self.missing > 0 {
            let rows = crate::plural(self.missing, "row");
            let _ = write!(s, " ({rows} missing from {})", self.answers.name);
        }
        s
    }
}

/// A row's label with its spacing evened out, to compare what a student kept.
fn words(label: &str) -> Vec<&str> {
    label.split_whitespace().collect()
}

/// Why column `col` of row `r` is `want`, not `got`: the rule, applied to the segment
/// that side sent last.
fn rule(r: &TableRow, col: usize, got: u32, want: u32) -> String {
    let (side, who) = if col < 2 {
        (Side::Server, "server")
    } else {
        (Side::Client, "client")
    };
    let seq = col % 2 == 0;
    let field = COLUMNS[col];
    let head = format!(
        "{field} is {want}, not {got}. The rule: a side's Seq and Ack are those of the last \
         segment it sent"
    );
    let sent = match side {
        Side::Client => r.sent[0],
        Side::Server => r.sent[1],
    };
    let Some(p) = sent else {
        return format!("{head}, and the {who} has sent none yet, so it stands at 0");
    };
    let acks = p.flags.has(Flags::ACK);
    let ack = if acks {
        p.ack.to_string()
    } else {
        "-".to_string()
    };
    let itself = if p.frame == r.frame { " itself" } else { "" };
    let mut out = format!(
        "{head}, and the {who}'s last segment so far is #{}{itself} ([{}] seq={} ack={ack})",
        p.frame,
        p.flags.tcpdump(),
        p.seq
    );
    let syn = p.flags.has(Flags::SYN);
    // The Seq it will send next: after its bytes, and after a SYN or FIN (one each).
    let next = p
        .seq
        .wrapping_add(p.len)
        .wrapping_add(u32::from(syn) + u32::from(p.flags.has(Flags::FIN)));
    if seq && syn {
        out.push_str(": a SYN uses up Seq 0, so it counts as Seq 1");
    } else if !seq && !acks {
        out.push_str(": without the ACK flag its Ack field means nothing, so it counts as 0");
    } else if seq && got == next {
        let _ = write!(
            out,
            ": {got} is the Seq it will send next, not one it has sent"
        );
    }
    out
}
