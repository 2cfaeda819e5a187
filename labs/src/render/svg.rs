//! The SVG ladder: per connection two timelines and one arrow per segment, with the
//! flags and numbers above the arrow and the decoded payload under it.

use crate::decode::Side;
use crate::tcp::{Row, Tracker};
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
            let title = format!("Connection {id} ({proto})");
            text(&mut body, mid, y + 14, "title", &title);
            y += 30;
            for (x, who, addr) in [
                (left, "client", info.client),
                (right, "server", info.server),
            ] {
                text(&mut body, x, y + 12, "end", &format!("{who} {addr}"));
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
                text(&mut body, mid, y + 14, "label", &numbers);
                let _ = writeln!(
                    body,
                    "<line x1=\"{x1}\" y1=\"{}\" x2=\"{x2}\" y2=\"{}\" class=\"seg\" marker-end=\"url(#head)\"/>",
                    y + 19,
                    y + 33
                );
                if !payload.is_empty() {
                    text(&mut body, mid, y + 44, "payload", &payload);
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
                let note = format!("… {more} more segments not drawn");
                text(&mut body, mid, y + 14, "label", &note);
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
    let numbers = super::ladder::numbers(row);
    let mut payload = row.decoded.clone().unwrap_or_default();
    if payload.chars().count() > SVG_LABEL_MAX {
        payload = payload.chars().take(SVG_LABEL_MAX - 1).collect();
        payload.push('…');
    }
    (numbers, payload)
}

/// Appends a `<text>` element of `class` at (`x`, `y`) holding `content`, escaped for XML.
fn text(body: &mut String, x: usize, y: usize, class: &str, content: &str) {
    let _ = writeln!(
        body,
        "<text x=\"{x}\" y=\"{y}\" class=\"{class}\">{}</text>",
        xml(content)
    );
}

/// `text` escaped for XML; control characters, which XML 1.0 forbids, become U+FFFD.
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
    fn xml_is_escaped() {
        assert_eq!(xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
