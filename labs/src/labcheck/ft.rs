//! The file server's checks (Lab 3 Practice 4): the handout's sizes byte for byte, one
//! file then exit (or the next request, iterative), the second server; and the paths
//! and clients a careful server must refuse or survive.

use std::time::Duration;

use super::Protocol;
use super::ftfiles::{SIZES, check_segments, content};
use super::proc::describe_status;
use super::report::{Failure, Tag};
use super::session::{Served, Session, pass, skip};
use super::wire::End;

/// The longest labcheck reads one transfer.
const TRANSFER: Duration = Duration::from_secs(20);

/// Asks `sv` for `path` and reads until the server closes.
fn fetch(
    s: &mut Session<'_>,
    sv: &Served,
    path: &str,
    size: usize,
) -> Result<(Vec<u8>, End), Failure> {
    let mut c = s.connect(sv.addr, "A")?;
    c.send(path.as_bytes(), &format!("the path {path:?}"))?;
    let limit = if size > 1 << 20 {
        TRANSFER.max(s.t)
    } else {
        s.t
    };
    Ok(c.read_to_end(limit, 8 << 20))
}

/// Fetches `SIZE` and checks it.
fn transfer(s: &mut Session<'_>, sv: &Served, name: &str, size: usize) -> Result<usize, Failure> {
    let (got, end) = fetch(s, sv, name, size)?;
    if end != End::Eof {
        return Err(Failure::new(
            "the segments, then the connection closed (FIN)",
            format!(
                "{}, {}",
                crate::plural(got.len(), "byte"),
                if end == End::Open {
                    "and the connection stayed open"
                } else {
                    end.describe()
                }
            ),
            "the client reads until end of file: close(connfd) after the last segment, or it waits forever",
        ));
    }
    check_segments(&got, &content(size))
}

/// Runs every file-server check.
pub fn check(s: &mut Session<'_>) {
    // the iterative server, and any server declared --concurrent (pollftserver), serve
    // on after a file; the handout's FTServer ends
    let iterative = s.opts.proto == Protocol::IterFt || s.opts.concurrent;
    if let Err(e) = s
        .serve_dir()
        .and_then(|d| super::ftfiles::make(&d).map_err(|e| e.to_string()))
    {
        s.set_broken(format!("labcheck could not write the files to serve: {e}"));
    }
    let mut shared: Option<Served> = None;
    s.step(
        "ft.start",
        Tag::Handout,
        "the server starts and listens on the port of its command line",
        |s| {
            match s.server() {
                Ok(sv) => shared = Some(sv),
                Err(f) => {
                    s.set_broken("the server did not start");
                    return Err(f);
                }
            }
            pass("")
        },
    );
    for (name, size) in SIZES {
        let title = format!(
            "a file of {} arrives byte for byte",
            crate::plural(size, "byte")
        );
        s.step(&format!("ft.{name}"), Tag::Handout, &title, |s| {
            let sv = match (iterative, shared.take()) {
                (true, Some(sv)) => sv,
                (_, Some(sv)) if size == 0 => sv,
                _ => s.server()?,
            };
            let result = transfer(s, &sv, name, size);
            if iterative {
                shared = Some(sv);
            } else if size == 3 << 20 {
                shared = Some(sv); // the one-shot server's exit is checked next
            }
            pass(crate::plural(result?, "segment"))
        });
    }
    if iterative {
        s.step(
            "ft.next-request",
            Tag::Handout,
            "the server is still serving after those transfers",
            |s| {
                let sv = match shared.take() {
                    Some(sv) => sv,
                    None => return skip("needs the server of the transfers"),
                };
                transfer(s, &sv, "size-1", 1)?;
                pass("")
            },
        );
    } else {
        s.step("ft.one-then-exit", Tag::Handout, "after one file the server ends (exit status 0)", |s| {
            let Some(prog) = shared.as_mut().and_then(|sv| sv.prog.as_mut()) else { return skip("needs a server labcheck started") };
            match prog.wait_exit(s.t) {
                Some(st) if st.success() => pass(""),
                Some(st) => Err(Failure::new("exit status 0", describe_status(st), prog.said())),
                None => Err(Failure::new("the server ends after sending one file", "it is still running", "FTServer serves one client, one file: close the sockets and return from main")),
            }
        });
    }
    shared = None;
    drop(shared);
    s.step(
        "ft.second-server",
        Tag::Handout,
        "a second server on the same port fails with a message",
        |s| {
            if !s.starts_program() {
                return skip("needs a server labcheck started");
            }
            let first = s.server()?;
            let argv = s.argv(&[("{port}", &first.addr.port().to_string())]);
            let mut second = s.spawn(&argv)?;
            super::lottery::second_fails(s, &mut second)
        },
    );
    super::ft_robust::check(s, iterative);
}
