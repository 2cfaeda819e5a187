//! Datagram bytes as the course's C programs print them, made safe to print.
//!
//! The C programs print a datagram with `printf("%s")`: its bytes as they are, the
//! newline the client's `fgets` kept included. unplab prints the same for a line of
//! text (`hello\n` shows as `hello` and ends the line, so the output is the C program's
//! byte for byte), and escapes everything else with [`unp::printable`], so a peer can
//! neither forge log lines nor drive the terminal.

use std::io::{BufRead, Read};

/// The course's buffer size: `char message[256]`. The programs receive into one byte
/// less (`BUFFERSIZE-1`), to keep room for the `'\0'` that ends the C string.
pub const BUFFERSIZE: usize = 256;

/// `bytes` as the C programs print them with `%s`: a trailing newline is kept as the
/// end of the line, everything else is escaped.
///
/// ```
/// assert_eq!(udpcliserv::text::shown(b"hello\n"), "hello\n");
/// assert_eq!(udpcliserv::text::shown(b"a\x1b[2J\nb"), r"a\x1b[2J\nb");
/// ```
pub fn shown(bytes: &[u8]) -> String {
    match bytes.strip_suffix(b"\n") {
        Some(line) => format!("{}\n", unp::printable(line)),
        None => unp::printable(bytes),
    }
}

/// The client's line for a reply: `Received a message from the server : TEXT` (the C
/// client's `printf`, whose `%s` keeps the echoed newline: a blank line follows).
pub fn print_reply(bytes: &[u8]) -> unp::Result<()> {
    unp::print_flush(format_args!(
        "Received a message from the server : {}\n",
        shown(bytes)
    ))
}

/// C's `fgets(buf, max + 1, stdin)`: the next line of `input` with its newline, or its
/// first `max` bytes when it is longer (the rest comes with the next call); `None` at
/// end of input.
pub fn read_line(input: &mut impl BufRead, max: usize) -> unp::Result<Option<Vec<u8>>> {
    let mut line = Vec::with_capacity(max);
    // read_until calls read again itself after EINTR.
    input
        .by_ref()
        .take(max as u64)
        .read_until(b'\n', &mut line)
        .map_err(|e| unp::Error::os("read", e).with_detail("stdin"))?;
    Ok((!line.is_empty()).then_some(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_line_cuts_long_lines_like_fgets() {
        let long = [b'x'; 300];
        let mut input = std::io::Cursor::new([&long[..], b"\nshort\nlast"].concat());
        assert_eq!(read_line(&mut input, 255).unwrap().unwrap().len(), 255);
        assert_eq!(
            read_line(&mut input, 255).unwrap().unwrap(),
            [&[b'x'; 45][..], b"\n"].concat()
        );
        assert_eq!(read_line(&mut input, 255).unwrap().unwrap(), b"short\n");
        assert_eq!(read_line(&mut input, 255).unwrap().unwrap(), b"last");
        assert_eq!(read_line(&mut input, 255).unwrap(), None);
    }

    #[test]
    fn shown_keeps_one_line_and_escapes_the_rest() {
        assert_eq!(shown(b"hi\n\n"), "hi\\n\n");
        assert_eq!(shown(b""), "");
        assert_eq!(shown(b"\xff\0"), r"\xff\0");
    }
}
