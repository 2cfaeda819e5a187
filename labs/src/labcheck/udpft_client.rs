//! The course's UDP file client's checks (Lab 4, `UDP_FTCli IP ORIGIN COPY`): labcheck
//! plays `UDP_FTServ` on a UDP port, answers the path with `ok`, takes the datagrams
//! until `================END` and compares them with the file the client read.

use std::net::SocketAddr;
use std::time::Duration;

use udpcliserv::ft::{END_FLAG, MAXLINE};

use super::dgram::Dgram;
use super::ftfiles::{content, first_difference};
use super::proc::{Program, describe_status};
use super::report::{Failure, Tag, shown};
use super::session::{Session, pass};
use super::udpft::SIZES;
use crate::plural;

/// The client under check, started to upload `local` to `remote`.
fn start(s: &mut Session<'_>, local: &str, remote: &str) -> Result<(Program, Dgram), Failure> {
    let port = match s.opts.fixed_port {
        Some(p) => p,
        None => s.port()?,
    };
    let server = Dgram::bind(s, port, "S")?;
    let argv = s.argv(&[
        ("{host}", "127.0.0.1"),
        ("{port}", &port.to_string()),
        ("{local}", local),
        ("{remote}", remote),
    ]);
    Ok((s.spawn(&argv)?, server))
}

/// Takes the path and checks it is `remote`'s bytes only.
fn path(
    s: &Session<'_>,
    prog: &mut Program,
    sv: &Dgram,
    remote: &str,
) -> Result<SocketAddr, Failure> {
    let expected = format!("the path {remote:?}, its bytes only, in one datagram");
    let (got, from) = sv.recv_from_program(prog, s.t, &expected)?;
    if got != remote.as_bytes() {
        let why = match got.strip_prefix(remote.as_bytes()) {
            Some(b"\n") => "the path ends with a newline: remove it before sendto()".to_string(),
            Some(rest) if rest.first() == Some(&0) => "the path is followed by NUL bytes: send strlen(target) bytes, not the whole buffer".to_string(),
            _ => "send the path the server should write (COPY_PATH, argv[3]) as its bytes, no terminator".to_string(),
        };
        return Err(Failure::new(expected, shown(&got), why));
    }
    Ok(from)
}

/// Takes data datagrams until END; returns the data, or what went wrong.
fn data(s: &Session<'_>, prog: &mut Program, sv: &Dgram) -> Result<Vec<u8>, Failure> {
    let mut all = Vec::new();
    let mut count = 0usize;
    // `3000 bytes in 3 datagrams`.
    let got = |all: &[u8], count: usize| {
        let datagrams = plural(count, "datagram");
        format!("{} in {datagrams}", plural(all.len(), "byte"))
    };
    loop {
        let Some((d, _)) = sv.recv_quiet(s.t) else {
            sv.note(format!(
                "<- {}, then nothing for {} s",
                got(&all, count),
                s.t.as_secs()
            ));
            let ended = prog
                .exited()
                .map_or("it is still running".to_string(), |st| {
                    format!("it ended ({})", describe_status(st))
                });
            return Err(Failure::new(
                "the file's datagrams, then `================END`",
                format!("{} and no END; {ended}", got(&all, count)),
                "after the last piece of the file, sendto() `================END`: the server writes until it comes",
            ));
        };
        if d == END_FLAG {
            sv.note(format!("<- {}, then {}", got(&all, count), shown(&d)));
            return Ok(all);
        }
        if d.len() > MAXLINE {
            return Err(Failure::new(
                "datagrams of at most 1024 bytes",
                format!("datagram {} has {}", count + 1, plural(d.len(), "byte")),
                "the server receives into 1024 bytes (MAXLINE): the rest of a longer datagram is lost. read() the file 1024 bytes at a time",
            ));
        }
        all.extend_from_slice(&d);
        count += 1;
    }
}

/// One upload of `size` bytes, checked.
fn upload(s: &mut Session<'_>, name: &str, size: usize) -> Result<String, Failure> {
    let want = content(size);
    let local = format!("orig-{name}");
    std::fs::write(s.dir.join(&local), &want).map_err(|e| {
        Failure::new(
            "the file to upload",
            e.to_string(),
            "labcheck could not write it",
        )
    })?;
    let remote = format!("copy-{name}");
    let (mut prog, sv) = start(s, &local, &remote)?;
    let from = path(s, &mut prog, &sv, &remote)?;
    sv.send_to(b"ok", from, "ok")?;
    let got = data(s, &mut prog, &sv)?;
    if got != want {
        let why = if got.len() > want.len() && got.len() % MAXLINE == 0 {
            "send as many bytes as read() returned (n), not the whole buffer".to_string()
        } else {
            "send the file's bytes in order, each datagram what one read() returned".to_string()
        };
        return Err(Failure::new(
            format!("the {} of {local}", plural(size, "byte")),
            first_difference(&got, &want),
            why,
        ));
    }
    match prog.wait_exit(s.t) {
        Some(st) if st.success() => {}
        Some(st) => {
            return Err(Failure::new(
                "exit status 0",
                describe_status(st),
                prog.said(),
            ));
        }
        None => {
            return Err(Failure::new(
                "the client ends after END",
                "still running",
                "after sending END, close the socket and return from main",
            ));
        }
    }
    if !prog.stdout().contains("Filename sent.") {
        return Err(Failure::new(
            "the client prints `Filename sent.` after `ok`",
            format!("its output: {}", shown(prog.stdout().as_bytes())),
            "UDP_FTCli prints `Filename sent.` when the answer starts with `ok`",
        ));
    }
    Ok(format!(
        "{} sent exactly in {}",
        plural(size, "byte"),
        plural(size.div_ceil(MAXLINE), "datagram")
    ))
}

/// Runs every UDP file client check.
pub fn check(s: &mut Session<'_>) {
    for (name, size) in SIZES {
        let title = format!(
            "a file of {} goes in datagrams of at most 1024 bytes, then END",
            plural(size, "byte")
        );
        s.step(&format!("udpft-client.{name}"), Tag::Handout, &title, |s| {
            pass(upload(s, name, size)?)
        });
    }
    s.step(
        "udpft-client.refused",
        Tag::Robustness,
        "an answer other than `ok`: no `Filename sent.`, and the client ends",
        |s| {
            std::fs::write(s.dir.join("orig-refused"), b"some data\n").map_err(|e| {
                Failure::new(
                    "the file to upload",
                    e.to_string(),
                    "labcheck could not write it",
                )
            })?;
            let (mut prog, sv) = start(s, "orig-refused", "copy-refused")?;
            let from = path(s, &mut prog, &sv, "copy-refused")?;
            sv.send_to(b"refused: labcheck says no", from, "a refusal")?;
            let after = std::iter::from_fn(|| sv.recv_quiet(Duration::from_millis(300)))
                .take(20)
                .count();
            let ended = prog.wait_exit(s.t);
            if prog.stdout().contains("Filename sent.") {
                return Err(Failure::new(
                    "no `Filename sent.`",
                    "it printed `Filename sent.`",
                    "print it only when the answer starts with `ok`: strncmp(buf, \"ok\", 2) == 0",
                ));
            }
            match ended {
                Some(st) => pass(format!(
                    "{} sent after the refusal; {}",
                    plural(after, "datagram"),
                    describe_status(st)
                )),
                None => Err(Failure::new(
                    "the client ends",
                    "still running",
                    "after a refusal there is nothing to wait for: end (and say why)",
                )),
            }
        },
    );
    s.step("udpft-client.missing", Tag::Robustness, "a local file that does not exist: a message and a non-zero status", |s| {
        let (mut prog, sv) = start(s, "no-such-file", "copy-missing")?;
        if let Some((_, from)) = sv.recv_quiet(Duration::from_millis(500)) {
            sv.note("<- the path");
            sv.send_to(b"ok", from, "ok")?;
        }
        let sent = std::iter::from_fn(|| sv.recv_quiet(Duration::from_millis(300))).take(5).count();
        match prog.wait_exit(s.t) {
            Some(st) if !st.success() && !prog.stderr().trim().is_empty() => pass(prog.said()),
            Some(st) => Err(Failure::new("a message on stderr and a non-zero status", format!("{}; {}; {} sent", describe_status(st), prog.said(), plural(sent, "datagram")), "open() failed and the client went on: the server now holds an empty copy. Check open()'s return value (perror, exit(1)) — before sending the path")),
            None => Err(Failure::new("the client ends with a message", "still running", "check open()'s return value and end")),
        }
    });
    s.step("udpft-client.lost-ok", Tag::Robustness, "no answer to the path (a lost datagram): what the client does", |s| {
        std::fs::write(s.dir.join("orig-lost"), b"some data\n").map_err(|e| Failure::new("the file to upload", e.to_string(), "labcheck could not write it"))?;
        let (mut prog, sv) = start(s, "orig-lost", "copy-lost")?;
        path(s, &mut prog, &sv, "copy-lost")?;
        let until = std::time::Instant::now() + s.t;
        let mut again = 0;
        while std::time::Instant::now() < until {
            again += usize::from(sv.recv_quiet(Duration::from_millis(100)).is_some());
        }
        pass(match prog.wait_exit(Duration::from_millis(100)) {
            Some(st) => format!("it ended ({}) after {} more; {}", describe_status(st), plural(again, "datagram"), prog.said()),
            None if again > 0 => format!("it sent the path again ({}): it retries", plural(again, "datagram")),
            None => "it waits for `ok` forever, as the course's client does (recvfrom() with no timeout: UNP 8.4)".to_string(),
        })
    });
}
