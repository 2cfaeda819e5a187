//! `labtrace FILE`: explain a tcpdump/Wireshark capture the way the Lab 3 supplement does,
//! and the UDP datagrams of Lab 4 flow by flow.

use clap::{CommandFactory, Parser, ValueEnum};
use labs::decode::Proto;
use labs::render::udp::UDP_JSON_FIELDS;
use labs::render::{JSON_FIELDS, View, quiz};
use labs::tcp::wireshark::Like;
use labs::{Options, TraceError, trace};
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use unp::{Context, Error};

/// Explain a capture of the lab programs: handshake, data with Seq/Ack bookkeeping, close;
/// UDP datagrams flow by flow, after the TCP connections.
#[derive(Parser)]
#[command(name = "labtrace", after_long_help = format!("{JSON_FIELDS}\n\n{UDP_JSON_FIELDS}\n\n{EXIT_STATUS}"))]
struct Args {
    /// A pcap or pcapng file (tcpdump -w, Wireshark "Save As").
    file: PathBuf,
    /// Only segments and datagrams to or from this port (client's or server's); no match
    /// is an error.
    ///
    /// The port does not decide who is the server: the side that sent the SYN is the
    /// client. Only when the handshake is not in the capture is this port's side taken
    /// as the server; a UDP flow has no handshake, so there it always is. A port that
    /// matches nothing is an error that lists the ports the capture has.
    #[arg(long)]
    port: Option<u16>,
    /// How to decode payloads. A TCP protocol applies to TCP connections, a UDP one
    /// (udpecho, udpft, udpseq, rft) to UDP flows, echo and ft also to the UDP echo and
    /// upload, raw to both; the other transport is guessed.
    #[arg(long, value_enum, default_value = "auto")]
    proto: ProtoArg,
    /// text: the explained story; json: one object per segment per line (fields: --help).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Draw an ASCII sequence (ladder) diagram instead of the table (text format only).
    #[arg(long)]
    ladder: bool,
    /// Also write the ladder diagram as an SVG picture to this file.
    #[arg(long, value_name = "OUT")]
    svg: Option<PathBuf>,
    /// RTT: each ACK's sample and the RFC 6298 estimator (SRTT, RTTVAR, RTO), a table
    /// per connection and direction (with --format json: acks and ack_rtt fields).
    #[arg(long)]
    rtt: bool,
    /// Also write each connection's time-sequence graph (Stevens/tcptrace style:
    /// sequence number against time, ACK and window lines, retransmissions in red) as
    /// an SVG picture to this file.
    #[arg(long, value_name = "OUT")]
    tsg: Option<PathBuf>,
    /// Also write one self-contained HTML page to this file: the ladder, the story with
    /// its notes and bookkeeping tables, and each segment's fields (link, IP, TCP with
    /// options, lab payload) beside its bytes in hex, the one under the pointer
    /// highlighted in the other.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Print the text view as a quiz: the bookkeeping tables' cells are `?` for you to
    /// fill in (Markdown; save it with `> FILE`, edit it, then mark it with --answers).
    #[arg(long, conflicts_with_all = ["ladder", "rtt", "answers"])]
    quiz: bool,
    /// Mark the filled-in quiz FILE: the text view with each of your answers right (✓)
    /// or wrong (✗, with the rule), and a score.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ladder", "rtt"])]
    answers: Option<PathBuf>,
    /// Mark retransmissions, duplicate ACKs and the rest as this Wireshark version does:
    /// 4.0 (and older), 4.4 (the default; 4.2 too) or 4.6 (and newer).
    ///
    /// Five of Wireshark's rules changed between 4.0 and 4.4, one more in 4.6
    /// (docs/capture.md lists them): `tshark --version` or Wireshark's About box shows
    /// yours. Where the neighbouring version marks a segment differently, its note says
    /// what that version calls it.
    #[arg(long, value_name = "VERSION", default_value = "4.4", value_parser = Like::parse)]
    like_wireshark: Like,
}

/// What the exit status says, as `labtrace --help` shows it.
const EXIT_STATUS: &str = "\
Exit status: 0 when the capture was explained, also when its tail was cut (a warning on
stderr) or it holds neither TCP nor UDP (0 TCP segments, N non-TCP packets skipped); 1 when it was not:
the capture, --answers or an output file cannot be opened, the capture is not one or holds
no packets, or --port matches no segment (each of these prints its error alone), or an
output cannot be written; 2 for a usage error.";

#[derive(Clone, Copy, ValueEnum)]
enum ProtoArg {
    Auto,
    Lottery,
    Ft,
    Echo,
    Sum08,
    Sum09,
    Daytime,
    Udpecho,
    Udpft,
    Udpseq,
    Rft,
    Raw,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() {
    unp::run(|| {
        let args = Args::parse();
        // clap's conflicts_with cannot depend on a value (--format text --ladder is
        // fine), so this one conflict is checked here, reported the way clap reports its
        // own (usage on stderr, exit status 2).
        for (on, flag) in [
            (
                args.ladder,
                "--ladder draws the text view as a ladder diagram",
            ),
            (args.quiz, "--quiz writes the text view as a quiz"),
            (
                args.answers.is_some(),
                "--answers marks the text view's tables",
            ),
        ] {
            if on && args.format == Format::Json {
                Args::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        format!("{flag}; it cannot be used with --format json"),
                    )
                    .exit();
            }
        }
        let proto = match args.proto {
            ProtoArg::Auto => None,
            ProtoArg::Lottery => Some(Proto::Lottery),
            ProtoArg::Ft => Some(Proto::Ft),
            ProtoArg::Echo => Some(Proto::Echo),
            ProtoArg::Sum08 => Some(Proto::Sum08),
            ProtoArg::Sum09 => Some(Proto::Sum09),
            ProtoArg::Daytime => Some(Proto::Daytime),
            ProtoArg::Udpecho => Some(Proto::UdpEcho),
            ProtoArg::Udpft => Some(Proto::UdpFt),
            ProtoArg::Udpseq => Some(Proto::UdpSeq),
            ProtoArg::Rft => Some(Proto::Rft),
            ProtoArg::Raw => Some(Proto::Raw),
        };
        let view = match (args.format, args.ladder) {
            (Format::Json, _) => View::Json,
            (Format::Text, true) => View::Ladder,
            (Format::Text, false) if args.quiz => View::Quiz,
            (Format::Text, false) => View::Text,
        };
        let name = args.file.display().to_string();
        let opts = Options {
            proto,
            port: args.port,
            view,
            svg: args.svg.is_some(),
            rtt: args.rtt,
            tsg: args.tsg.is_some(),
            html: args.html.is_some().then(|| name.clone()),
            wireshark: args.like_wireshark,
        };
        let file = File::open(&args.file)
            .context("open")
            .map_err(|e| e.with_detail(name.clone()))?;
        // The picture's file is opened before anything is read or printed, so that a
        // wrong path fails at once, alone.
        let mut svg_out = args.svg.as_ref().map(SvgFile::open).transpose()?;
        let mut tsg_out = args.tsg.as_ref().map(SvgFile::open).transpose()?;
        let mut html_out = args.html.as_ref().map(SvgFile::open).transpose()?;
        let answers = args.answers.as_ref().map(read_answers).transpose()?;
        if let Some(quiz_of) = answers.as_ref().and_then(|a| a.capture())
            && Path::new(quiz_of).file_name() != args.file.file_name()
        {
            unp::err_msg(format_args!(
                "warning: {} is the quiz of {}, not of {name}",
                args.answers
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
                unp::printable(quiz_of.as_bytes())
            ));
        }
        let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        // The quiz's intro goes out with the quiz, not before an error.
        let intro = args
            .quiz
            .then(|| quiz::intro(&name, &check_command(&name, args.port)));
        let out = AfterIntro { intro, out };
        let result = match answers {
            Some(answers) => labs::mark(file, &opts, answers, out),
            None => trace(file, &opts, out),
        };
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                for out in [svg_out.take(), tsg_out.take(), html_out.take()]
                    .into_iter()
                    .flatten()
                {
                    out.discard();
                }
                return Err(match e {
                    TraceError::Output(e) => unp::error::stdout_error(e),
                    TraceError::NoMatch { .. } => Error::msg(e.to_string()),
                    TraceError::Capture(_) | TraceError::NoPackets { .. } => {
                        Error::msg(format!("{name}: {e}"))
                    }
                });
            }
        };
        if let Some(w) = &outcome.warning {
            unp::err_msg(format_args!("warning: {name}: {w}"));
        }
        if let (Some(out), Some(svg)) = (svg_out, &outcome.svg) {
            out.write(svg)?;
        }
        if let (Some(out), Some(tsg)) = (tsg_out, &outcome.tsg) {
            out.write(tsg)?;
        }
        if let (Some(out), Some(page)) = (html_out, &outcome.html) {
            out.write(page)?;
        }
        Ok(())
    })
}

/// The answer file of `--answers`, read and checked before the capture.
fn read_answers(path: &PathBuf) -> unp::Result<quiz::Answers> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .context("open")
        .map_err(|e| e.with_detail(shown.clone()))?;
    quiz::Answers::parse(&shown, &bytes).map_err(Error::msg)
}

/// The command that marks a quiz of `capture` (the quiz's last instruction).
fn check_command(capture: &str, port: Option<u16>) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._/+-:@".contains(c);
    let capture = if capture.chars().all(plain) {
        capture.to_string()
    } else {
        format!("'{}'", capture.replace('\'', r"'\''"))
    };
    match port {
        Some(p) => format!("labtrace {capture} --port {p} --answers"),
        None => format!("labtrace {capture} --answers"),
    }
}

/// Standard output that writes `intro` (if any) before its first byte, so that a
/// trace that fails before printing anything prints its error alone.
struct AfterIntro<W: Write> {
    intro: Option<String>,
    out: W,
}

impl<W: Write> Write for AfterIntro<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(intro) = self.intro.take() {
            self.out.write_all(intro.as_bytes())?;
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The `--svg` output file, opened before the capture is read.
struct SvgFile {
    file: File,
    path: PathBuf,
    /// True if opening it created it: a failed trace removes it again.
    created: bool,
}

impl SvgFile {
    fn open(path: &PathBuf) -> unp::Result<SvgFile> {
        let shown = path.display().to_string();
        let created = !path.exists();
        // Not truncated yet: a trace that fails leaves an existing file as it was.
        let file = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .context("open")
            .map_err(|e| e.with_detail(shown))?;
        Ok(SvgFile {
            file,
            path: path.clone(),
            created,
        })
    }

    fn write(mut self, svg: &str) -> unp::Result<()> {
        let shown = self.path.display().to_string();
        let regular = self.file.metadata().is_ok_and(|m| m.is_file());
        let mut write = || -> std::io::Result<()> {
            if regular {
                self.file.set_len(0)?;
                self.file.rewind()?;
            }
            self.file.write_all(svg.as_bytes())
        };
        write().context("write").map_err(|e| e.with_detail(shown))
    }

    fn discard(self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
