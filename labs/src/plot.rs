//! Line charts as SVG, written by hand (no plotting library): `labnet bench`'s
//! throughput against loss, a line per delay, and labbench's round trips and
//! connections per second against the number of connections, a line per server. Any
//! browser shows them, and they are small enough to commit next to the docs.
//!
//! A chart is a title, one or more [`Panel`]s side by side, and a legend at the right
//! with a colour per series label (the same label has the same colour in every panel).
//! Each axis is linear from 0, ticked where the data is, or logarithmic by decades,
//! with grid lines at 1, 2 and 5 of each.

use std::fmt::Write as _;

/// One line of a panel.
#[derive(Debug, Clone)]
pub struct Series {
    /// What the legend says of it (`delay 50ms`, `epoll`).
    pub label: String,
    /// Its points, (x, y), in the order they are joined; on a logarithmic axis, values
    /// must be above 0.
    pub points: Vec<(f64, f64)>,
}

/// How an axis places values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From 0 to the largest value, a tick at each value of the data.
    Linear,
    /// Whole decades around the data, grid lines at 1, 2 and 5 of each.
    Log,
}

/// An axis: its label and its scale.
#[derive(Debug, Clone, Copy)]
pub struct Axis<'a> {
    /// Under the x axis, or beside the y axis.
    pub label: &'a str,
    /// Linear or logarithmic.
    pub scale: Scale,
}

/// One plot of a chart.
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    /// The horizontal axis.
    pub x: Axis<'a>,
    /// The vertical axis.
    pub y: Axis<'a>,
    /// Its lines.
    pub series: &'a [Series],
}

const LEFT: f64 = 70.0;
const PLOT_W: f64 = 400.0;
const GAP: f64 = 20.0;
const LEGEND_W: f64 = 150.0;
const TOP: f64 = 40.0;
const PLOT_H: f64 = 310.0;
const BOTTOM: f64 = 50.0;
const HEIGHT: f64 = TOP + PLOT_H + BOTTOM;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Draws `panels` side by side under `title`, with one legend, as an SVG document.
pub fn chart(title: &str, panels: &[Panel]) -> String {
    let mut labels: Vec<&str> = Vec::new();
    for s in panels.iter().flat_map(|p| p.series) {
        if !labels.contains(&s.label.as_str()) {
            labels.push(&s.label);
        }
    }
    let plots_w = panels.len().max(1) as f64 * (LEFT + PLOT_W + GAP);
    let width = plots_w + LEGEND_W;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        plots_w / 2.0,
        escape(title)
    );
    for (i, panel) in panels.iter().enumerate() {
        let left = i as f64 * (LEFT + PLOT_W + GAP) + LEFT;
        draw_panel(&mut svg, left, panel, &labels);
    }
    for (i, label) in labels.iter().enumerate() {
        let (lx, ly) = (plots_w + 12.0, TOP + 10.0 + 20.0 * i as f64);
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            lx + 20.0,
            COLOURS[i % COLOURS.len()],
            lx + 26.0,
            ly + 4.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Where an axis puts values: `place(v)` is 0 at one end, 1 at the other.
struct Placement {
    scale: Scale,
    lo: f64,
    hi: f64,
}

impl Placement {
    fn new(scale: Scale, values: &[f64]) -> Placement {
        match scale {
            Scale::Linear => {
                let hi = values.iter().copied().fold(0.0, f64::max).max(1e-9);
                Placement { scale, lo: 0.0, hi }
            }
            Scale::Log => {
                let ys: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
                let low = ys.iter().copied().fold(f64::INFINITY, f64::min);
                let high = ys.iter().copied().fold(0.0, f64::max);
                let (d0, d1) = match ys.is_empty() {
                    true => (0.0, 1.0),
                    false => {
                        let d0 = low.log10().floor();
                        (d0, high.log10().ceil().max(d0 + 1.0))
                    }
                };
                Placement {
                    scale,
                    lo: d0,
                    hi: d1,
                }
            }
        }
    }

    fn place(&self, v: f64) -> f64 {
        let v = match self.scale {
            Scale::Linear => v,
            // A 0 (a server that never answered) sits on the bottom edge.
            Scale::Log => v.max(1e-12).log10().max(self.lo),
        };
        (v - self.lo) / (self.hi - self.lo)
    }

    /// The grid: (value, strong line, labelled).
    fn ticks(&self, values: &[f64]) -> Vec<(f64, bool, bool)> {
        if self.scale == Scale::Linear {
            let mut xs = values.to_vec();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            return xs.into_iter().map(|x| (x, false, true)).collect();
        }
        // Label 2 and 5 too when there is room (at most three decades).
        let (d0, d1) = (self.lo as i32, self.hi as i32);
        let mut ticks = Vec::new();
        for d in d0..=d1 {
            for m in [1.0, 2.0, 5.0] {
                if d == d1 && m > 1.0 {
                    break;
                }
                ticks.push((m * 10f64.powi(d), m == 1.0, m == 1.0 || d1 - d0 <= 3));
            }
        }
        ticks
    }
}

fn draw_panel(svg: &mut String, left: f64, panel: &Panel, labels: &[&str]) {
    let points = || panel.series.iter().flat_map(|s| s.points.iter().copied());
    let xs: Vec<f64> = points().map(|p| p.0).collect();
    let ys: Vec<f64> = points().map(|p| p.1).collect();
    let (px, py) = (
        Placement::new(panel.x.scale, &xs),
        Placement::new(panel.y.scale, &ys),
    );
    let sx = |x: f64| left + px.place(x) * PLOT_W;
    let sy = |y: f64| TOP + (1.0 - py.place(y)) * PLOT_H;
    let grey = |strong: bool| if strong { "#bbb" } else { "#eee" };
    for (y, strong, labelled) in py.ticks(&ys) {
        let yy = sy(y);
        let _ = writeln!(
            svg,
            r#"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{}"/>"#,
            left + PLOT_W,
            grey(strong)
        );
        if labelled {
            let (tx, ty) = (left - 6.0, yy + 4.0);
            let _ = writeln!(
                svg,
                r#"<text x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
                number(y)
            );
        }
    }
    for (x, strong, labelled) in px.ticks(&xs) {
        let xx = sx(x);
        let _ = writeln!(
            svg,
            r#"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="{}"/>"#,
            TOP + PLOT_H,
            grey(strong)
        );
        if labelled {
            let ty = TOP + PLOT_H + 16.0;
            let _ = writeln!(
                svg,
                r#"<text x="{xx:.1}" y="{ty:.1}" text-anchor="middle">{}</text>"#,
                number(x)
            );
        }
    }
    let _ = writeln!(
        svg,
        r#"<rect x="{left}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + PLOT_W / 2.0,
        HEIGHT - 12.0,
        escape(panel.x.label)
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate({} {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        left - 52.0,
        TOP + PLOT_H / 2.0,
        escape(panel.y.label)
    );
    for s in panel.series {
        let i = labels.iter().position(|l| *l == s.label).unwrap_or(0);
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for &(x, y) in &s.points {
            let (cx, cy) = (sx(x), sy(y));
            let _ = writeln!(
                svg,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3" fill="{colour}"/>"#
            );
        }
    }
}

/// `0.5`, `2`, `1000`, `2e4`: short, without trailing zeros.
fn number(v: f64) -> String {
    if v >= 1e4 {
        let exp = v.log10().floor();
        return format!(
            "{}e{exp}",
            number((v / 10f64.powf(exp) * 1e3).round() / 1e3)
        );
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, points: &[(f64, f64)]) -> Series {
        Series {
            label: label.into(),
            points: points.to_vec(),
        }
    }

    #[test]
    fn each_series_is_a_line_with_its_points_and_a_legend() {
        let series = [
            series("delay 0ms", &[(0.0, 160.0), (5.0, 80.0), (10.0, 40.0)]),
            series("delay <200ms>", &[(0.0, 2.4), (10.0, 1.2)]),
        ];
        let panel = Panel {
            x: Axis {
                label: "loss (%)",
                scale: Scale::Linear,
            },
            y: Axis {
                label: "Mbit/s",
                scale: Scale::Log,
            },
            series: &series,
        };
        let svg = chart("ft", &[panel]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("delay &lt;200ms&gt;"));
        // Decades from 1 to 1000 cover 1.2 to 160; the x ticks are the data's.
        assert!(svg.contains(">1000</text>") && svg.contains(">1</text>"));
        assert!(svg.contains(">10</text>") && svg.contains(">5</text>"));
    }

    #[test]
    fn panels_share_the_legend_and_each_label_keeps_its_colour() {
        let a = [
            series("fork", &[(1.0, 1e3), (100.0, 5e4)]),
            series("epoll", &[(1.0, 2e3)]),
        ];
        let b = [
            series("epoll", &[(1.0, 10.0)]),
            series("fork", &[(1.0, 20.0)]),
        ];
        let log = |label| Axis {
            label,
            scale: Scale::Log,
        };
        let panels = [
            Panel {
                x: log("connections"),
                y: log("round trips/s"),
                series: &a,
            },
            Panel {
                x: log("connections"),
                y: log("connections/s"),
                series: &b,
            },
        ];
        let svg = chart("echo servers", &panels);
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert_eq!(svg.matches(">fork</text>").count(), 1);
        assert_eq!(
            svg.matches(r##"stroke="#1f77b4" stroke-width="2"/>"##)
                .count(),
            3
        );
        assert!(svg.contains(">1e5</text>"), "{svg}");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(20000.0), "2e4");
        assert_eq!(number(1e6), "1e6");
    }
}
