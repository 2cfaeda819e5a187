//! One run of labcheck: a directory of its own, a pool of free ports (so that a capture
//! can name them all), starting the program, and running numbered steps with a time
//! limit.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::pcap::Capture;
use super::ports::{free_port, server_is_up, up_words};
use super::proc::{Program, describe_status, loopback, wait_until};
use super::report::{Failure, Report, Step, Tag, Verdict};
use super::wire::{Conn, Transcript};
use super::{Options, Role, Target};

/// How many ports a run may use (each server start and each client run takes one).
const PORTS: usize = 40;

/// How a step that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Passed; what was seen.
    Pass(String),
    /// Not run; why.
    Skip(String),
}

/// A passed step's note.
pub fn pass(note: impl Into<String>) -> Result<Done, Failure> {
    Ok(Done::Pass(note.into()))
}

/// A skipped step's reason.
pub fn skip(why: impl Into<String>) -> Result<Done, Failure> {
    Ok(Done::Skip(why.into()))
}

/// A server labcheck started (or was given), for one step or a few.
pub struct Served {
    /// The program, when labcheck started it.
    pub prog: Option<Program>,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// One run.
pub struct Session<'o> {
    /// The settings.
    pub opts: &'o Options,
    /// The run's directory (the program's working directory, `{dir}`).
    pub dir: PathBuf,
    /// The step timeout.
    pub t: Duration,
    report: Report,
    ports: Vec<u16>,
    started: Instant,
    log: Transcript,
    step_ports: Vec<u16>,
    capture: Option<Capture>,
    /// Set when the program could not even start: later steps are skipped.
    broken: Option<String>,
    /// The program's working directory and `{dir}`: the run's directory, or the
    /// directory a file server serves (see [`Session::serve_dir`]).
    cwd: PathBuf,
    most_output: std::rc::Rc<std::cell::Cell<u64>>,
}

/// `server lottery`, `client ft`.
pub fn subject(opts: &Options) -> String {
    let role = match opts.role {
        Role::Server => "server",
        Role::Client => "client",
    };
    format!("{role} {}", opts.proto.name())
}

/// The one failed step of a run that could not start.
pub fn broken_step(why: &str) -> Step {
    Step {
        number: 1,
        name: "labcheck.setup".into(),
        tag: Tag::Handout,
        title: "prepare the run".into(),
        verdict: Verdict::Fail,
        note: String::new(),
        failure: Some(Failure::new(
            "a run directory and free ports",
            why,
            "labcheck itself failed; this is not the program's fault",
        )),
        transcript: Vec::new(),
        ports: Vec::new(),
        segments: Vec::new(),
        secs: 0.0,
    }
}

impl<'o> Session<'o> {
    /// Prepares a run: its directory and ports, and the capture when asked for.
    pub fn new(opts: &'o Options) -> Result<Session<'o>, String> {
        let base = opts.workdir.clone().unwrap_or_else(std::env::temp_dir);
        let dir = super::proc::make_run_dir(&base)?;
        let ports = (0..PORTS)
            .map(|_| free_port())
            .collect::<Result<Vec<u16>, String>>()?;
        let mut report = Report {
            subject: subject(opts),
            ..Default::default()
        };
        report.target = match &opts.target {
            Target::Command(argv) => argv.join(" "),
            Target::Addr(a) => a.to_string(),
        };
        if let Target::Addr(_) = opts.target {
            report.notes.push("a server already running: the checks that need labcheck to start the server (a fresh draw, exit after END, a second server) are skipped".into());
        }
        let capture = if opts.capture {
            let mut watched = ports.clone();
            if let Target::Addr(a) = opts.target {
                watched.push(a.port());
            }
            watched.extend(opts.fixed_port);
            match Capture::start(&dir.join("labcheck.pcap"), &watched) {
                Ok(c) => Some(c),
                Err(e) => {
                    report.notes.push(format!("no capture: {e}"));
                    None
                }
            }
        } else {
            None
        };
        Ok(Session {
            opts,
            t: opts.step_timeout,
            cwd: dir.clone(),
            most_output: Default::default(),
            dir,
            report,
            ports,
            started: Instant::now(),
            log: Transcript::default(),
            step_ports: Vec::new(),
            capture,
            broken: None,
        })
    }

    /// Runs one numbered step. It is skipped when not selected, after the time limit, or
    /// when the program could not start; otherwise `body` decides.
    pub fn step(
        &mut self,
        name: &str,
        tag: Tag,
        title: &str,
        body: impl FnOnce(&mut Session<'o>) -> Result<Done, Failure>,
    ) {
        let began = Instant::now();
        self.log.borrow_mut().clear();
        self.step_ports.clear();
        let outcome = if self.opts.only.is_some_and(|only| only != tag) {
            Ok(Done::Skip(format!(
                "not selected (--only {})",
                self.opts.only.map_or("", Tag::name)
            )))
        } else if began.duration_since(self.started) > self.opts.time_limit {
            Ok(Done::Skip(format!(
                "time limit of {} s reached",
                self.opts.time_limit.as_secs()
            )))
        } else if let Some(why) = &self.broken {
            Ok(Done::Skip(format!("not run: {why}")))
        } else {
            body(self)
        };
        let (verdict, note, failure) = match outcome {
            Ok(Done::Pass(n)) => (Verdict::Pass, n, None),
            Ok(Done::Skip(n)) => (Verdict::Skip, n, None),
            Err(f) => (Verdict::Fail, String::new(), Some(f)),
        };
        let number = self.report.steps.len() + 1;
        self.report.steps.push(Step {
            number,
            name: name.to_string(),
            tag,
            title: title.to_string(),
            verdict,
            note,
            failure,
            transcript: self.log.borrow().clone(),
            ports: self.step_ports.clone(),
            segments: Vec::new(),
            secs: began.elapsed().as_secs_f64(),
        });
    }

    /// Marks the program as unable to start: the steps after this one are skipped.
    pub fn set_broken(&mut self, why: impl Into<String>) {
        self.broken = Some(why.into());
    }

    /// Adds a remark to the report.
    pub fn note(&mut self, line: impl Into<String>) {
        self.report.notes.push(line.into());
    }

    /// The step's transcript, for a line of labcheck's own.
    pub fn say(&self, line: impl Into<String>) {
        self.log.borrow_mut().push(line.into());
    }

    /// A port from the run's pool.
    pub fn port(&mut self) -> Result<u16, Failure> {
        self.ports.pop().ok_or_else(|| {
            Failure::new(
                "a free port",
                "none left",
                "labcheck used up its ports; this is not the program's fault",
            )
        })
    }

    /// True when labcheck starts the program itself (not `--addr`).
    pub fn starts_program(&self) -> bool {
        matches!(self.opts.target, Target::Command(_))
    }

    /// The command line with its placeholders filled in.
    pub fn argv(&self, fill: &[(&str, &str)]) -> Vec<String> {
        let Target::Command(argv) = &self.opts.target else {
            return Vec::new();
        };
        let dir = self.cwd.to_string_lossy();
        argv.iter()
            .map(|a| {
                let mut a = a.replace("{dir}", &dir);
                for (key, value) in fill {
                    a = a.replace(key, value);
                }
                a
            })
            .collect()
    }

    /// Starts the program with `argv` in the run's directory.
    pub fn spawn(&mut self, argv: &[String]) -> Result<Program, Failure> {
        self.say(format!("$ {}", argv.join(" ")));
        let mut prog = Program::spawn(argv, &self.cwd).map_err(|e| {
            Failure::new(
                "the program starts",
                e,
                "check the command line given to labcheck (after --)",
            )
        })?;
        prog.most_output = Some(self.most_output.clone());
        Ok(prog)
    }

    /// Makes `files/` in the run's directory the program's working directory and
    /// `{dir}`, and returns it: what a file server serves (a file put in the run's
    /// directory is then outside it).
    pub fn serve_dir(&mut self) -> Result<PathBuf, String> {
        let d = self.dir.join("files");
        std::fs::create_dir_all(&d).map_err(|e| format!("mkdir error: {e}"))?;
        self.cwd = d.clone();
        Ok(d)
    }

    /// A fresh server on a port of its own (or its fixed `--port`), listening (a UDP
    /// server: bound); or the given `--addr`.
    pub fn server(&mut self) -> Result<Served, Failure> {
        if let Target::Addr(addr) = self.opts.target {
            return Ok(Served { prog: None, addr });
        }
        let port = match self.opts.fixed_port {
            Some(p) => p,
            None => self.port()?,
        };
        let argv = self.argv(&[("{port}", &port.to_string())]);
        let mut prog = self.spawn(&argv)?;
        let t = self.t.max(Duration::from_secs(5));
        let udp = self.opts.proto.is_udp();
        let mut ended = None;
        let up = wait_until(t, || {
            ended = prog.exited();
            ended.is_some() || server_is_up(port, udp)
        });
        let (waits, before, calls) = up_words(udp);
        if let Some(status) = ended {
            return Err(Failure::new(
                format!("the server {waits} port {port} and waits for clients"),
                format!(
                    "it ended ({}) before {before}; {}",
                    describe_status(status),
                    prog.said()
                ),
                match status.code() {
                    // stdbuf (or exec) could not start it: no such file, or not executable.
                    Some(127) => format!(
                        "exit status 127: the program was not found: {:?} is neither a file (relative to where labcheck runs) nor on PATH; build it, or give its path",
                        argv.first().map(String::as_str).unwrap_or_default()
                    ),
                    Some(126) => format!(
                        "exit status 126: {:?} is not executable (chmod +x, or a missing interpreter)",
                        argv.first().map(String::as_str).unwrap_or_default()
                    ),
                    _ => format!("a server must {calls}; read the message it printed"),
                },
            ));
        }
        if !up {
            return Err(Failure::new(
                format!("the server {waits} port {port} within {} s", t.as_secs()),
                format!("nothing {waits} the port"),
                format!(
                    "does it take the port from its command line (argv[1])? A server must {calls}"
                ),
            ));
        }
        let state = if udp { "bound to" } else { "listening on" };
        self.say(format!("server {state} port {port} (pid {})", prog.pid()));
        Ok(Served {
            prog: Some(prog),
            addr: loopback(port),
        })
    }

    /// The step's transcript, for a connection or socket of labcheck's own.
    pub fn transcript(&self) -> &Transcript {
        &self.log
    }

    /// Records a port labcheck used in this step (to find its packets in the capture).
    pub fn used_port(&mut self, port: u16) {
        self.step_ports.push(port);
    }

    /// Connects to `addr` as client `name` (`A`, `B`).
    pub fn connect(&mut self, addr: SocketAddr, name: &str) -> Result<Conn, Failure> {
        let c = Conn::connect(addr, self.t, name, &self.log)?;
        self.step_ports.push(c.local_port());
        Ok(c)
    }

    /// Waits up to the step timeout for the client under check to connect to `listener`;
    /// fails with what the client said if it ended first.
    pub fn accept(
        &mut self,
        listener: &TcpListener,
        client: &mut Program,
    ) -> Result<Conn, Failure> {
        let _ = listener.set_nonblocking(true);
        let mut got: Option<TcpStream> = None;
        let mut ended = None;
        wait_until(self.t, || {
            if let Ok((s, _)) = listener.accept() {
                got = Some(s);
                return true;
            }
            ended = client.exited();
            ended.is_some()
        });
        match got {
            Some(s) => {
                let _ = s.set_nonblocking(false);
                self.step_ports
                    .push(s.peer_addr().map(|a| a.port()).unwrap_or(0));
                Ok(Conn::accepted(s, "S", &self.log))
            }
            None => Err(Failure::new(
                "the client connects to the server given on its command line",
                match ended {
                    Some(st) => format!(
                        "it ended ({}) without connecting; {}",
                        describe_status(st),
                        client.said()
                    ),
                    None => format!("no connection within {} s", self.t.as_secs()),
                },
                "a client must socket() and connect() to the host and port of its command line (argv[1], argv[2])",
            )),
        }
    }

    /// Ends the run: stops the capture, lists the segments of each failed step, and
    /// returns the report.
    pub fn finish(mut self) -> Report {
        if let Some(cap) = self.capture.take() {
            let path = cap.stop();
            for step in &mut self.report.steps {
                if step.verdict == Verdict::Fail && !step.ports.is_empty() {
                    step.segments =
                        super::pcap::segments(&path, self.opts.proto.decoder(), &step.ports);
                }
            }
            self.report.pcap = Some(path.to_string_lossy().into_owned());
        }
        let most = self.most_output.get();
        if most > super::proc::OUTPUT_CAP as u64 {
            self.report.notes.push(format!("the program wrote {most} bytes of output in one run; labcheck kept the first {} KiB of each stream and closed a stream after {} MiB", super::proc::OUTPUT_CAP / 1024, super::proc::OUTPUT_LIMIT >> 20));
        }
        self.report.secs = self.started.elapsed().as_secs_f64();
        self.report
    }
}
