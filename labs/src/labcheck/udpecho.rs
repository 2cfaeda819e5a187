//! The UDP echo server's checks (Lab 4, `UDP_Echo_Server PORT`): the handout's
//! exchange and its printed lines, each client answered at its own address, a second
//! server; then datagrams a careful server must also survive: empty, the largest the
//! handout's buffer holds, longer than that, binary, a client gone before its reply.

use std::net::SocketAddr;
use std::time::Duration;

use super::dgram::Dgram;
use super::proc::Program;
use super::report::{Failure, Tag, shown};
use super::session::{Done, Session, pass, skip};

/// What the handout's client sends: a line with its newline.
const HELLO: &[u8] = b"hello, server\n";

/// Sends `request` from `d` and requires the same bytes back, from the server's port.
fn echo(
    s: &Session<'_>,
    d: &Dgram,
    to: SocketAddr,
    request: &[u8],
    what: &str,
) -> Result<(), Failure> {
    d.send_to(request, to, what)?;
    let Some((reply, from)) = d.recv(s.t) else {
        return Err(Failure::new(
            format!(
                "the same {} back: {}",
                crate::plural(request.len(), "byte"),
                shown(request)
            ),
            format!("no reply within {} s", s.t.as_secs()),
            "sendto() the bytes recvfrom() returned back to the address recvfrom() filled in (the client's); is the server bound to the port of its command line?",
        ));
    };
    if from.port() != to.port() {
        return Err(Failure::new(
            format!("the reply from the server's port {}", to.port()),
            format!("{} from port {}", shown(&reply), from.port()),
            "answer with the socket the request came in on: a client that checks who sent the reply (UNP 8.8) drops a datagram from another port",
        ));
    }
    if reply != request {
        let why = if request.starts_with(&reply) {
            format!(
                "only the first {} of the {} came back: sendto() as many bytes as recvfrom() returned (str_len), not strlen() of the text",
                reply.len(),
                crate::plural(request.len(), "byte")
            )
        } else {
            "an echo server sends back exactly the bytes of each datagram".to_string()
        };
        return Err(Failure::new(shown(request), shown(&reply), why));
    }
    Ok(())
}

/// Waits for the server's lines for the datagram from `from`; a C server's `printf`
/// into a pipe is block-buffered, so when they do not show, labcheck sends datagrams
/// until 4 KiB of output must have been written. Returns a note for the pass.
fn printed(
    s: &Session<'_>,
    prog: &Program,
    d: &Dgram,
    to: SocketAddr,
    from: u16,
) -> Result<String, Failure> {
    let lines = [
        format!("Received packet from 127.0.0.1:{from}"),
        "Data: hello, server".to_string(),
    ];
    let shows = |t: Duration| prog.wait_stdout(&lines[0], t) && prog.wait_stdout(&lines[1], t);
    if shows(Duration::from_millis(500)) {
        return Ok(String::new());
    }
    d.note("-> 20 datagrams of 200 bytes (to push 4 KiB of block-buffered output out)");
    for _ in 0..20 {
        d.send_quiet(&[b'.'; 200], to)?;
        let _ = d.recv_quiet(s.t);
    }
    if shows(s.t) {
        return Ok("its lines appeared only after 4 KiB of output: stdout into a pipe is block-buffered (fflush(stdout) after printf shows each at once)".into());
    }
    Err(Failure::new(
        format!("the server prints `{}` then `{}`", lines[0], lines[1]),
        format!("its output: {}", shown(prog.stdout().as_bytes())),
        "UDP_Echo_Server prints each datagram: printf(\"Received packet from %s:%d\\nData: %s\\n\\n\", inet_ntoa(client_addr.sin_addr), ntohs(client_addr.sin_port), message)",
    ))
}

/// Runs every UDP echo server check.
pub fn check(s: &mut Session<'_>) {
    s.step(
        "udpecho.start",
        Tag::Handout,
        "the server binds the UDP port of its command line",
        |s| match s.server() {
            Ok(_) => pass(""),
            Err(f) => {
                s.set_broken("the server did not start");
                Err(f)
            }
        },
    );
    s.step(
        "udpecho.exchange",
        Tag::Handout,
        "a line comes back byte for byte, from the server's port, and the server prints it",
        |s| {
            let sv = s.server()?;
            let a = Dgram::bind(s, 0, "A")?;
            echo(s, &a, sv.addr, HELLO, "a line")?;
            match &sv.prog {
                Some(prog) => pass(printed(s, prog, &a, sv.addr, a.port())?),
                None => pass("its output is not checked (--addr)"),
            }
        },
    );
    s.step("udpecho.two-clients", Tag::Handout, "two clients take turns: each reply goes to the client that sent the datagram", |s| {
        let sv = s.server()?;
        let (a, b) = (Dgram::bind(s, 0, "A")?, Dgram::bind(s, 0, "B")?);
        for (d, other, text) in [(&a, &b, &b"from A 1\n"[..]), (&b, &a, b"from B 1\n"), (&a, &b, b"from A 2\n")] {
            echo(s, d, sv.addr, text, "a line").map_err(|mut f| {
                if let Some((stray, _)) = other.recv_quiet(Duration::from_millis(200)) {
                    f.got = format!("{} came to the other client's port instead", shown(&stray));
                    f.why = "sendto() the address recvfrom() returned for this datagram (client_addr), not one kept from an earlier client".into();
                }
                f
            })?;
        }
        pass("")
    });
    s.step(
        "udpecho.second-server",
        Tag::Handout,
        "a second server on the same port fails with a message",
        second_server,
    );
    s.step(
        "udpecho.empty",
        Tag::Robustness,
        "an empty datagram: the server goes on (an empty echo or none)",
        |s| {
            let sv = s.server()?;
            let a = Dgram::bind(s, 0, "A")?;
            a.send_to(b"", sv.addr, "an empty datagram")?;
            let answer = match a.recv(Duration::from_millis(500)) {
                Some((r, _)) if r.is_empty() => "an empty datagram came back",
                Some(_) => "something else came back",
                None => "no answer",
            };
            echo(s, &a, sv.addr, HELLO, "a line").map_err(|f| {
                serves_on(
                    f,
                    "an empty datagram (recvfrom() returns 0: not an end of file in UDP)",
                )
            })?;
            pass(format!("{answer}; the next line was echoed"))
        },
    );
    s.step(
        "udpecho.full",
        Tag::Robustness,
        "255 bytes, the most the handout's buffer takes, come back whole",
        |s| {
            let sv = s.server()?;
            let a = Dgram::bind(s, 0, "A")?;
            let text: Vec<u8> = (0..255u32).map(|i| b'a' + (i % 26) as u8).collect();
            echo(s, &a, sv.addr, &text, "255 bytes")?;
            pass("")
        },
    );
    s.step("udpecho.long", Tag::Robustness, "a 1000-byte datagram: the server goes on (it may cut it)", |s| {
        let sv = s.server()?;
        let a = Dgram::bind(s, 0, "A")?;
        let text = vec![b'L'; 1000];
        a.send_to(&text, sv.addr, "1000 bytes")?;
        let answer = match a.recv(s.t) {
            Some((r, _)) if r.len() == 1000 => "all 1000 bytes came back".to_string(),
            Some((r, _)) => format!("the first {} came back: recvfrom() into a smaller buffer discards the rest of a datagram", crate::plural(r.len(), "byte")),
            None => "no answer".to_string(),
        };
        echo(s, &a, sv.addr, HELLO, "a line").map_err(|f| serves_on(f, "a datagram longer than its buffer"))?;
        pass(format!("{answer}; the next line was echoed"))
    });
    s.step(
        "udpecho.binary",
        Tag::Robustness,
        "bytes that are not text (NUL, ESC, 0xff) come back exactly",
        |s| {
            let sv = s.server()?;
            let a = Dgram::bind(s, 0, "A")?;
            echo(s, &a, sv.addr, b"a\0b\x1b[2J\xff\n", "binary bytes")?;
            pass("")
        },
    );
    s.step(
        "udpecho.vanished",
        Tag::Robustness,
        "a client gone before its reply (ICMP port unreachable): the next is served",
        |s| {
            let sv = s.server()?;
            let gone = Dgram::bind(s, 0, "G")?;
            gone.send_to(HELLO, sv.addr, "a line, then the socket is closed")?;
            drop(gone);
            std::thread::sleep(Duration::from_millis(100));
            let a = Dgram::bind(s, 0, "A")?;
            echo(s, &a, sv.addr, HELLO, "a line")
                .map_err(|f| serves_on(f, "a reply to a closed port"))?;
            pass("")
        },
    );
}

/// The next client was not served after `what`.
fn serves_on(mut f: Failure, what: &str) -> Failure {
    f.why = format!("after {what} the server must go on serving: {}", f.why);
    f
}

/// A second copy of the server on the first one's port must fail with a message.
pub fn second_server(s: &mut Session<'_>) -> Result<Done, Failure> {
    if !s.starts_program() {
        return skip("needs a server labcheck started");
    }
    let first = s.server()?;
    let argv = s.argv(&[("{port}", &first.addr.port().to_string())]);
    let mut second = s.spawn(&argv)?;
    super::lottery::second_fails(s, &mut second)
}
