//! `--quiz`: the bookkeeping tables as an exercise, and the answer file a student hands
//! back to `--answers` (marked by [`super::mark`]).
//!
//! The quiz is a Markdown document: the text view's segment lines in code blocks, and
//! after each data exchange and the close a table whose cells are `?`:
//!
//! ```text
//! | data exchange            | Server Seq | Server Ack | Client Seq | Client Ack |
//! |--------------------------|-----------:|-----------:|-----------:|-----------:|
//! | #4 C→S [P.] len 4        |          ? |          ? |          ? |          ? |
//! ```
//!
//! The student replaces each `?` with a number in a text editor. When marking, a line
//! that starts with `|` and whose first cell starts with `#FRAME` is an answer row: the
//! segment, then Server Seq, Server Ack, Client Seq, Client Ack; `?` or an empty cell is
//! no answer. Table headings and separator lines are skipped, and so is every line that
//! does not start with `|` (notes may go anywhere outside the tables).

use super::text;
use crate::tcp::{ConnInfo, Table};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The columns of a bookkeeping table after the segment, in the order of the handout.
pub const COLUMNS: [&str; 4] = ["Server Seq", "Server Ack", "Client Seq", "Client Ack"];

/// The quiz's first line, before the capture's name.
const TITLE: &str = "# Bookkeeping quiz: ";

/// Where a code block of segment lines starts again after a table.
const REOPEN: &str = "\n```text\n";

/// The quiz's first lines: what to do, the rule, and how to have it marked (`check` is
/// the command that marks it, without the file: `labtrace CAPTURE --answers`).
pub fn intro(capture: &str, check: &str) -> String {
    format!(
        "{TITLE}{capture}\n\
         \n\
         Below are the capture's segments as `labtrace` shows them and, after each data\n\
         exchange and each close, a table to fill in: where each side's Seq and Ack stand\n\
         after the segment of that row. Replace each `?` with a number; leave a `?` where\n\
         you have no answer, and change nothing else in the table rows.\n\
         \n\
         The rule (Lab 3 supplement, step 2): each side's Seq and Ack are the relative Seq\n\
         and Ack fields of the last segment that side sent. A SYN counts as Seq 1 (it uses\n\
         up Seq 0), and a side's Ack is 0 until it sends a segment with the ACK flag.\n\
         \n\
         Save the file and have it marked:\n\
         \n\
         \x20   {check} YOUR_FILE\n\
         \n"
    )
}

/// Opens a connection's code block (its first line, `## Connection ...`, a heading).
pub(super) fn heading(s: &mut String, info: &ConnInfo) {
    s.insert_str(0, "## ");
    s.push_str("\n```text\n");
    text::heading(s, info);
}

/// Closes a connection's code block.
pub(super) fn end(s: &mut String) {
    if s.ends_with(REOPEN) {
        s.truncate(s.len() - REOPEN.len());
    } else {
        s.push_str("```\n");
    }
}

/// Appends a table to fill in, between two code blocks of segment lines.
pub(super) fn table(s: &mut String, t: &Table) {
    s.push_str("```\n\n");
    let _ = writeln!(
        s,
        "| {:<24} | {} | {} | {} | {} |",
        text::table_title(t),
        COLUMNS[0],
        COLUMNS[1],
        COLUMNS[2],
        COLUMNS[3]
    );
    let _ = writeln!(s, "|{}|{}", "-".repeat(26), "-----------:|".repeat(4));
    for r in &t.rows {
        let _ = writeln!(
            s,
            "| {:<24} |{}",
            text::row_label(r),
            "          ? |".repeat(4)
        );
    }
    if t.more > 0 {
        let _ = writeln!(
            s,
            "\n(then {} more segments in this exchange: not asked)",
            t.more
        );
    }
    s.push_str(REOPEN);
}

/// A student's answers, by the frame of each row.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    /// The file's name as the messages show it.
    pub(super) name: String,
    pub(super) rows: HashMap<u64, Answer>,
    /// The capture the quiz's title names.
    capture: Option<String>,
}

/// One answer row.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    /// Its line in the file (1-based).
    pub(super) line: usize,
    /// Its first cell, as written.
    pub(super) label: String,
    /// Server Seq, Server Ack, Client Seq, Client Ack; `None` = no answer.
    pub(super) cells: [Option<u32>; 4],
}

/// The most problems listed when a file cannot be read as answers.
const MAX_PROBLEMS: usize = 10;

impl Answers {
    /// The capture the quiz was written for, as its title names it.
    pub fn capture(&self) -> Option<&str> {
        self.capture.as_deref()
    }

    /// Reads an answer file (the format: the [module docs](self)); `name` is how
    /// messages call it. The error lists every line that cannot be read, `NAME:LINE: why`.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Answers, String> {
        let Ok(content) = std::str::from_utf8(bytes) else {
            return Err(format!(
                "{name} is not a text file (not UTF-8): give the quiz file that \
                 `labtrace CAPTURE --quiz` wrote, with your numbers in it"
            ));
        };
        let mut answers = Answers {
            name: name.to_string(),
            rows: HashMap::new(),
            capture: content
                .lines()
                .find_map(|l| l.strip_prefix(TITLE))
                .map(str::to_string),
        };
        let mut problems = Vec::new();
        for (i, line) in content.lines().enumerate() {
            let at = i + 1;
            match answer_row(line) {
                Ok(None) => {}
                Ok(Some((frame, answer))) => {
                    if let Some(first) = answers.rows.get(&frame) {
                        problems.push(format!(
                            "{name}:{at}: segment #{frame} is answered twice (first on line {})",
                            first.line
                        ));
                    } else {
                        answers.rows.insert(frame, Answer { line: at, ..answer });
                    }
                }
                Err(why) => problems.push(format!("{name}:{at}: {why}")),
            }
        }
        if problems.is_empty() && answers.rows.is_empty() {
            problems.push(
                concat!(
                    "no answer rows (lines like `| #4 C→S [P.] len 4 | 1 | 1 | 1 | 1 |`); ",
                    "`labtrace CAPTURE --quiz > FILE` writes the quiz to fill in"
                )
                .to_string(),
            );
        }
        if problems.is_empty() {
            return Ok(answers);
        }
        let more = problems.len().saturating_sub(MAX_PROBLEMS);
        problems.truncate(MAX_PROBLEMS);
        if more > 0 {
            problems.push(format!("… and {more} more"));
        }
        Err(format!(
            "{name} cannot be marked:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// Reads one line: `None` for a line that is not an answer row, the row by its frame,
/// or why the line cannot be read.
fn answer_row(line: &str) -> Result<Option<(u64, Answer)>, String> {
    let line = line.trim();
    let Some(inner) = line.strip_prefix('|') else {
        return Ok(None);
    };
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
    let separator = |c: &&str| c.chars().all(|ch| matches!(ch, '-' | ':' | ' '));
    if cells.iter().all(separator) || cells.get(1..) == Some(&COLUMNS[..]) {
        return Ok(None);
    }
    let label = cells.first().copied().unwrap_or_default();
    let frame = label
        .strip_prefix('#')
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            format!(
                "a table row starts with its segment, like `| #4 C→S [P.] len 4 |`; \
                 this one starts with `{}`",
                shown(label)
            )
        })?;
    if cells.len() != 5 {
        return Err(format!(
            "row #{frame} has {}; it needs 5: the segment, then {}",
            crate::plural(cells.len(), "cell"),
            COLUMNS.join(", ")
        ));
    }
    let mut answer = Answer {
        line: 0,
        label: label.to_string(),
        cells: [None; 4],
    };
    for (slot, (cell, column)) in answer.cells.iter_mut().zip(cells[1..].iter().zip(COLUMNS)) {
        *slot = match *cell {
            "" | "?" => None,
            c => Some(c.parse::<u32>().map_err(|_| {
                format!(
                    "row #{frame}, {column}: `{}` is not a number (write a number from 0 \
                     to 4294967295, or leave `?` for no answer)",
                    shown(c)
                )
            })?),
        };
    }
    Ok(Some((frame, answer)))
}

/// A student's text as a message quotes it: escaped, and cut after 40 characters.
pub(super) fn shown(text: &str) -> String {
    let mut s = unp::printable(text.as_bytes());
    if let Some((cut, _)) = s.char_indices().nth(40) {
        s.truncate(cut);
        s.push('…');
    }
    s
}
