//! The UDP file server's robustness checks: an older, longer file at the path, a
//! stranger's datagram in the middle of an upload, a path with `..`, a datagram longer
//! than the protocol's 1024 bytes, a client that never sends END, two clients at once.
//! Where the protocol itself leaves the choice open, the step reports what the server
//! did instead of failing it.

use std::time::{Duration, Instant};

use udpcliserv::ft::{END_FLAG, MAXLINE};

use super::dgram::Dgram;
use super::ftfiles::content;
use super::report::{Failure, Tag, shown};
use super::session::{Session, pass};
use super::udpft::{ask, explain, send_data, target, written};

/// What labcheck puts at the upload's path before `udpft.overwrite`.
const OLD: u8 = b'X';

/// Runs the robustness checks.
pub fn check(s: &mut Session<'_>) {
    s.step("udpft.overwrite", Tag::Robustness, "a longer file at the path is replaced, not overwritten in part", |s| {
        let sv = s.server()?;
        let a = Dgram::bind(s, 0, "A")?;
        let (file, path) = target(s, "copy-over");
        std::fs::write(&file, vec![OLD; 5000]).map_err(|e| Failure::new("an old file at the path", e.to_string(), "labcheck could not write it"))?;
        s.say("copy-over exists already: 5000 bytes of X");
        ask(s, &a, sv.addr, &path, false)?;
        let data = content(1025);
        send_data(&a, sv.addr, &data, usize::MAX, || Ok(()))?;
        a.send_to(END_FLAG, sv.addr, "================END")?;
        written(&file, &data, s.t).map_err(|got| {
            let mut f = explain(&got, &data, true);
            if got.len() == 5000 + data.len() && got.ends_with(&data) {
                f.why = "the upload went after the old content: open the file with O_TRUNC, not O_APPEND, so that an upload replaces it".into();
            } else if got.len() == 5000 && got.starts_with(&data) {
                f.why = "the end of the old file is still there: open with O_TRUNC (the course's server opens with O_RDWR|O_CREAT only), so that a shorter upload leaves no old tail".into();
            }
            f
        })?;
        pass("")
    });
    s.step("udpft.stranger", Tag::Robustness, "a stranger's datagram in the middle of an upload is not written into the file", |s| {
        let sv = s.server()?;
        let (a, x) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "X")?);
        let (file, path) = target(s, "copy-stranger");
        ask(s, &a, sv.addr, &path, false)?;
        let data = content(6 * MAXLINE);
        send_data(&a, sv.addr, &data, 3, || {
            x.send_to(b"A STRANGER'S DATAGRAM\n", sv.addr, "a datagram from another port")?;
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        })?;
        a.send_to(END_FLAG, sv.addr, "================END")?;
        written(&file, &data, s.t).map_err(|got| {
            let mut f = explain(&got, &data, true);
            if got.windows(10).any(|w| w == b"A STRANGER") {
                f.why = "anyone can send to the server's port (UNP 8.8): write only the datagrams whose address is the uploading client's — compare recvfrom()'s address with the one the path came from".into();
            }
            f
        })?;
        pass("")
    });
    s.step("udpft.traversal", Tag::Robustness, "a path with `..` writes nothing outside the server's directory", |s| {
        let sv = s.server()?;
        let a = Dgram::bind(s, 0, "A")?;
        let outside = s.dir.join("escaped.txt");
        let path: Vec<u8> = if s.starts_program() { b"../escaped.txt".to_vec() } else { format!("{}/files/../escaped.txt", s.dir.display()).into_bytes() };
        let refused = ask(s, &a, sv.addr, &path, true)?;
        a.send_to(b"escaped\n", sv.addr, "the file")?;
        a.send_to(END_FLAG, sv.addr, "================END")?;
        std::thread::sleep(Duration::from_millis(300));
        if outside.exists() {
            return Err(Failure::new("a refusal: nothing written outside the server's directory", format!("{} was created", outside.display()), "the server writes wherever the client says: refuse any path with a `..` component (and absolute paths), answering something other than `ok`"));
        }
        pass(match refused {
            Some(answer) => format!("refused: \"{}\"", unp::printable(&answer)),
            None => "answered `ok` but wrote nothing outside".to_string(),
        })
    });
    s.step("udpft.long-datagram", Tag::Robustness, "a 3000-byte datagram in the middle: the server goes on and the rest arrives", |s| {
        let sv = s.server()?;
        let a = Dgram::bind(s, 0, "A")?;
        let (file, path) = target(s, "copy-long");
        ask(s, &a, sv.addr, &path, false)?;
        let (head, tail) = (content(MAXLINE), vec![b'T'; 100]);
        a.send_to(&head, sv.addr, "1024 bytes of file")?;
        a.send_to(&[b'L'; 3000], sv.addr, "3000 bytes: longer than the protocol's 1024")?;
        a.send_to(&tail, sv.addr, "the rest of the file")?;
        a.send_to(END_FLAG, sv.addr, "================END")?;
        std::thread::sleep(Duration::from_millis(300));
        let got = std::fs::read(&file).unwrap_or_default();
        let middle = got.strip_prefix(&head[..]).and_then(|g| g.strip_suffix(&tail[..]));
        match middle {
            Some(m) if m.iter().all(|&b| b == b'L') => pass(match m.len() {
                0 => "it dropped the long datagram".to_string(),
                3000 => "it wrote all 3000 bytes".to_string(),
                n => format!("it wrote the first {} of it (recvfrom() into {0} discards the rest of a datagram, silently)", crate::plural(n, "byte")),
            }),
            _ => Err(Failure::new("the first 1024 bytes, what the server keeps of the long datagram, then the last 100 bytes", super::ftfiles::first_difference(&got, &[head, tail].concat()), "a datagram longer than the buffer must not stop the upload or upset the server: recvfrom() returns at most the buffer's size (and leaves no room for buf[n] = 0 when n == sizeof(buf))")),
        }
    });
    s.step("udpft.no-end", Tag::Robustness, "a client that never sends END: what the server does (with --idle S: it must serve the next client)", no_end);
    s.step(
        "udpft.two-clients",
        Tag::Robustness,
        "a second client while an upload runs: the first file stays exact; what the second gets",
        two_clients,
    );
}

/// A goes silent after one datagram; B asks every 500 ms until the deadline.
fn no_end(s: &mut Session<'_>) -> Result<super::session::Done, Failure> {
    let sv = s.server()?;
    let (a, b) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "B")?);
    let (_, path) = target(s, "copy-silent");
    ask(s, &a, sv.addr, &path, false)?;
    a.send_to(
        &content(MAXLINE),
        sv.addr,
        "1024 bytes, then silence: no END",
    )?;
    let claimed = s.opts.idle;
    let deadline = Instant::now() + claimed.unwrap_or_default() + s.t;
    let (_, next) = target(s, "copy-next");
    b.note("-> the path \"copy-next\" every 500 ms until answered");
    let started = Instant::now();
    while Instant::now() < deadline {
        b.send_quiet(&next, sv.addr)?;
        let asked = Instant::now();
        let got = b.recv_quiet(Duration::from_millis(500));
        std::thread::sleep(Duration::from_millis(500).saturating_sub(asked.elapsed()));
        if let Some((answer, _)) = got {
            b.note(format!(
                "<- {} after {:.1} s",
                shown(&answer),
                started.elapsed().as_secs_f64()
            ));
            return pass(format!(
                "it gave the silent upload up and answered the next client after {:.1} s",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    b.note(format!(
        "<- nothing in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    match claimed {
        Some(idle) => Err(Failure::new(
            format!(
                "the next client answered within {} s (--idle {} s, plus the step's {} s)",
                (idle + s.t).as_secs(),
                idle.as_secs(),
                s.t.as_secs()
            ),
            "no answer: the server still waits for the silent client's END",
            "give up an upload whose client has been silent for the idle time, then serve the next client: count the time from that client's last datagram (a timeout on the socket, SO_RCVTIMEO, starts again with every datagram, anyone's — here B's path every 500 ms)",
        )),
        None => pass(format!(
            "it waits for END: after {} s the next client is still not answered (a lost END blocks the course's server forever; an idle timeout — SO_RCVTIMEO — lets it go on; tell labcheck with --idle S)",
            s.t.as_secs()
        )),
    }
}

/// A uploads in two halves; B asks in between and, if answered `ok`, uploads too.
fn two_clients(s: &mut Session<'_>) -> Result<super::session::Done, Failure> {
    let sv = s.server()?;
    let (a, b) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "B")?);
    let (file, path) = target(s, "copy-a");
    let (bfile, bpath) = target(s, "copy-b");
    ask(s, &a, sv.addr, &path, false)?;
    let data = content(4 * MAXLINE);
    let mut fate = String::new();
    send_data(&a, sv.addr, &data, 2, || {
        b.send_to(&bpath, sv.addr, "B's path, while A's upload runs")?;
        fate = match b.recv(Duration::from_millis(500)) {
            Some((ok, _)) if ok.starts_with(b"ok") => {
                b.send_to(b"B's file\n", sv.addr, "B's file")?;
                b.send_to(END_FLAG, sv.addr, "================END")?;
                "B was answered `ok` at once".to_string()
            }
            Some((other, _)) => format!("B was answered {}", shown(&other)),
            None => "B got no answer while A's upload ran (its path dropped: a client waiting for `ok` would wait forever)".to_string(),
        };
        Ok(())
    })?;
    a.send_to(END_FLAG, sv.addr, "================END")?;
    written(&file, &data, s.t).map_err(|got| {
        let mut f = explain(&got, &data, true);
        if got.windows(bpath.len()).any(|w| w == &bpath[..]) {
            f.why = "the second client's path was written into the first client's file: while an upload runs, write only that client's datagrams (compare recvfrom()'s address)".into();
        }
        f
    })?;
    if fate.ends_with("at once") {
        let b_ok = written(&bfile, b"B's file\n", s.t).is_ok();
        fate.push_str(if b_ok {
            ", and its file is right"
        } else {
            ", but its file is not right"
        });
    }
    pass(format!("A's file is exact; {fate}"))
}
