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
           "close 1/4", "close 2+3/4", "close (FIN again)", "reset"
  decoded  null without payload; otherwise the same text as the text view's payload
           column, as a JSON string: text payloads keep their quotes and escapes
           ("decoded":"\"New number generated: 8\""), a command is a word (GEN)
The bookkeeping tables are in the text view only."#;

/// Writes one segment as a JSON object on its own line (its fields: [`JSON_FIELDS`]).
pub fn json_line(out: &mut impl Write, row: &Row) -> io::Result<()> {
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
