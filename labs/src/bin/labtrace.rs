//! `labtrace FILE`: explain a tcpdump/Wireshark capture the way the Lab 3 supplement does.

use clap::{Parser, ValueEnum};
use labs::decode::Proto;
use labs::render::View;
use labs::{Options, TraceError, trace};
use std::path::PathBuf;
use unp::{Context, Error};

/// Explain a capture of the lab programs: handshake, data with Seq/Ack bookkeeping, close.
#[derive(Parser)]
#[command(name = "labtrace")]
struct Args {
    /// A pcap or pcapng file (tcpdump -w, Wireshark "Save As").
    file: PathBuf,
    /// Only connections with this port (its side is the server).
    #[arg(long)]
    port: Option<u16>,
    /// How to decode payloads.
    #[arg(long, value_enum, default_value = "auto")]
    proto: ProtoArg,
    /// text: the explained story; json: one object per segment per line.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Draw an ASCII sequence (ladder) diagram instead of the table.
    #[arg(long)]
    ladder: bool,
    /// Also write the ladder diagram as an SVG picture to this file.
    #[arg(long, value_name = "OUT")]
    svg: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProtoArg {
    Auto,
    Lottery,
    Ft,
    Echo,
    Sum08,
    Sum09,
    Daytime,
    Raw,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() {
    unp::run(|| {
        let args = Args::parse();
        let proto = match args.proto {
            ProtoArg::Auto => None,
            ProtoArg::Lottery => Some(Proto::Lottery),
            ProtoArg::Ft => Some(Proto::Ft),
            ProtoArg::Echo => Some(Proto::Echo),
            ProtoArg::Sum08 => Some(Proto::Sum08),
            ProtoArg::Sum09 => Some(Proto::Sum09),
            ProtoArg::Daytime => Some(Proto::Daytime),
            ProtoArg::Raw => Some(Proto::Raw),
        };
        let view = match (args.format, args.ladder) {
            (Format::Json, _) => View::Json,
            (Format::Text, true) => View::Ladder,
            (Format::Text, false) => View::Text,
        };
        let opts = Options {
            proto,
            port: args.port,
            view,
            svg: args.svg.is_some(),
        };
        let name = args.file.display().to_string();
        let file = std::fs::File::open(&args.file)
            .context("open")
            .map_err(|e| e.with_detail(name.clone()))?;
        let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let outcome = match trace(file, &opts, out) {
            Ok(o) => o,
            Err(TraceError::Output(e)) => return Err(unp::error::stdout_error(e)),
            Err(TraceError::Capture(e)) => return Err(Error::msg(format!("{name}: {e}"))),
        };
        if let Some(w) = &outcome.warning {
            unp::err_msg(format_args!("warning: {name}: {w}"));
        }
        if let (Some(path), Some(svg)) = (&args.svg, &outcome.svg) {
            let shown = path.display().to_string();
            std::fs::write(path, svg)
                .context("write")
                .map_err(|e| e.with_detail(shown))?;
        }
        Ok(())
    })
}
