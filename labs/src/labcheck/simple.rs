//! The servers of chapter 1 and 5 and the lab's echo (daytime, echo, labecho, sum08,
//! sum09): one exchange the handout shows, the same cut byte by byte and doubled in one
//! segment, bad input, a reset, two clients, a second server.

use std::time::Duration;

use tcpcliserv::proto::{daytime, sum_binary, sum_text};

use super::Protocol;
use super::proc::describe_status;
use super::report::{Failure, Tag, came, shown};
use super::session::{Done, Session, pass, skip};
use super::wire::{Conn, End};

/// One request and the reply it must get.
struct Exchange {
    request: Vec<u8>,
    reply: Vec<u8>,
}

/// The handout's exchange for each protocol (daytime has none: it only answers).
fn exchange(p: Protocol) -> Exchange {
    match p {
        Protocol::Sum08 => Exchange {
            request: sum_text::encode_request(3, 4),
            reply: b"7\n".to_vec(),
        },
        Protocol::Sum09 => Exchange {
            request: sum_binary::encode_request(3, -40).to_vec(),
            reply: sum_binary::encode_reply(-37).to_vec(),
        },
        _ => Exchange {
            request: b"hello, server\n".to_vec(),
            reply: b"hello, server\n".to_vec(),
        },
    }
}

/// Sends `request` (in pieces of `piece` bytes) and expects `reply`.
fn ask(
    s: &Session<'_>,
    c: &mut Conn,
    request: &[u8],
    reply: &[u8],
    piece: usize,
) -> Result<(), Failure> {
    for (i, part) in request.chunks(piece.max(1)).enumerate() {
        c.send(part, &format!("part {} of the request", i + 1))?;
        if piece < request.len() {
            std::thread::sleep(Duration::from_millis(15));
        }
    }
    let (got, end) = c.read_n(reply.len(), s.t);
    if got == reply {
        return Ok(());
    }
    let proto = s.opts.proto;
    let why = if proto == Protocol::Sum09 && got.len() == 8 && got.iter().rev().eq(reply.iter()) {
        "the sum is big-endian: tcpserv09 sends the int64 as the host holds it, little-endian"
            .to_string()
    } else if got.is_empty() && end == End::Open {
        format!(
            "no reply within {} s: does the server wait for more bytes than the request has, or never write()?",
            s.t.as_secs()
        )
    } else if piece == 1 && !got.is_empty() {
        "the request came one byte at a time and the reply is wrong: one read() is not one message — for a line read until '\\n' (readline), for binary until all 16 bytes (readn)".to_string()
    } else {
        format!("the reply to {} must be {}", shown(request), shown(reply))
    };
    Err(Failure::new(shown(reply), came(&got, end), why))
}

/// Runs the checks of a daytime, echo, labecho, sum08 or sum09 server.
pub fn check_server(s: &mut Session<'_>) {
    let p = s.opts.proto;
    s.step(
        &format!("{}.start", p.name()),
        Tag::Handout,
        "the server starts and listens on the port of its command line",
        |s| match s.server() {
            Ok(_) => pass(""),
            Err(f) => {
                s.set_broken("the server did not start");
                Err(f)
            }
        },
    );
    if p == Protocol::Daytime {
        s.step("daytime.line", Tag::Handout, "one line, the date in ctime() format ending in \\r\\n, then the close", |s| {
            let sv = s.server()?;
            let mut c = s.connect(sv.addr, "A")?;
            let (got, end) = c.read_to_end(s.t, 4096);
            let text = daytime::decode_reply(&got);
            match (text.and_then(daytime::parse_ctime), end) {
                (Some(_), End::Eof) if got.ends_with(b"\r\n") => pass(unp::printable(&got)),
                _ => Err(Failure::new(
                    "a line like `Tue Sep  5 11:04:47 2017\\r\\n`, then the close (FIN)",
                    came(&got, end),
                    "write ctime(&ticks) with \\r\\n (snprintf(buff, sizeof(buff), \"%.24s\\r\\n\", ctime(&ticks))), then close(connfd)",
                )),
            }
        });
    } else {
        let ex = exchange(p);
        s.step(&format!("{}.exchange", p.name()), Tag::Handout, "the handout's request gets its reply", |s| {
            let sv = s.server()?;
            let mut c = s.connect(sv.addr, "A")?;
            ask(s, &mut c, &ex.request, &ex.reply, usize::MAX)?;
            if p == Protocol::LabEcho
                && let Some(prog) = &sv.prog
                && !prog.wait_stdout("Data Received: hello, server", s.t)
            {
                return Err(Failure::new("the server prints `Data Received: hello, server`", format!("its output: {}", shown(prog.stdout().as_bytes())), "EchoServer prints each message it receives: printf(\"Data Received: %s\", buf)"));
            }
            pass("")
        });
        if p == Protocol::Sum08 {
            s.step(
                "sum08.input-error",
                Tag::Handout,
                "a line that is not two numbers gets `input error\\n`",
                |s| {
                    let sv = s.server()?;
                    let mut c = s.connect(sv.addr, "A")?;
                    ask(
                        s,
                        &mut c,
                        b"three four\n",
                        sum_text::INPUT_ERROR,
                        usize::MAX,
                    )?;
                    pass("")
                },
            );
        }
        s.step(
            &format!("{}.byte-at-a-time", p.name()),
            Tag::Robustness,
            "the request sent one byte at a time gets the same reply",
            |s| {
                let sv = s.server()?;
                let mut c = s.connect(sv.addr, "A")?;
                ask(s, &mut c, &ex.request, &ex.reply, 1)?;
                pass("")
            },
        );
        s.step(
            &format!("{}.two-in-one", p.name()),
            Tag::Robustness,
            "two requests in one segment get both replies",
            |s| {
                let sv = s.server()?;
                let mut c = s.connect(sv.addr, "A")?;
                ask(
                    s,
                    &mut c,
                    &[ex.request.clone(), ex.request.clone()].concat(),
                    &[ex.reply.clone(), ex.reply.clone()].concat(),
                    usize::MAX,
                )?;
                pass("")
            },
        );
        s.step(
            &format!("{}.reset", p.name()),
            Tag::Robustness,
            "a client that resets: the server serves the next client",
            |s| {
                let mut sv = s.server()?;
                let mut c = s.connect(sv.addr, "A")?;
                c.send(&ex.request[..ex.request.len() / 2], "half a request")?;
                c.reset();
                std::thread::sleep(Duration::from_millis(50));
                if let Some(prog) = sv.prog.as_mut()
                    && let Some(status) = prog.exited()
                {
                    return Err(Failure::new(
                        "the server goes on serving",
                        format!("it ended ({}) after the reset; {}", describe_status(status), prog.said()),
                        "a reset reaches the server as read() returning -1 (ECONNRESET) or a write() failing (EPIPE, SIGPIPE): end that client's session, close its socket and accept() the next; never exit for one client",
                    ));
                }
                let mut n = s.connect(sv.addr, "N")?;
                ask(s, &mut n, &ex.request, &ex.reply, usize::MAX).map_err(|mut f| {
                    f.why = format!("the next client was not served: {}", f.why);
                    f
                })?;
                pass("the next client was served")
            },
        );
        s.step(&format!("{}.concurrency", p.name()), Tag::Robustness, "two clients at once: the second is served, now or once the first leaves", |s| {
            let sv = s.server()?;
            let a = s.connect(sv.addr, "A")?;
            let mut b = s.connect(sv.addr, "B")?;
            b.send(&ex.request, "the request")?;
            let (now, _) = b.read_n(ex.reply.len(), Duration::from_secs(1));
            if now == ex.reply {
                a.close();
                return pass("concurrent: the second client was served while the first was connected");
            }
            a.close();
            let (later, end) = b.read_n(ex.reply.len() - now.len(), s.t);
            if [now, later.clone()].concat() == ex.reply {
                return serial(s, "the second client waited until the first left");
            }
            Err(Failure::new(shown(&ex.reply), came(&later, end), "after a client closes (read() returns 0), close its connection and accept() the next"))
        });
    }
    s.step(
        &format!("{}.second-server", p.name()),
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
}

/// The verdict when a second client was served only once the first left: right for an
/// iterative server, a failure for one declared `--concurrent` (fork, threads, or
/// select/poll/epoll), whose point is to serve clients at once.
pub fn serial(s: &Session<'_>, how: &str) -> Result<Done, Failure> {
    if !s.opts.concurrent {
        return pass(format!("serial: {how}"));
    }
    Err(Failure::new(
        "the second client served while the first is still connected (--concurrent)",
        format!("serial: {how}"),
        "a concurrent server never waits for one client: fork a child or start a thread per client, or watch every socket with select/poll and read only the ready ones",
    ))
}

pub use super::simple_client::check_client;
