//! The UDP flows in each view: the text story (a line per datagram with the notes under
//! it, then the flow's summary), the ladder, the quiz's Markdown (the text in a code
//! block: UDP has no tables to fill in), and JSON lines ([`UDP_JSON_FIELDS`]).
//!
//! UDP has no close, so the text views tell the flows at the end, after the TCP
//! connections, in order of first appearance; JSON writes each datagram as it comes and
//! each flow's summary at the end.

use super::{View, json_string, ladder};
use crate::plural;
use crate::udp::explain::Mark;
use crate::udp::{Flow, Flows, Line, MAX_LINES, What};
use std::fmt::Write as _;
use std::io::{self, Write};

/// What `--format json` writes for UDP, as `labtrace --help` shows it.
pub const UDP_JSON_FIELDS: &str = r#"UDP datagrams are JSON lines too, in capture order among the TCP segments, with "flow"
(UDP flows are numbered apart from TCP connections) and "transport" where a segment has
"conn" and "flags":
  frame, time  as for TCP
  flow     the UDP flow's number, 1-based, in order of first appearance
  transport  "udp"; "icmp" or "icmpv6" for an error that quotes a datagram of the flow;
           "ip_fragment" for an IP fragment (not reassembled, not decoded)
  src, dst sender and receiver ("ADDR:PORT"; an ICMP error or fragment: "ADDR")
  length   the UDP header's length field (tshark's udp.length), header included
  len      payload bytes on the wire (a fragment: the bytes it carries)
  decoded  the text view's payload column (null for an empty datagram)
Only where they apply, after decoded:
  captured payload bytes in the file, when the snap length cut the datagram
  echo_of  for a UDP echo reply: the frame of the request it echoes
  quotes   for an ICMP error: the frame of the datagram it quotes (null if not captured)
  analysis the marks: snapped, bad_length, not_proto (unlike the flow's protocol: the
           flow's summary says what it looks like), cut_echo, not_an_echo, missing,
           out_of_order, duplicate, retransmission, duplicate_ack, port_unreachable,
           host_unreachable, net_unreachable, prohibited, unreachable, ip_fragment
  missing  with "missing": the first and last sequence numbers skipped, [17,19]
After all the packets, one line per UDP flow, without a frame field:
  {"flow":N,"client":"A:P","server":"B:Q","proto":"udpecho","datagrams":[C→S,S→C],
   "bytes":[C→S,S→C],"icmp":N,"fragments":N,"summary":["…"],
   "marks":[{"frame":F,"analysis":"no_echo"}]}   (marks known only at the end:
   no_echo, no_answer, no_end); after "fragments", "not_proto":N when N datagrams do
   not look like the flow's protocol"#;

/// Appends every flow in the text, ladder, quiz or marked view.
pub fn section(s: &mut String, flows: &Flows, view: View) {
    for flow in flows.flows() {
        let head = header(flow);
        match view {
            View::Quiz => {
                let _ = writeln!(s, "## {head}\n\n```text");
            }
            _ => {
                let _ = writeln!(s, "{head}");
            }
        }
        match view {
            View::Ladder => {
                ladder::heading(s);
                s.push('\n');
                for line in &flow.lines {
                    let right: Vec<String> = (line.marks.iter())
                        .filter(|m| !m.repeated())
                        .map(Mark::label)
                        .collect();
                    ladder::arrow(s, line.frame, line.side, &label(line), &right.join(", "));
                }
            }
            _ => {
                let _ = writeln!(
                    s,
                    "{:>6}  {:>9}  {:<4} {:>5}  payload",
                    "#", "time", "dir", "len"
                );
                for line in &flow.lines {
                    text_line(s, line);
                }
            }
        }
        if flow.hidden > 0 {
            let _ = writeln!(
                s,
                "        … {} more not shown (the text views keep {MAX_LINES} lines; --format json lists them all, --port picks a flow)",
                flow.hidden
            );
        }
        for line in summary(flow) {
            let _ = writeln!(s, "        summary: {line}");
        }
        if view == View::Quiz {
            s.push_str("```\n");
        }
        s.push('\n');
    }
}

/// A flow's first line: `UDP flow 1: client A → server B (udpecho)`.
fn header(flow: &Flow) -> String {
    let i = &flow.info;
    let proto = match i.proto {
        Some(p) => p.name(),
        None if flow.datagrams == [0, 0] => "not decoded",
        None => "no payload",
    };
    format!(
        "UDP flow {}: client {} → server {} ({proto})",
        i.id, i.client, i.server
    )
}

/// The len column: payload bytes, `-` for an ICMP error.
fn len(line: &Line) -> String {
    match line.what {
        What::Datagram { len, .. } | What::Fragment { len, .. } => len.to_string(),
        What::Icmp { .. } => "-".into(),
    }
}

/// Appends one line of the text view and the sentence of each of its marks.
fn text_line(s: &mut String, line: &Line) {
    let _ = writeln!(
        s,
        "{:>6}  {:>9.6}  {:<4} {:>5}  {}",
        line.frame,
        line.time,
        super::arrow(line.side),
        len(line),
        line.text
    );
    for mark in line.marks.iter().filter(|m| !m.repeated()) {
        let _ = writeln!(s, "        ↳ {}", mark.sentence());
    }
}

/// A line's label on the ladder: `len=6 "hello\n" (echo of #1)`.
fn label(line: &Line) -> String {
    match line.what {
        What::Datagram { len, .. } if line.text.is_empty() => format!("len={len}"),
        What::Datagram { len, .. } => format!("len={len} {}", line.text),
        _ => line.text.clone(),
    }
}

/// The flow's summary: the counts each way, then its protocol's lines.
fn summary(flow: &Flow) -> Vec<String> {
    let [c, s] = flow.datagrams;
    let mut counts = format!(
        "client → server {}, server → client {}",
        amount(c, flow.bytes[0]),
        amount(s, flow.bytes[1])
    );
    if flow.errors > 0 {
        let _ = write!(counts, ", {}", plural(flow.errors, "ICMP error"));
    }
    if flow.fragments > 0 {
        let _ = write!(counts, ", {}", plural(flow.fragments, "IP fragment"));
    }
    if flow.snapped > 0 {
        let _ = write!(counts, "; {} cut by the snap length", flow.snapped);
    }
    let mut lines = vec![counts];
    lines.extend(flow.summary.iter().cloned());
    lines
}

/// `3 datagrams (3000 bytes)`.
fn amount(datagrams: u64, bytes: u64) -> String {
    format!(
        "{} ({})",
        plural(datagrams, "datagram"),
        plural(bytes, "byte")
    )
}

/// Writes one UDP line as a JSON object on its own line (its fields: [`UDP_JSON_FIELDS`]).
pub fn json_line(out: &mut impl Write, line: &Line) -> io::Result<()> {
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "{{\"frame\":{},\"time\":{:.6},\"flow\":{},",
        line.frame, line.time, line.flow
    );
    match line.what {
        What::Datagram {
            src,
            dst,
            length,
            len,
            ..
        } => {
            let _ = write!(
                s,
                "\"transport\":\"udp\",\"src\":\"{src}\",\"dst\":\"{dst}\",\"length\":{length},\"len\":{len}"
            );
        }
        What::Icmp { from, to, .. } => {
            let kind = if from.is_ipv6() { "icmpv6" } else { "icmp" };
            let _ = write!(
                s,
                "\"transport\":\"{kind}\",\"src\":\"{from}\",\"dst\":\"{to}\""
            );
        }
        What::Fragment { src, dst, len, .. } => {
            let _ = write!(
                s,
                "\"transport\":\"ip_fragment\",\"src\":\"{src}\",\"dst\":\"{dst}\",\"len\":{len}"
            );
        }
    }
    s.push_str(",\"decoded\":");
    match line.text.as_str() {
        "" => s.push_str("null"),
        t => json_string(&mut s, t),
    }
    if let What::Datagram { len, captured, .. } = line.what
        && captured < len
    {
        let _ = write!(s, ",\"captured\":{captured}");
    }
    if let Some(of) = line.echo_of {
        let _ = write!(s, ",\"echo_of\":{of}");
    }
    if let What::Icmp { quotes, .. } = line.what {
        match quotes {
            Some(f) => {
                let _ = write!(s, ",\"quotes\":{f}");
            }
            None => s.push_str(",\"quotes\":null"),
        }
    }
    if !line.marks.is_empty() {
        s.push_str(",\"analysis\":[");
        for (i, m) in line.marks.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            json_string(&mut s, m.name());
        }
        s.push(']');
    }
    for m in &line.marks {
        if let Mark::Missing { from, to, .. } = m {
            let _ = write!(s, ",\"missing\":[{from},{to}]");
        }
    }
    s.push_str("}\n");
    out.write_all(s.as_bytes())
}

/// Writes each flow's summary line (after all the packets).
pub fn json_flows(out: &mut impl Write, flows: &Flows) -> io::Result<()> {
    for flow in flows.flows() {
        let i = &flow.info;
        let mut s = format!(
            "{{\"flow\":{},\"client\":\"{}\",\"server\":\"{}\",\"proto\":",
            i.id, i.client, i.server
        );
        match i.proto {
            Some(p) => json_string(&mut s, p.name()),
            None => s.push_str("null"),
        }
        let _ = write!(
            s,
            ",\"datagrams\":[{},{}],\"bytes\":[{},{}],\"icmp\":{},\"fragments\":{}",
            flow.datagrams[0],
            flow.datagrams[1],
            flow.bytes[0],
            flow.bytes[1],
            flow.errors,
            flow.fragments
        );
        if flow.unlike > 0 {
            let _ = write!(s, ",\"not_proto\":{}", flow.unlike);
        }
        s.push_str(",\"summary\":[");
        for (k, line) in flow.summary.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            json_string(&mut s, line);
        }
        s.push_str("],\"marks\":[");
        for (k, (frame, mark)) in flow.late_marks.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, "{{\"frame\":{frame},\"analysis\":\"{}\"}}", mark.name());
        }
        s.push_str("]}\n");
        out.write_all(s.as_bytes())?;
    }
    Ok(())
}
