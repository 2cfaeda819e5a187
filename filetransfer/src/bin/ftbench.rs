//! Throughput of ftserver → ftclient against `socat` on loopback.
//!
//! ```text
//! cargo run --release -p filetransfer --bin ftbench -- [--size MIB] [--runs N]
//! ```
//!
//! Both tools move the same file over 127.0.0.1 into a new file in the same directory;
//! the time is the receiving process's wall time (start to exit, connection included),
//! best of N runs. socat carries raw bytes; ftserver/ftclient carry 260-byte segments,
//! 1.6 % more bytes, and must still keep up.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use unp::{Context, Error, Result};

/// Compares ftserver/ftclient with socat moving one file over loopback.
#[derive(Parser)]
#[command(name = "ftbench")]
struct Args {
    /// File size in MiB
    #[arg(long, default_value_t = 256)]
    size: u64,
    /// Runs per tool (the best is reported)
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Directory for the files [default: the system temp directory]
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    unp::run(|| {
        let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("ftbench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).context("mkdir")?;
        let result = bench(&args, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
}

fn bench(args: &Args, dir: &Path) -> Result<()> {
    Command::new("socat")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| {
            Error::os("exec", e).with_detail("socat (install it: apt-get install socat)")
        })?;
    let bins = std::env::current_exe()
        .context("current_exe")?
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::msg("no directory for the binaries"))?;
    let src = dir.join("src");
    let dst = dir.join("dst");
    let bytes = args.size * 1024 * 1024;
    make_file(&src, bytes)?;
    println!(
        "moving {} MiB over 127.0.0.1, best of {} runs",
        args.size, args.runs
    );
    let mut best = [f64::INFINITY; 2];
    for _ in 0..args.runs.max(1) {
        best[0] = best[0].min(run_socat(&src, &dst)?);
        same(&src, &dst)?;
        best[1] = best[1].min(run_ft(&bins, dir, &dst)?);
        same(&src, &dst)?;
    }
    let mbs = |t: f64| bytes as f64 / t / 1e6;
    println!("socat      {:>8.3} s  {:>8.1} MB/s", best[0], mbs(best[0]));
    println!("ftclient   {:>8.3} s  {:>8.1} MB/s", best[1], mbs(best[1]));
    println!(
        "ratio ftclient/socat: {:.2} (1.00 or more: at least as fast)",
        best[0] / best[1]
    );
    Ok(())
}

/// Writes `bytes` of pseudo-random data (incompressible, not all zero).
fn make_file(path: &Path, bytes: u64) -> Result<()> {
    let mut f = std::io::BufWriter::new(File::create(path).context("create")?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).context("write")?;
        left -= n as u64;
    }
    f.flush().context("write")
}

/// Compares two files byte for byte.
fn same(a: &Path, b: &Path) -> Result<()> {
    let mut fa = BufReader::new(File::open(a).context("open")?);
    let mut fb = BufReader::new(File::open(b).context("open")?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = unp::readn(&mut fa, &mut ba)?;
        let nb = unp::readn(&mut fb, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Err(Error::msg(format!(
                "{} differs from {}",
                b.display(),
                a.display()
            )));
        }
        if na == 0 {
            return Ok(());
        }
    }
}

/// Runs `cmd` to completion and returns its wall time in seconds.
fn timed(cmd: &mut Command) -> Result<f64> {
    let start = Instant::now();
    let status = cmd.status().map_err(|e| Error::os("exec", e))?;
    let t = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(Error::msg(format!("{cmd:?} failed: {status}")));
    }
    Ok(t)
}

fn reap(mut child: Child, what: &str) -> Result<()> {
    let status = child.wait().context("wait")?;
    if !status.success() {
        return Err(Error::msg(format!("{what} failed: {status}")));
    }
    Ok(())
}

fn run_socat(src: &Path, dst: &Path) -> Result<f64> {
    let _ = std::fs::remove_file(dst);
    // socat cannot report a kernel-chosen port: take a free one and hand it over.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("bind")?
        .port();
    let server = Command::new("socat")
        .arg("-u")
        .arg(format!("FILE:{}", src.display()))
        .arg(format!("TCP-LISTEN:{port},reuseaddr,bind=127.0.0.1"))
        .spawn()
        .map_err(|e| Error::os("exec", e))?;
    wait_listening(port);
    let t = timed(
        Command::new("socat")
            .arg("-u")
            .arg(format!("TCP:127.0.0.1:{port}"))
            .arg(format!("CREATE:{}", dst.display())),
    )?;
    reap(server, "socat server")?;
    Ok(t)
}

fn run_ft(bins: &Path, dir: &Path, dst: &Path) -> Result<f64> {
    let _ = std::fs::remove_file(dst);
    let mut server = Command::new(bins.join("ftserver"))
        .args(["0", "--root"])
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::os("exec", e).with_detail("ftserver (build with --release)"))?;
    let out = server
        .stdout
        .take()
        .ok_or_else(|| Error::msg("no stdout"))?;
    let mut lines = BufReader::new(out);
    let mut first = String::new();
    lines.read_line(&mut first).context("read")?;
    let port = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .ok_or_else(|| Error::msg(format!("ftserver said {first:?}")))?;
    let t = timed(
        Command::new(bins.join("ftclient"))
            .args(["127.0.0.1", &port.to_string(), "src"])
            .arg(dst),
    )?;
    let mut rest = String::new();
    let _ = lines.read_to_string(&mut rest);
    reap(server, "ftserver")?;
    Ok(t)
}

/// Waits until something listens on 127.0.0.1:`port` (Linux: reads /proc/net/tcp;
/// elsewhere: a fixed pause), so that the timed client does not race the server.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match std::fs::read_to_string("/proc/net/tcp") {
            Ok(table) => {
                let want = format!(":{port:04X} ");
                if table
                    .lines()
                    .any(|l| l.contains(&want) && l.split_whitespace().nth(3) == Some("0A"))
                {
                    return;
                }
            }
            Err(_) => {
                std::thread::sleep(Duration::from_millis(300));
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
