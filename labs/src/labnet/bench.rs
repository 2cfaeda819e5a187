//! `labnet bench ft`: the file transfer across a link with each combination of loss
//! and delay, one network per measurement; a table of the time, the throughput, the
//! segments the link dropped and the repairs tshark counts in the capture of what was
//! sent; and, if asked, an SVG chart of throughput against loss, a line per delay.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::impair::{Impairments, PerDirection};
use super::names::Names;
use super::report;
use super::scenario::{self, Play, Scenario};
use super::session::{LinkOptions, with_network};
use super::tap::CaptureMode;
use crate::plot::{self, Axis, Panel, Scale, Series};

/// The capture keeps the headers only: the repairs are counted from them, and the link
/// stays fast at no delay.
const SNAPLEN: u32 = 128;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Network name (each measurement builds and removes it).
    pub name: String,
    /// Loss rates (0 to 1), each applied in both directions.
    pub losses: Vec<f64>,
    /// One-way delays, each applied in both directions.
    pub delays: Vec<Duration>,
    /// Bytes transferred.
    pub size: u64,
    /// Runs per combination; the row shows the run of median time.
    pub runs: usize,
    /// Seed of the first run's draws (the next runs take the next seeds).
    pub seed: u64,
    /// How long one transfer may take.
    pub limit: Duration,
    /// Where the files and captures go while measuring (removed afterwards).
    pub workdir: PathBuf,
}

/// One measurement: a row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// One-way delay.
    pub delay: Duration,
    /// Loss rate, 0 to 1.
    pub loss: f64,
    /// The client's running time, in seconds.
    pub seconds: f64,
    /// Bytes transferred per second, in Mbit/s.
    pub mbits: f64,
    /// Packets the link dropped from server to client (the data direction).
    pub lost: u64,
    /// Segments TCP sent again, as tshark counts them in the capture of what was sent
    /// (`retransmission` or `out_of_order`); `None` without tshark.
    pub repairs: Option<usize>,
}

/// Measures every combination of the plan, printing each row as it comes.
pub fn measure(plan: &Plan, stop: &AtomicBool) -> unp::Result<Vec<Row>> {
    std::fs::create_dir_all(&plan.workdir)
        .map_err(|e| unp::Error::os("mkdir", e).with_detail(plan.workdir.display().to_string()))?;
    let rows = measure_all(plan, stop);
    let _ = std::fs::remove_dir_all(&plan.workdir);
    rows
}

fn measure_all(plan: &Plan, stop: &AtomicBool) -> unp::Result<Vec<Row>> {
    let mut rows = Vec::new();
    println!("{HEADER}");
    for &delay in &plan.delays {
        for &loss in &plan.losses {
            let mut runs = Vec::new();
            for run in 0..plan.runs.max(1) {
                if stop.load(Ordering::Relaxed) {
                    return Err(unp::Error::msg("stopped"));
                }
                runs.push(measure_one(
                    plan,
                    delay,
                    loss,
                    plan.seed + run as u64,
                    stop,
                )?);
            }
            runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
            let row = runs.swap_remove(runs.len() / 2);
            println!("{}", format_row(&row));
            rows.push(row);
        }
    }
    Ok(rows)
}

fn measure_one(
    plan: &Plan,
    delay: Duration,
    loss: f64,
    seed: u64,
    stop: &AtomicBool,
) -> unp::Result<Row> {
    let names = Names::new(&plan.name, 0).map_err(unp::Error::msg)?;
    let way = Impairments {
        loss,
        delay,
        ..Impairments::default()
    };
    let opts = LinkOptions {
        impairments: PerDirection {
            to_server: way,
            to_client: way,
        },
        seed: Some(seed),
        pcap: plan.workdir.join("bench.pcap"),
        capture: CaptureMode::Sent,
        snaplen: SNAPLEN,
    };
    let play = Play {
        scenario: Scenario::Ft,
        ipv6: false,
        size: plan.size,
        workdir: plan.workdir.join("ft"),
        limit: plan.limit,
        transcript: false,
    };
    let (played, stats) = with_network(&names, &opts, stop, |n, ended| {
        scenario::play(n, &play, ended)
    })?;
    let _ = std::fs::remove_dir_all(&play.workdir);
    let repairs = report::count(&opts.pcap, report::REPAIRS);
    let _ = std::fs::remove_file(&opts.pcap);
    let seconds = played.client_time.as_secs_f64().max(1e-9);
    Ok(Row {
        delay,
        loss,
        seconds,
        mbits: played.bytes as f64 * 8.0 / seconds / 1e6,
        lost: stats.to_client.lost,
        repairs,
    })
}

const HEADER: &str = "| one-way delay | loss | time (s) | throughput (Mbit/s) | \
                      segments lost (server→client) | segments sent again (tshark) |\n\
                      |---|---|---|---|---|---|";

fn format_row(r: &Row) -> String {
    let repairs = r.repairs.map_or("-".to_string(), |n| n.to_string());
    format!(
        "| {} | {}% | {:.3} | {:.1} | {} | {repairs} |",
        delay_text(r.delay),
        percent(r.loss),
        r.seconds,
        r.mbits,
        r.lost
    )
}

/// The whole table, in Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut t = HEADER.to_string();
    for r in rows {
        t.push('\n');
        t += &format_row(r);
    }
    t
}

/// Throughput against loss, a line per delay, as an SVG document.
pub fn chart(rows: &[Row], size: u64) -> String {
    let mut series: Vec<Series> = Vec::new();
    for r in rows {
        let label = format!("delay {}", delay_text(r.delay));
        let point = (percent(r.loss), r.mbits);
        match series.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                label,
                points: vec![point],
            }),
        }
    }
    let title = format!("ft across labnet: {} bytes, loss and delay both ways", size);
    let panel = Panel {
        x: Axis {
            label: "loss (%)",
            scale: Scale::Linear,
        },
        y: Axis {
            label: "throughput (Mbit/s, log scale)",
            scale: Scale::Log,
        },
        series: &series,
    };
    plot::chart(&title, &[panel])
}

/// `0ms`, `50ms`, `1.5ms`: a delay as the command line writes it.
fn delay_text(d: Duration) -> String {
    match d.subsec_nanos() % 1_000_000 {
        0 => format!("{}ms", d.as_millis()),
        _ => format!("{d:?}"),
    }
}

fn percent(p: f64) -> f64 {
    (p * 1e4).round() / 1e2
}

/// `1MiB`, `200MB`, `64KiB`, `1000`: a size in bytes.
pub fn size(s: &str) -> Result<u64, String> {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: expected a size such as 1MiB, 200MB or 4096"))?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{s}`: units are B, kB, KiB, MB, MiB, GB, GiB")),
    };
    let bytes = n * scale;
    if !(0.0..=1e12).contains(&bytes) {
        return Err(format!("`{s}`: a size is between 0 and 1 TB"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(delay_ms: u64, loss: f64, mbits: f64) -> Row {
        Row {
            delay: Duration::from_millis(delay_ms),
            loss,
            seconds: 8.0 / mbits,
            mbits,
            lost: 3,
            repairs: Some(4),
        }
    }

    #[test]
    fn sizes_parse_with_their_units() {
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("200MB"), Ok(200_000_000));
        assert_eq!(size("4096"), Ok(4096));
        assert!(size("1 parsec").is_err());
    }

    #[test]
    fn the_table_has_a_row_per_measurement() {
        let t = table(&[row(0, 0.0, 160.0), row(50, 0.05, 6.4)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], "| 0ms | 0% | 0.050 | 160.0 | 3 | 4 |");
        assert_eq!(lines[3], "| 50ms | 5% | 1.250 | 6.4 | 3 | 4 |");
    }

    #[test]
    fn the_chart_has_a_line_per_delay() {
        let rows = [
            row(0, 0.0, 160.0),
            row(0, 0.1, 80.0),
            row(200, 0.0, 2.4),
            row(200, 0.1, 1.2),
        ];
        let svg = chart(&rows, 1 << 20);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("delay 200ms"), "{svg}");
    }
}
