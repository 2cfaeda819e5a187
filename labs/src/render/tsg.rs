//! `--tsg OUT`: the time-sequence graph of each connection, as Stevens (TCP/IP
//! Illustrated) and tcptrace draw it, one panel per direction that carries data: time
//! across, relative sequence number up; each data segment a vertical bar from its Seq
//! to its end, the other side's ACKs as a step line under them, and the receive window's
//! edge (Ack + window) as a step line above. Retransmissions are red, out-of-order
//! segments orange: a flat run of bars is a stall, bars below the ACK line were resent.
//!
//! The vertical scale fits the data and the ACK line, not the window: a lab message is
//! a few bytes, a window 64 KiB, and a scale that held both would flatten the data into
//! the bottom edge. Where the window's edge is above the scale it is drawn dashed along
//! the top, and the panel says so. A direction without data gets a line, not a panel.

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

/// A panel's frame in the picture: left edge, gap above the plot, plot width and height.
const X0: f64 = 80.0;
const Y0: f64 = 40.0;
const W: f64 = 760.0;
const H: f64 = 360.0;
/// Space between the y-axis and the first bar, and after the last.
const PAD: f64 = 10.0;

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

    /// The SVG: per connection, a panel per direction with data, and a line for a
    /// direction without.
    pub fn finish(&self, tracker: &Tracker) -> String {
        let mut body = String::new();
        let mut y = 10.0;
        for (id, panels) in &self.conns {
            let name = match tracker.conn(*id) {
                Some(c) => format!("Connection {id} ({} → {})", c.client, c.server),
                None => format!("Connection {id}"),
            };
            if panels.iter().all(|p| p.data.is_empty()) {
                y = no_data(&mut body, y, &format!("{name}: no data either way"));
                continue;
            }
            for (i, p) in panels.iter().enumerate() {
                let who = if i == 0 {
                    "client → server"
                } else {
                    "server → client"
                };
                if p.data.is_empty() {
                    y = no_data(&mut body, y, &format!("{name}: {who}: no data this way"));
                    continue;
                }
                panel(&mut body, p, y, &format!("{name}: {who} data"));
                y += H + Y0 + 70.0;
            }
        }
        format!(
            concat!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n",
                "<style>.axis{{stroke:#000}} .grid{{stroke:#ddd}} .d{{stroke:#000;stroke-width:1.5;marker-start:url(#cd);marker-end:url(#cd)}} .re{{stroke:#d00;stroke-width:2.5;marker-start:url(#cre);marker-end:url(#cre)}} .ooo{{stroke:#e80;stroke-width:2.5;marker-start:url(#cooo);marker-end:url(#cooo)}} .ack{{fill:none;stroke:#080}} .win{{fill:none;stroke:#c0c}} .winclip{{fill:none;stroke:#fff;stroke-width:1.5;stroke-dasharray:4 4}} .clip{{fill:#c0c;text-anchor:end}} .t{{text-anchor:middle}} .r{{text-anchor:end}}</style>\n",
                "<defs>{caps}</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
            ),
            caps = caps(),
            w = X0 + W + 40.0,
            h = y.max(60.0),
            body = body
        )
    }
}

/// The short crossbars at both ends of a data bar (tcptrace's "I"), one per colour.
fn caps() -> String {
    let mut s = String::new();
    for (id, colour) in [("cd", "#000"), ("cre", "#d00"), ("cooo", "#e80")] {
        let _ = write!(
            s,
            "<marker id=\"{id}\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"2\" refX=\"4.5\" refY=\"1\" orient=\"0\" overflow=\"visible\"><path d=\"M0,1 H9\" stroke=\"{colour}\" stroke-width=\"1.5\"/></marker>"
        );
    }
    s
}

/// Writes the line that stands for a direction (or a connection) without data at
/// height `top`; returns the height below it.
fn no_data(out: &mut String, top: f64, text: &str) -> f64 {
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" class=\"t nodata\">{}</text>",
        X0 + W / 2.0,
        top + 20.0,
        super::svg::xml(text)
    );
    top + 34.0
}

/// The sequence axis: from `base` up `n` ticks of `step` bytes.
struct Axis {
    base: u64,
    step: u64,
    n: u64,
}

impl Axis {
    /// Round ticks (1, 2 or 5 times a power of ten) from at or below `lo` to at or
    /// above `hi`, about five of them.
    fn new(lo: u32, hi: u32) -> Axis {
        let (lo, hi) = (u64::from(lo), u64::from(hi.max(lo)));
        let want = ((hi - lo) / 5).max(1);
        let step = (0..12)
            .flat_map(|e| [1, 2, 5].map(|m| m * 10u64.pow(e)))
            .find(|&s| s >= want)
            .unwrap_or(want);
        let base = lo - lo % step;
        let n = (hi - base).div_ceil(step).max(1);
        Axis { base, step, n }
    }

    fn top(&self) -> u64 {
        self.base + self.n * self.step
    }
}

/// Draws one panel at height `top`: axes, grid, window and ACK lines, data bars.
fn panel(out: &mut String, p: &Panel, top: f64, title: &str) {
    let times = || p.data.iter().map(|d| d.0).chain(p.acks.iter().map(|a| a.0));
    let t_min = times().fold(f64::MAX, f64::min);
    let t_max = times().fold(f64::MIN, f64::max);
    // The scale fits the data and the ACKs; the window's edge may run off the top.
    let lo = p.data.iter().map(|d| d.1).chain(p.acks.iter().map(|a| a.1));
    let hi = p.data.iter().map(|d| d.2).chain(p.acks.iter().map(|a| a.1));
    let axis = Axis::new(lo.min().unwrap_or(0), hi.max().unwrap_or(1));
    let span_t = (t_max - t_min).max(1e-6);
    let span_s = (axis.top() - axis.base) as f64;
    let (bottom, plot_top) = (top + Y0 + H, top + Y0);
    let x = |t: f64| X0 + PAD + (t - t_min) / span_t * (W - 2.0 * PAD);
    let y = |s: u32| {
        let above = u64::from(s).saturating_sub(axis.base) as f64;
        bottom - above.min(span_s) / span_s * H
    };
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" class=\"t\" font-weight=\"bold\">{}</text>",
        X0 + W / 2.0,
        top + 20.0,
        super::svg::xml(title)
    );
    // Enough decimals that the time ticks differ (the text view shows 6).
    let decimals = ((-(span_t / 4.0).log10()).ceil() as i64 + 1).clamp(3, 6) as usize;
    for k in 0..=4 {
        let t = t_min + f64::from(k) / 4.0 * span_t;
        let gx = x(t);
        let _ = writeln!(
            out,
            "<line x1=\"{gx:.1}\" y1=\"{plot_top}\" x2=\"{gx:.1}\" y2=\"{bottom}\" class=\"grid\"/><text x=\"{gx:.1}\" y=\"{}\" class=\"t\">{t:.decimals$} s</text>",
            bottom + 16.0,
        );
    }
    for k in 0..=axis.n {
        let gy = bottom - (k as f64) / (axis.n as f64) * H;
        let _ = writeln!(
            out,
            "<line x1=\"{X0}\" y1=\"{gy:.1}\" x2=\"{}\" y2=\"{gy:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"r\">{}</text>",
            X0 + W,
            X0 - 6.0,
            gy + 4.0,
            axis.base + k * axis.step
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{X0}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" class=\"axis\"/><line x1=\"{X0}\" y1=\"{plot_top}\" x2=\"{X0}\" y2=\"{bottom}\" class=\"axis\"/>",
        X0 + W,
    );
    steps(out, p, "ack", &|a| a.1, &x, &y);
    steps(out, p, "win", &|a| a.2, &x, &y);
    let clipped = p.acks.iter().map(|a| u64::from(a.2)).max();
    if let Some(most) = clipped.filter(|&m| m > axis.top()) {
        clip_marks(out, p, axis.top(), &x, plot_top);
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" class=\"clip\" font-size=\"11\">ACK + window: above this scale (up to {most}), dashed along the top</text>",
            X0 + W,
            plot_top - 4.0
        );
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
            format!(" ({} not drawn)", crate::plural(p.dropped, "segment"))
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" class=\"t\" font-size=\"11\">{}</text>",
        X0 + W / 2.0,
        bottom + 34.0,
        super::svg::xml(&legend)
    );
}

/// Appends one step line through the ACKs' `pick` values (clipped to the plot).
fn steps(
    out: &mut String,
    p: &Panel,
    class: &str,
    pick: &dyn Fn(&(f64, u32, u32)) -> u32,
    x: &dyn Fn(f64) -> f64,
    y: &dyn Fn(u32) -> f64,
) {
    let mut d = String::new();
    for (i, a) in p.acks.iter().enumerate() {
        let (ax, ay) = (x(a.0), y(pick(a)));
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

/// Dashes the stretches of the window line that run along the top because the
/// window's edge is above the scale (white gaps over the violet line).
fn clip_marks(out: &mut String, p: &Panel, top: u64, x: &dyn Fn(f64) -> f64, plot_top: f64) {
    let mut d = String::new();
    for (i, a) in p.acks.iter().enumerate() {
        if u64::from(a.2) <= top {
            continue;
        }
        let end = p.acks.get(i + 1).map_or(a.0, |b| b.0);
        let _ = write!(d, "M{:.1},{plot_top:.1} H{:.1} ", x(a.0), x(end));
    }
    let _ = writeln!(out, "<path d=\"{}\" class=\"winclip\"/>", d.trim_end());
}
