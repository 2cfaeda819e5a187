//! After a run: labtrace's story of the capture, and tshark's count of what TCP had to
//! repair (retransmissions), when tshark is installed.

use std::path::Path;
use std::process::Command;

use super::programs::bin_path;

/// Lines of labtrace's output shown from the start, and from the end.
const HEAD: usize = 60;
const TAIL: usize = 8;

/// Runs `labtrace PCAP` (the one built next to labnet) and prints its story, cut in the
/// middle when long.
pub fn explain(pcap: &Path) -> unp::Result<()> {
    let labtrace = bin_path("labtrace")?;
    println!("$ labtrace {}", pcap.display());
    let out = Command::new(&labtrace)
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
            "... ({} lines more: labtrace {})",
            lines.len() - HEAD - TAIL,
            pcap.display()
        );
        lines[lines.len() - TAIL..]
            .iter()
            .for_each(|l| println!("{l}"));
    }
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
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
