//! `labnet run SCENARIO`: a lab's server in the server's namespace, its client in the
//! client's with scripted input, across the link. The transcript shows both terminals.
//!
//! | scenario | server | client | input |
//! |---|---|---|---|
//! | `lottery` | `lotteryserver 10000 --seed 1` | `lotteryclient ADDR 10000` | `0 0 0 1 2` (GEN GEN GEN LIST END) |
//! | `ft` | `ftserver 10000 --root DIR` | `ftclient ADDR 10000 data.bin COPY` | — (a file of `--size` bytes) |
//! | `echo` | `tcpserv04 -p 9877` | `tcpcli01 ADDR -p 9877` | two lines |
//! | `daytime` | `daytimetcpsrv -p 13` | `daytimetcpcli ADDR -p 13` | — |
//! | `sum` | `tcpserv08 -p 9877` | `tcpcli08 ADDR -p 9877` | `2 5`, `10 20` |
//! | `udpecho` | `udpechoserver 10000` | `udpechoclient ADDR 10000` | two lines |
//! | `udpft` | `udpftserver --root DIR --idle 2 --once` | `udpftclient ADDR data.bin copy.bin` | — (a file of `--size` bytes) |
//! | `rft` | `rftserver --root DIR` | `rftclient ADDR data.bin copy.bin` | — (a file of `--size` bytes) |
//! | `udpseq` | `udpseqserver 10000 --idle 2` | `udpseqclient ADDR 10000 --count 200` | — |
//! | `echo-select` | `tcpservselect01 -p 9877` | two `tcpcli01 ADDR -p 9877` | client 2 comes while client 1 is connected ([`super::twoclients`]) |
//! | `echo-iterative` | `tcpserv01_non -p 9877` | the same | the same |
//! | `daemon` | `udpechod 10000 --log FILE` (a daemon: returns at once) | `udpechoclient ADDR 10000` | two lines; then `ps`, `kill`, the log ([`super::daemon`]) |
//!
//! `udpft` compares the copy and says how it differs: the course's upload has no
//! sequence numbers and no ACKs, so under `--loss` the copy is silently short (the
//! scenario still succeeds: that is what it shows). `rft` must deliver it identical.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::names::{Names, Side};
use super::programs;

/// How long a server may take to listen, and a client to finish.
pub const START_LIMIT: Duration = Duration::from_secs(10);

/// A lab exchange labnet can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Lab 3 Practice 3: GEN, GEN, GEN, LIST, END.
    Lottery,
    /// Lab 3 Practice 4: one file, compared with the original afterwards.
    Ft,
    /// UNP's echo (tcpserv04, tcpcli01).
    Echo,
    /// RFC 867 daytime.
    Daytime,
    /// UNP's text sum (tcpserv08, tcpcli08).
    Sum,
    /// Lab 4's UDP echo (udpechoserver, udpechoclient).
    UdpEcho,
    /// Lab 4's UDP upload (udpftserver, udpftclient): corrupted silently under loss.
    UdpFt,
    /// unplab's reliable UDP upload (rftserver, rftclient): identical under loss.
    Rft,
    /// The course's sequence experiment (udpseqserver, udpseqclient).
    UdpSeq,
    /// Lab 4: one process serves two clients at once with select (tcpservselect01).
    EchoSelect,
    /// Lab 4: the iterative server makes client 2 wait for client 1 (tcpserv01_non).
    EchoIterative,
    /// Lab 5: the UDP echo server as a daemon (udpechod), then stopped.
    Daemon,
}

impl Scenario {
    /// Every scenario, for `--help`.
    pub const ALL: [Scenario; 12] = [
        Scenario::Lottery,
        Scenario::Ft,
        Scenario::Echo,
        Scenario::Daytime,
        Scenario::Sum,
        Scenario::UdpEcho,
        Scenario::UdpFt,
        Scenario::Rft,
        Scenario::UdpSeq,
        Scenario::EchoSelect,
        Scenario::EchoIterative,
        Scenario::Daemon,
    ];

    /// True for the UDP scenarios (nothing for tshark's TCP repair counts).
    pub fn is_udp(self) -> bool {
        matches!(
            self,
            Scenario::UdpEcho
                | Scenario::UdpFt
                | Scenario::Rft
                | Scenario::UdpSeq
                | Scenario::Daemon
        )
    }

    /// Parses a scenario's name.
    pub fn parse(s: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.to_string() == s)
            .ok_or_else(|| {
                let all: Vec<String> = Scenario::ALL.iter().map(|sc| sc.to_string()).collect();
                format!("`{s}`: scenarios are {}", all.join(", "))
            })
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scenario::Lottery => "lottery",
            Scenario::Ft => "ft",
            Scenario::Echo => "echo",
            Scenario::Daytime => "daytime",
            Scenario::Sum => "sum",
            Scenario::UdpEcho => "udpecho",
            Scenario::UdpFt => "udpft",
            Scenario::Rft => "rft",
            Scenario::UdpSeq => "udpseq",
            Scenario::EchoSelect => "echo-select",
            Scenario::EchoIterative => "echo-iterative",
            Scenario::Daemon => "daemon",
        })
    }
}

/// What to vary in a run.
#[derive(Debug, Clone)]
pub struct Play {
    /// The scenario.
    pub scenario: Scenario,
    /// The client connects to the server's IPv6 address instead of its IPv4 one.
    pub ipv6: bool,
    /// Size of the file the `ft`, `udpft` and `rft` scenarios transfer.
    pub size: u64,
    /// Working directory for the `ft` scenario's files (removed afterwards).
    pub workdir: PathBuf,
    /// How long the client may take.
    pub limit: Duration,
    /// Print both terminals and the ft check (`labnet run`), or nothing (`labnet bench`).
    pub transcript: bool,
}

/// What a run measured (the `ft` scenario's transfer).
#[derive(Debug, Clone, Default)]
pub struct Played {
    /// The client's running time.
    pub client_time: Duration,
    /// Bytes transferred (ft only).
    pub bytes: u64,
}

/// The two command lines and the typed input of a scenario.
struct Script {
    server: (&'static str, Vec<String>),
    client: (&'static str, Vec<String>),
    input: &'static str,
    /// The server ends by itself once the client is done (iterative lottery, ftserver).
    server_ends: bool,
}

/// The scenario's programs, for those with one server and one client.
fn script(play: &Play, server: IpAddr) -> Option<Script> {
    let addr = server.to_string();
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let root = play.workdir.join("root");
    let copy = play.workdir.join("copy.bin");
    let (root_arg, data) = (root.display().to_string(), play.workdir.join("data.bin"));
    let data = data.display().to_string();
    Some(match play.scenario {
        Scenario::Lottery => Script {
            server: ("lotteryserver", args(&["10000", "--seed", "1"])),
            client: ("lotteryclient", args(&[&addr, "10000"])),
            input: "0\n0\n0\n1\n2\n",
            server_ends: true,
        },
        Scenario::Ft => Script {
            server: (
                "ftserver",
                args(&["10000", "--root", &root.display().to_string()]),
            ),
            client: (
                "ftclient",
                args(&[&addr, "10000", "data.bin", &copy.display().to_string()]),
            ),
            input: "",
            server_ends: true,
        },
        Scenario::Echo => Script {
            server: ("tcpserv04", args(&["-p", "9877"])),
            client: ("tcpcli01", args(&[&addr, "-p", "9877"])),
            input: "hello across the link\nsecond line\n",
            server_ends: false,
        },
        Scenario::Daytime => Script {
            server: ("daytimetcpsrv", args(&["-p", "13"])),
            client: ("daytimetcpcli", args(&[&addr, "-p", "13"])),
            input: "",
            server_ends: false,
        },
        Scenario::Sum => Script {
            server: ("tcpserv08", args(&["-p", "9877"])),
            client: ("tcpcli08", args(&[&addr, "-p", "9877"])),
            input: "2 5\n10 20\n",
            server_ends: false,
        },
        Scenario::UdpEcho => Script {
            server: ("udpechoserver", args(&["10000"])),
            client: ("udpechoclient", args(&[&addr, "10000"])),
            input: "hello across the link\nsecond line\n",
            server_ends: false,
        },
        Scenario::UdpFt => Script {
            server: (
                "udpftserver",
                args(&["--root", &root_arg, "--idle", "2", "--once"]),
            ),
            client: ("udpftclient", args(&[&addr, &data, "copy.bin"])),
            input: "",
            server_ends: true,
        },
        Scenario::Rft => Script {
            server: ("rftserver", args(&["--root", &root_arg])),
            client: ("rftclient", args(&[&addr, &data, "copy.bin"])),
            input: "",
            server_ends: false,
        },
        Scenario::UdpSeq => Script {
            server: ("udpseqserver", args(&["10000", "--idle", "2"])),
            client: ("udpseqclient", args(&[&addr, "10000", "--count", "200"])),
            input: "",
            server_ends: true,
        },
        Scenario::EchoSelect | Scenario::EchoIterative | Scenario::Daemon => return None,
    })
}

/// Plays `play` on network `names`, printing both terminals' transcripts.
pub fn play(names: &Names, play: &Play, stop: &AtomicBool) -> unp::Result<Played> {
    let server_addr = if play.ipv6 {
        IpAddr::V6(names.ipv6(Side::Server))
    } else {
        IpAddr::V4(names.ipv4(Side::Server))
    };
    let Some(s) = script(play, server_addr) else {
        return match play.scenario {
            Scenario::Daemon => super::daemon::play(names, play, server_addr, stop),
            _ => super::twoclients::play(names, play, server_addr, stop),
        };
    };
    match play.scenario {
        Scenario::Ft => make_file(&play.workdir.join("root").join("data.bin"), play.size)?,
        Scenario::UdpFt | Scenario::Rft => {
            make_file(&play.workdir.join("data.bin"), play.size)?;
            let root = play.workdir.join("root");
            std::fs::create_dir_all(&root)
                .map_err(|e| unp::Error::os("mkdir", e).with_detail(root.display().to_string()))?;
        }
        _ => {}
    }
    let server = programs::start(&names.netns(Side::Server), s.server.0, &s.server.1, "");
    let mut server = server?;
    server.wait_for("listening on", START_LIMIT, stop)?;
    let started = Instant::now();
    let client = programs::start(&names.netns(Side::Client), s.client.0, &s.client.1, s.input)?;
    let client = client.finish(play.limit, stop);
    let client_time = started.elapsed();
    let server_out = if s.server_ends {
        server.finish(START_LIMIT, stop).map(|(_, out)| out)
    } else {
        Ok(server.terminate())
    };
    let (client_status, client_out) = client?;
    let server_out = server_out?;
    if play.transcript {
        terminal(Side::Server, s.server.0, &s.server.1, "", &server_out);
        terminal(Side::Client, s.client.0, &s.client.1, s.input, &client_out);
    }
    if !client_status.success() {
        let printed = match play.transcript {
            true => String::new(),
            false => format!("; it printed: {}", client_out.join(" / ")),
        };
        return Err(unp::Error::msg(format!(
            "{} failed: {client_status}{printed}",
            s.client.0
        )));
    }
    let mut played = Played {
        client_time,
        bytes: 0,
    };
    if let Scenario::UdpFt | Scenario::Rft = play.scenario {
        played.bytes = super::upload::compare(play, client_time)?;
        return Ok(played);
    }
    if play.scenario == Scenario::Ft {
        played.bytes = compare(&play.workdir)?;
        let secs = client_time.as_secs_f64().max(1e-9);
        if !play.transcript {
            return Ok(played);
        }
        println!(
            "ft: copy.bin is identical to data.bin: {} in {:.3} s ({:.1} Mbit/s)",
            crate::plural(played.bytes, "byte"),
            secs,
            played.bytes as f64 * 8.0 / secs / 1e6
        );
    }
    Ok(played)
}

/// Prints one terminal: `[server] $ COMMAND` and its lines.
pub fn terminal(side: Side, name: &str, args: &[String], input: &str, out: &[String]) {
    let typed = if input.is_empty() {
        String::new()
    } else {
        format!("printf '{}' | ", input.replace('\n', "\\n"))
    };
    println!("[{side}] $ {typed}{name} {}", args.join(" "));
    for line in out {
        println!("{line}");
    }
}

/// Writes `size` bytes of reproducible noise (so that compression cannot help) to `path`.
fn make_file(path: &Path, size: u64) -> unp::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| unp::Error::os("mkdir", e).with_detail(dir.display().to_string()))?;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(path, bytes)
        .map_err(|e| unp::Error::os("write", e).with_detail(path.display().to_string()))
}

/// Checks that the copy equals the original; returns its length.
fn compare(workdir: &Path) -> unp::Result<u64> {
    let read = |p: PathBuf| {
        std::fs::read(&p)
            .map_err(|e| unp::Error::os("open", e).with_detail(p.display().to_string()))
    };
    let original = read(workdir.join("root").join("data.bin"))?;
    let copy = read(workdir.join("copy.bin"))?;
    if original != copy {
        return Err(unp::Error::msg(format!(
            "ft: the copy differs from the original ({} vs {})",
            crate::plural(copy.len(), "byte"),
            original.len()
        )));
    }
    Ok(copy.len() as u64)
}
