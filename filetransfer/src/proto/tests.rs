//! Unit tests of the framing interface: layout, round trips, any split of a stream.

use super::*;

fn frame(len: i32, fill: u8) -> [u8; SEGMENT_SIZE] {
    let mut f = [fill; SEGMENT_SIZE];
    f[..4].copy_from_slice(&len.to_le_bytes());
    f
}

#[test]
fn data_segment_round_trip_and_layout() {
    let mut f = [0xAAu8; SEGMENT_SIZE];
    encode_data(b"hello", &mut f);
    assert_eq!(&f[..4], &[5, 0, 0, 0]); // little-endian length
    assert_eq!(&f[4..9], b"hello");
    assert!(f[9..].iter().all(|&b| b == 0));
    assert_eq!(parse(&f), Ok(Segment::Data(b"hello")));
}

#[test]
fn garbage_after_length_is_ignored() {
    let f = frame(3, b'Z');
    assert_eq!(parse(&f), Ok(Segment::Data(b"ZZZ")));
    assert_eq!(parse(&frame(1, 9)), Ok(Segment::Data(b"\x09")));
    assert_eq!(parse(&frame(256, 1)), Ok(Segment::Data(&[1u8; 256])));
}

#[test]
fn lengths_outside_the_range_are_protocol_errors() {
    for n in [257, -2, i32::MIN, i32::MAX, 260] {
        assert_eq!(parse(&frame(n, 0)), Err(ProtoError::BadLength(n)));
    }
    assert_eq!(
        ProtoError::BadLength(300).to_string(),
        "protocol error: segment length 300 is outside -1..=256"
    );
}

#[test]
fn end_of_file_segment_is_length_zero_and_zero_padding() {
    let f = encode_end_of_file();
    assert_eq!(&f[..4], &[0, 0, 0, 0]);
    assert!(f[4..].iter().all(|&b| b == 0));
    assert!(is_end_of_file(&f));
    assert_eq!(parse(&f), Ok(Segment::EndOfFile));
    // Recognized by its length alone, whatever a peer leaves in the padding.
    assert!(is_end_of_file(&frame(0, 0xEE)));
    assert_eq!(parse(&frame(0, 0xEE)), Ok(Segment::EndOfFile));
    assert!(!is_end_of_file(&frame(1, 0)));
    assert!(!is_end_of_file(&frame(-1, 0)));
    assert!(!Segment::EndOfFile.is_short());
    assert!(Segment::Data(b"x").is_short());
    assert!(!Segment::Data(&[0; 256]).is_short());
}

#[test]
fn error_segment_round_trip() {
    let f = encode_error("No such file or directory: x.txt");
    assert_eq!(&f[..4], &[0xFF; 4]);
    let seg = parse(&f).unwrap();
    assert_eq!(seg, Segment::Error(b"No such file or directory: x.txt"));
    assert_eq!(
        seg.error_message().as_deref(),
        Some("No such file or directory: x.txt")
    );
}

#[test]
fn long_error_message_is_cut_at_a_char_boundary_and_nul_ended() {
    let msg = "é".repeat(200); // 400 bytes
    let f = encode_error(&msg);
    assert_eq!(f[SEGMENT_SIZE - 1], 0);
    let Segment::Error(m) = parse(&f).unwrap() else {
        panic!("not an error segment")
    };
    assert_eq!(m.len(), 254);
    assert!(std::str::from_utf8(m).is_ok());
    // A C peer that fills the whole buffer without a NUL is read to the end.
    let full = frame(-1, b'e');
    assert_eq!(parse(&full), Ok(Segment::Error(&[b'e'; 256])));
}

#[test]
fn encode_segments_splits_in_256_byte_pieces() {
    let data: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let mut out = Vec::new();
    encode_segments(&data, &mut out);
    assert_eq!(out.len(), 3 * SEGMENT_SIZE);
    let lens: Vec<i32> = out
        .chunks_exact(SEGMENT_SIZE)
        .map(|c| segment_length(c.try_into().unwrap()))
        .collect();
    assert_eq!(lens, [256, 256, 88]);
    let mut back = Vec::new();
    for segment in segments(&out) {
        match segment.unwrap() {
            Segment::Data(d) => back.extend_from_slice(d),
            other => panic!("not data: {other:?}"),
        }
    }
    assert_eq!(back, data);
    out.clear();
    encode_segments(b"", &mut out);
    assert!(out.is_empty());
    encode_segments(&[1; 512], &mut out);
    assert_eq!(out.len(), 2 * SEGMENT_SIZE);
}

#[test]
fn check_tells_complete_incomplete_and_invalid_apart() {
    let f = frame(256, 0);
    assert_eq!(check(&f), Framing::Complete);
    assert_eq!(check(&[f, f].concat()), Framing::Complete);
    assert_eq!(check(&f[..130]), Framing::Incomplete);
    assert_eq!(check(&[]), Framing::Incomplete);
    assert_eq!(
        check(&frame(300, 0)),
        Framing::Invalid(ProtoError::BadLength(300))
    );
    // Invalid only once the whole segment is there: its length could still be read
    // early, but a C peer's segment is judged as a whole, like any other.
    assert_eq!(check(&frame(300, 0)[..10]), Framing::Incomplete);
}

#[test]
fn segments_takes_the_complete_ones_and_leaves_the_rest() {
    let mut wire = Vec::new();
    encode_segments(&[3u8; 600], &mut wire);
    let mut all = segments(&wire[..700]);
    assert_eq!(all.next(), Some(Ok(Segment::Data(&[3u8; 256][..]))));
    assert_eq!(all.next(), Some(Ok(Segment::Data(&[3u8; 256][..]))));
    assert_eq!(all.next(), None);
    assert_eq!(all.rest(), &wire[520..700]);
    assert_eq!(complete_replies(&wire[..700]), 520);
    assert_eq!(complete_replies(&wire[..259]), 0);
    assert_eq!(complete_replies(&wire), wire.len());
}

#[test]
fn segments_display_in_one_line() {
    assert_eq!(Segment::Data(&[0; 256]).to_string(), "segment len=256");
    assert_eq!(
        Segment::Data(&[0; 88]).to_string(),
        "segment len=88 (last data)"
    );
    assert_eq!(Segment::EndOfFile.to_string(), "end-of-file segment");
    assert_eq!(
        Segment::Error(b"bad\x1b[2J\nforged").to_string(),
        r#"error segment "bad\x1b[2J\nforged""#
    );
}

/// Describes `wire` arriving in pieces of `step` bytes, as labtrace does: whole
/// segments are described, the rest waits for the next piece.
fn describe_in_pieces(wire: &[u8], step: usize) -> (Vec<String>, usize) {
    let (mut lines, mut pending) = (Vec::new(), Vec::new());
    for piece in wire.chunks(step) {
        pending.extend_from_slice(piece);
        let n = complete_replies(&pending);
        lines.extend(describe_replies(&pending[..n]));
        pending.drain(..n);
    }
    (lines, pending.len())
}

#[test]
fn describer_works_on_any_split() {
    let mut wire = Vec::new();
    encode_segments(&[3u8; 600], &mut wire);
    wire.extend_from_slice(&encode_end_of_file());
    let expected = [
        "segment len=256",
        "segment len=256",
        "segment len=88 (last data)",
        "end-of-file segment",
    ];
    for step in [1, 7, 259, 260, 261, 1000] {
        let (lines, left) = describe_in_pieces(&wire, step);
        assert_eq!(lines, expected, "split every {step} bytes");
        assert_eq!(left, 0);
    }
}

#[test]
fn describer_shows_error_segments_and_bytes_after_the_end() {
    let mut wire = encode_error("refused: outside the served directory").to_vec();
    assert_eq!(
        describe_replies(&wire),
        ["error segment \"refused: outside the served directory\""]
    );
    wire = encode_end_of_file().to_vec();
    encode_segments(b"late", &mut wire);
    assert_eq!(
        describe_replies(&wire),
        [
            "end-of-file segment",
            "260 unexpected bytes after the last segment"
        ]
    );
}

#[test]
fn describer_reports_leftovers_and_bad_lengths() {
    let (lines, left) = describe_in_pieces(&frame(256, 0)[..130], 1000);
    assert!(lines.is_empty());
    assert_eq!(left, 130, "an incomplete segment: 130 of 260 bytes");
    let mut wire = frame(300, 0).to_vec();
    wire.extend_from_slice(&[0; 10]);
    assert_eq!(
        describe_replies(&wire),
        [
            "protocol error: segment length 300 is outside -1..=256",
            "10 unexpected bytes after the last segment"
        ]
    );
}
