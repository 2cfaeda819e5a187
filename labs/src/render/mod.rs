//! The views of a trace: the text story (default), JSON lines, the ASCII ladder, and
//! the SVG ladder.
//!
//! | module | what it draws |
//! |---|---|
//! | [`text`] | the story: one line per segment, the bookkeeping tables after the exchanges |
//! | [`ladder`] | an ASCII sequence diagram: one arrow per segment between client and server |
//! | [`json`] | one JSON object per segment per line, for scripts ([`JSON_FIELDS`]) |
//! | [`svg`] | the ladder as an SVG picture, written beside another view |
//! | [`tsg`] | `--tsg`: the time-sequence graph (Stevens/tcptrace) of each connection, as SVG |
//! | [`html`] | `--html`: one self-contained page: ladder, story, tables, each segment's fields beside its bytes |
//! | [`rtt`] | `--rtt`: each ACK's RTT sample and the RFC 6298 estimator, per direction |
//! | [`quiz`] | `--quiz`: the text view with the bookkeeping tables blank, as Markdown to fill in |
//! | [`mark`] | `--answers`: the text view with a student's filled-in tables marked |
//! | [`udp`] | the UDP flows in each view: a line per datagram, notes, a summary per flow |
//!
//! JSON goes out as each segment arrives. The text and ladder views tell one connection
//! at a time, so they hold a connection's rendered lines until it ends (its close or
//! reset) and print them then; connections still open at the end of the file print last,
//! then the UDP flows (which have no close), then the summary line.

pub mod html;
pub mod json;
pub mod ladder;
pub mod mark;
pub mod quiz;
pub mod rtt;
pub mod svg;
pub mod text;
pub mod tsg;
pub mod udp;

pub use json::{JSON_FIELDS, json_line, json_string};
pub use ladder::label;
pub use svg::{SVG_LABEL_MAX, SVG_ROWS, Svg};
pub use text::BOOKKEEPING_LEGEND;

use crate::decode::Side;
use crate::tcp::{ConnInfo, Row, Tracker};
use std::collections::BTreeMap;
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
    /// The text view as a Markdown quiz: the bookkeeping tables' cells blank (`--quiz`).
    Quiz,
    /// The text view with a student's answers marked (`--answers`; see
    /// [`Renderer::with_answers`]).
    Mark,
}

/// Writes rows in one view.
pub struct Renderer<W: Write> {
    view: View,
    out: W,
    held: BTreeMap<usize, String>,
    /// With `--rtt`: each held connection's estimators.
    rtt: Option<BTreeMap<usize, rtt::Rtt>>,
    /// With `--answers`: the student's answers and the marks so far.
    marker: mark::Marker,
}

impl<W: Write> Renderer<W> {
    /// A renderer writing `view` to `out`.
    pub fn new(view: View, out: W) -> Renderer<W> {
        Renderer {
            view,
            out,
            held: BTreeMap::new(),
            rtt: None,
            marker: mark::Marker::default(),
        }
    }

    /// Marks `answers` instead of showing the tables: the [`View::Mark`] view.
    pub fn with_answers(mut self, answers: quiz::Answers) -> Renderer<W> {
        self.view = View::Mark;
        self.marker = mark::Marker::new(answers);
        self
    }

    /// Also shows RTT samples and the RFC 6298 estimator (see [`rtt`]).
    pub fn with_rtt(mut self, on: bool) -> Renderer<W> {
        self.rtt = on.then(BTreeMap::new);
        self
    }

    /// Shows one segment.
    pub fn row(&mut self, row: &Row, tracker: &Tracker) -> io::Result<()> {
        if self.view == View::Json {
            return json::json_line_with(&mut self.out, row, self.rtt.is_some());
        }
        if let Some(rtt) = &mut self.rtt
            && self.view == View::Text
        {
            rtt.entry(row.conn).or_default().row(row);
        }
        let text = self.held.entry(row.conn).or_default();
        match self.view {
            View::Ladder => ladder::line(text, row),
            View::Quiz => text::segment_with(text, row, &mut quiz::table),
            View::Mark => text::segment_with(text, row, &mut |s, t| self.marker.table(s, t)),
            _ => text::segment(text, row),
        }
        if row.ends {
            self.flush_conn(row.conn, tracker)?;
        }
        Ok(())
    }

    fn flush_conn(&mut self, id: usize, tracker: &Tracker) -> io::Result<()> {
        let Some(mut body) = self.held.remove(&id) else {
            return Ok(());
        };
        if let Some(r) = self.rtt.as_mut().and_then(|m| m.remove(&id)) {
            r.tables(&mut body);
        }
        if let Some(info) = tracker.conn(id) {
            writeln!(self.out, "{}", header(info, self.view))?;
        }
        if self.view == View::Quiz {
            quiz::end(&mut body);
        }
        self.out.write_all(body.as_bytes())?;
        writeln!(self.out)
    }

    /// Shows one UDP datagram, ICMP error or fragment: at once in JSON; the other views
    /// tell the flows at the end (see [`udp`]).
    pub fn udp_line(&mut self, line: &crate::udp::Line) -> io::Result<()> {
        match self.view {
            View::Json => udp::json_line(&mut self.out, line),
            _ => Ok(()),
        }
    }

    /// Ends the trace: open exchanges' tables, connections not yet printed, the UDP
    /// flows, a summary.
    pub fn finish(
        mut self,
        tracker: &mut Tracker,
        flows: &crate::udp::Flows,
        summary: &str,
    ) -> io::Result<W> {
        let unclosed = tracker.unclosed();
        if self.view == View::Json {
            for (id, last) in unclosed {
                json::no_close_line(&mut self.out, id, last)?;
            }
            udp::json_flows(&mut self.out, flows)?;
        } else {
            for (id, t) in tracker.finish() {
                let Some(text) = self.held.get_mut(&id) else {
                    continue;
                };
                match self.view {
                    View::Text => text::table(text, &t),
                    View::Quiz => quiz::table(text, &t),
                    View::Mark => self.marker.table(text, &t),
                    View::Json | View::Ladder => {}
                }
            }
            for (id, _) in unclosed {
                if let Some(text) = self.held.get_mut(&id) {
                    text::no_close(text);
                }
            }
            let ids: Vec<usize> = self.held.keys().copied().collect();
            for id in ids {
                self.flush_conn(id, tracker)?;
            }
            let mut section = String::new();
            udp::section(&mut section, flows, self.view);
            self.out.write_all(section.as_bytes())?;
            writeln!(self.out, "{summary}")?;
            if self.view == View::Mark {
                writeln!(self.out, "{}", self.marker.score())?;
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The lines above a connection's segments: who connected to whom, in what protocol,
/// then the view's column headings.
fn header(info: &ConnInfo, view: View) -> String {
    let proto = info.proto.map_or("no payload", |p| p.name());
    let mut s = format!(
        "Connection {}: client {} → server {} ({proto})\n",
        info.id, info.client, info.server
    );
    match view {
        View::Ladder => ladder::heading(&mut s),
        View::Quiz => quiz::heading(&mut s, info),
        _ => text::heading(&mut s, info),
    }
    s
}

/// Which way a segment goes, as the text view and the tables write it.
fn arrow(side: Side) -> &'static str {
    match side {
        Side::Client => "C→S",
        Side::Server => "S→C",
    }
}
