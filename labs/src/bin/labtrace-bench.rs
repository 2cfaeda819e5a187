//! `labtrace-bench [PACKETS]`: how fast is `labtrace --format json` next to tcpdump and
//! tshark on a capture of about a million packets? `labtrace-bench --short CONNECTIONS`:
//! the same on that many short connections (handshake and close, 7 packets each), where
//! memory must stay bounded because ended connections are released (tshark keeps
//! every connection: on 600,000 it needs several GB).
//!
//! Writes a synthetic Ethernet pcap of lottery sessions (handshake, four GEN/reply
//! exchanges, close: 23 packets each, many connections interleaved) to a temp dir, then
//! times `labtrace --format json`, `tcpdump -nn -r` and `tshark -n -r` on it, each
//! writing to /dev/null, prints the ratios and each tool's own peak memory (each runs
//! under `labtrace-bench --measure`, whose getrusage of its one reaped child is that
//! tool's peak). Run with `cargo run --release -p labs --bin labtrace-bench`.

use labs::capture::{pcap_header, pcap_record};
use labs::packet::{Flags, build_ip_tcp};
use nix::sys::resource::{UsageWho, getrusage};
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use unp::{Context, Error};

/// Packets in one lottery session.
const PER_SESSION: usize = 23;
/// How many sessions are open at once (their packets interleave).
const INTERLEAVE: usize = 64;

/// Makes session number `n`'s packets.
type Sessions = fn(usize) -> Vec<Vec<u8>>;

/// A short connection: handshake and close, nothing else (7 packets).
fn short(n: usize) -> Vec<Vec<u8>> {
    let mut s = session(n);
    s.drain(3..19);
    s
}

fn session(n: usize) -> Vec<Vec<u8>> {
    let port = 1024 + (n % 60000) as u16;
    let host = (n / 60000) as u8;
    let c: SocketAddr = SocketAddr::from(([127, 0, host, 2], port));
    let s: SocketAddr = "127.0.0.1:1235".parse().unwrap_or(c);
    let (ci, si) = (n as u32 * 7919, n as u32 * 104_729);
    let (a, p, f, sy) = (Flags::ACK, Flags::PSH, Flags::FIN, Flags::SYN);
    let mut out = vec![
        build_ip_tcp(c, s, ci, 0, sy, 65535, b""),
        build_ip_tcp(s, c, si, ci + 1, sy | a, 65535, b""),
        build_ip_tcp(c, s, ci + 1, si + 1, a, 6379, b""),
    ];
    let (mut cs, mut ss) = (ci + 1, si + 1);
    for k in 0..4u32 {
        let reply = format!("New number generated: {}", 1 + (n as u32 + k) % 45);
        out.push(build_ip_tcp(c, s, cs, ss, p | a, 6379, &0i32.to_le_bytes()));
        cs += 4;
        out.push(build_ip_tcp(s, c, ss, cs, a, 6379, b""));
        out.push(build_ip_tcp(s, c, ss, cs, p | a, 6379, reply.as_bytes()));
        ss += reply.len() as u32;
        out.push(build_ip_tcp(c, s, cs, ss, a, 6379, b""));
    }
    out.push(build_ip_tcp(c, s, cs, ss, f | a, 6379, b""));
    out.push(build_ip_tcp(s, c, ss, cs + 1, a, 6379, b""));
    out.push(build_ip_tcp(s, c, ss, cs + 1, f | a, 6379, b""));
    out.push(build_ip_tcp(c, s, cs + 1, ss + 1, a, 6379, b""));
    out
}

fn write_capture(
    path: &Path,
    packets: usize,
    per_session: usize,
    make: Sessions,
) -> unp::Result<usize> {
    let file = std::fs::File::create(path).context("create")?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(&pcap_header(1)).context("write")?;
    let sessions = packets.div_ceil(per_session);
    let mut record = Vec::with_capacity(256);
    let mut written = 0;
    let mut t = 1_700_000_000_000_000u64;
    for group in (0..sessions).step_by(INTERLEAVE) {
        let batch: Vec<Vec<Vec<u8>>> = (group..(group + INTERLEAVE).min(sessions))
            .map(make)
            .collect();
        for i in 0..per_session {
            for s in &batch {
                let mut frame = vec![0u8; 12];
                frame.extend_from_slice(&[0x08, 0x00]);
                frame.extend_from_slice(&s[i]);
                record.clear();
                pcap_record(&mut record, t, &frame);
                w.write_all(&record).context("write")?;
                t += 7;
                written += 1;
            }
        }
    }
    w.flush().context("write")?;
    Ok(written)
}

/// One tool's run on the capture: its wall time and its own peak memory.
struct Measured {
    took: Duration,
    peak_mb: u64,
}

/// `labtrace-bench --measure CMD ARGS…`: runs CMD with its output to /dev/null, then
/// prints `NANOSECONDS PEAK_KB` of it. The benchmark runs each tool through this, so
/// that getrusage(RUSAGE_CHILDREN) of this process sees that one tool only.
fn measure_child(cmd: &[String]) -> unp::Result<()> {
    let (prog, args) = cmd
        .split_first()
        .ok_or_else(|| Error::msg("--measure needs a command"))?;
    let start = Instant::now();
    let status = Command::new(prog)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("spawn")?;
    let took = start.elapsed();
    let peak_kb = getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss())
        .context("getrusage")?;
    if !status.success() {
        return Err(Error::msg(format!("{prog} failed: {status}")));
    }
    println!("{} {peak_kb}", took.as_nanos());
    Ok(())
}

/// Runs `cmd` through `--measure`; None if it is not installed or failed.
fn measure(me: &Path, cmd: &[&std::ffi::OsStr]) -> Option<Measured> {
    let out = Command::new(me)
        .arg("--measure")
        .args(cmd)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    let (Some(Some(ns)), Some(Some(kb))) = (fields.next(), fields.next()) else {
        return None;
    };
    out.status.success().then_some(Measured {
        took: Duration::from_nanos(ns),
        peak_mb: kb / 1024,
    })
}

fn main() {
    unp::run(|| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.first().is_some_and(|a| a == "--measure") {
            return measure_child(&args[1..]);
        }
        let short_mode = args.first().is_some_and(|a| a == "--short");
        let number = |n: &String| -> unp::Result<usize> {
            n.parse()
                .map_err(|_| Error::msg(format!("not a count: {n}")))
        };
        let (packets, per, make): (usize, usize, Sessions) = if short_mode {
            let conns = args.get(1).map(number).transpose()?.unwrap_or(600_000);
            (conns * 7, 7, short)
        } else {
            let packets = args.first().map(number).transpose()?.unwrap_or(1_160_000);
            (packets, PER_SESSION, session)
        };
        let me = std::env::current_exe().context("current_exe")?;
        let labtrace: PathBuf = me.with_file_name("labtrace");
        if !labtrace.exists() {
            return Err(Error::msg(format!(
                "{} is missing: run cargo build --release -p labs first",
                labtrace.display()
            )));
        }
        let dir = std::env::temp_dir().join(format!("labtrace-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).context("mkdir")?;
        let cap = dir.join("bench.pcap");
        let n = write_capture(&cap, packets, per, make)?;
        let size = std::fs::metadata(&cap).context("stat")?.len();
        println!(
            "capture: {} ({n} packets, {} MB)",
            cap.display(),
            size / 1_000_000
        );
        let c = cap.as_os_str();
        let ours = measure(
            &me,
            &[
                labtrace.as_os_str(),
                "--format".as_ref(),
                "json".as_ref(),
                c,
            ],
        )
        .ok_or_else(|| Error::msg("labtrace failed on the benchmark capture"));
        let ours = match ours {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        println!(
            "{:<22}: {:>7.2} s, peak RSS {:>6} MB",
            "labtrace --format json",
            ours.took.as_secs_f64(),
            ours.peak_mb
        );
        let tools: [(&str, [&std::ffi::OsStr; 4]); 2] = [
            (
                "tcpdump -nn -r",
                ["tcpdump".as_ref(), "-nn".as_ref(), "-r".as_ref(), c],
            ),
            (
                "tshark -n -r",
                ["tshark".as_ref(), "-n".as_ref(), "-r".as_ref(), c],
            ),
        ];
        for (name, cmd) in tools {
            match measure(&me, &cmd) {
                Some(t) => println!(
                    "{name:<22}: {:>7.2} s, peak RSS {:>6} MB; labtrace is {:.2}x as fast",
                    t.took.as_secs_f64(),
                    t.peak_mb,
                    t.took.as_secs_f64() / ours.took.as_secs_f64()
                ),
                None => println!("{name:<22}: not installed or failed, skipped"),
            }
        }
        std::fs::remove_dir_all(&dir).context("rmdir")?;
        Ok(())
    })
}
