//! After a run: labtrace's story of the capture, and tshark's count of what TCP had to
//! repair (retransmissions), when tshark is installed.

use std::path::Path;
use std::process::Command;

use super::programs::bin_path;
use super::tap::CaptureMode;

/// Lines of labtrace's output shown from the start, and from the end.
const HEAD: usize = 60;
const TAIL: usize = 8;

/// Runs `labtrace PCAP` (the one built next to labnet) and prints its story, cut in the
/// middle when long.
/// With tshark installed, labtrace marks segments by that Wireshark version's rules
/// (`--like-wireshark`), so that its story and tshark's counts below agree.
/// `tshark`: the installed tshark's version ([`crate::tcp::wireshark::tshark_version`]), if any.
pub fn explain(pcap: &Path, tshark: Option<&str>) -> unp::Result<()> {
    let labtrace = bin_path("labtrace")?;
    let like: Vec<&str> = match tshark {
        Some(v) => vec!["--like-wireshark", v],
        None => Vec::new(),
    };
    let shown: String = like.iter().map(|a| format!("{a} ")).collect();
    println!("$ labtrace {shown}{}", pcap.display());
    let out = Command::new(&labtrace)
        .args(&like)
        .arg(pcap)
        .output()
        .map_err(|e| unp::Error::os("spawn", e).with_detail("labtrace"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= HEAD + TAIL {
        lines.iter().for_each(|l| println!("{l}"));
    } else {
        lines[..HEAD].iter().for_each(|l| println!("{l}"));
        println!(
            "... ({} more: labtrace {})",
            crate::plural(lines.len() - HEAD - TAIL, "line"),
            pcap.display()
        );
        lines[lines.len() - TAIL..]
            .iter()
            .for_each(|l| println!("{l}"));
    }
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// The display filter of TCP's repairs in a capture of what was sent (see [`repairs`]).
pub const REPAIRS: &str = "tcp.analysis.retransmission || tcp.analysis.out_of_order";

/// The capture files of `mode`, for the announcement: `run.pcap (what each host
/// sent), run-delivered.pcap (what the link delivered)`.
pub fn capture_files(pcap: &Path, mode: CaptureMode) -> String {
    let (sent, delivered) = mode.paths(pcap);
    let sent = sent.map(|p| format!("{} (what each host sent)", p.display()));
    let delivered = delivered.map(|p| format!("{} (what the link delivered)", p.display()));
    [sent, delivered]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints what tshark finds in each capture of `mode` (nothing without tshark).
///
/// In the capture of what was sent, every segment that starts below the highest
/// sequence number already sent is TCP sending data again: a repair. tshark marks it
/// `retransmission`, or `out_of_order` when it follows the previous segment within the
/// connection's first round trip (its heuristic for reordering, which a capture taken
/// at the sender cannot hold); both together count the repairs. In the capture of what
/// was delivered, a dropped segment is missing and only reordering and duplicates show.
/// `tshark`: its version, which each line names; nothing is printed without one.
pub fn repairs(pcap: &Path, mode: CaptureMode, tshark: Option<&str>) {
    let Some(version) = tshark else {
        return;
    };
    let (sent, delivered) = mode.paths(pcap);
    let counts = |file: &Path| {
        let r = count(file, "tcp.analysis.retransmission")?;
        Some((r, count(file, "tcp.analysis.out_of_order")?))
    };
    if let Some(file) = sent {
        if let Some((r, o)) = counts(&file) {
            println!(
                "tshark {version}: {} sent again in {} (what each host sent): {r} marked \
                 retransmission, {o} out-of-order",
                crate::plural(r + o, "segment"),
                file.display()
            );
        }
    }
    if let Some(file) = delivered {
        if let Some((r, o)) = counts(&file) {
            println!(
                "tshark {version}: {}, {} in {} (what the link delivered)",
                crate::plural(r, "retransmission"),
                crate::plural(o, "out-of-order segment"),
                file.display()
            );
        }
    }
}

/// How many packets of the capture match the Wireshark display filter `filter`
/// (`tcp.analysis.retransmission`); `None` without a working tshark.
pub fn count(pcap: &Path, filter: &str) -> Option<usize> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).lines().count())
}
