//! The file server's robustness checks: a missing file, paths out of the served
//! directory, a client that vanishes mid-transfer, two clients at once.

use std::time::Duration;

use super::ftfiles::content;
use super::proc::describe_status;
use super::report::{Failure, Tag, came, shown};
use super::session::{Served, Session, pass};
use super::wire::End;

/// What a secret outside the served directory holds.
const SECRET: &[u8] = b"labcheck secret: this file is outside the served directory\n";

/// After an attack, the server must not have died of it; an iterative one must serve on.
fn still_fine(s: &mut Session<'_>, sv: &mut Served, iterative: bool) -> Result<String, Failure> {
    std::thread::sleep(Duration::from_millis(50));
    if let Some(prog) = sv.prog.as_mut() {
        let ended = if iterative {
            prog.exited()
        } else {
            prog.wait_exit(s.t)
        };
        match ended {
            Some(st) if iterative || !st.success() && st.code().is_none() => {
                return Err(Failure::new(
                    if iterative {
                        "the server goes on serving"
                    } else {
                        "the server ends normally"
                    },
                    format!("it ended ({}); {}", describe_status(st), prog.said()),
                    "a client's mistake must not kill the server: ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)), check every read() and write(), and close that client only",
                ));
            }
            _ => {}
        }
    }
    if !iterative {
        return Ok(String::new());
    }
    let mut c = s.connect(sv.addr, "N")?;
    c.send(b"size-1", "the path \"size-1\"")?;
    let (got, end) = c.read_to_end(s.t, 1 << 16);
    super::ftfiles::check_segments(&got, &content(1)).map_err(|mut f| {
        f.why = format!(
            "the next client was not served ({}): {}",
            came(&got[..got.len().min(8)], end),
            f.why
        );
        f
    })?;
    Ok("the next client was served".into())
}

/// Asks for `path` (outside the served directory) and fails if the secret arrives.
fn refuse(
    s: &mut Session<'_>,
    iterative: bool,
    path: &str,
) -> Result<super::session::Done, Failure> {
    let mut sv = s.server()?;
    let mut c = s.connect(sv.addr, "A")?;
    c.send(path.as_bytes(), &format!("the path {path:?}"))?;
    let (got, _) = c.read_to_end(s.t, 1 << 16);
    if got.windows(SECRET.len()).any(|w| w == SECRET) {
        return Err(Failure::new(
            "a refusal (an error segment, or just the close), not the file",
            format!(
                "the content of {path}: {}",
                shown(&got[..got.len().min(40)])
            ),
            "a file server must serve only its own directory: refuse any path with a `..` component and any absolute path",
        ));
    }
    pass(still_fine(s, &mut sv, iterative)?)
}

/// Runs the robustness checks.
pub fn check(s: &mut Session<'_>, iterative: bool) {
    s.step("ft.missing", Tag::Robustness, "a file that does not exist: a refusal, not a hang or a crash", |s| {
        let mut sv = s.server()?;
        let mut c = s.connect(sv.addr, "A")?;
        c.send(b"no-such-file", "the path \"no-such-file\"")?;
        let (got, end) = c.read_to_end(s.t, 1 << 16);
        if end == End::Open {
            return Err(Failure::new("an error segment or the close", came(&got, end), "when open() fails, tell the client (or at least close the connection): it waits for segments until EOF"));
        }
        pass(still_fine(s, &mut sv, iterative)?)
    });
    let secret = s.dir.join("secret.txt");
    if std::fs::write(&secret, SECRET).is_err() {
        s.note("could not write the secret file: the path checks are skipped");
    }
    s.step(
        "ft.traversal",
        Tag::Robustness,
        "`../secret.txt`, outside the served directory, is refused",
        |s| refuse(s, iterative, "../secret.txt"),
    );
    let absolute = secret.to_string_lossy().into_owned();
    s.step(
        "ft.absolute",
        Tag::Robustness,
        "an absolute path outside the served directory is refused",
        |s| refuse(s, iterative, &absolute),
    );
    s.step(
        "ft.vanish",
        Tag::Robustness,
        "a client that resets after one segment of a big file",
        |s| {
            let mut sv = s.server()?;
            let mut c = s.connect(sv.addr, "A")?;
            c.send(b"size-3mib", "the path \"size-3mib\"")?;
            let _ = c.read_n(260, s.t);
            c.reset();
            pass(still_fine(s, &mut sv, iterative)?)
        },
    );
    if iterative {
        s.step("ft.concurrency", Tag::Robustness, "two clients at once: the second is served, now or once the first leaves", |s| {
            let sv = s.server()?;
            let a = s.connect(sv.addr, "A")?;
            let mut b = s.connect(sv.addr, "B")?;
            b.send(b"size-1", "the path \"size-1\"")?;
            let (now, end) = b.read_to_end(Duration::from_secs(1), 1 << 16);
            if end == End::Eof && super::ftfiles::check_segments(&now, &content(1)).is_ok() {
                a.close();
                return pass("concurrent: the second client was served while the first was connected");
            }
            a.close();
            let (later, end) = b.read_to_end(s.t, 1 << 16);
            let mut all = now;
            all.extend_from_slice(&later);
            super::ftfiles::check_segments(&all, &content(1)).map_err(|mut f| {
                f.why = format!("the second client was not served after the first left ({}): when read() returns 0, close that client and accept the next", came(&[], end));
                f
            })?;
            super::simple::serial(s, "the second client waited until the first left")
        });
    }
}
