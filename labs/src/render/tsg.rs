//! `--tsg OUT`: the time-sequence graph of each connection, as Stevens (TCP/IP
//! Illustrated) and tcptrace draw it, one panel per direction that carries data: time
//! across, relative sequence number up; each data segment a vertical bar from its Seq
//! to its end, the other side's ACKs as a step line under them, and the receive window's
//! edge (Ack + window) as a step line above. Retransmissions are red, out-of-order
//! segments orange: a flat run of bars is a stall, bars below the ACK line were resent.

use crate::decode::Side;
use crate::tcp::analysis::Mark;
use crate::tcp::{Row, Tracker};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The most data segments (and as many ACKs) kept per direction and connection.
pub const TSG_POINTS: usize = 5000;

/// One direction's points: data bars (time, seq, end, colour class) and the other
/// side's ACKs (time, ack, ack + window).
#[derive(Default)]
struct Panel {
    data: Vec<(f64, u32, u32, &'static str)>,
    acks: Vec<(f64, u32, u32)>,
    dropped: usize,
}

/// Collects the rows of every connection for the graphs.
#[derive(Default)]
pub struct Tsg {
    conns: BTreeMap<usize, [Panel; 2]>,
}

impl Tsg {
    /// Adds one segment.
    pub fn row(&mut self, row: &Row) {
        let panels = self.conns.entry(row.conn).or_default();
        let me = usize::from(row.side == Side::Server);
        if row.len > 0 {
            let p = &mut panels[me];
            if p.data.len() >= TSG_POINTS {
                p.dropped += 1;
                return;
            }
            let m = row.analysis.marks;
            let resent = [
                Mark::Retransmission,
                Mark::FastRetransmission,
                Mark::SpuriousRetransmission,
            ];
            let class = if resent.iter().any(|r| m.has(*r)) {
                "re"
            } else if m.has(Mark::OutOfOrder) {
                "ooo"
            } else {
                "d"
            };
            p.data
                .push((row.time, row.seq, row.seq.wrapping_add(row.len), class));
        }
        if row.flags.has(crate::packet::Flags::ACK) {
            let p = &mut panels[1 - me];
            if p.acks.len() < TSG_POINTS {
                p.acks
                    .push((row.time, row.ack, row.ack.saturating_add(row.win)));
            }
        }
    }

    /// The SVG: per connection, a panel per direction with data.
    pub fn finish(&self, tracker: &Tracker) -> String {
        const W: f64 = 760.0;
        const H: f64 = 360.0;
        const X0: f64 = 80.0;
        const Y0: f64 = 40.0;
        let mut body = String::new();
        let mut y = 10.0;
        for (id, panels) in &self.conns {
            for (i, p) in panels.iter().enumerate() {
                if p.data.is_empty() {
                    continue;
                }
                let who = if i == 0 {
                    "client → server"
                } else {
                    "server → client"
                };
                let title = match tracker.conn(*id) {
                    Some(c) => format!("Connection {id} ({} → {}): {who} data", c.client, c.server),
                    None => format!("Connection {id}: {who} data"),
                };
                panel(&mut body, p, y, &title, (X0, Y0, W, H));
                y += H + Y0 + 70.0;
            }
        }
        format!(
            concat!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n",
                "<style>.axis{{stroke:#000}} .grid{{stroke:#ddd}} .d{{stroke:#000;stroke-width:1.5}} .re{{stroke:#d00;stroke-width:2.5}} .ooo{{stroke:#e80;stroke-width:2.5}} .ack{{fill:none;stroke:#080}} .win{{fill:none;stroke:#c0c}} .t{{text-anchor:middle}} .r{{text-anchor:end}}</style>\n",
                "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
            ),
            w = X0 + W + 40.0,
            h = y.max(60.0),
            body = body
        )
    }
}

/// Draws one panel at height `top`: axes, grid, window and ACK lines, data bars.
fn panel(out: &mut String, p: &Panel, top: f64, title: &str, (x0, y0, w, h): (f64, f64, f64, f64)) {
    let t_min = p
        .data
        .iter()
        .map(|d| d.0)
        .chain(p.acks.iter().map(|a| a.0))
        .fold(f64::MAX, f64::min);
    let t_max = p
        .data
        .iter()
        .map(|d| d.0)
        .chain(p.acks.iter().map(|a| a.0))
        .fold(f64::MIN, f64::max);
    let s_min = p.data.iter().map(|d| d.1).min().unwrap_or(0);
    let s_max = p
        .data
        .iter()
        .map(|d| d.2)
        .chain(p.acks.iter().map(|a| a.2))
        .max()
        .unwrap_or(1);
    let span_t = (t_max - t_min).max(1e-6);
    let span_s = f64::from(s_max.saturating_sub(s_min).max(1));
    let x = |t: f64| x0 + (t - t_min) / span_t * w;
    let y = |s: u32| top + y0 + h - f64::from(s.saturating_sub(s_min)) / span_s * h;
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" class=\"t\" font-weight=\"bold\">{}</text>",
        x0 + w / 2.0,
        top + 20.0,
        super::svg::xml(title)
    );
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let (gx, gy) = (x0 + f * w, top + y0 + h - f * h);
        let _ = writeln!(
            out,
            "<line x1=\"{gx:.1}\" y1=\"{}\" x2=\"{gx:.1}\" y2=\"{}\" class=\"grid\"/><text x=\"{gx:.1}\" y=\"{}\" class=\"t\">{:.3} s</text>",
            top + y0,
            top + y0 + h,
            top + y0 + h + 16.0,
            t_min + f * span_t
        );
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" y1=\"{gy:.1}\" x2=\"{}\" y2=\"{gy:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"r\">{}</text>",
            x0 + w,
            x0 - 6.0,
            gy + 4.0,
            s_min as f64 + (f * span_s).round()
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{x0}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/><line x1=\"{x0}\" y1=\"{}\" x2=\"{x0}\" y2=\"{}\" class=\"axis\"/>",
        top + y0 + h,
        x0 + w,
        top + y0 + h,
        top + y0,
        top + y0 + h
    );
    for (class, pick) in [("ack", 1usize), ("win", 2)] {
        let mut d = String::new();
        for (i, a) in p.acks.iter().enumerate() {
            let v = if pick == 1 { a.1 } else { a.2 };
            let (ax, ay) = (x(a.0), y(v.max(s_min)));
            if i == 0 {
                let _ = write!(d, "M{ax:.1},{ay:.1}");
            } else {
                let _ = write!(d, " H{ax:.1} V{ay:.1}");
            }
        }
        if !d.is_empty() {
            let _ = writeln!(out, "<path d=\"{d}\" class=\"{class}\"/>");
        }
    }
    for (t, seq, end, class) in &p.data {
        let bx = x(*t);
        let _ = writeln!(
            out,
            "<line x1=\"{bx:.1}\" y1=\"{:.1}\" x2=\"{bx:.1}\" y2=\"{:.1}\" class=\"{class}\"/>",
            y(*seq),
            y(*end).min(y(*seq) - 1.0)
        );
    }
    let legend = format!(
        "time → ; relative Seq ↑ — black: data, red: retransmitted, orange: out of order, green: ACK, violet: ACK + window{}",
        if p.dropped > 0 {
            format!(" ({} segments not drawn)", p.dropped)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" class=\"t\" font-size=\"11\">{}</text>",
        x0 + w / 2.0,
        top + y0 + h + 34.0,
        super::svg::xml(&legend)
    );
}
