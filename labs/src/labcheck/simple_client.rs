//! The clients of chapter 1 and 5 and the lab's echo: labcheck plays the server, types a
//! line, checks the request's bytes and that the reply is printed.

use std::net::TcpListener;

use tcpcliserv::proto::{sum_binary, sum_text};

use super::Protocol;
use super::proc::{describe_status, loopback};
use super::report::{Failure, Tag, came, shown};
use super::session::{Session, pass};
use super::wire::End;

/// What to type, the request it must make, the reply labcheck sends, what must print.
fn script(p: Protocol) -> (&'static str, Vec<u8>, Vec<u8>, &'static str) {
    match p {
        Protocol::Sum08 => ("3 4", sum_text::encode_request(3, 4), b"7\n".to_vec(), "7"),
        Protocol::Sum09 => (
            "3 4",
            sum_binary::encode_request(3, 4).to_vec(),
            sum_binary::encode_reply(7).to_vec(),
            "7",
        ),
        Protocol::Daytime => (
            "",
            Vec::new(),
            b"Mon Nov 30 10:00:00 2026\r\n".to_vec(),
            "Mon Nov 30 10:00:00 2026",
        ),
        // One word: the course's EchoClient reads with scanf("%s"), which stops at a
        // space, and sends it without the newline (allowed below); a line-reading
        // client sends "hello\n".
        Protocol::LabEcho => ("hello", b"hello\n".to_vec(), b"hello".to_vec(), "hello"),
        _ => (
            "hello, server",
            b"hello, server\n".to_vec(),
            b"hello, server\n".to_vec(),
            "hello, server",
        ),
    }
}

/// Runs the checks of a daytime, echo, labecho, sum08 or sum09 client.
pub fn check_client(s: &mut Session<'_>) {
    let p = s.opts.proto;
    let title = format!(
        "{} client: the request's bytes, the reply printed, the end",
        p.name()
    );
    s.step(&format!("{}-client.exchange", p.name()), Tag::Handout, &title, |s| {
        let (typed, request, reply, printed) = script(p);
        let port = s.port()?;
        let listener = TcpListener::bind(loopback(port)).map_err(|e| Failure::new("a port", e.to_string(), "labcheck could not listen"))?;
        let argv = s.argv(&[("{host}", "127.0.0.1"), ("{port}", &port.to_string())]);
        let mut prog = s.spawn(&argv)?;
        let mut c = s.accept(&listener, &mut prog)?;
        if !typed.is_empty() {
            s.say(format!("typed {typed:?}"));
            prog.type_in(&format!("{typed}\n"));
            let (got, end) = c.read_until_quiet(s.t, std::time::Duration::from_millis(100));
            let lab_echo_without_newline = p == Protocol::LabEcho && got == request[..request.len() - 1];
            if got != request && !lab_echo_without_newline {
                let why = if p == Protocol::Sum09 && got.len() == 16 {
                    "the two numbers go as two int64 in the host's order (little-endian), 16 bytes".to_string()
                } else {
                    format!("typing {typed:?} must send {}", shown(&request))
                };
                return Err(Failure::new(shown(&request), came(&got, end), why));
            }
        }
        c.send(&reply, "the reply")?;
        if !prog.wait_stdout(printed, s.t) {
            return Err(Failure::new(format!("the client prints {printed:?}"), format!("its output: {}", shown(prog.stdout().as_bytes())), "print what the server sent"));
        }
        prog.close_stdin();
        if p == Protocol::Daytime {
            c.close();
        } else {
            let (rest, end) = c.read_to_end(s.t, 4096);
            if end == End::Open {
                let sent = if typed.is_empty() { Vec::new() } else { request.clone() };
                let why = if !rest.is_empty() && (rest.starts_with(&sent) || sent.starts_with(&rest) || rest.starts_with(typed.as_bytes())) {
                    "at the end of input it sent the last request again: it does not check what scanf()/fgets() returned, and loops on EOF; when they return EOF/NULL (Ctrl-D), close the socket and exit"
                } else {
                    "when fgets() returns NULL (Ctrl-D), close the socket and exit"
                };
                return Err(Failure::new("the client closes the connection at the end of its input", came(&rest, end), why));
            }
        }
        match prog.wait_exit(s.t) {
            Some(st) if st.success() => pass(""),
            Some(st) => Err(Failure::new("exit status 0", describe_status(st), prog.said())),
            None => Err(Failure::new("the client ends", "still running", "at the end of input (or of the server's data, for daytime), stop")),
        }
    });
}
