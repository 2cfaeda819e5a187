//! `--html`: one self-contained page per capture (inline CSS and JavaScript, the
//! pictures as data URLs; nothing fetched from the network). It holds the ladder and the
//! time-sequence graph, then per connection the text view's lines, each segment opening
//! onto its fields (link, IP, TCP with its options, the lab payload: [`frame`],
//! `ip`, `tcp`, [`payload`]) beside its bytes in hex, the analysis notes and the bookkeeping tables.
//!
//! Pointing at a field highlights its bytes, pointing at a byte highlights the field it
//! belongs to (the innermost one). The page's script also holds a self-test: opened with
//! `#selftest` at the end of its URL, the page points at every field and at every byte
//! of the segments it shows, checks each highlight, and writes the results and any
//! script error into `<pre id="selftest">` (what the tests read from a headless browser).

pub mod frame;
mod ip;
pub mod payload;
mod tcp;

use super::{svg::Svg, text, tsg::Tsg};
use crate::packet::Flags;
use crate::tcp::{Row, Table, Tracker};
use frame::Field;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The most segments shown with their fields and bytes; later ones get their line only.
pub const HTML_DETAILS: usize = 1000;
/// The most segment lines on a page; later segments are only counted.
pub const HTML_ROWS: usize = 10_000;
/// The most connections drawn in the ladder and the time-sequence graph.
pub const HTML_PICTURES: usize = 50;
/// The most bytes of one frame shown in hex (a whole Ethernet frame fits).
pub const HTML_BYTES: usize = 1600;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Collects a capture's page as its segments arrive.
#[derive(Default)]
pub struct Html {
    /// Each connection's part of the page so far.
    conns: BTreeMap<usize, String>,
    rows: usize,
    details: usize,
    /// Segments past [`HTML_ROWS`].
    more: usize,
    /// True once a segment with a payload is shown open, for a first look.
    opened: bool,
    ladder: Svg,
    tsg: Tsg,
}

impl Html {
    /// Adds one segment: `frame` is the whole captured frame, of link type `linktype`.
    pub fn segment(&mut self, row: &Row, linktype: i32, frame: &[u8], tracker: &Tracker) {
        if row.conn <= HTML_PICTURES {
            self.ladder.row(row);
            self.tsg.row(row);
        }
        if self.rows >= HTML_ROWS {
            self.more += 1;
            return;
        }
        self.rows += 1;
        let s = self.conns.entry(row.conn).or_default();
        if let Some(t) = &row.cut_short {
            table(s, t);
        }
        let mut line = String::new();
        text::line(&mut line, row);
        let line = esc(line.trim_end());
        if self.details < HTML_DETAILS {
            self.details += 1;
            let open = if row.len > 0 && !self.opened {
                " open"
            } else {
                ""
            };
            self.opened |= row.len > 0;
            let f = row.frame;
            let _ = write!(
                s,
                "<details class=\"seg\" id=\"f{f}\" data-frame=\"{f}\"{open}>"
            );
            let _ = write!(
                s,
                "<summary>{line}</summary><div class=\"dis\"><div class=\"tree\">"
            );
            let proto = tracker.conn(row.conn).and_then(|c| c.proto);
            for field in fields(row, linktype, frame, proto) {
                tree(s, &field);
            }
            s.push_str("</div><pre class=\"hex\">");
            hex(s, frame);
            s.push_str("</pre></div></details>\n");
        } else {
            let _ = writeln!(s, "<div class=\"line\">{line}</div>");
        }
        for note in crate::tcp::explain::sentences(row) {
            let _ = writeln!(s, "<p class=\"note\">↳ {}</p>", esc(&note));
        }
        if let Some(t) = &row.table {
            table(s, t);
        }
    }

    /// True if the page shows connection `id`: the tracker must keep it until the end.
    pub fn keeps(&self, id: usize) -> bool {
        id <= HTML_PICTURES || self.conns.contains_key(&id)
    }

    /// The page: `name` is the capture's, `summary` the trace's last line; the open
    /// exchanges' tables come from the tracker.
    pub fn finish(mut self, name: &str, summary: &str, tracker: &Tracker) -> String {
        for (id, t) in tracker.open_tables() {
            if let Some(s) = self.conns.get_mut(&id) {
                table(s, &t);
            }
        }
        for (id, _) in tracker.unclosed() {
            if let Some(s) = self.conns.get_mut(&id) {
                let note = esc(crate::tcp::explain::NO_CLOSE);
                let _ = writeln!(s, "<p class=\"note\">↳ {note}</p>");
            }
        }
        let name = esc(&unp::printable(name.as_bytes()));
        let mut page = String::with_capacity(1 << 16);
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>labtrace: {name}</title>\n<style>\n{CSS}</style></head>\n<body>\n\
             <header><h1>labtrace: <code>{name}</code></h1><p>{}</p>\
             <p class=\"help\">Click a segment's line to open its fields and bytes; point \
             at a field to see its bytes, at a byte to see its field.</p></header>\n",
            esc(summary)
        );
        let ladder = self.ladder.finish(tracker);
        let tsg = self.tsg.finish(tracker);
        let first = if tracker.connections() > HTML_PICTURES {
            format!(" (the first {HTML_PICTURES} connections)")
        } else {
            String::new()
        };
        let _ = writeln!(
            page,
            "<section id=\"pictures\"><details open><summary>Ladder diagram{first}</summary>\
             <img alt=\"ladder diagram\" src=\"data:image/svg+xml;base64,{}\"></details>\
             <details><summary>Time-sequence graph{first}</summary>\
             <img alt=\"time-sequence graph\" src=\"data:image/svg+xml;base64,{}\"></details></section>",
            base64(ladder.as_bytes()),
            base64(tsg.as_bytes())
        );
        for (id, body) in &self.conns {
            let _ = write!(page, "<section class=\"conn\" id=\"c{id}\">");
            if let Some(info) = tracker.conn(*id) {
                let mut head = String::new();
                text::heading(&mut head, info);
                let proto = info.proto.map_or("no payload", |p| p.name());
                let _ = write!(
                    page,
                    "<h2>Connection {id}: client {} → server {} ({proto})</h2><pre class=\"head\">{}</pre>",
                    info.client,
                    info.server,
                    esc(&head)
                );
            }
            let _ = writeln!(page, "{body}</section>");
        }
        if self.more > 0 {
            let _ = writeln!(page, "<p>… and {} more segments, not shown.</p>", self.more);
        }
        let _ = write!(
            page,
            "<pre id=\"selftest\" hidden></pre>\n<script>\n{JS}</script>\n</body></html>\n"
        );
        page
    }
}

/// The segment's fields: the headers, then its payload in its lab protocol.
fn fields(
    row: &Row,
    linktype: i32,
    frame: &[u8],
    proto: Option<crate::decode::Proto>,
) -> Vec<Field> {
    let (mut layers, payload) = frame::headers(linktype, frame, row);
    if let Some((start, end)) = payload.filter(|(s, e)| e > s) {
        let syn = u32::from(row.flags.has(Flags::SYN));
        let offset = row.seq.wrapping_add(syn).wrapping_sub(1);
        let bytes = frame.get(start..end).unwrap_or_default();
        layers.push(payload::fields(proto, row.side, offset, bytes, start));
    }
    layers
}

/// Appends a field and the fields inside it, as nested elements holding their byte range.
fn tree(s: &mut String, f: &Field) {
    let _ = write!(
        s,
        "<div class=\"f\" data-s=\"{}\" data-e=\"{}\" data-name=\"{}\"><span class=\"l\">{}</span>",
        f.start,
        f.end,
        esc(&f.name),
        esc(&f.label)
    );
    for c in &f.children {
        tree(s, c);
    }
    s.push_str("</div>");
}

/// Appends a hex dump, 16 bytes a line, each byte (hex and character) an element
/// holding its offset.
fn hex(s: &mut String, frame: &[u8]) {
    let shown = &frame[..frame.len().min(HTML_BYTES)];
    for (n, chunk) in shown.chunks(16).enumerate() {
        let _ = write!(s, "<span class=\"o\">{:04x}</span> ", n * 16);
        for j in 0..16 {
            s.push_str(if j == 8 { "  " } else { " " });
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(s, "<span data-i=\"{}\">{b:02x}</span>", n * 16 + j);
                }
                None => s.push_str("  "),
            }
        }
        s.push_str("  ");
        for (j, b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() {
                *b as char
            } else {
                '.'
            };
            let _ = write!(
                s,
                "<span class=\"a\" data-i=\"{}\">{}</span>",
                n * 16 + j,
                esc(&c.to_string())
            );
        }
        s.push('\n');
    }
    if frame.len() > shown.len() {
        let more = crate::plural(frame.len() - shown.len(), "byte");
        let _ = writeln!(s, "… {more} more");
    }
}

/// Appends a bookkeeping table, with the legend above a connection's first.
fn table(s: &mut String, t: &Table) {
    if !s.contains("class=\"legend\"") {
        let _ = write!(
            s,
            "<p class=\"legend\">{}</p>",
            esc(text::BOOKKEEPING_LEGEND.trim())
        );
    }
    let _ = write!(
        s,
        "<table class=\"book\"><caption>{}</caption><tr><th>after segment</th>\
         <th>Server Seq</th><th>Server Ack</th><th>Client Seq</th><th>Client Ack</th></tr>",
        text::table_title(t)
    );
    let mut rows: Vec<(String, crate::tcp::Bookkeeping)> = t
        .rows
        .iter()
        .map(|r| {
            (
                format!("<a href=\"#f{}\">{}</a>", r.frame, esc(&text::row_label(r))),
                r.book,
            )
        })
        .collect();
    if t.more > 0 {
        rows.push((format!("… {} more, then", t.more), t.last));
    }
    for (what, b) in rows {
        let _ = write!(
            s,
            "<tr><td>{what}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            b.server_seq, b.server_ack, b.client_seq, b.client_ack
        );
    }
    s.push_str("</table>\n");
}

/// Text made safe inside HTML elements and double-quoted attribute values: the SVG
/// ladder's XML escaping, line by line (line ends kept).
pub fn esc(text: &str) -> String {
    text.split('\n')
        .map(super::svg::xml)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Standard base64 (RFC 4648), for the pictures' data URLs.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc_4648_says() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&\n\x1b"),
            "&lt;a href=&quot;x&quot;&gt;&amp;\n\u{fffd}"
        );
    }
}
