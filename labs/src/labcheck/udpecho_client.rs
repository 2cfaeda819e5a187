//! The UDP echo client's checks (Lab 4, `UDP_Echo_Client IP PORT`): labcheck plays the
//! server on a UDP port, types lines, checks each datagram and the printed reply; then
//! a line longer than the handout's buffer, the end of input, and a datagram from a
//! stranger (UNP 8.8: reported, not failed — the handout's client takes it too).

use std::net::SocketAddr;
use std::time::Duration;

use super::dgram::Dgram;
use super::proc::{Program, describe_status};
use super::report::{Failure, Tag, shown};
use super::session::{Session, pass};

/// What the reply line looks like.
const PRINTED: &str = "Received a message from the server : ";

/// The client under check and labcheck's server socket.
struct Run {
    prog: Program,
    server: Dgram,
    /// The client's address, once its first datagram came.
    client: Option<SocketAddr>,
}

/// Starts the client with labcheck's server socket on `{port}` (or `--port`).
fn start(s: &mut Session<'_>) -> Result<Run, Failure> {
    let port = match s.opts.fixed_port {
        Some(p) => p,
        None => s.port()?,
    };
    let server = Dgram::bind(s, port, "S")?;
    let argv = s.argv(&[("{host}", "127.0.0.1"), ("{port}", &port.to_string())]);
    let prog = s.spawn(&argv)?;
    Ok(Run {
        prog,
        server,
        client: None,
    })
}

impl Run {
    /// Types `line` and requires `want` as the next datagram; answers it with the same.
    fn exchange(
        &mut self,
        s: &Session<'_>,
        typed: &str,
        want: &[u8],
        answer: bool,
    ) -> Result<(), Failure> {
        if !typed.is_empty() {
            s.say(format!("typed {typed:?}"));
            self.prog.type_in(typed);
        }
        let expected = format!("the datagram {}", shown(want));
        let (got, from) = self
            .server
            .recv_from_program(&mut self.prog, s.t, &expected)?;
        self.client = Some(from);
        if got != want {
            let why = if want.strip_suffix(b"\n") == Some(&got[..]) {
                "the line goes with its newline, as fgets() keeps it: sendto(sockfd, message, strlen(message), ...)".to_string()
            } else if got.starts_with(want) {
                "each line typed is one datagram: send what one fgets() returned, then wait for its reply".to_string()
            } else if got.len() > want.len() && got[want.len()..].iter().all(|&b| b == 0) {
                "the datagram carries the whole buffer: send strlen(message) bytes, not sizeof(message)".to_string()
            } else {
                format!("typing {typed:?} must send {}", shown(want))
            };
            return Err(Failure::new(expected, shown(&got), why));
        }
        if answer {
            self.server.send_to(&got, from, "the same bytes back")?;
        }
        Ok(())
    }

    /// Waits for `line` on the client's output; types filler lines (answering each)
    /// until 4 KiB of output must have been written when it does not show (C's stdout
    /// into a pipe is block-buffered). Returns a note.
    fn printed(&mut self, s: &Session<'_>, line: &str) -> Result<String, Failure> {
        if self.prog.wait_stdout(line, Duration::from_millis(500)) {
            return Ok(String::new());
        }
        let filler = format!("{}\n", ".".repeat(200));
        s.say("typed 20 lines of 200 dots (to push 4 KiB of block-buffered output out)");
        for _ in 0..20 {
            self.prog.type_in(&filler);
            match self.server.recv_quiet(s.t) {
                Some((d, from)) => self.server.send_quiet(&d, from)?,
                None => break,
            }
        }
        if self.prog.wait_stdout(line, s.t) {
            return Ok("its line appeared only after 4 KiB of output: stdout into a pipe is block-buffered (fflush(stdout) shows each line at once)".into());
        }
        Err(Failure::new(
            format!("the client prints `{line}`"),
            format!("its output: {}", shown(self.prog.stdout().as_bytes())),
            "print each reply: printf(\"Received a message from the server : %s\\n\", message2)",
        ))
    }
}

/// Runs every UDP echo client check.
pub fn check(s: &mut Session<'_>) {
    s.step(
        "udpecho-client.exchange",
        Tag::Handout,
        "a typed line goes as one datagram with its newline; the reply is printed",
        |s| {
            let mut r = start(s)?;
            r.exchange(s, "hello, server\n", b"hello, server\n", true)?;
            pass(r.printed(s, &format!("{PRINTED}hello, server"))?)
        },
    );
    s.step(
        "udpecho-client.lines",
        Tag::Handout,
        "two lines typed at once go as two datagrams, each after the reply to the one before",
        |s| {
            let mut r = start(s)?;
            r.exchange(s, "one\ntwo\n", b"one\n", true)?;
            r.exchange(s, "", b"two\n", true)?;
            pass(r.printed(s, &format!("{PRINTED}two"))?)
        },
    );
    s.step("udpecho-client.long-line", Tag::Robustness, "a 300-byte line goes in datagrams the server's 255-byte buffer takes whole", |s| {
        let mut r = start(s)?;
        let line = format!("{}\n", "x".repeat(299));
        s.say("typed a line of 299 x and its newline");
        r.prog.type_in(&line);
        let mut sent = Vec::new();
        while sent.len() < line.len() {
            let (d, from) = r.server.recv_from_program(&mut r.prog, s.t, "the rest of the line")?;
            if d.len() > 255 {
                return Err(Failure::new("datagrams of at most 255 bytes", format!("a datagram of {}", crate::plural(d.len(), "byte")), "the server receives into 255 bytes (BUFFERSIZE-1): the rest of a longer datagram is lost. Read the line in pieces of 255 (fgets(message, BUFFERSIZE, stdin) does)"));
            }
            sent.extend_from_slice(&d);
            r.server.send_to(&d, from, "the same bytes back")?;
        }
        if sent != line.as_bytes() {
            return Err(Failure::new(shown(line.as_bytes()), shown(&sent), "the datagrams joined must be the line typed"));
        }
        pass("")
    });
    s.step("udpecho-client.eof", Tag::Robustness, "at the end of input (Ctrl-D) the client ends without sending again", |s| {
        let mut r = start(s)?;
        r.exchange(s, "last line\n", b"last line\n", true)?;
        std::thread::sleep(Duration::from_millis(100));
        s.say("closed its standard input (Ctrl-D)");
        r.prog.close_stdin();
        if let Some((again, _)) = r.server.recv(Duration::from_millis(500)) {
            return Err(Failure::new("nothing more: the client ends", format!("another datagram, {}", shown(&again)), "at the end of input fgets() returns NULL and leaves the buffer as it was: the loop sent the old line again. Check fgets()'s return value and leave the loop"));
        }
        match r.prog.wait_exit(s.t) {
            Some(st) if st.success() => pass(""),
            Some(st) => Err(Failure::new("exit status 0", describe_status(st), r.prog.said())),
            None => Err(Failure::new("the client ends", "still running", "stop when reading a line returns end of file (fgets() returns NULL)")),
        }
    });
    s.step("udpecho-client.stranger", Tag::Robustness, "a stranger's datagram before the reply: the next line still goes to the server; what is printed is reported (UNP 8.8)", stranger);
}

/// A stranger sends to the client's port before the server's reply; the next line
/// must still go to the server (a C client that passes `&serv_addr` to recvfrom()
/// overwrites it with the stranger's address).
fn stranger(s: &mut Session<'_>) -> Result<super::session::Done, Failure> {
    let mut r = start(s)?;
    r.exchange(s, "who answers?\n", b"who answers?\n", false)?;
    let Some(client) = r.client else {
        return pass("");
    };
    let x = Dgram::bind(s, 0, "X")?;
    x.send_to(
        b"not the server\n",
        client,
        "a stranger's datagram to the client's port",
    )?;
    std::thread::sleep(Duration::from_millis(100));
    r.server
        .send_to(b"who answers?\n", client, "the server's reply")?;
    std::thread::sleep(Duration::from_millis(100));
    s.say("typed \"next line\\n\"");
    r.prog.type_in("next line\n");
    let deadline = std::time::Instant::now() + s.t;
    while std::time::Instant::now() < deadline {
        if let Some((d, from)) = r.server.recv_quiet(Duration::from_millis(50)) {
            r.server.note(format!("<- {} from {from}", shown(&d)));
            r.server.send_to(&d, from, "the same bytes back")?;
            let took = r.printed(s, &format!("{PRINTED}not the server")).is_ok();
            return pass(if took {
                "it printed the stranger's datagram as the server's reply: an unconnected socket takes datagrams from anyone; compare recvfrom()'s address with the server's (UNP 8.8, dgcliaddr) or connect() the socket (8.11)"
            } else {
                "it did not print the stranger's datagram as the reply"
            });
        }
        if let Some((d, _)) = x.recv_quiet(Duration::from_millis(50)) {
            x.note(format!("<- {}", shown(&d)));
            return Err(Failure::new(
                "the next line sent to the server",
                format!("it went to the stranger's port {}: {}", x.port(), shown(&d)),
                "recvfrom() wrote the stranger's address over the server's: pass recvfrom() a separate address (or NULL), never &serv_addr — otherwise any datagram takes the client over",
            ));
        }
    }
    Err(Failure::new(
        "the next line sent to the server",
        format!("nothing within {} s", s.t.as_secs()),
        "after printing a reply, read the next line and sendto() the server",
    ))
}
