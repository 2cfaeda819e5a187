//! The lottery client's checks: labcheck plays the server, types `0`, `1`, `2` into the
//! client, and watches the bytes it sends and what it prints.

use std::net::TcpListener;
use std::time::Duration;

use lottery::proto::Command;

use super::proc::{Program, describe_status, loopback};
use super::report::{Failure, Tag, came, hex, shown};
use super::session::{Session, pass};
use super::wire::{Conn, End};

/// A client labcheck started, and its connection.
struct Run {
    prog: Program,
    conn: Option<Conn>,
}

/// Starts the client against a server port labcheck listens on, and accepts it.
fn start(s: &mut Session<'_>) -> Result<Run, Failure> {
    let port = s.port()?;
    let listener = TcpListener::bind(loopback(port)).map_err(|e| {
        Failure::new(
            "a port to listen on",
            e.to_string(),
            "labcheck could not listen; not the program's fault",
        )
    })?;
    let argv = s.argv(&[("{host}", "127.0.0.1"), ("{port}", &port.to_string())]);
    let mut prog = s.spawn(&argv)?;
    let conn = s.accept(&listener, &mut prog)?;
    Ok(Run {
        prog,
        conn: Some(conn),
    })
}

/// Types `typed` and expects the 4 bytes of `command`.
fn sends(s: &Session<'_>, run: &mut Run, typed: &str, command: Command) -> Result<(), Failure> {
    s.say(format!("typed {typed:?}"));
    run.prog.type_in(&format!("{typed}\n"));
    let c = run
        .conn
        .as_mut()
        .ok_or_else(|| Failure::new("a connection", "none", "see the first step"))?;
    let (got, end) = c.read_n(4, s.t);
    let want = command.encode();
    if got == want {
        return Ok(());
    }
    let why = if got.len() == 4 && got.iter().rev().copied().collect::<Vec<u8>>() == want {
        format!(
            "your client sent {} in big-endian order ({}): the protocol's int is little-endian, as the C client's memory holds it — do not htonl() it",
            command.name(),
            hex(&got)
        )
    } else if got.is_empty() {
        format!(
            "your client sent nothing after the user typed {typed:?}: does it write() the command as a 4-byte int?"
        )
    } else if got.len() < 4 {
        "the command must be 4 bytes, a whole int: write(sockfd, &cmd, sizeof(int))".to_string()
    } else {
        format!(
            "typing {typed:?} must send {} ({}), the int {}",
            command.name(),
            hex(&want),
            command.code()
        )
    };
    Err(Failure::new(
        format!("{} ({})", command.name(), hex(&want)),
        came(&got, end),
        why,
    ))
}

/// Runs every lottery client check.
pub fn check(s: &mut Session<'_>) {
    let mut run: Option<Run> = None;
    s.step(
        "lottery-client.connect",
        Tag::Handout,
        "the client connects to the host and port of its command line",
        |s| {
            match start(s) {
                Ok(r) => run = Some(r),
                Err(f) => {
                    s.set_broken("the client did not connect");
                    return Err(f);
                }
            }
            pass("")
        },
    );
    for (name, typed, command, reply) in [
        (
            "lottery-client.gen",
            "0",
            Command::Gen,
            "New number generated: 17",
        ),
        (
            "lottery-client.list",
            "1",
            Command::List,
            "numbers: 17 0 0 0 0 0",
        ),
    ] {
        let title = format!(
            "typing {typed} sends {} and the reply is printed",
            command.name()
        );
        s.step(name, Tag::Handout, &title, |s| {
            let r = run.as_mut().ok_or_else(|| Failure::new("the client of the first step", "none", "see the first step"))?;
            sends(s, r, typed, command)?;
            if let Some(c) = r.conn.as_mut() {
                c.send(reply.as_bytes(), "the reply")?;
            }
            if r.prog.wait_stdout(reply, s.t) {
                return pass("");
            }
            Err(Failure::new(format!("the client prints `{reply}`"), format!("its output: {}", shown(r.prog.stdout().as_bytes())), "print what read() returned: the reply has no terminator, so add the NUL yourself (recv_msg[len] = 0) before printf"))
        });
    }
    s.step(
        "lottery-client.end",
        Tag::Handout,
        "typing 2 sends END; the client closes and ends with status 0",
        |s| {
            let r = run.as_mut().ok_or_else(|| {
                Failure::new("the client of the first step", "none", "see the first step")
            })?;
            sends(s, r, "2", Command::End)?;
            let c = r
                .conn
                .as_mut()
                .ok_or_else(|| Failure::new("a connection", "none", ""))?;
            let (got, end) = c.read_to_end(s.t, 256);
            if end == End::Open {
                return Err(Failure::new(
                    "the client closes the connection after END",
                    format!("{} and no FIN", shown(&got)),
                    "after END there is no reply: close(sockfd) and end the program",
                ));
            }
            match r.prog.wait_exit(s.t) {
                Some(st) if st.success() => pass(""),
                Some(st) => Err(Failure::new(
                    "exit status 0",
                    describe_status(st),
                    format!("END is a normal end; {}", r.prog.said()),
                )),
                None => Err(Failure::new(
                    format!("the client ends within {} s", s.t.as_secs()),
                    "still running",
                    "after END, leave the loop and return from main",
                )),
            }
        },
    );
    s.step(
        "lottery-client.refused",
        Tag::Handout,
        "no server: the client says so and ends with a non-zero status",
        |s| {
            let port = s.port()?;
            let argv = s.argv(&[("{host}", "127.0.0.1"), ("{port}", &port.to_string())]);
            let mut prog = s.spawn(&argv)?;
            prog.close_stdin();
            match prog.wait_exit(s.t) {
                Some(st) if !st.success() && !prog.stderr().trim().is_empty() => pass(prog.said()),
                Some(st) => Err(Failure::new(
                    "a message (connect error: Connection refused) and a non-zero status",
                    format!("{}; {}", describe_status(st), prog.said()),
                    "check connect()'s return value: on -1, perror(\"connect error\") and exit(1)",
                )),
                None => Err(Failure::new(
                    "the client ends",
                    "still running",
                    "check connect()'s return value: on -1, perror(\"connect error\") and exit(1)",
                )),
            }
        },
    );
    run = None;
    s.step("lottery-client.server-closes", Tag::Robustness, "the server closes instead of replying: the client ends with a message, no loop", |s| {
        let mut r = start(s)?;
        sends(s, &mut r, "0", Command::Gen)?;
        drop(r.conn.take());
        s.say("S: -> FIN (closed instead of replying)");
        r.prog.type_in("0\n1\n");
        match r.prog.wait_exit(s.t) {
            Some(st) if !st.success() => pass(format!("{}; {}", describe_status(st), r.prog.said())),
            Some(st) => Err(Failure::new("a message and a non-zero status", describe_status(st), "read() returning 0 means the server closed: say so and exit(1)")),
            None => Err(Failure::new(
                format!("the client ends within {} s", s.t.as_secs()),
                format!("still running after writing {} of output", crate::plural(r.prog.output_bytes(), "byte")),
                "read() returned 0, the end of file: the server closed the connection. A client that goes on reading 0 forever loops on EOF; stop and report it",
            )),
        }
    });
    drop(run);
}

/// How long a client under check may take to print.
pub const PRINT: Duration = Duration::from_secs(3);
