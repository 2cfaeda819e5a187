//! The JSON view: one object per TCP segment per line; [`JSON_FIELDS`] lists its fields
//! (`labtrace --help` prints the same list).

use crate::tcp::Row;
use std::fmt::Write as _;
use std::io::{self, Write};

/// What each field of a `--format json` line holds, as `labtrace --help` shows it.
pub const JSON_FIELDS: &str = r#"--format json writes one object per TCP segment per line, in capture order, with these
fields (always all of them, in this order):
  frame    1-based frame number in the file (as Wireshark numbers it)
  time     seconds since the file's first packet, 6 decimals
  conn     the connection's number, 1-based, in order of first appearance
  src, dst sender and receiver as "ADDR:PORT" ("[ADDR]:PORT" for IPv6)
  flags    TCP flags in tcpdump's notation: S SYN, F FIN, P PSH, R RST, U URG, E ECE,
           W CWR, . ACK ("S." is a SYN/ACK, "none" when no flag is set)
  seq      relative sequence number, as Wireshark shows it (a SYN is 0)
  ack      relative acknowledgement number; when the ACK flag is off (a SYN, some
           resets) the header's field means nothing and is given raw, as tshark's
           tcp.ack does: a SYN has "ack":0 (the text view shows -)
  len      payload bytes
  win      advertised window in bytes, scaled by the window scale option (tshark's
           tcp.window_size); win_raw is the header's field (tcp.window_size_value)
  phase    the text view's phase: "handshake 1/3", "data", "retransmission", "ACK",
           "close 1/4", "close 2+3/4", "close (FIN again)", "close (ACK again)",
           "simul. open 2/4", "simul. close 2/4", "reset"
  decoded  null without payload; otherwise the same text as the text view's payload
           column, as a JSON string: text payloads keep their quotes and escapes
           ("decoded":"\"New number generated: 8\""), a command is a word (GEN)
Only on segments the analysis marks, after decoded:
  analysis the marks, named as tshark's tcp.analysis.* fields (retransmission,
           fast_retransmission, spurious_retransmission, out_of_order, lost_segment,
           ack_lost_segment, duplicate_ack, zero_window, zero_window_probe,
           zero_window_probe_ack, window_update, window_full, keep_alive,
           keep_alive_ack), then the events: reset, half_close, simultaneous_open,
           simultaneous_close, time_wait_client, time_wait_server, time_wait_both
  dup_ack, dup_ack_of  for a duplicate ACK: its count and the frame it repeats
With --rtt, on segments that acknowledge one (tshark's tcp.analysis.acks_frame, ack_rtt):
  acks     the frame of the segment acknowledged
  ack_rtt  seconds from that segment to this one, 9 decimals
After all the segments, one line per connection whose capture has neither a FIN nor a
RST (the capture ended while it was open, or missed its close), without a frame field:
  {"conn":N,"last_frame":F,"analysis":["no_close"],"note":"no FIN or RST in the capture: …"}
The bookkeeping tables are in the text view only."#;

/// Writes one segment as a JSON object on its own line (its fields: [`JSON_FIELDS`]).
pub fn json_line(out: &mut impl Write, row: &Row) -> io::Result<()> {
    json_line_with(out, row, false)
}

/// [`json_line`], with `acks` and `ack_rtt` on the segments that acknowledge one when
/// `rtt` is set (`--rtt`).
pub fn json_line_with(out: &mut impl Write, row: &Row, rtt: bool) -> io::Result<()> {
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "{{\"frame\":{},\"time\":{:.6},\"conn\":{},\"src\":\"{}\",\"dst\":\"{}\",\"flags\":\"{}\",\"seq\":{},\"ack\":{},\"len\":{},\"win\":{},\"win_raw\":{},\"phase\":\"{}\",\"decoded\":",
        row.frame,
        row.time,
        row.conn,
        row.src,
        row.dst,
        row.flags.tcpdump(),
        row.seq,
        row.ack,
        row.len,
        row.win,
        row.win_raw,
        row.phase
    );
    match &row.decoded {
        Some(d) => json_string(&mut s, d),
        None => s.push_str("null"),
    }
    let names = crate::tcp::explain::names(row);
    if !names.is_empty() {
        s.push_str(",\"analysis\":[");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            json_string(&mut s, n);
        }
        s.push(']');
        if let Some((n, of)) = row.analysis.dup_ack {
            let _ = write!(s, ",\"dup_ack\":{n},\"dup_ack_of\":{of}");
        }
    }
    if let (true, Some((frame, secs))) = (rtt, row.analysis.acks) {
        let _ = write!(s, ",\"acks\":{frame},\"ack_rtt\":{secs:.9}");
    }
    s.push_str("}\n");
    out.write_all(s.as_bytes())
}

/// Writes the line that ends the JSON of connection `conn` when the capture shows
/// neither its close nor a reset: its last segment's frame and [`NO_CLOSE`].
///
/// [`NO_CLOSE`]: crate::tcp::explain::NO_CLOSE
pub fn no_close_line(out: &mut impl Write, conn: usize, last_frame: u64) -> io::Result<()> {
    let mut s = format!(
        "{{\"conn\":{conn},\"last_frame\":{last_frame},\"analysis\":[\"no_close\"],\"note\":"
    );
    json_string(&mut s, crate::tcp::explain::NO_CLOSE);
    s.push_str("}\n");
    out.write_all(s.as_bytes())
}

/// Appends `text` as a JSON string literal (quotes, backslashes and control characters
/// escaped; everything else, including non-ASCII, as is: JSON is UTF-8).
pub fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\nd\re\tf\u{1}g\u{7f}é→");
        assert_eq!(s, r#""a\"b\\c\nd\re\tf\u0001g\u007fé→""#);
    }
}
