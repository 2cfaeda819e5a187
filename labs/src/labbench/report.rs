//! labbench's output: a Markdown table, and an SVG with round trips/s and
//! connections/s against the number of connections (log scale), one line per server.

use std::fmt::Write as _;

use super::{CpuUse, Row};

/// Which number of a row a panel plots.
type Metric = fn(&Row) -> f64;

/// The table, one line per server and level, Markdown so it pastes into a report.
///
/// The two CPU columns are the load generator's and the server's use during the round
/// trips and during the connections, in % of one core (`load/server`).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| server | conns | round trips/s | p50 µs | p99 µs | conns/s | PSS MiB \
         | CPU % rt load/srv | CPU % conns load/srv | notes |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let us = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
    let cpu = |c: CpuUse| {
        let server = c.server.map_or("-".to_string(), |s| format!("{s:.0}"));
        format!("{:.0}/{server}", c.client)
    };
    for r in rows {
        let pss = r
            .pss_kib
            .map_or("-".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {:.0} | {} | {} | {} | {} |",
            r.server,
            r.conns,
            r.rt_per_s,
            us(r.p50_us),
            us(r.p99_us),
            r.conn_per_s,
            pss,
            cpu(r.rt_cpu),
            cpu(r.conn_cpu),
            notes(r).join("; ")
        );
    }
    out
}

/// What the numbers alone do not say: unserved clients, failures, the spread of runs.
fn notes(r: &Row) -> Vec<String> {
    let mut notes = Vec::new();
    if r.unserved > 0 {
        notes.push(format!("{} of {} never served", r.unserved, r.conns));
    }
    if r.errors > 0 {
        notes.push(format!("{} failed connects", r.errors));
    }
    if r.runs > 1 {
        let (rt, c) = (r.rt_range, r.conn_range);
        notes.push(format!(
            "{} runs: rt/s {:.0}–{:.0}, conns/s {:.0}–{:.0}",
            r.runs, rt.0, rt.1, c.0, c.1
        ));
    }
    notes
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Two panels side by side: round trips/s and connections/s (log y) against
/// connections (log x).
pub fn svg(rows: &[Row]) -> String {
    let mut servers: Vec<&str> = Vec::new();
    for r in rows {
        if !servers.contains(&r.server.as_str()) {
            servers.push(&r.server);
        }
    }
    let mut out = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"380\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"900\" height=\"380\" fill=\"white\"/>\n",
    );
    let panels: [(&str, Metric); 2] = [
        ("round trips/s", |r| r.rt_per_s),
        ("connections/s", |r| r.conn_per_s),
    ];
    for (p, (title, value)) in panels.iter().enumerate() {
        let x0 = 60.0 + 430.0 * p as f64;
        panel(&mut out, x0, title, rows, &servers, *value);
    }
    for (i, s) in servers.iter().enumerate() {
        let y = 20 + 16 * i;
        let c = COLORS[i % COLORS.len()];
        let _ = writeln!(
            out,
            "<rect x=\"800\" y=\"{}\" width=\"12\" height=\"4\" fill=\"{c}\"/><text x=\"816\" y=\"{}\">{s}</text>",
            y - 4,
            y
        );
    }
    out.push_str("</svg>\n");
    out
}

fn log_span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let (lo, hi) = (lo.log10().floor(), hi.log10().ceil());
    (lo, if hi > lo { hi } else { lo + 1.0 })
}

fn panel(out: &mut String, x0: f64, title: &str, rows: &[Row], servers: &[&str], value: Metric) {
    let (w, h, y0) = (340.0, 280.0, 40.0);
    let (xlo, xhi) = log_span(rows.iter().map(|r| r.conns as f64));
    let (ylo, yhi) = log_span(rows.iter().map(value));
    let px = |c: f64| x0 + (c.max(1.0).log10() - xlo) / (xhi - xlo) * w;
    let py = |v: f64| y0 + h - (v.max(10f64.powf(ylo)).log10() - ylo) / (yhi - ylo) * h;
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">{title}</text>\n\
         <rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>",
        x0 + w / 2.0
    );
    for e in (xlo as i32)..=(xhi as i32) {
        let x = px(10f64.powi(e));
        let _ = writeln!(
            out,
            "<text x=\"{x:.0}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            y0 + h + 16.0,
            10f64.powi(e)
        );
    }
    for e in (ylo as i32)..=(yhi as i32) {
        let y = py(10f64.powi(e));
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{y:.0}\" text-anchor=\"end\">1e{e}</text>",
            x0 - 4.0
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">connections</text>",
        x0 + w / 2.0,
        y0 + h + 32.0
    );
    for (i, s) in servers.iter().enumerate() {
        let pts: Vec<String> = rows
            .iter()
            .filter(|r| r.server == *s)
            .map(|r| format!("{:.1},{:.1}", px(r.conns as f64), py(value(r))))
            .collect();
        let c = COLORS[i % COLORS.len()];
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
            pts.join(" ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(server: &str, conns: usize, rt: f64) -> Row {
        Row {
            server: server.into(),
            conns,
            rt_per_s: rt,
            conn_per_s: rt / 2.0,
            ..Row::default()
        }
    }

    #[test]
    fn table_and_svg_show_every_server() {
        let rows = [
            row("fork", 1, 1000.0),
            row("fork", 10, 5000.0),
            row("epoll", 1, 2000.0),
        ];
        let t = table(&rows);
        assert!(
            t.contains("| fork | 10 | 5000 | - | - | 2500 | - | 0/- | 0/- |  |"),
            "{t}"
        );
        let s = svg(&rows);
        assert!(
            s.starts_with("<svg")
                && s.contains(">epoll</text>")
                && s.trim_end().ends_with("</svg>")
        );
        assert_eq!(s.matches("<polyline").count(), 4);
    }
}
