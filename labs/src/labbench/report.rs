//! labbench's output: a Markdown table, and an SVG with round trips/s and
//! connections/s against the number of connections (log scale), one line per server.

use std::fmt::Write as _;

use super::{CpuUse, Row};
use crate::plot::{self, Axis, Panel, Scale, Series};

/// Which number of a row a panel plots.
type Metric = fn(&Row) -> f64;

/// The table, one line per server and level, Markdown so it pastes into a report.
///
/// `load` is what the load generator said to the server ([`super::Protocol`]): `echo`
/// (64 bytes, echoed back) or `GEN` (the lottery's command; the answer is what one
/// `read` returns). An echo server measured with `GEN` answers with the 4 bytes
/// themselves: the same exchange as a lottery server's, for comparing the two. The two
/// CPU columns are the load generator's and the server's use during the round
/// trips and during the connections, in % of one core (`load/server`).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| server | load | conns | round trips/s | p50 µs | p99 µs | conns/s | PSS MiB \
         | CPU % rt load/srv | CPU % conns load/srv | notes |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
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
            "| {} | {} | {} | {:.0} | {} | {} | {:.0} | {} | {} | {} | {} |",
            r.server,
            r.load.label(),
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

/// Two panels side by side: round trips/s and connections/s (log y) against
/// connections (log x), a line per server.
pub fn svg(rows: &[Row]) -> String {
    let mut servers: Vec<&str> = Vec::new();
    for r in rows {
        if !servers.contains(&r.server.as_str()) {
            servers.push(&r.server);
        }
    }
    let series = |value: Metric| -> Vec<Series> {
        let line = |server: &&str| Series {
            label: server.to_string(),
            points: rows
                .iter()
                .filter(|r| r.server == *server)
                .map(|r| (r.conns as f64, value(r)))
                .collect(),
        };
        servers.iter().map(line).collect()
    };
    let (round_trips, connections) = (series(|r| r.rt_per_s), series(|r| r.conn_per_s));
    let log = |label| Axis {
        label,
        scale: Scale::Log,
    };
    let panels = [
        Panel {
            x: log("connections"),
            y: log("round trips/s"),
            series: &round_trips,
        },
        Panel {
            x: log("connections"),
            y: log("connections/s"),
            series: &connections,
        },
    ];
    plot::chart("servers under load (labbench)", &panels)
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
            t.contains("| fork | echo | 10 | 5000 | - | - | 2500 | - | 0/- | 0/- |  |"),
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
