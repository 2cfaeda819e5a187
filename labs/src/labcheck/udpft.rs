//! The course's UDP file server's checks (Lab 4, `UDP_FTServ`, an upload): labcheck plays
//! `UDP_FTCli` — the path, `ok`, the file in 1024-byte datagrams, `================END` —
//! and reads the file the server wrote in its directory. The handout's sizes byte for
//! byte, `END` ends the file, a second server; the robustness checks are in
//! [`super::udpft_robust`].
//!
//! The protocol has no flow control: labcheck sends 16 datagrams at a time and, on
//! Linux, waits until the server has read them before it sends more ([`drained`]), so
//! that a correct server's receive buffer never overflows on loopback, however late a
//! busy machine runs it (elsewhere it paces them, 16 per millisecond).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use udpcliserv::ft::{END_FLAG, MAXLINE};

use super::dgram::Dgram;
use super::ftfiles::{content, first_difference};
use super::ports::udp_backlog;
use super::proc::wait_until;
use super::report::{Failure, Tag, shown};
use super::session::{Session, pass};

/// The handout's sizes: empty, one byte, around one datagram, several hundred KiB.
pub const SIZES: [(&str, usize); 6] = [
    ("size-0", 0),
    ("size-1", 1),
    ("size-1023", 1023),
    ("size-1024", 1024),
    ("size-1025", 1025),
    ("size-300k", 300 * 1024 + 7),
];

/// Where the server writes `name`, and the path labcheck sends for it: relative to the
/// server's directory when labcheck started it, absolute for `--addr`.
pub fn target(s: &Session<'_>, name: &str) -> (PathBuf, Vec<u8>) {
    let file = s.dir.join("files").join(name);
    let sent = match s.starts_program() {
        true => name.as_bytes().to_vec(),
        false => file.to_string_lossy().as_bytes().to_vec(),
    };
    (file, sent)
}

/// Sends the path and requires `ok` from the server's port; returns the answer when it
/// is something else and `refusal_ok`.
pub fn ask(
    s: &Session<'_>,
    d: &Dgram,
    to: SocketAddr,
    path: &[u8],
    refusal_ok: bool,
) -> Result<Option<Vec<u8>>, Failure> {
    d.send_to(path, to, "the path")?;
    let Some((answer, from)) = d.recv(s.t) else {
        return Err(Failure::new(
            "`ok` (6f 6b)",
            format!("no answer within {} s", s.t.as_secs()),
            "recvfrom() the path, then sendto() `ok` to the address recvfrom() filled in: UDP_FTCli waits for it",
        ));
    };
    if answer.starts_with(b"ok") && from.port() == to.port() {
        return Ok(None);
    }
    if refusal_ok {
        return Ok(Some(answer));
    }
    let why = if from.port() != to.port() {
        format!(
            "the answer came from port {}: answer on the socket the path came in on",
            from.port()
        )
    } else {
        "UDP_FTCli prints `Filename sent.` only when the answer starts with `ok` (strncmp(buf, \"ok\", 2))".to_string()
    };
    Err(Failure::new("`ok` (6f 6b)", shown(&answer), why))
}

/// Sends `data` in datagrams of 1024 bytes, paced; `between` runs after datagram `at`.
pub fn send_data(
    d: &Dgram,
    to: SocketAddr,
    data: &[u8],
    at: usize,
    mut between: impl FnMut() -> Result<(), Failure>,
) -> Result<(), Failure> {
    d.note(format!(
        "-> {} of file in {} of up to 1024 bytes",
        crate::plural(data.len(), "byte"),
        crate::plural(data.len().div_ceil(MAXLINE), "datagram")
    ));
    let mut reading = true;
    for (i, chunk) in data.chunks(MAXLINE).enumerate() {
        if i == at {
            between()?;
        }
        d.send_quiet(chunk, to)?;
        if i % 16 == 15 {
            std::thread::sleep(Duration::from_millis(1));
            reading = reading && drained(to.port());
        }
    }
    if at >= data.len().div_ceil(MAXLINE) {
        between()?;
    }
    Ok(())
}

/// How long a server may take to read 16 datagrams before labcheck sends on anyway.
const DRAIN: Duration = Duration::from_secs(3);

/// Waits (at most [`DRAIN`]) until the server bound to `port` has read every datagram
/// sent to it, as far as its receive queue shows ([`udp_backlog`]: nothing to wait for
/// where it cannot be read); false when it did not, and then the rest is only paced
/// (a server that stopped reading must not hold labcheck for [`DRAIN`] per batch).
fn drained(port: u16) -> bool {
    wait_until(DRAIN, || udp_backlog(port).is_none_or(|bytes| bytes == 0))
}

/// Waits up to `t` for `file` to hold `want`, then says how it differs.
pub fn written(file: &std::path::Path, want: &[u8], t: Duration) -> Result<(), Vec<u8>> {
    let mut got = None;
    wait_until(t, || {
        got = std::fs::read(file).ok();
        got.as_deref() == Some(want)
    });
    match got {
        Some(g) if g == want => Ok(()),
        g => Err(g.unwrap_or_default()),
    }
}

/// Why the file that came differs from the one sent, in the student's terms.
pub fn explain(got: &[u8], want: &[u8], exists: bool) -> Failure {
    let bytes = crate::plural(want.len(), "byte");
    let expected = format!("the file holds exactly the {bytes} sent");
    if !exists {
        return Failure::new(
            expected,
            "no such file",
            "open(path, O_WRONLY|O_CREAT|O_TRUNC, 0644) in the server's directory, then write() each datagram",
        );
    }
    let why = if got.ends_with(END_FLAG) {
        "the END marker is in the file: compare each datagram with `================END` before write()ing it, and stop there".to_string()
    } else if got.len() > want.len() && got.starts_with(want) {
        "more than was sent: after END, stop writing".to_string()
    } else if got.len() < want.len() && want.starts_with(got) {
        "the end is missing: write every datagram until END (on loopback labcheck's datagrams are not lost: was the receive buffer too small, or the server too slow?)".to_string()
    } else {
        "write the bytes of each datagram, as many as recvfrom() returned, in the order they came"
            .to_string()
    };
    Failure::new(expected, first_difference(got, want), why)
}

/// One whole upload of `data` to `name`, checked on disk.
fn transfer(s: &mut Session<'_>, name: &str, data: &[u8]) -> Result<String, Failure> {
    let sv = s.server()?;
    let a = Dgram::bind(s, 0, "A")?;
    let (file, path) = target(s, name);
    ask(s, &a, sv.addr, &path, false)?;
    let started = Instant::now();
    send_data(&a, sv.addr, data, usize::MAX, || Ok(()))?;
    a.send_to(END_FLAG, sv.addr, "================END")?;
    let t = s.t.max(Duration::from_secs(if data.len() > 1 << 16 {
        10
    } else {
        0
    }));
    written(&file, data, t).map_err(|got| explain(&got, data, file.exists()))?;
    Ok(format!(
        "{} written exactly in {:.0} ms",
        crate::plural(data.len(), "byte"),
        started.elapsed().as_secs_f64() * 1000.0
    ))
}

/// Runs every UDP file server check.
pub fn check(s: &mut Session<'_>) {
    if let Err(e) = s.serve_dir() {
        s.set_broken(format!(
            "labcheck could not make the server's directory: {e}"
        ));
    }
    s.step(
        "udpft.start",
        Tag::Handout,
        "the server binds its UDP port",
        |s| match s.server() {
            Ok(_) => pass(""),
            Err(f) => {
                s.set_broken("the server did not start");
                Err(f)
            }
        },
    );
    s.step("udpft.ok", Tag::Handout, "the path gets `ok`; the server prints `Received from client: [PATH]`", |s| {
        let sv = s.server()?;
        let a = Dgram::bind(s, 0, "A")?;
        let (_, path) = target(s, "copy-ok");
        ask(s, &a, sv.addr, &path, false)?;
        a.send_to(END_FLAG, sv.addr, "================END")?;
        let Some(prog) = &sv.prog else { return pass("its output is not checked (--addr)") };
        let line = format!("Received from client: [{}]", String::from_utf8_lossy(&path));
        if prog.wait_stdout(&line, s.t) {
            return pass("");
        }
        Err(Failure::new(format!("the server prints `{line}`"), format!("its output: {}", shown(prog.stdout().as_bytes())), "UDP_FTServ prints the path it received: printf(\"Received from client: [%s]\\n\", buf)"))
    });
    for (name, size) in SIZES {
        let title = format!(
            "a file of {} is written byte for byte",
            crate::plural(size, "byte")
        );
        s.step(&format!("udpft.{name}"), Tag::Handout, &title, |s| {
            pass(transfer(s, &format!("copy-{name}"), &content(size))?)
        });
    }
    s.step(
        "udpft.end",
        Tag::Handout,
        "END ends the file: the marker is not written, nor a datagram after it",
        |s| {
            let sv = s.server()?;
            let a = Dgram::bind(s, 0, "A")?;
            let (file, path) = target(s, "copy-end");
            ask(s, &a, sv.addr, &path, false)?;
            let data = b"the whole file\n";
            a.send_to(data, sv.addr, "the file")?;
            a.send_to(END_FLAG, sv.addr, "================END")?;
            a.send_to(b"after END\n", sv.addr, "a datagram after END")?;
            std::thread::sleep(Duration::from_millis(300));
            written(&file, data, s.t).map_err(|got| explain(&got, data, file.exists()))?;
            pass("")
        },
    );
    s.step(
        "udpft.second-server",
        Tag::Handout,
        "a second server on the same port fails with a message",
        super::udpecho::second_server,
    );
    super::udpft_robust::check(s);
}
