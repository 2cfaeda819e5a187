//! The lottery server's robustness checks: TCP cuts and joins commands anywhere, clients
//! vanish, reset and crowd in. Each runs on a fresh server and ends by checking that a
//! new client is still served.

use std::thread;
use std::time::Duration;

use lottery::proto::{Command, Reply};

use super::lottery::expect;
use super::proc::{children_states, describe_status};
use super::report::{Failure, Tag, came, shown};
use super::session::{Served, Session, pass};
use super::wire::Conn;

/// Runs the robustness checks.
pub fn check(s: &mut Session<'_>) {
    s.step("lottery.byte-at-a-time", Tag::Robustness, "a command sent one byte at a time is answered once, after its 4th byte", |s| {
        let sv = s.server()?;
        let mut c = s.connect(sv.addr, "A")?;
        any_gen(s, &mut c)?;
        let list = Command::List.encode();
        for (i, b) in list.iter().enumerate() {
            c.send(&[*b], &format!("byte {} of LIST", i + 1))?;
            if i < 3 {
                let (early, _) = c.read_some(256, Duration::from_millis(60));
                if !early.is_empty() {
                    return Err(Failure::new(
                        "no reply until all 4 bytes of LIST arrived",
                        format!("{} after {} of the 4 bytes", shown(&early), i + 1),
                        format!("your server answered after {} of the 4 bytes of a command: one read() is not one message — loop until 4 bytes arrive (readn)", i + 1),
                    ));
                }
            }
        }
        let (got, end) = c.read_until_quiet(s.t, Duration::from_millis(150));
        if !matches!(Reply::parse(&got), Some(Reply::Numbers(_))) {
            return Err(Failure::new("`numbers: a b c d e f` once the 4th byte arrived", came(&got, end), super::lottery::explain(Command::List, &got, end, s.t)));
        }
        pass("")
    });
    s.step("lottery.two-in-one", Tag::Robustness, "GEN and LIST in one segment get both their replies", |s| {
        let sv = s.server()?;
        let mut c = s.connect(sv.addr, "A")?;
        let mut both = Command::Gen.encode().to_vec();
        both.extend_from_slice(&Command::List.encode());
        c.send(&both, "GEN LIST in one write")?;
        let (got, end) = c.read_until_quiet(s.t, Duration::from_millis(300));
        let text = String::from_utf8_lossy(&got).into_owned();
        let ok = text.find("numbers: ").and_then(|at| {
            let first = Reply::parse(&text.as_bytes()[..at])?;
            let list = Reply::parse(&text.as_bytes()[at..])?;
            (matches!(first, Reply::NewNumber(_) | Reply::Full) && matches!(list, Reply::Numbers(_))).then_some(())
        });
        if ok.is_some() {
            return pass("");
        }
        Err(Failure::new(
            "`New number generated: N` (or `Full`) then `numbers: ...` (in one segment or two)",
            came(&got, end),
            "two commands can arrive in one segment: read exactly 4 bytes per command (readn), or keep what a read returned beyond the first command for the next",
        ))
    });
    survive(
        s,
        "lottery.half-then-close",
        "half a command, then close: the server serves the next client",
        |s, sv| {
            let mut c = s.connect(sv.addr, "A")?;
            c.send(&[0, 0], "2 of the 4 bytes of GEN")?;
            c.close();
            Ok(())
        },
    );
    survive(
        s,
        "lottery.reset",
        "a client that resets mid-session: the server serves the next client",
        |s, sv| {
            let mut c = s.connect(sv.addr, "A")?;
            any_gen(s, &mut c)?;
            c.reset();
            Ok(())
        },
    );
    survive(
        s,
        "lottery.eof-between",
        "a client that closes without END: the server serves the next client",
        |s, sv| {
            let mut c = s.connect(sv.addr, "A")?;
            any_gen(s, &mut c)?;
            c.close();
            Ok(())
        },
    );
    survive(
        s,
        "lottery.unknown",
        "an unknown command (7) does not end the server",
        |s, sv| {
            let mut c = s.connect(sv.addr, "A")?;
            c.send(&7i32.to_le_bytes(), "7 (no such command)")?;
            let _ = c.read_until_quiet(Duration::from_millis(500), Duration::from_millis(100));
            c.close();
            Ok(())
        },
    );
    survive(
        s,
        "lottery.vanish",
        "clients that vanish before their replies: the server serves the next client",
        |s, sv| {
            for name in ["A", "B", "C", "D"] {
                let mut c = s.connect(sv.addr, name)?;
                // Many commands, then a reset: the server is still writing replies when
                // the RST arrives, and a later write fails (EPIPE, or SIGPIPE by default).
                let many: Vec<u8> = Command::Gen.encode().repeat(400);
                c.send(&many, "400 GENs in one write, then vanish")?;
                c.reset();
                thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        },
    );
    concurrency(s);
    zombies(s);
}

/// Runs `attack` on a fresh server, then checks it is alive and serves a new client.
fn survive(
    s: &mut Session<'_>,
    name: &str,
    title: &str,
    attack: impl FnOnce(&mut Session<'_>, &Served) -> Result<(), Failure>,
) {
    s.step(name, Tag::Robustness, title, |s| {
        let mut sv = s.server()?;
        let attacked = attack(s, &sv);
        thread::sleep(Duration::from_millis(50));
        if let Some(st) = sv.prog.as_mut().and_then(|p| p.exited()) {
            let said = sv.prog.as_ref().map(|p| p.said()).unwrap_or_default();
            let sigpipe = describe_status(st).contains("SIGPIPE");
            return Err(Failure::new(
                "the server goes on serving",
                format!("it ended ({}); {said}", describe_status(st)),
                if sigpipe {
                    "writing to a connection the client closed or reset raised SIGPIPE, which kills a process by default: ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) and treat the write's EPIPE as the end of that client"
                } else {
                    "one client's mistake must not end the server (and a client's reset must not kill the server): when read() returns 0 or an error, or write() fails, or the command is unknown, close that connection (or answer) and accept the next"
                },
            ));
        }
        attacked?;
        let mut next = s.connect(sv.addr, "N")?;
        any_gen(s, &mut next).map_err(|mut f| {
            f.why = format!("the next client was not served: {}", f.why);
            f
        })?;
        pass("the next client was served")
    });
}

/// Requirement 4: a second client while the first is connected, reported serial or
/// concurrent; a serial server must serve it once the first leaves.
fn concurrency(s: &mut Session<'_>) {
    s.step("lottery.concurrency", Tag::Robustness, "two clients at once (Requirement 4): the second is served, now or once the first leaves", |s| {
        let sv = s.server()?;
        let a = s.connect(sv.addr, "A")?;
        let mut b = s.connect(sv.addr, "B")?;
        b.send(&Command::Gen.encode(), "GEN")?;
        let (now, _) = b.read_until_quiet(Duration::from_secs(1), Duration::from_millis(150));
        if matches!(Reply::parse(&now), Some(Reply::NewNumber(_) | Reply::Full)) {
            a.close();
            return pass("concurrent: the second client was answered while the first was connected");
        }
        a.close();
        let (later, end) = b.read_until_quiet(s.t, Duration::from_millis(150));
        if matches!(Reply::parse(&later), Some(Reply::NewNumber(_) | Reply::Full)) {
            return super::simple::serial(s, "the second client waited until the first left (the handout's iterative server)");
        }
        Err(Failure::new(
            "the second client's GEN answered, at the latest once the first client closed",
            came(&later, end),
            "after a client closes without END (read() returns 0), close its connection and accept() the next",
        ))
    });
}

/// A churn of clients; afterwards no child of the server is a zombie.
fn zombies(s: &mut Session<'_>) {
    s.step("lottery.zombies", Tag::Robustness, "20 clients come and go: no zombie children remain", |s| {
        if !cfg!(target_os = "linux") {
            return super::session::skip("reads /proc (Linux only)");
        }
        let sv = s.server()?;
        let Some(pid) = sv.prog.as_ref().map(|p| p.pid()) else {
            return super::session::skip("needs a server labcheck started");
        };
        let mut children = 0;
        for _ in 0..20 {
            let mut c = s.connect(sv.addr, "C")?;
            any_gen(s, &mut c)?;
            c.close();
            children = children.max(children_states(pid).len());
        }
        let mut zombies = Vec::new();
        super::proc::wait_until(Duration::from_millis(500), || {
            zombies = children_states(pid).into_iter().filter(|&(_, st)| st == 'Z').collect();
            zombies.is_empty()
        });
        if zombies.is_empty() {
            return pass(if children == 0 { "no child processes (not a forking server)".to_string() } else { format!("up to {children} children, all reaped") });
        }
        Err(Failure::new(
            "every child that ended is reaped (no <defunct> processes)",
            format!("{} zombie children of pid {pid}: {:?}", zombies.len(), zombies.iter().map(|z| z.0).collect::<Vec<_>>()),
            "a forking server must wait for its children: install a SIGCHLD handler that calls waitpid(-1, &status, WNOHANG) in a loop (UNP 5.10)",
        ))
    });
}

/// GEN, answered by a number or `Full` (the draw may be shared with earlier clients).
fn any_gen(s: &Session<'_>, c: &mut Conn) -> Result<Reply, Failure> {
    expect(
        s,
        c,
        Command::Gen,
        "`New number generated: N` or `Full`",
        |r| matches!(r, Reply::NewNumber(_) | Reply::Full),
    )
}
