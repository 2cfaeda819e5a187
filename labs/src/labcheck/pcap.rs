//! tcpdump while checking (where it is installed and permitted), the segments of a
//! failed step listed with labtrace's Seq/Ack and phase, and the run's directory
//! removed at the end but for a failed run's pcap ([`tidy`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::report::Report;
use crate::decode::Proto;
use crate::tcp::Tracker;
use crate::udp::explain::Mark;

/// A tcpdump labcheck started on the loopback interface, writing a pcap.
pub struct Capture {
    child: Child,
    path: PathBuf,
}

/// The loopback interface's name.
#[cfg(target_os = "linux")]
const LOOPBACK: &str = "lo";
#[cfg(not(target_os = "linux"))]
const LOOPBACK: &str = "lo0";

impl Capture {
    /// Starts tcpdump on loopback for the TCP segments and UDP datagrams to or from `ports`, writing
    /// `path`; waits until it captures.
    pub fn start(path: &Path, ports: &[u16]) -> Result<Capture, String> {
        let filter = ports
            .iter()
            .map(|p| format!("port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut child = Command::new("tcpdump")
            .args([
                "-i",
                LOOPBACK,
                "--immediate-mode",
                "-U",
                "-n",
                "-s",
                "512",
                "-w",
            ])
            .arg(path)
            .arg(format!("(tcp or udp) and ({filter})"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run tcpdump: {e}"))?;
        // tcpdump writes the file's header once it captures.
        let ready = super::proc::wait_until(Duration::from_secs(3), || {
            std::fs::metadata(path).is_ok_and(|m| m.len() >= 24)
        });
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "tcpdump ended at once ({status}): not permitted to capture?"
            ));
        }
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            return Err("tcpdump did not start capturing within 3 s".into());
        }
        Ok(Capture {
            child,
            path: path.to_path_buf(),
        })
    }

    /// Stops tcpdump (it writes what it holds and ends) and returns the pcap's path.
    pub fn stop(mut self) -> PathBuf {
        std::thread::sleep(Duration::from_millis(50)); // the last segments reach tcpdump
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT);
        if super::proc::wait_until(Duration::from_secs(2), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            return self.path.clone();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.path.clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ends a run: its directory `dir` goes, but for the pcap of a failed run (or any,
/// with `keep`), left alone in it; the report says which.
pub fn tidy(dir: &Path, report: &mut Report, keep: bool) {
    let pcap = report.pcap.as_ref().map(PathBuf::from);
    let Some(pcap) = pcap.filter(|_| keep || !report.passed()) else {
        let _ = std::fs::remove_dir_all(dir);
        if report.pcap.take().is_some() {
            let why = "every check passed: the capture was removed (--keep-captures keeps it)";
            report.notes.push(why.into());
        }
        return;
    };
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path != pcap {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let _ = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// The most segments listed for one step.
const MAX_LISTED: usize = 40;

/// The segments (the last [`MAX_LISTED`]) of the connections whose client side used one of `ports`, as labtrace
/// labels them: `#4 client->server [P.] seq=1 ack=1 len=4 GEN (data)`.
pub fn segments(pcap: &Path, proto: Proto, ports: &[u16]) -> Vec<String> {
    let Ok(file) = std::fs::File::open(pcap) else {
        return Vec::new();
    };
    let Ok(cap) = crate::capture::Capture::new(std::io::BufReader::new(file)) else {
        return Vec::new();
    };
    let mut tracker = Tracker::new(Some(proto), None);
    let mut out = std::collections::VecDeque::new();
    let mut more = 0usize;
    cap.for_each(|p| {
        let Ok(seg) = crate::packet::tcp_segment(p.linktype, p.data) else {
            return;
        };
        let Some(row) = tracker.segment(p.frame, p.time_ns, &seg) else {
            return;
        };
        let ours = ports.contains(&row.src.port()) || ports.contains(&row.dst.port());
        if !ours {
            return;
        }
        if out.len() >= MAX_LISTED {
            out.pop_front();
            more += 1;
        }
        let dir = match row.side {
            crate::decode::Side::Client => "client->server",
            crate::decode::Side::Server => "server->client",
        };
        out.push_back(format!(
            "#{} {dir} {} ({})",
            row.frame,
            crate::render::label(&row),
            row.phase
        ));
    });
    if more > 0 {
        out.push_front(format!(
            "(the last {MAX_LISTED} of {} segments)",
            more + MAX_LISTED
        ));
    }
    let mut out: Vec<String> = out.into();
    out.extend(datagrams(pcap, proto, ports));
    out
}

/// The UDP datagrams (the last `MAX_LISTED`) of the flows with one of `ports`, each
/// starting `UDP ` and then as labtrace tells it, with its marks:
/// `UDP #4 client->server len=6 "hello\n"; no echo`.
pub fn datagrams(pcap: &Path, proto: Proto, ports: &[u16]) -> Vec<String> {
    let Ok(file) = std::fs::File::open(pcap) else {
        return Vec::new();
    };
    let Ok(cap) = crate::capture::Capture::new(std::io::BufReader::new(file)) else {
        return Vec::new();
    };
    let mut flows = crate::udp::Flows::new(proto.is_udp().then_some(proto), None);
    cap.for_each(|p| {
        if let Ok(dg) = crate::udp::wire::parse(p.linktype, p.data) {
            flows.packet(p.frame, 0.0, &dg);
        }
    });
    flows.finish();
    let mut lines: Vec<&crate::udp::Line> = flows
        .flows()
        .iter()
        .filter(|f| ports.contains(&f.info.client.port()) || ports.contains(&f.info.server.port()))
        .flat_map(|f| &f.lines)
        .collect();
    lines.sort_by_key(|l| l.frame);
    let more = lines.len().saturating_sub(MAX_LISTED);
    let mut out = Vec::new();
    if more > 0 {
        out.push(format!(
            "UDP (the last {MAX_LISTED} of {} datagrams)",
            lines.len()
        ));
    }
    for line in &lines[more..] {
        let dir = match line.side {
            crate::decode::Side::Client => "client->server",
            crate::decode::Side::Server => "server->client",
        };
        let mut text = match line.what {
            crate::udp::What::Datagram { len, .. } => format!("len={len} {}", line.text),
            _ => line.text.clone(),
        };
        // labcheck's robustness probes are unlike the protocol on purpose: not said.
        let marks = line
            .marks
            .iter()
            .filter(|m| !matches!(m, Mark::Unlike { .. }));
        for mark in marks {
            text.push_str("; ");
            text.push_str(&mark.label());
        }
        out.push(format!("UDP #{} {dir} {}", line.frame, text.trim_end()));
    }
    out
}

/// True when tcpdump is installed and this process may capture (root on Linux; on
/// macOS, read access to /dev/bpf*).
pub fn permitted() -> bool {
    let installed = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("tcpdump").is_file()));
    installed && (nix::unistd::geteuid().is_root() || cfg!(target_os = "macos"))
}
