//! # labcheck — does a program, anyone's, behave as the lab's protocol requires?
//!
//! `labcheck server PROTOCOL -- COMMAND…` starts a server (its command line holds
//! `{port}`, and `{dir}` for a file server's directory) once per check on a fresh port
//! and talks to it as the lab's clients would, and as careless or hostile ones do;
//! `labcheck client PROTOCOL -- COMMAND…` plays the server for a client (`{host}`,
//! `{port}`) and types into its standard input. Every step is tagged *handout* or
//! *robustness*, has a timeout, and explains a failure in the student's terms with the
//! bytes in hex ([`report`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`report`] | steps, verdicts, explanations; text, JSON and JUnit output |
//! | [`proc`] | the program under check: process group, capped output, timeouts |
//! | [`ports`] | free ports, and whether a server listens (TCP) or is bound (UDP) |
//! | [`wire`] | connections with timeouts and a transcript |
//! | [`session`] | one run: the ports, the directory, starting servers, running steps |
//! | [`pcap`] | tcpdump while checking, and the segments of a failed step |
//! | [`lottery`], [`lottery_robust`], [`lottery_client`] | Practice 3 |
//! | [`ft`], [`ft_robust`], [`ftfiles`], [`ft_client`] | Practice 4, one-shot and iterative |
//! | [`simple`], [`simple_client`] | daytime, echo, the lab's echo, sum08, sum09 |
//! | [`dgram`] | UDP: a datagram socket with timeouts and a transcript, a bound port |
//! | [`udpecho`], [`udpecho_client`] | Lab 4's UDP echo |
//! | [`udpft`], [`udpft_robust`], [`udpft_client`] | Lab 4's UDP upload (`================END`) |
//! | [`relay`], [`rft`], [`rft_robust`], [`rft_client`], [`rft_receiver`] | unplab's reliable transfer, through a lossy relay |
//! | [`batch`] | a class: manifest → gradebook CSV and reports |
//! | [`starter`], [`starter_toml`] | starter code: the reference sources with their blanks cut out |

pub mod batch;
pub mod dgram;
pub mod ft;
pub mod ft_client;
pub mod ft_robust;
pub mod ftfiles;
pub mod lottery;
pub mod lottery_client;
pub mod lottery_robust;
pub mod pcap;
pub mod ports;
pub mod proc;
pub mod relay;
pub mod report;
pub mod rft;
pub mod rft_client;
pub mod rft_receiver;
pub mod rft_robust;
pub mod session;
pub mod simple;
pub mod simple_client;
pub mod starter;
pub mod starter_toml;
pub mod udpecho;
pub mod udpecho_client;
pub mod udpft;
pub mod udpft_client;
pub mod udpft_robust;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use report::Tag;

/// The protocols labcheck knows (labtrace's `--proto` names, plus the lab's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Lab 3 Practice 3: GEN/LIST/END.
    Lottery,
    /// Lab 3 Practice 4: one file, then the server ends.
    Ft,
    /// Lab 3 Practice 4 Requirement 3: the iterative file transfer.
    IterFt,
    /// UNP echo (tcpserv01…04).
    Echo,
    /// The lab's iterative EchoServer/EchoClient (`Data Received: ...`).
    LabEcho,
    /// UNP tcpserv08: `A B\n` → `A+B\n`.
    Sum08,
    /// UNP tcpserv09: two little-endian i64 → their sum.
    Sum09,
    /// RFC 867 daytime.
    Daytime,
    /// Lab 4's UDP echo (UDP_Echo_Server, UDP_Echo_Client).
    UdpEcho,
    /// Lab 4's UDP upload (UDP_FTServ, UDP_FTCli): path, `ok`, data, `================END`.
    UdpFt,
    /// unplab's reliable UDP transfer (rftserver, rftclient).
    Rft,
}

impl Protocol {
    /// Every protocol, in the order `--help` lists them.
    pub const ALL: [Protocol; 11] = [
        Protocol::Lottery,
        Protocol::Ft,
        Protocol::IterFt,
        Protocol::Echo,
        Protocol::LabEcho,
        Protocol::Sum08,
        Protocol::Sum09,
        Protocol::Daytime,
        Protocol::UdpEcho,
        Protocol::UdpFt,
        Protocol::Rft,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Lottery => "lottery",
            Protocol::Ft => "ft",
            Protocol::IterFt => "iterft",
            Protocol::Echo => "echo",
            Protocol::LabEcho => "labecho",
            Protocol::Sum08 => "sum08",
            Protocol::Sum09 => "sum09",
            Protocol::Daytime => "daytime",
            Protocol::UdpEcho => "udpecho",
            Protocol::UdpFt => "udpft",
            Protocol::Rft => "rft",
        }
    }

    /// The protocol with this name.
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.name() == name)
    }

    /// How labtrace decodes its payloads.
    pub fn decoder(self) -> crate::decode::Proto {
        use crate::decode::Proto;
        match self {
            Protocol::Lottery => Proto::Lottery,
            Protocol::Ft | Protocol::IterFt => Proto::Ft,
            Protocol::Echo | Protocol::LabEcho => Proto::Echo,
            Protocol::Sum08 => Proto::Sum08,
            Protocol::Sum09 => Proto::Sum09,
            Protocol::Daytime => Proto::Daytime,
            Protocol::UdpEcho => Proto::UdpEcho,
            Protocol::UdpFt => Proto::UdpFt,
            Protocol::Rft => Proto::Rft,
        }
    }

    /// True for the protocols over UDP (a server is up once its port is bound).
    pub fn is_udp(self) -> bool {
        matches!(self, Protocol::UdpEcho | Protocol::UdpFt | Protocol::Rft)
    }
}

/// Which side is under check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// labcheck is the client.
    Server,
    /// labcheck is the server.
    Client,
}

/// What is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A command line with placeholders; labcheck starts it as often as it needs.
    Command(Vec<String>),
    /// A server already running (fewer checks).
    Addr(SocketAddr),
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Server or client.
    pub role: Role,
    /// The protocol.
    pub proto: Protocol,
    /// The program.
    pub target: Target,
    /// Only the checks with this tag (`--only handout`).
    pub only: Option<Tag>,
    /// The server serves clients concurrently (fork, threads, select/poll/epoll): END
    /// ends only the session, the server is not expected to exit (a file server serves
    /// on after a file), and the `concurrency` step fails if a second client must wait.
    pub concurrent: bool,
    /// Capture with tcpdump where it can; the pcap of a failed run is kept.
    pub capture: bool,
    /// Keep the pcap of a run that passed too (`--keep-captures`).
    pub keep_captures: bool,
    /// The longest one step may wait for the program.
    pub step_timeout: Duration,
    /// The longest the whole run may take; steps after it are skipped.
    pub time_limit: Duration,
    /// Where the run's directory is made (default: the system's temp directory).
    pub workdir: Option<PathBuf>,
    /// The program's own fixed port, for a command line without `{port}` (the course's
    /// UDP_FTServ and UDP_FTCli always use 49312).
    pub fixed_port: Option<u16>,
    /// The server claims to give up an upload that stays silent this long (`udpft`,
    /// `rft`): `udpft.no-end` then requires it to serve the next client.
    pub idle: Option<Duration>,
}

impl Options {
    /// Settings with the defaults: every check, 3 s a step, 120 s in all, no capture.
    pub fn new(role: Role, proto: Protocol, target: Target) -> Options {
        Options {
            role,
            proto,
            target,
            only: None,
            concurrent: false,
            capture: false,
            keep_captures: false,
            step_timeout: Duration::from_secs(3),
            time_limit: Duration::from_secs(120),
            workdir: None,
            fixed_port: None,
            idle: None,
        }
    }
}

/// Runs every check `opts` selects and returns the report. The run's directory is
/// removed at the end, but for the pcap of a failed run (or any, with `keep_captures`).
pub fn check(opts: &Options) -> report::Report {
    let mut s = match session::Session::new(opts) {
        Ok(s) => s,
        Err(e) => {
            let mut r = report::Report {
                subject: session::subject(opts),
                ..Default::default()
            };
            r.notes
                .push(format!("labcheck could not prepare the run: {e}"));
            r.steps.push(session::broken_step(&e));
            return r;
        }
    };
    // Runs with the same fixed port (a batch of UDP_FTServ) take turns.
    static FIXED_PORT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = opts.fixed_port.map(|_| {
        FIXED_PORT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    });
    match (opts.role, opts.proto) {
        (Role::Server, Protocol::Lottery) => lottery::check(&mut s),
        (Role::Client, Protocol::Lottery) => lottery_client::check(&mut s),
        (Role::Server, Protocol::Ft | Protocol::IterFt) => ft::check(&mut s),
        (Role::Client, Protocol::Ft | Protocol::IterFt) => ft_client::check(&mut s),
        (Role::Server, Protocol::UdpEcho) => udpecho::check(&mut s),
        (Role::Client, Protocol::UdpEcho) => udpecho_client::check(&mut s),
        (Role::Server, Protocol::UdpFt) => udpft::check(&mut s),
        (Role::Client, Protocol::UdpFt) => udpft_client::check(&mut s),
        (Role::Server, Protocol::Rft) => rft::check(&mut s),
        (Role::Client, Protocol::Rft) => rft_client::check(&mut s),
        (Role::Server, _) => simple::check_server(&mut s),
        (Role::Client, _) => simple::check_client(&mut s),
    }
    let dir = s.dir.clone();
    let mut report = s.finish();
    pcap::tidy(&dir, &mut report, opts.keep_captures);
    report
}
