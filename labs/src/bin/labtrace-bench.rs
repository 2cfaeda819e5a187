//! `labtrace-bench [PACKETS]`: how fast is `labtrace --format json` next to tcpdump and
//! tshark on a capture of about a million packets? `labtrace-bench --short CONNECTIONS`:
//! the same on that many short connections (handshake and close, 7 packets each), where
//! memory must stay bounded because ended connections are released (tshark skipped:
//! it keeps every connection).
//!
//! Writes a synthetic Ethernet pcap of lottery sessions (handshake, four GEN/reply
//! exchanges, close: 23 packets each, many connections interleaved) to a temp dir, then
//! times `labtrace --format json`, `tcpdump -nn -r` and `tshark -n -r` on it, each
//! writing to /dev/null, prints the ratios and labtrace's peak memory (getrusage of the
//! reaped child). Run with `cargo run --release -p labs --bin labtrace-bench`.

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

/// Runs a command with stdout to /dev/null; returns its wall time, or None if it
/// cannot run.
fn time(cmd: &mut Command) -> Option<Duration> {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let took = start.elapsed();
    status.success().then_some(took)
}

fn main() {
    unp::run(|| {
        let args: Vec<String> = std::env::args().skip(1).collect();
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

        let ours = time(Command::new(&labtrace).args(["--format", "json"]).arg(&cap))
            .ok_or_else(|| Error::msg("labtrace failed on the benchmark capture"))?;
        // Only labtrace has been reaped so far, so this is its peak.
        let rss_kb = getrusage(UsageWho::RUSAGE_CHILDREN)
            .map(|u| u.max_rss())
            .unwrap_or(0);
        println!(
            "labtrace --format json: {:>7.2} s, peak RSS {} MB",
            ours.as_secs_f64(),
            rss_kb / 1024
        );
        for (name, cmd) in [
            (
                "tcpdump -nn -r",
                Command::new("tcpdump").arg("-nn").arg("-r").arg(&cap),
            ),
            (
                "tshark -n -r",
                Command::new("tshark").arg("-n").arg("-r").arg(&cap),
            ),
        ]
        .iter_mut()
        .map(|(n, c)| (*n, c))
        .filter(|(n, _)| !(short_mode && n.starts_with("tshark")))
        {
            match time(cmd) {
                Some(t) => println!(
                    "{name:<22}: {:>7.2} s, labtrace is {:.2}x as fast",
                    t.as_secs_f64(),
                    t.as_secs_f64() / ours.as_secs_f64()
                ),
                None => println!("{name:<22}: not installed or failed, skipped"),
            }
        }
        std::fs::remove_dir_all(&dir).context("rmdir")?;
        Ok(())
    })
}
