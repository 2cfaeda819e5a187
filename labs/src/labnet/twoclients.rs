//! `labnet run echo-select` and `labnet run echo-iterative`: Lab 4's question, "does
//! the server serve two clients at once?", asked across the link. One echo server in
//! the server's namespace, two `tcpcli01` in the client's:
//!
//! 1. client 1 connects and types a line; its echo comes back; it stays connected;
//! 2. client 2 connects, types a line and Ctrl-D, and waits for its echo;
//! 3. client 1 types a second line once client 2 got its echo, or after [`PATIENCE`];
//! 4. client 1 types Ctrl-D and leaves.
//!
//! `tcpservselect01` (one process, `select`) answers client 2 at step 2, while client 1
//! is connected; `tcpserv01_non` (iterative) only after step 4: its single process
//! sits in client 1's `read` and calls `accept` again only when client 1 leaves. The
//! transcript is the server's terminal, then a time line of the two clients'.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::names::{Names, Side};
use super::programs::{self, Running};
use super::scenario::{Play, Played, START_LIMIT, Scenario, terminal};

/// How long client 1 waits for client 2's echo before it types its second line.
pub const PATIENCE: Duration = Duration::from_secs(3);

/// The lines typed: client 1's first, client 2's, client 1's second.
pub const LINES: [&str; 3] = [
    "client 1, first line",
    "client 2, while client 1 is connected",
    "client 1, second line",
];

/// The two clients' terminals, line by line, with the time each line appeared.
struct Timeline {
    start: Instant,
    events: Vec<(Duration, u8, String)>,
}

impl Timeline {
    fn note(&mut self, client: u8, what: impl Into<String>) -> Duration {
        let at = self.start.elapsed();
        self.events.push((at, client, what.into()));
        at
    }
}

/// Plays `echo-select` or `echo-iterative` on network `names`.
pub fn play(names: &Names, play: &Play, server: IpAddr, stop: &AtomicBool) -> unp::Result<Played> {
    let program = match play.scenario {
        Scenario::EchoSelect => "tcpservselect01",
        _ => "tcpserv01_non",
    };
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let server_args = words(&["-p", "9877"]);
    let client_args = words(&[&server.to_string(), "-p", "9877"]);
    let ns = names.netns(Side::Client);
    let mut srv = programs::start(&names.netns(Side::Server), program, &server_args, "")?;
    srv.wait_for("listening on", START_LIMIT, stop)?;
    let mut t = Timeline {
        start: Instant::now(),
        events: Vec::new(),
    };
    // 1. Client 1 connects, types a line, gets its echo, stays.
    let mut one = Client::new(1, programs::start_typing(&ns, "tcpcli01", &client_args)?);
    t.note(1, format!("$ tcpcli01 {}", client_args.join(" ")));
    one.type_line(LINES[0], &mut t)?;
    one.echo(LINES[0], &mut t, play.limit, stop)?;
    // 2. Client 2 comes with one line, and waits for its echo.
    let two_input = format!("{}\n", LINES[1]);
    let mut two = Client::new(
        2,
        programs::start(&ns, "tcpcli01", &client_args, &two_input)?,
    );
    let typed = format!("printf '{}\\n' | tcpcli01", LINES[1]);
    t.note(2, format!("$ {typed} {}", client_args.join(" ")));
    let mut answered = two.line(PATIENCE, &mut t, stop);
    let mut two = match answered {
        Some(_) => {
            two.finish(&mut t, play.limit, stop)?;
            None
        }
        None => {
            t.note(2, format!("(no echo in {PATIENCE:?}: client 1 types on)"));
            Some(two)
        }
    };
    // 3., 4. Client 1's second line, then Ctrl-D.
    one.type_line(LINES[2], &mut t)?;
    one.echo(LINES[2], &mut t, play.limit, stop)?;
    t.note(1, "types Ctrl-D");
    one.run.end_input();
    let left = one.finish(&mut t, play.limit, stop)?;
    if let Some(mut two) = two.take() {
        answered = two.line(play.limit, &mut t, stop);
        two.finish(&mut t, play.limit, stop)?;
    }
    let total = t.start.elapsed();
    // The server's terminal is complete once it saw both clients leave.
    for _ in 0..2 {
        let _ = srv.wait_for(" left", START_LIMIT, stop);
    }
    if play.transcript {
        terminal(Side::Server, program, &server_args, "", &srv.terminate());
        println!("[client 1] and [client 2], seconds from client 1's start:");
        for (at, client, what) in &t.events {
            println!("{:>7.3} [client {client}] {what}", at.as_secs_f64());
        }
        println!("{}", verdict(play.scenario, answered, left));
    }
    Ok(Played {
        client_time: total,
        bytes: 0,
    })
}

/// What the time line shows: whether client 2 was answered while client 1 was there.
fn verdict(scenario: Scenario, answered: Option<Duration>, left: Duration) -> String {
    let left = left.as_secs_f64();
    match answered {
        Some(at) if at.as_secs_f64() < left => format!(
            "{scenario}: client 2 got its echo at {:.3} s, while client 1 was connected \
             (until {left:.3} s): the server served both at once",
            at.as_secs_f64()
        ),
        Some(at) => format!(
            "{scenario}: client 2 got its echo at {:.3} s, only after client 1 left at \
             {left:.3} s: the server serves one client at a time",
            at.as_secs_f64()
        ),
        None => format!("{scenario}: client 2 got no echo"),
    }
}

/// A client's program, and how many of its lines the time line has.
struct Client {
    n: u8,
    run: Running,
    seen: usize,
}

impl Client {
    fn new(n: u8, run: Running) -> Client {
        Client { n, run, seen: 0 }
    }

    fn type_line(&mut self, line: &str, t: &mut Timeline) -> unp::Result<()> {
        t.note(self.n, format!("types \"{line}\""));
        self.run.type_line(line)
    }

    /// The next line the client prints, noted with its time.
    fn line(&mut self, limit: Duration, t: &mut Timeline, stop: &AtomicBool) -> Option<Duration> {
        let line = self.run.next_line(limit, stop)?;
        self.seen += 1;
        Some(t.note(self.n, line))
    }

    /// Waits for the echo of `line`; every line printed before it is noted too.
    fn echo(
        &mut self,
        line: &str,
        t: &mut Timeline,
        limit: Duration,
        stop: &AtomicBool,
    ) -> unp::Result<()> {
        while self.line(limit, t, stop).is_some() {
            if t.events.last().is_some_and(|(_, _, got)| got == line) {
                return Ok(());
            }
        }
        Err(unp::Error::msg(format!(
            "tcpcli01 (client {}) got no echo of \"{line}\" in {limit:?}",
            self.n
        )))
    }

    /// Waits for the client to exit, notes what it printed last and its exit;
    /// returns when it exited.
    fn finish(self, t: &mut Timeline, limit: Duration, stop: &AtomicBool) -> unp::Result<Duration> {
        let (status, all) = self.run.finish(limit, stop)?;
        for line in all.into_iter().skip(self.seen) {
            t.note(self.n, line);
        }
        let at = t.note(self.n, format!("exits ({status})"));
        match status.success() {
            true => Ok(at),
            false => Err(unp::Error::msg(format!(
                "tcpcli01 (client {}) {status}",
                self.n
            ))),
        }
    }
}
