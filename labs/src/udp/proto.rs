//! The lab's UDP protocols one datagram at a time: which one a flow speaks, and what a
//! datagram says on its own. The formats are the `udpcliserv` crate's, read with its own
//! code where it has some (`rft::proto::Packet::parse`, `seq::decode`, `ft::END_FLAG`);
//! what a datagram means in its flow (an echo of which request, a chunk at which
//! offset, a gap in the numbers) is [`super::lab`]'s and [`super::numbered`]'s.

use crate::decode::{Proto, Side, raw};
use tcpcliserv::proto::echo;
use udpcliserv::rft::proto::{Invalid, Packet};
use udpcliserv::{ft, seq};

/// `rftserver`'s default port (its `--port`).
pub const RFT_PORT: u16 = 49313;

/// The most payload bytes a line shows of a chunk (its first bytes, then `…`).
pub const PREVIEW: usize = 16;

/// Longer datagrams of the other protocols are shown as a preview too (a typed line
/// fits).
pub const FULL: usize = 80;

/// The protocol a server port announces: the lab programs' defaults.
pub fn by_port(port: u16) -> Option<Proto> {
    match port {
        7 => Some(Proto::UdpEcho),
        ft::SERV_PORT => Some(Proto::UdpFt),
        RFT_PORT => Some(Proto::Rft),
        _ => None,
    }
}

/// Guesses a flow's protocol from its server's port and the first datagram with a
/// payload (sent by `side`, `len` bytes on the wire, `first` those captured).
pub fn guess(server_port: u16, side: Side, first: &[u8], len: usize) -> Proto {
    if let Some(p) = by_port(server_port) {
        return p;
    }
    if Packet::parse(first).is_ok() {
        return Proto::Rft;
    }
    if len == seq::DGLEN && first.iter().skip(4).all(|&b| b == 0) {
        return Proto::UdpSeq;
    }
    let text = first
        .iter()
        .all(|&b| matches!(b, b'\n' | b'\r' | b'\t' | 0x20..=0x7e));
    match side {
        _ if first == ft::END_FLAG => Proto::UdpFt,
        Side::Server if first == b"ok" || first.starts_with(b"refused: ") => Proto::UdpFt,
        Side::Client if text && first.ends_with(b"\n") => Proto::UdpEcho,
        // A path: one word with a dot or a slash, no line end (the upload's first datagram).
        Side::Client if text && is_path(first) => Proto::UdpFt,
        _ if text => Proto::UdpEcho,
        _ => Proto::Raw,
    }
}

/// One word of a file name, with a dot or a slash in it: `copy.txt`, `/tmp/x`.
fn is_path(bytes: &[u8]) -> bool {
    bytes.len() < 256
        && !bytes.iter().any(u8::is_ascii_whitespace)
        && bytes.iter().any(|&b| b == b'.' || b == b'/')
}

/// What a flow of `proto` looks like, for the flows whose datagrams do not
/// ([`super::lab::Told::unlike`]): `udpseq (SHAPE)`, one phrase per protocol.
pub fn shape(proto: Proto) -> String {
    let shape = match proto {
        Proto::UdpSeq => {
            "udpseqclient's 1024-byte datagrams, each a little-endian number in its first 4 bytes, then zeros; nothing back"
        }
        Proto::UdpEcho => "lines of text, each sent back unchanged",
        Proto::UdpFt => {
            "a path, one line of text under 256 bytes; `ok` back; then the file in datagrams of at most 1024 bytes, and ================END"
        }
        Proto::Rft => {
            "packets with a 16-byte header: kind 1 to 5, version 1, the payload's length, a sequence number, a timestamp"
        }
        _ => "any bytes",
    };
    format!("{} ({shape})", proto.name())
}

/// Text as a person types it: UTF-8 (its last character may be cut by the snap length),
/// no control characters but tabs and line ends.
pub fn is_text(bytes: &[u8]) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

/// A datagram that can be the upload's path: text on one line, under 256 bytes
/// (`len` on the wire). The guess asks more of a flow's first datagram ([`guess`]).
pub fn path_shaped(bytes: &[u8], len: usize) -> bool {
    (1..256).contains(&len) && is_text(bytes) && !bytes.iter().any(|&b| b == b'\n' || b == b'\r')
}

/// What one datagram of `proto` sent by `side` says on its own (its flow adds context).
pub fn describe(proto: Proto, side: Side, dg: &[u8]) -> String {
    match (proto, side) {
        (Proto::UdpFt, _) if dg == ft::END_FLAG => "END \"================END\"".into(),
        (Proto::UdpFt, Side::Server) if dg == b"ok" => "ok".into(),
        (Proto::UdpFt, _) => preview(dg),
        (Proto::UdpSeq, Side::Client) => match seq::decode(dg) {
            Some(n) => format!("Sequence num: {n}"),
            None => format!("{} (too short for a sequence number)", raw(dg)),
        },
        (Proto::UdpSeq, Side::Server) => {
            format!("{} (the sequence server sends nothing)", preview(dg))
        }
        (Proto::Rft, _) => match Packet::parse(dg) {
            Ok(p) => p.to_string(),
            Err(why @ Invalid::Unknown { .. }) => format!("{why}: {}", preview(dg)),
            Err(why) => format!("not an rft packet ({why}): {}", preview(dg)),
        },
        // Echo text as the TCP echo's decoder quotes it (tcpcliserv's, through unp::printable).
        (Proto::UdpEcho, _) if dg.len() > FULL => format!("{}…", echo_text(&dg[..PREVIEW])),
        (Proto::UdpEcho, _) => echo_text(dg),
        _ if dg.len() > FULL => preview(dg),
        _ => raw(dg),
    }
}

/// Bytes quoted as the echo's decoder quotes them (nothing for an empty datagram).
fn echo_text(dg: &[u8]) -> String {
    echo::describe_request(dg).unwrap_or_default()
}

/// The first [`PREVIEW`] bytes as [`raw`] shows them, then `…` when there are more.
pub fn preview(dg: &[u8]) -> String {
    if dg.len() <= PREVIEW {
        return raw(dg);
    }
    format!("{}…", raw(&dg[..PREVIEW]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use udpcliserv::rft::proto::Kind;

    #[test]
    fn guesses_by_port_then_by_content() {
        let g = |port, side, first: &[u8]| guess(port, side, first, first.len());
        assert_eq!(g(49312, Side::Client, b"hello\n"), Proto::UdpFt);
        assert_eq!(g(49313, Side::Client, b""), Proto::Rft);
        assert_eq!(g(7, Side::Server, b"x"), Proto::UdpEcho);
        let req = Packet::new(Kind::Req, 0, 5, b"copy.bin").emit();
        assert_eq!(g(9000, Side::Client, &req), Proto::Rft);
        assert_eq!(g(9000, Side::Client, &seq::encode(17)), Proto::UdpSeq);
        assert_eq!(g(9000, Side::Client, b"hello\n"), Proto::UdpEcho);
        assert_eq!(g(9000, Side::Client, b"copy.txt"), Proto::UdpFt);
        assert_eq!(g(9000, Side::Client, b"/tmp/x"), Proto::UdpFt);
        // A line typed without its newline (end of input) is still an echo.
        assert_eq!(g(9000, Side::Client, b"hello"), Proto::UdpEcho);
        assert_eq!(g(9000, Side::Server, b"ok"), Proto::UdpFt);
        assert_eq!(g(9000, Side::Client, &[0xff, 0, 1]), Proto::Raw);
        // Cut by the snap length: the length on the wire says 1024.
        assert_eq!(
            guess(9000, Side::Client, &seq::encode(5)[..36], 1024),
            Proto::UdpSeq
        );
    }

    #[test]
    fn describes_with_the_crates_own_parsers() {
        assert_eq!(
            describe(Proto::UdpSeq, Side::Client, &seq::encode(258)),
            "Sequence num: 258"
        );
        assert_eq!(
            describe(Proto::UdpSeq, Side::Client, b"ab"),
            "\"ab\" (too short for a sequence number)"
        );
        let data = Packet::new(Kind::Data, 2, 258, b"hi").emit();
        assert_eq!(
            describe(Proto::Rft, Side::Client, &data),
            "DATA seq=2 ts=258 len=2"
        );
        assert_eq!(
            describe(Proto::Rft, Side::Client, b"ok"),
            "not an rft packet (2 bytes: shorter than the 16-byte header): \"ok\""
        );
        assert_eq!(
            describe(Proto::UdpFt, Side::Client, ft::END_FLAG),
            "END \"================END\""
        );
        assert_eq!(
            describe(Proto::UdpFt, Side::Client, &[b'x'; 1024]),
            "\"xxxxxxxxxxxxxxxx\"…"
        );
        assert_eq!(
            describe(Proto::UdpEcho, Side::Server, b"a\x1b[2J\xff\n"),
            "\"a\\x1b[2J\\xff\\n\""
        );
        assert_eq!(describe(Proto::UdpEcho, Side::Client, b""), "");
        assert_eq!(describe(Proto::Raw, Side::Client, &[0, 1]), "00 01");
    }
}
