//! The lottery server's checks (Lab 3 Practice 3): the handout's session step by step
//! on one fresh server, then what a careful server must also survive, each on a fresh
//! server of its own.

use std::time::Duration;

use lottery::proto::{COMMAND_LEN, Command, NUMBER_RANGE, Reply, SLOTS};

use super::proc::{Program, describe_status};
use super::report::{Failure, Tag, came, shown};
use super::session::{Done, Served, Session, pass, skip};
use super::wire::{Conn, End};

/// How long labcheck waits for more bytes of a reply once some came.
const QUIET: Duration = Duration::from_millis(150);

/// The session of the handout's steps, shared by them.
#[derive(Default)]
struct Handout {
    served: Option<Served>,
    conn: Option<Conn>,
    drawn: Vec<u8>,
}

/// Runs every lottery server check.
pub fn check(s: &mut Session<'_>) {
    let mut h = Handout::default();
    s.step(
        "lottery.start",
        Tag::Handout,
        "the server starts and listens on the port of its command line",
        |s| {
            let served = match s.server() {
                Ok(served) => served,
                Err(f) => {
                    s.set_broken("the server did not start");
                    return Err(f);
                }
            };
            h.conn = Some(s.connect(served.addr, "A")?);
            h.served = Some(served);
            pass("")
        },
    );
    s.step(
        "lottery.list-empty",
        Tag::Handout,
        "LIST before any GEN answers `numbers: 0 0 0 0 0 0`",
        |s| {
            if !s.starts_program() {
                return skip("needs a fresh server");
            }
            let c = session(&mut h.conn)?;
            expect(
                s,
                c,
                Command::List,
                &Reply::Numbers([0; SLOTS]).to_string(),
                |r| r == &Reply::Numbers([0; SLOTS]),
            )?;
            pass("")
        },
    );
    s.step(
        "lottery.gen-format",
        Tag::Handout,
        "GEN answers `New number generated: N`, N from 1 to 45",
        |s| {
            let c = session(&mut h.conn)?;
            let n = draw_one(s, c, &h.drawn)?;
            h.drawn.push(n);
            pass(format!("drew {n}"))
        },
    );
    s.step(
        "lottery.six-distinct",
        Tag::Handout,
        "six GENs draw six distinct numbers; LIST shows them in order, 0 for the rest",
        |s| {
            let c = session(&mut h.conn)?;
            while h.drawn.len() < 3 {
                let n = draw_one(s, c, &h.drawn)?;
                h.drawn.push(n);
            }
            let want = slots(&h.drawn);
            expect(s, c, Command::List, &want.to_string(), |r| r == &want)?;
            while h.drawn.len() < SLOTS {
                let n = draw_one(s, c, &h.drawn)?;
                h.drawn.push(n);
            }
            pass(format!("drew {:?}", h.drawn))
        },
    );
    s.step(
        "lottery.full",
        Tag::Handout,
        "a seventh GEN answers `Full`",
        |s| {
            let c = session(&mut h.conn)?;
            expect(s, c, Command::Gen, "Full", |r| r == &Reply::Full)?;
            pass("")
        },
    );
    s.step(
        "lottery.list-full",
        Tag::Handout,
        "LIST shows the six numbers in the order drawn",
        |s| {
            let c = session(&mut h.conn)?;
            let want = slots(&h.drawn);
            expect(s, c, Command::List, &want.to_string(), |r| r == &want)?;
            pass("")
        },
    );
    s.step("lottery.end-closes", Tag::Handout, "END gets no reply: the server closes the connection", |s| {
        let mut c = h.conn.take().ok_or_else(no_session)?;
        c.send(&Command::End.encode(), "END")?;
        let (got, end) = c.read_to_end(s.t, 4096);
        if got.is_empty() && end != End::Open {
            return pass("");
        }
        Err(Failure::new(
            "no reply to END, then the connection closed (FIN)",
            came(&got, end),
            if got.is_empty() {
                "your server did not close the connection after END: call close(connfd) when the command is END"
            } else {
                "your server answered END; END gets no reply: close the connection instead"
            },
        ))
    });
    s.step("lottery.end-exits", Tag::Handout, "after END the iterative server ends (exit status 0)", |s| {
        if s.opts.concurrent {
            return skip("a concurrent server serves on after END");
        }
        let Some(prog) = h.served.as_mut().and_then(|sv| sv.prog.as_mut()) else {
            return skip("needs a server labcheck started");
        };
        match prog.wait_exit(s.t) {
            Some(st) if st.success() => pass(""),
            Some(st) => Err(Failure::new("exit status 0", describe_status(st), format!("the server should end normally after END; {}", prog.said()))),
            None => Err(Failure::new(
                format!("the server ends within {} s of END", s.t.as_secs()),
                "it is still running",
                "the handout's server closes the listening socket and returns from main after END",
            )),
        }
    });
    h.served = None;
    second_server(s);
    super::lottery_robust::check(s);
}

/// The second server on the same port: it must fail, and say so.
fn second_server(s: &mut Session<'_>) {
    s.step(
        "lottery.second-server",
        Tag::Handout,
        "a second server on the same port fails with a message",
        |s| {
            if !s.starts_program() {
                return skip("needs a server labcheck started");
            }
            let first = s.server()?;
            let port = first.addr.port().to_string();
            let argv = s.argv(&[("{port}", &port)]);
            let mut second = s.spawn(&argv)?;
            second_fails(s, &mut second)
        },
    );
}

/// Checks that `second`, started on a port in use, ends with a failure and a message.
pub fn second_fails(s: &Session<'_>, second: &mut Program) -> Result<Done, Failure> {
    let expected = "the second server ends with a non-zero status and an error message (bind error: Address already in use)";
    match second.wait_exit(s.t) {
        None => Err(Failure::new(
            expected,
            "it is still running",
            "bind() failed with EADDRINUSE but the program went on: check bind()'s return value, print the error (perror) and exit(1)",
        )),
        Some(st) if st.success() => Err(Failure::new(
            expected,
            format!("{}; {}", describe_status(st), second.said()),
            "a program that failed must exit with a non-zero status",
        )),
        Some(st) => {
            let said = format!("{}{}", second.stderr(), second.stdout());
            if said.trim().is_empty() {
                return Err(Failure::new(
                    expected,
                    format!("{}, and it printed nothing", describe_status(st)),
                    "say why: perror(\"bind error\") prints `bind error: Address already in use`",
                ));
            }
            pass(format!("{}; {}", describe_status(st), second.said()))
        }
    }
}

fn no_session() -> Failure {
    Failure::new(
        "the connection of the first step",
        "none",
        "the server did not accept the first connection (see the first step)",
    )
}

fn session(c: &mut Option<Conn>) -> Result<&mut Conn, Failure> {
    c.as_mut().ok_or_else(no_session)
}

/// The LIST reply for these draws.
fn slots(drawn: &[u8]) -> Reply {
    let mut s = [0u8; SLOTS];
    for (slot, n) in s.iter_mut().zip(drawn) {
        *slot = *n;
    }
    Reply::Numbers(s)
}

/// Sends GEN and checks the reply: a number from 1 to 45 not drawn yet.
pub fn draw_one(s: &Session<'_>, c: &mut Conn, drawn: &[u8]) -> Result<u8, Failure> {
    let want = "`New number generated: N`, N from 1 to 45 and not drawn before";
    let reply = expect(s, c, Command::Gen, want, |r| {
        matches!(r, Reply::NewNumber(_))
    })?;
    let Reply::NewNumber(n) = reply else {
        return Err(Failure::default());
    };
    if !NUMBER_RANGE.contains(&n) {
        return Err(Failure::new(
            want,
            reply.to_string(),
            format!(
                "your server answered GEN with `New number generated: {n}`; numbers must be 1–45 (rand() % 45 + 1)"
            ),
        ));
    }
    if drawn.contains(&n) {
        return Err(Failure::new(
            want,
            reply.to_string(),
            format!("{n} was drawn already ({drawn:?}): draw again while the number is taken"),
        ));
    }
    Ok(n)
}

/// Sends `command`, reads the reply and checks it with `ok`.
pub fn expect(
    s: &Session<'_>,
    c: &mut Conn,
    command: Command,
    want: &str,
    ok: impl Fn(&Reply) -> bool,
) -> Result<Reply, Failure> {
    c.send(&command.encode(), command.name())?;
    let (got, end) = c.read_until_quiet(s.t, QUIET);
    match Reply::parse(&got) {
        Some(r) if ok(&r) => Ok(r),
        _ => Err(Failure::new(
            format!("{} answered with {want}", command.name()),
            came(&got, end),
            explain(command, &got, end, s.t),
        )),
    }
}

/// Why a reply is wrong, in the student's terms.
pub fn explain(command: Command, got: &[u8], end: End, t: Duration) -> String {
    let name = command.name();
    if got.is_empty() {
        return match end {
            End::Eof => format!("your server closed the connection instead of answering {name}"),
            End::Reset => format!(
                "your server reset the connection instead of answering {name} (did it crash?)"
            ),
            End::Open => format!(
                "your server sent nothing within {} s after {name}: is it waiting in read() for more bytes, or did it never write()?",
                t.as_secs()
            ),
        };
    }
    let text = String::from_utf8_lossy(got);
    if let Some(code) = text
        .strip_prefix("Unknown command: ")
        .and_then(|c| c.parse::<i32>().ok())
        && code.swap_bytes() == command.code()
    {
        return format!(
            "your server read the command {} in the wrong byte order ({code}): the command is a little-endian int, 4 bytes as the client's memory holds it",
            shown(&command.encode())
        );
    }
    if got.last() == Some(&0) || got.last() == Some(&b'\n') {
        return "the reply ends with a NUL byte or a newline: the handout's replies have no terminator, write exactly strlen(text) bytes".into();
    }
    if got.len() > 255 {
        return "the reply is longer than 255 bytes: the client's buffer holds 256 with its NUL"
            .into();
    }
    if let Some(r) = Reply::parse(got) {
        return format!("`{r}` is a lottery reply, but not the one {name} should get here");
    }
    if got.len() > COMMAND_LEN * 8
        && text.contains("New number")
        && text.matches("New number").count() > 1
    {
        return "several replies came at once".into();
    }
    format!(
        "{} is not one of the handout's replies (`New number generated: N`, `Full`, `numbers: a b c d e f`)",
        shown(got)
    )
}
