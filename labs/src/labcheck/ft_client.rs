//! The file client's checks: labcheck plays FTServer, in the C server's own style (full
//! segments with stale padding, no end-of-file segment, then the close), and compares the
//! file the client wrote with the one it sent.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use filetransfer::proto::{BUFSIZE, SEGMENT_SIZE};

use super::Protocol;
use super::ftfiles::{SIZES, content, first_difference};
use super::proc::{Program, describe_status, loopback};
use super::report::{Failure, Tag, came};
use super::session::{Session, pass};
use super::wire::Conn;

/// The C server's segments for `data`: 256 bytes each but the last, the buffer's bytes
/// after `len` left stale (here 0xAA, so that a client writing them shows).
pub fn c_style_segments(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / BUFSIZE * SEGMENT_SIZE + SEGMENT_SIZE);
    for piece in data.chunks(BUFSIZE) {
        out.extend_from_slice(&(piece.len() as i32).to_le_bytes());
        out.extend_from_slice(piece);
        out.resize(out.len() + BUFSIZE - piece.len(), 0xAA);
    }
    out
}

/// How labcheck sends the segments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// As fast as it can.
    Fast,
    /// Each segment in two writes, 20 ms apart: one read() gets part of a segment.
    Split,
}

/// Starts the client: for `ft` with the paths on its command line, for `iterft` typed.
fn start(
    s: &mut Session<'_>,
    remote: &str,
    local: &str,
) -> Result<(Program, TcpListener), Failure> {
    let port = s.port()?;
    let listener = TcpListener::bind(loopback(port)).map_err(|e| {
        Failure::new(
            "a port to listen on",
            e.to_string(),
            "labcheck could not listen",
        )
    })?;
    let argv = s.argv(&[
        ("{host}", "127.0.0.1"),
        ("{port}", &port.to_string()),
        ("{remote}", remote),
        ("{local}", local),
    ]);
    let mut prog = s.spawn(&argv)?;
    if s.opts.proto == Protocol::IterFt {
        s.say(format!("typed {remote:?} and {local:?}"));
        prog.type_in(&format!("{remote}\n{local}\n"));
    }
    Ok((prog, listener))
}

/// Serves one transfer to the client: checks the request, sends `data`, closes.
fn serve_one(
    s: &mut Session<'_>,
    prog: &mut Program,
    listener: &TcpListener,
    remote: &str,
    data: &[u8],
    pace: Pace,
) -> Result<(), Failure> {
    let mut c: Conn = s.accept(listener, prog)?;
    let (got, end) = c.read_until_quiet(s.t, Duration::from_millis(100));
    if got != remote.as_bytes() {
        let why = match got.strip_prefix(remote.as_bytes()) {
            Some(b"\n") => {
                "the path ends with a newline: fgets() keeps it — remove it before write()"
                    .to_string()
            }
            Some(rest) if rest.first() == Some(&0) => {
                "the path is followed by NUL bytes: write strlen(path) bytes, not the whole buffer"
                    .to_string()
            }
            _ => "send the path as its bytes, no terminator, in one write()".to_string(),
        };
        return Err(Failure::new(
            format!("the path {remote:?}, its bytes only"),
            came(&got, end),
            why,
        ));
    }
    let segs = c_style_segments(data);
    c.note(format!(
        "-> {}: {}, C style (stale padding), then FIN",
        crate::plural(segs.len(), "byte"),
        crate::plural(segs.len() / SEGMENT_SIZE, "segment")
    ));
    for seg in segs.chunks(SEGMENT_SIZE) {
        match pace {
            Pace::Fast => c.send_quiet(seg)?,
            Pace::Split => {
                c.send_quiet(&seg[..100])?;
                std::thread::sleep(Duration::from_millis(20));
                c.send_quiet(&seg[100..])?;
            }
        }
    }
    c.close();
    Ok(())
}

/// One transfer from start to the file on disk.
fn transfer(
    s: &mut Session<'_>,
    name: &str,
    data: &[u8],
    pace: Pace,
    stale: bool,
) -> Result<String, Failure> {
    let local = format!("got-{name}");
    let path = s.dir.join(&local);
    if stale {
        std::fs::write(&path, vec![b'X'; 1000]).map_err(|e| {
            Failure::new(
                "a stale local file",
                e.to_string(),
                "labcheck could not write it",
            )
        })?;
        s.say(format!("{local} exists already: 1000 bytes of X"));
    }
    let (mut prog, listener) = start(s, name, &local)?;
    serve_one(s, &mut prog, &listener, name, data, pace)?;
    if s.opts.proto == Protocol::IterFt {
        prog.close_stdin();
    }
    let ended = prog.wait_exit(if data.len() > 1 << 20 {
        s.t.max(Duration::from_secs(10))
    } else {
        s.t
    });
    compare(&path, data, pace, stale, &prog.said())?;
    match ended {
        Some(st) if st.success() => pass_note(data),
        Some(st) => Err(Failure::new(
            "exit status 0",
            describe_status(st),
            prog.said(),
        )),
        None => Err(Failure::new(
            "the client ends once the server closed",
            format!(
                "still running after writing {} of output",
                crate::plural(prog.output_bytes(), "byte")
            ),
            "read() returned 0: the server closed the connection. Stop reading, close the file and exit; a client that goes on calling read() loops on EOF",
        )),
    }
}

fn pass_note(data: &[u8]) -> Result<String, Failure> {
    Ok(format!(
        "{} written exactly",
        crate::plural(data.len(), "byte")
    ))
}

/// What a client that writes whole 256-byte buffers is told.
const PADDING: &str = "the file holds the segments' padding: write only len bytes of each buffer, fwrite(seg.buf, 1, seg.len, fp)";

/// Compares the local file with the data sent.
fn compare(path: &Path, data: &[u8], pace: Pace, stale: bool, said: &str) -> Result<(), Failure> {
    let want = format!(
        "{} holds exactly the {} sent",
        path.display(),
        crate::plural(data.len(), "byte")
    );
    let got = std::fs::read(path).map_err(|e| {
        Failure::new(
            want.clone(),
            format!("cannot read it: {e}; {said}"),
            "the client must create the local file (fopen(path, \"wb\"))",
        )
    })?;
    if got == data {
        return Ok(());
    }
    let why = if stale && got.len() > data.len() && got[..data.len()] == *data {
        "the end of the old file is still there: open the local file with O_TRUNC (fopen \"wb\") so that its old content goes".to_string()
    } else if got.contains(&0xAA) && !data.contains(&0xAA) {
        PADDING.to_string()
    } else if pace == Pace::Split {
        // Before the length heuristic below: a client that takes 100 bytes for a segment
        // reads a "length" out of the data and may write any amount, a multiple of 256
        // included.
        "a segment arrived in two pieces and the client took one read() as one segment: read until all 260 bytes are there (readn)".to_string()
    } else if got.len() % BUFSIZE == 0 && got.len() > data.len() {
        PADDING.to_string()
    } else if data.len() > 64 * 1024 {
        // Small files pass, a big one goes wrong part-way: TCP handed over a segment in
        // pieces once the transfer outran the client (on loopback past ~100 KiB).
        "small files came out right and this big one goes wrong part-way: once the transfer is fast, one read() returns part of a segment (or parts of two); read until all 260 bytes of a segment are there (readn) before using its length".to_string()
    } else {
        "write the data of each segment, in order, and nothing else".to_string()
    };
    Err(Failure::new(want, first_difference(&got, data), why))
}

/// Runs every file-client check.
pub fn check(s: &mut Session<'_>) {
    for (name, size) in SIZES {
        let title = format!(
            "a file of {} is written byte for byte, then the client ends",
            crate::plural(size, "byte")
        );
        s.step(&format!("ft-client.{name}"), Tag::Handout, &title, |s| {
            pass(transfer(s, name, &content(size), Pace::Fast, false)?)
        });
    }
    s.step(
        "ft-client.stale-tail",
        Tag::Handout,
        "a local file that exists, longer, is replaced, not overwritten in part",
        |s| pass(transfer(s, "size-257", &content(257), Pace::Fast, true)?),
    );
    s.step(
        "ft-client.split-segments",
        Tag::Robustness,
        "segments that arrive in pieces (100 + 160 bytes) still make the file",
        |s| pass(transfer(s, "size-3k", &content(3000), Pace::Split, false)?),
    );
    if s.opts.proto == Protocol::IterFt {
        s.step(
            "ft-client.asks-again",
            Tag::Handout,
            "the iterative client asks again and fetches a second file",
            |s| {
                let (mut prog, listener) = start(s, "size-1", "got-a")?;
                serve_one(s, &mut prog, &listener, "size-1", &content(1), Pace::Fast)?;
                s.say("typed \"size-255\" and \"got-b\"");
                prog.type_in("size-255\ngot-b\n");
                serve_one(
                    s,
                    &mut prog,
                    &listener,
                    "size-255",
                    &content(255),
                    Pace::Fast,
                )?;
                prog.close_stdin();
                prog.wait_exit(s.t);
                compare(
                    &s.dir.join("got-b"),
                    &content(255),
                    Pace::Fast,
                    false,
                    &prog.said(),
                )?;
                match prog.wait_exit(s.t) {
                    Some(_) => pass(""),
                    None => Err(Failure::new(
                        "the client ends at the end of its input",
                        "still running",
                        "stop when reading the path returns end of file",
                    )),
                }
            },
        );
    }
}
