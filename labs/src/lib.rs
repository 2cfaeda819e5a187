//! # labs — tools around the labs
//!
//! `labtrace` reads a capture a student made with tcpdump or Wireshark and tells its
//! story the way the Lab 3 supplement does: the three-way handshake, each data segment
//! and its ACK with the Server/Client Seq/Ack bookkeeping table, the FIN/ACK close with a
//! table of its own, and what the payload means in the lab's own protocol (`GEN`,
//! `"New number generated: 8"`). What the table's Seq and Ack are, and where the
//! handout's own tables differ, is told at [`tcp::Bookkeeping`]. Lab 4's UDP datagrams
//! are told after the connections, flow by flow ([`udp`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`capture`] | reading pcap/pcapng files packet by packet, in constant memory |
//! | [`packet`] | from a link-layer frame to a TCP segment (loopback, Ethernet, raw IP, Linux cooked) |
//! | [`tcp`] | the capture's connections: which segments belong together, who is client and server |
//! | [`tcp::conn`] | one connection's byte streams: relative Seq/Ack as Wireshark shows them, scaled windows, reassembly |
//! | [`tcp::phase`] | where a segment stands: handshake 1/3 .. 3/3, data, ACK, close 1/4 .. 4/4, reset |
//! | [`tcp::analysis`] | Wireshark's TCP analysis: retransmissions, duplicate ACKs, windows, RTT of each ACK |
//! | [`tcp::explain`] | one sentence per analysis mark and per event (reset, half-close, simultaneous open/close, TIME_WAIT) |
//! | [`tcp::stall`] | stalls: Nagle + delayed ACK, retransmission timeouts, idle gaps |
//! | [`tcp::bookkeeping`] | the handout's Server/Client Seq/Ack tables for each exchange and the close |
//! | [`decode`] | which lab protocol a connection speaks, and what its bytes say |
//! | [`udp`] | UDP flows: datagrams, the ICMP errors that quote them, the lab's UDP protocols (echo, upload, sequence numbers, rft) |
//! | [`render`] | writing a view: one connection at a time, or one JSON line per segment |
//! | [`render::text`] | the text story: a line per segment, the bookkeeping tables |
//! | [`render::ladder`] | the ASCII sequence diagram |
//! | [`render::json`] | JSON lines, one object per segment |
//! | [`render::udp`] | the UDP flows in each view, after the TCP connections |
//! | [`render::svg`] | the SVG picture of the ladder |
//! | [`render::html`] | `--html`: one self-contained page, each segment's fields beside its bytes |
//! | [`render::quiz`], [`render::mark`] | `--quiz`: the bookkeeping tables to fill in; `--answers`: marked |
//! | [`labbench`] | measuring echo servers: round trips/s, connections/s, latency, memory |
//! | [`plot`] | line charts as SVG: labbench's and `labnet bench`'s |
//! | [`labcheck`] | checking anyone's lab program against the handout, and the starter code |
//! | `labnet` | (Linux) two namespaces joined by an impaired user-space link, captured |
//!
//! [`trace`] ties them together; the `labtrace` binary only parses its arguments.

pub mod capture;
pub mod decode;
pub mod labbench;
pub mod labcheck;
#[cfg(target_os = "linux")]
pub mod labnet;
pub mod packet;
pub mod plot;
pub mod render;
pub mod tcp;
pub mod udp;

use std::io::{Read, Write};

/// What to show and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The protocol to decode payloads as; `None` guesses per connection. A TCP
    /// protocol applies to TCP connections, a UDP one to UDP flows (`echo` and `ft` to
    /// the UDP echo and upload too), `raw` to both; the other transport is guessed.
    pub proto: Option<decode::Proto>,
    /// Keep only segments to or from this port. Who is the server is still decided by
    /// the SYN; only without the handshake is this port's side taken as the server.
    pub port: Option<u16>,
    /// The view written to the output.
    pub view: render::View,
    /// Also build the SVG picture.
    pub svg: bool,
    /// Per connection and direction, the RTT samples and RFC 6298 estimator
    /// (text view), or each ACK's `acks` frame and `ack_rtt` (JSON).
    pub rtt: bool,
    /// Also build the time-sequence graphs (`--tsg`).
    pub tsg: bool,
    /// Also build the HTML page (`--html`), titled with this name (the capture's).
    pub html: Option<String>,
    /// Whose analysis marks to reproduce where Wireshark versions differ.
    pub wireshark: tcp::wireshark::Like,
}

/// What a trace found, besides what it printed.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Packets in the file.
    pub packets: u64,
    /// TCP segments shown.
    pub segments: u64,
    /// Packets skipped because they are not TCP (or not readable as such).
    pub skipped: u64,
    /// TCP connections seen.
    pub connections: usize,
    /// UDP datagrams, ICMP errors about them and IP fragments of them shown.
    pub datagrams: u64,
    /// UDP flows seen.
    pub flows: usize,
    /// Why reading stopped early, if it did (truncated or corrupt tail).
    pub warning: Option<String>,
    /// The SVG picture, when asked for.
    pub svg: Option<String>,
    /// The time-sequence graphs (SVG), when asked for.
    pub tsg: Option<String>,
    /// The HTML page, when asked for.
    pub html: Option<String>,
    /// The ports of the TCP segments the port filter dropped (at most
    /// [`tcp::MAX_DROPPED_PORTS`], in order of first appearance).
    pub dropped_ports: Vec<u16>,
}

/// Reads a capture from `input` and writes the chosen view to `out`.
pub fn trace<R: Read + Send, W: Write>(
    input: R,
    opts: &Options,
    out: W,
) -> Result<Outcome, TraceError> {
    let renderer = render::Renderer::new(opts.view, out).with_rtt(opts.rtt);
    trace_to(input, opts, renderer)
}

/// `labtrace --answers`: reads a capture and writes the text view with the student's
/// `answers` to its bookkeeping tables marked (see [`render::mark`]).
pub fn mark<R: Read + Send, W: Write>(
    input: R,
    opts: &Options,
    answers: render::quiz::Answers,
    out: W,
) -> Result<Outcome, TraceError> {
    trace_to(
        input,
        opts,
        render::Renderer::new(opts.view, out).with_answers(answers),
    )
}

fn trace_to<R: Read + Send, W: Write>(
    input: R,
    opts: &Options,
    mut renderer: render::Renderer<W>,
) -> Result<Outcome, TraceError> {
    let cap = capture::Capture::new(input).map_err(TraceError::Capture)?;
    let (tcp_proto, udp_proto) = split_proto(opts.proto);
    let mut tracker = tcp::Tracker::new(tcp_proto, opts.port).like(opts.wireshark);
    let mut flows = udp::Flows::new(udp_proto, opts.port);
    let mut first_ns: Option<i128> = None;
    let mut svg = opts.svg.then(render::Svg::default);
    let mut tsg = opts.tsg.then(render::tsg::Tsg::default);
    let mut html = opts.html.as_ref().map(|_| render::html::Html::default());
    let mut outcome = Outcome::default();
    let mut failed: Option<std::io::Error> = None;
    let summary = cap.for_each(|p| {
        if failed.is_some() {
            return;
        }
        let first = *first_ns.get_or_insert(p.time_ns);
        let Ok(seg) = packet::tcp_segment(p.linktype, p.data) else {
            tracker.saw_packet(p.time_ns);
            let Ok(dg) = udp::wire::parse(p.linktype, p.data) else {
                outcome.skipped += 1;
                return;
            };
            let time = (p.time_ns - first) as f64 / 1e9;
            if let Some(line) = flows.packet(p.frame, time, &dg)
                && let Err(e) = renderer.udp_line(&line)
            {
                failed = Some(e);
            }
            return;
        };
        let Some(row) = tracker.segment(p.frame, p.time_ns, &seg) else {
            return;
        };
        outcome.segments += 1;
        if let Some(svg) = &mut svg {
            svg.row(&row);
        }
        if let Some(tsg) = &mut tsg {
            tsg.row(&row);
        }
        if let Some(html) = &mut html {
            html.segment(&row, p.linktype, p.data, &tracker);
        }
        if let Err(e) = renderer.row(&row, &tracker) {
            failed = Some(e);
        }
        // The pictures name connections at the end: only without them (and for a
        // connection the page does not show) is an ended connection released.
        let shown = html.as_ref().is_some_and(|h| h.keeps(row.conn));
        if row.ends && svg.is_none() && tsg.is_none() && !shown {
            tracker.release(row.conn);
        }
    });
    if let Some(e) = failed {
        return Err(TraceError::Output(e));
    }
    // Nothing was printed yet (no segment was shown): the error is all there is to say.
    if summary.packets == 0 {
        return Err(TraceError::NoPackets {
            warning: summary.warning,
        });
    }
    let mut dropped = tracker.dropped_ports().to_vec();
    for &p in flows.dropped_ports() {
        if dropped.len() < tcp::MAX_DROPPED_PORTS && !dropped.contains(&p) {
            dropped.push(p);
        }
    }
    if let Some(port) = opts.port
        && outcome.segments == 0
        && flows.shown == 0
    {
        return Err(TraceError::NoMatch {
            port,
            seen: dropped,
            udp: !flows.dropped_ports().is_empty(),
        });
    }
    flows.finish();
    outcome.skipped += flows.unplaced;
    outcome.packets = summary.packets;
    outcome.warning = summary.warning;
    outcome.connections = tracker.connections();
    outcome.datagrams = flows.shown;
    outcome.flows = flows.flows().len();
    outcome.dropped_ports = dropped;
    let line = summary_line(&outcome, &flows);
    // Before the renderer takes the tables still open.
    // The page shows the TCP connections only; it says where the UDP flows are told.
    let page_line = match flows.shown {
        0 => line.clone(),
        _ => format!(
            "{line} (this page shows the TCP connections; labtrace's text view tells the UDP flows)"
        ),
    };
    let page = html.map(|h| {
        h.finish(
            opts.html.as_deref().unwrap_or_default(),
            &page_line,
            &tracker,
        )
    });
    renderer
        .finish(&mut tracker, &flows, &line)
        .map_err(TraceError::Output)?;
    outcome.svg = svg.map(|s| s.finish(&tracker));
    outcome.tsg = tsg.map(|s| s.finish(&tracker));
    outcome.html = page;
    Ok(outcome)
}

/// The protocol for TCP connections and the one for UDP flows, from `--proto`.
fn split_proto(proto: Option<decode::Proto>) -> (Option<decode::Proto>, Option<decode::Proto>) {
    use decode::Proto;
    match proto {
        Some(Proto::Raw) => (Some(Proto::Raw), Some(Proto::Raw)),
        Some(Proto::Echo) => (Some(Proto::Echo), Some(Proto::UdpEcho)),
        Some(Proto::Ft) => (Some(Proto::Ft), Some(Proto::UdpFt)),
        Some(p) if p.is_udp() => (None, Some(p)),
        p => (p, None),
    }
}

/// The trace's last line: what the capture held. Without UDP it is the line labtrace
/// has always written.
fn summary_line(o: &Outcome, flows: &udp::Flows) -> String {
    let tcp = format!(
        "{}, {} in {} connection(s)",
        plural(o.packets, "packet"),
        plural(o.segments, "TCP segment"),
        o.connections
    );
    if flows.shown == 0 {
        return format!("{tcp}, {} skipped", plural(o.skipped, "non-TCP packet"));
    }
    let datagrams = plural(flows.datagrams(), "UDP datagram");
    let mut udp = format!("{datagrams} in {} flow(s)", o.flows);
    for (n, what) in [
        (flows.errors(), "ICMP error"),
        (flows.fragment_count(), "IP fragment"),
    ] {
        if n > 0 {
            udp.push_str(&format!(", {}", plural(n, what)));
        }
    }
    format!(
        "{tcp}, {udp}, {} skipped",
        plural(o.skipped, "other packet")
    )
}

/// Why a trace failed.
#[derive(Debug)]
pub enum TraceError {
    /// The file is not a readable capture.
    Capture(capture::CaptureError),
    /// Writing the output failed (a closed pipe, a full disk).
    Output(std::io::Error),
    /// The capture has a header but no packets (tcpdump saw nothing, or the file was cut
    /// inside its first record: then `warning` says where).
    NoPackets {
        /// Why reading stopped, if the file was cut.
        warning: Option<String>,
    },
    /// The port filter kept no segment.
    NoMatch {
        /// The port asked for.
        port: u16,
        /// The ports the capture has (see [`tcp::Tracker::dropped_ports`]).
        seen: Vec<u16>,
        /// The capture has UDP datagrams (on other ports).
        udp: bool,
    },
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceError::Capture(e) => write!(f, "{e}"),
            TraceError::Output(e) => write!(f, "write error: {e}"),
            TraceError::NoPackets { warning: Some(w) } => {
                write!(f, "no complete packet in the capture: {w}")
            }
            TraceError::NoPackets { warning: None } => f.write_str(concat!(
                "the capture holds no packets, only its header: tcpdump captured nothing ",
                "(it listened on another interface, its filter named another port, or it ",
                "stopped before the session ran); see \"Troubleshooting\" in docs/capture.md"
            )),
            TraceError::NoMatch { port, seen, udp } => {
                match udp {
                    true => write!(f, "no TCP segment or UDP datagram to or from port {port}; ")?,
                    false => write!(f, "no TCP segment to or from port {port}; ")?,
                }
                if seen.is_empty() {
                    return f.write_str("the capture has no TCP segments");
                }
                let list: Vec<String> = seen.iter().map(u16::to_string).collect();
                write!(f, "ports seen: {}", list.join(", "))?;
                if seen.len() == tcp::MAX_DROPPED_PORTS {
                    f.write_str(", …")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for TraceError {}

/// A count and its unit, the unit plural unless the count is 1: `1 byte`, `0 bytes`,
/// `2 copies`. Every count the tools print with a unit goes through it.
pub fn plural(n: impl std::fmt::Display, unit: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        return format!("1 {unit}");
    }
    match unit.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{n} {stem}ies"),
        _ => format!("{n} {unit}s"),
    }
}

#[cfg(test)]
#[test]
fn counts_take_their_units_plural_unless_one() {
    assert_eq!(plural(1usize, "byte"), "1 byte");
    assert_eq!(plural(0u64, "byte"), "0 bytes");
    assert_eq!(plural(-1i64, "byte"), "-1 bytes");
    assert_eq!(plural(2u32, "copy"), "2 copies");
    assert_eq!(plural(3, "day"), "3 days");
    assert_eq!(plural(4, "duplicate ACK"), "4 duplicate ACKs");
}
