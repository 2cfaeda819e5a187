//! The views of a trace: the text story (default), JSON lines, the ASCII ladder, and
//! the SVG ladder.
//!
//! The JSON view writes one object per TCP segment per line; [`JSON_FIELDS`] lists its
//! fields (`labtrace --help` prints the same list).
//!
//! JSON goes out as each segment arrives. The text and ladder views tell one connection
//! at a time, so they hold a connection's rendered lines until it ends (its close or
//! reset) and print them then; connections still open at the end of the file print last.

use crate::decode::Side;
use crate::tcp::{ConnInfo, Row, Table, TableKind, Tracker};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Which view to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The explained story with bookkeeping tables.
    Text,
    /// One JSON object per segment per line.
    Json,
    /// An ASCII sequence diagram.
    Ladder,
}

/// Writes rows in one view.
pub struct Renderer<W: Write> {
    view: View,
    out: W,
    held: BTreeMap<usize, String>,
}

impl<W: Write> Renderer<W> {
    /// A renderer writing `view` to `out`.
    pub fn new(view: View, out: W) -> Renderer<W> {
        Renderer {
            view,
            out,
            held: BTreeMap::new(),
        }
    }

    /// Shows one segment.
    pub fn row(&mut self, row: &Row, tracker: &Tracker) -> io::Result<()> {
        if self.view == View::Json {
            return json_line(&mut self.out, row);
        }
        let text = self.held.entry(row.conn).or_default();
        match self.view {
            View::Ladder => ladder_line(text, row),
            _ => {
                // An exchange cut short by this segment ends before it; a table this
                // segment completes includes it.
                if let Some(t) = &row.cut_short {
                    table(text, t);
                }
                text_line(text, row);
                if let Some(t) = &row.table {
                    table(text, t);
                }
            }
        }
        if row.ends {
            self.flush_conn(row.conn, tracker)?;
        }
        Ok(())
    }

    fn flush_conn(&mut self, id: usize, tracker: &Tracker) -> io::Result<()> {
        let Some(body) = self.held.remove(&id) else {
            return Ok(());
        };
        if let Some(info) = tracker.conn(id) {
            writeln!(self.out, "{}", header(info, self.view))?;
        }
        self.out.write_all(body.as_bytes())?;
        writeln!(self.out)
    }

    /// Ends the trace: open exchanges' tables, connections not yet printed, a summary.
    pub fn finish(mut self, tracker: &mut Tracker, summary: &str) -> io::Result<W> {
        if self.view != View::Json {
            for (id, t) in tracker.finish() {
                if self.view == View::Text
                    && let Some(text) = self.held.get_mut(&id)
                {
                    table(text, &t);
                }
            }
            let ids: Vec<usize> = self.held.keys().copied().collect();
            for id in ids {
                self.flush_conn(id, tracker)?;
            }
            writeln!(self.out, "{summary}")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn header(info: &ConnInfo, view: View) -> String {
    let proto = info.proto.map_or("no payload", |p| p.name());
    let mut s = format!(
        "Connection {}: client {} → server {} ({proto})\n",
        info.id, info.client, info.server
    );
    if view == View::Text && info.window_scale.iter().any(Option::is_some) {
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
    match view {
        View::Ladder => {
            let _ = write!(s, "      {:<32}{:>33}", "client", "server");
        }
        _ => {
            let _ = write!(
                s,
                "{:>6}  {:>9}  {:<4} {:<6} {:>6} {:>6} {:>8} {:>5}  {:<15} payload",
                "#", "time", "dir", "flags", "seq", "ack", "win", "len", "phase"
            );
        }
    }
    s
}

fn arrow(side: Side) -> &'static str {
    match side {
        Side::Client => "C→S",
        Side::Server => "S→C",
    }
}

fn ack_text(row: &Row) -> String {
    if row.flags.has(crate::packet::Flags::ACK) {
        row.ack.to_string()
    } else {
        "-".to_string()
    }
}

fn text_line(s: &mut String, row: &Row) {
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

/// What the bookkeeping columns mean, printed above a connection's first table (the
/// definition is [`crate::tcp::Bookkeeping`]'s).
pub const BOOKKEEPING_LEGEND: &str = concat!(
    "        bookkeeping: each side's Seq and Ack are those of the last segment it sent;\n",
    "        a SYN counts as Seq 1 (it uses up Seq 0), so after the handshake both sides are at Seq 1 Ack 1\n",
);

fn table(s: &mut String, t: &Table) {
    if !s.contains(BOOKKEEPING_LEGEND) {
        s.push_str(BOOKKEEPING_LEGEND);
    }
    let title = match t.kind {
        TableKind::Exchange => "data exchange",
        TableKind::Close => "close",
    };
    let _ = writeln!(
        s,
        "        {:<24} {:>10} {:>10} {:>10} {:>10}",
        title, "Server Seq", "Server Ack", "Client Seq", "Client Ack"
    );
    for r in &t.rows {
        let what = format!("#{} {} [{}] len {}", r.frame, arrow(r.side), r.flags, r.len);
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

/// The label on a segment's arrow: flags, numbers, payload.
pub fn label(row: &Row) -> String {
    let mut s = format!("[{}] seq={}", row.flags.tcpdump(), row.seq);
    if row.flags.has(crate::packet::Flags::ACK) {
        let _ = write!(s, " ack={}", row.ack);
    }
    if row.len > 0 {
        let _ = write!(s, " len={}", row.len);
    }
    if let Some(d) = &row.decoded {
        let _ = write!(s, " {d}");
    }
    s
}

/// Width of the ladder's arrow between the two timelines.
const LADDER: usize = 64;

fn ladder_line(s: &mut String, row: &Row) {
    let mut text: String = label(row).chars().take(LADDER - 10).collect();
    text = format!(" {text} ");
    let fill = LADDER.saturating_sub(text.chars().count() + 6);
    let line = match row.side {
        Side::Client => format!("|---{text}{}>|", "-".repeat(fill + 1)),
        Side::Server => format!("|<{}{text}---|", "-".repeat(fill + 1)),
    };
    let _ = writeln!(s, "{:>5} {line}  {}", row.frame, row.phase);
}

/// What each field of a `--format json` line holds, as `labtrace --help` shows it.
pub const JSON_FIELDS: &str = r#"--format json writes one object per TCP segment per line, in capture order, with these
fields (always all of them, in this order):
  frame    1-based frame number in the file (as Wireshark numbers it)
  time     seconds since the file's first packet, 6 decimals
  conn     the connection's number, 1-based, in order of first appearance
  src, dst sender and receiver as "ADDR:PORT" ("[ADDR]:PORT" for IPv6)
  flags    TCP flags in tcpdump's notation: S SYN, F FIN, P PSH, R RST, U URG, E ECE,
           W CWR, . ACK ("S." is a SYN/ACK, "none" when no flag is set)
  seq      relative sequence number, as Wireshark shows it (a SYN is 0)
  ack      relative acknowledgement number; when the ACK flag is off (a SYN, some
           resets) the header's field means nothing and is given raw, as tshark's
           tcp.ack does: a SYN has "ack":0 (the text view shows -)
  len      payload bytes
  win      advertised window in bytes, scaled by the window scale option (tshark's
           tcp.window_size); win_raw is the header's field (tcp.window_size_value)
  phase    the text view's phase: "handshake 1/3", "data", "retransmission", "ACK",
           "close 1/4", "close 2+3/4", "close (FIN again)", "reset"
  decoded  null without payload; otherwise the same text as the text view's payload
           column, as a JSON string: text payloads keep their quotes and escapes
           ("decoded":"\"New number generated: 8\""), a command is a word (GEN)
The bookkeeping tables are in the text view only."#;

/// Writes one segment as a JSON object on its own line (its fields: [`JSON_FIELDS`]).
pub fn json_line(out: &mut impl Write, row: &Row) -> io::Result<()> {
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "{{\"frame\":{},\"time\":{:.6},\"conn\":{},\"src\":\"{}\",\"dst\":\"{}\",\"flags\":\"{}\",\"seq\":{},\"ack\":{},\"len\":{},\"win\":{},\"win_raw\":{},\"phase\":\"{}\",\"decoded\":",
        row.frame,
        row.time,
        row.conn,
        row.src,
        row.dst,
        row.flags.tcpdump(),
        row.seq,
        row.ack,
        row.len,
        row.win,
        row.win_raw,
        row.phase
    );
    match &row.decoded {
        Some(d) => json_string(&mut s, d),
        None => s.push_str("null"),
    }
    s.push_str("}\n");
    out.write_all(s.as_bytes())
}

/// Appends `text` as a JSON string literal (quotes, backslashes and control characters
/// escaped; everything else, including non-ASCII, as is: JSON is UTF-8).
pub fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Collects rows for the SVG picture (at most [`SVG_ROWS`] per connection).
#[derive(Default)]
pub struct Svg {
    conns: BTreeMap<usize, (Vec<Row>, usize)>,
}

/// The most arrows drawn per connection; more are counted and noted under the picture.
pub const SVG_ROWS: usize = 400;

impl Svg {
    /// Adds one segment.
    pub fn row(&mut self, row: &Row) {
        let (rows, more) = self.conns.entry(row.conn).or_default();
        if rows.len() < SVG_ROWS {
            rows.push(row.clone());
        } else {
            *more += 1;
        }
    }

    /// The finished picture: per connection, two timelines and one arrow per segment,
    /// with the flags and numbers above the arrow and the decoded payload under it.
    ///
    /// The picture is as wide as its longest text needs (labels are cut at
    /// [`SVG_LABEL_MAX`] characters); text never crosses an arrow or a timeline.
    pub fn finish(&self, tracker: &Tracker) -> String {
        // Advance of one character of a 12px monospace font (0.6 em), a little generous.
        const CHAR: f64 = 7.3;
        const NOTE_CHAR: f64 = 6.1;
        // Row heights: numbers, arrow (and payload) plus a gap before the next row.
        const STEP: usize = 44;
        const STEP_PAYLOAD: usize = 62;
        let px = |chars: usize, w: f64| (chars as f64 * w).ceil() as usize;
        let (mut widest, mut left_end, mut right_end) = (0, 0, 0);
        let mut left_note = 0;
        for (id, (rows, _)) in &self.conns {
            if let Some(info) = tracker.conn(*id) {
                left_end = left_end.max(format!("client {}", info.client).chars().count());
                right_end = right_end.max(format!("server {}", info.server).chars().count());
            }
            for row in rows {
                let (numbers, payload) = label_lines(row);
                widest = widest.max(numbers.chars().count().max(payload.chars().count()));
                left_note = left_note.max(format!("#{} {:.6}s", row.frame, row.time).len());
            }
        }
        let left = (px(left_note, NOTE_CHAR) + 20).max(px(left_end, CHAR) / 2 + 12);
        let lane = (px(widest, CHAR) + 60).max(420);
        let right = left + lane;
        // "close (FIN again)" is the longest phase label.
        let w = right + (px(17, NOTE_CHAR) + 20).max(px(right_end, CHAR) / 2 + 12);
        let mid = (left + right) / 2;
        let mut body = String::new();
        let mut y = 20;
        for (id, (rows, more)) in &self.conns {
            let Some(info) = tracker.conn(*id) else {
                continue;
            };
            let proto = info.proto.map_or("no payload", |p| p.name());
            let _ = writeln!(
                body,
                "<text x=\"{mid}\" y=\"{}\" class=\"title\">{}</text>",
                y + 14,
                xml(&format!("Connection {id} ({proto})"))
            );
            y += 30;
            for (x, who, addr) in [
                (left, "client", info.client),
                (right, "server", info.server),
            ] {
                let _ = writeln!(
                    body,
                    "<text x=\"{x}\" y=\"{}\" class=\"end\">{who} {}</text>",
                    y + 12,
                    xml(&addr.to_string())
                );
            }
            y += 24;
            let top = y;
            for row in rows {
                let (x1, x2) = match row.side {
                    Side::Client => (left, right),
                    Side::Server => (right, left),
                };
                let (numbers, payload) = label_lines(row);
                // Numbers above the arrow, payload below it; the arrow drops 14px.
                let _ = writeln!(
                    body,
                    "<text x=\"{mid}\" y=\"{}\" class=\"label\">{}</text>",
                    y + 14,
                    xml(&numbers)
                );
                let _ = writeln!(
                    body,
                    "<line x1=\"{x1}\" y1=\"{}\" x2=\"{x2}\" y2=\"{}\" class=\"seg\" marker-end=\"url(#head)\"/>",
                    y + 19,
                    y + 33
                );
                if !payload.is_empty() {
                    let _ = writeln!(
                        body,
                        "<text x=\"{mid}\" y=\"{}\" class=\"payload\">{}</text>",
                        y + 44,
                        xml(&payload)
                    );
                }
                let _ = writeln!(
                    body,
                    "<text x=\"{}\" y=\"{}\" class=\"note left\">#{} {:.6}s</text><text x=\"{}\" y=\"{}\" class=\"note\">{}</text>",
                    left - 8,
                    y + 30,
                    row.frame,
                    row.time,
                    right + 8,
                    y + 30,
                    xml(&row.phase.to_string())
                );
                y += if payload.is_empty() {
                    STEP
                } else {
                    STEP_PAYLOAD
                };
            }
            for x in [left, right] {
                let _ = writeln!(
                    body,
                    "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{y}\" class=\"life\"/>"
                );
            }
            if *more > 0 {
                let _ = writeln!(
                    body,
                    "<text x=\"{mid}\" y=\"{}\" class=\"label\">… {more} more segments not drawn</text>",
                    y + 14
                );
                y += 20;
            }
            y += 30;
        }
        format!(
            concat!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"monospace\" font-size=\"12\">\n",
                "<defs><marker id=\"head\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#333\"/></marker></defs>\n",
                "<style>.life{{stroke:#888;stroke-width:2}} .seg{{stroke:#333;stroke-width:1.2}} .label{{text-anchor:middle;fill:#000}} .payload{{text-anchor:middle;fill:#05a}} .note{{fill:#666;font-size:10px}} .left{{text-anchor:end}} .end{{text-anchor:middle;font-weight:bold}} .title{{text-anchor:middle;font-size:14px;font-weight:bold}}</style>\n",
                "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
            ),
            w = w,
            h = y.max(60),
            body = body
        )
    }
}

/// The longest label line the SVG picture draws; longer ones end in `…`.
pub const SVG_LABEL_MAX: usize = 100;

/// A segment's label in two lines for the SVG: flags and numbers; the decoded payload.
fn label_lines(row: &Row) -> (String, String) {
    let mut numbers = format!("[{}] seq={}", row.flags.tcpdump(), row.seq);
    if row.flags.has(crate::packet::Flags::ACK) {
        let _ = write!(numbers, " ack={}", row.ack);
    }
    if row.len > 0 {
        let _ = write!(numbers, " len={}", row.len);
    }
    let mut payload = row.decoded.clone().unwrap_or_default();
    if payload.chars().count() > SVG_LABEL_MAX {
        payload = payload.chars().take(SVG_LABEL_MAX - 1).collect();
        payload.push('…');
    }
    (numbers, payload)
}

fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '"' => s.push_str("&quot;"),
            c if (c as u32) < 0x20 => s.push('\u{fffd}'),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\nd\re\tf\u{1}g\u{7f}é→");
        assert_eq!(s, r#""a\"b\\c\nd\re\tf\u0001g\u007fé→""#);
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
