//! Where the link is tapped: the capture of what each host **sent** (packets as they
//! enter the link, before its impairments), of what the link **delivered** (packets as
//! they leave it), or both, each to its own pcap file.
//!
//! The default is `sent`: it is what `tcpdump` on the sending host would show, so every
//! segment TCP sent is in it, also the ones the link then dropped. tshark's analysis
//! (`tcp.analysis.retransmission`) assumes a capture taken where the segments are
//! sent: it sees the original, then its repair, and counts a retransmission. In a
//! capture of what was delivered, a dropped segment is missing, and its repair is often
//! the first copy tshark sees, marked out-of-order instead. What the link did to the
//! packets (duplicates, reordering, drops) shows in the `delivered` capture, which is
//! what `tcpdump` on the receiving host would show.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::offload;
use super::pcap::PcapWriter;

/// Which captures a link writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaptureMode {
    /// What each host sent, before the link's impairments (the default).
    #[default]
    Sent,
    /// What the link delivered, after its impairments.
    Delivered,
    /// Both, in two files (`FILE.pcap` sent, `FILE-delivered.pcap` delivered).
    Both,
}

impl CaptureMode {
    /// Parses `sent`, `delivered` or `both`.
    pub fn parse(s: &str) -> Result<CaptureMode, String> {
        match s {
            "sent" => Ok(CaptureMode::Sent),
            "delivered" => Ok(CaptureMode::Delivered),
            "both" => Ok(CaptureMode::Both),
            _ => Err(format!("`{s}`: expected sent, delivered or both")),
        }
    }

    /// The files this mode writes, given the capture's path `pcap`: (sent, delivered).
    pub fn paths(self, pcap: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
        match self {
            CaptureMode::Sent => (Some(pcap.to_path_buf()), None),
            CaptureMode::Delivered => (None, Some(pcap.to_path_buf())),
            CaptureMode::Both => (Some(pcap.to_path_buf()), Some(delivered_path(pcap))),
        }
    }
}

impl fmt::Display for CaptureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureMode::Sent => "sent",
            CaptureMode::Delivered => "delivered",
            CaptureMode::Both => "both",
        })
    }
}

/// `run.pcap` → `run-delivered.pcap` (the second file of `--capture both`).
pub fn delivered_path(pcap: &Path) -> PathBuf {
    let stem = pcap.file_stem().unwrap_or_default().to_string_lossy();
    let ext = pcap
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    pcap.with_file_name(format!("{stem}-delivered{ext}"))
}

/// The link's captures: what entered it, what left it.
#[derive(Default)]
pub struct Tap {
    sent: Option<PcapWriter<File>>,
    delivered: Option<PcapWriter<File>>,
    /// The headers of the segment being written.
    scratch: Vec<u8>,
}

impl Tap {
    /// Creates the files `mode` asks for, keeping `snaplen` bytes of each packet.
    pub fn create(pcap: &Path, mode: CaptureMode, snaplen: u32) -> unp::Result<Tap> {
        let (sent, delivered) = mode.paths(pcap);
        let open = |p: Option<PathBuf>| p.map(|p| PcapWriter::create(&p, snaplen)).transpose();
        Ok(Tap {
            sent: open(sent)?,
            delivered: open(delivered)?,
            scratch: Vec::new(),
        })
    }

    /// Whether packets entering the link are captured.
    pub fn takes_sent(&self) -> bool {
        self.sent.is_some()
    }

    /// Whether packets leaving the link are captured.
    pub fn takes_delivered(&self) -> bool {
        self.delivered.is_some()
    }

    /// Records a frame (virtio header, packet) as it enters the link.
    pub fn sent(&mut self, frame: &[u8]) -> unp::Result<()> {
        record(&mut self.sent, &mut self.scratch, frame)
    }

    /// Records a frame as it leaves the link.
    pub fn delivered(&mut self, frame: &[u8]) -> unp::Result<()> {
        record(&mut self.delivered, &mut self.scratch, frame)
    }

    /// Writes what is buffered to the files.
    pub fn flush(&mut self) -> unp::Result<()> {
        for w in [&mut self.sent, &mut self.delivered].into_iter().flatten() {
            w.flush()
                .map_err(|e| unp::Error::os("write", e).with_detail("capture"))?;
        }
        Ok(())
    }
}

/// Writes the packets a wire would carry for `frame` (a large segment: each of its
/// segments, at the same time stamp).
fn record(
    to: &mut Option<PcapWriter<File>>,
    scratch: &mut Vec<u8>,
    frame: &[u8],
) -> unp::Result<()> {
    let Some(w) = to else { return Ok(()) };
    let now = SystemTime::now();
    offload::wire_packets(frame, scratch, |head, body| {
        w.packet_in_parts(now, head, body)
    })
    .map_err(|e| unp::Error::os("write", e).with_detail("capture"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_writes_a_second_file_next_to_the_first() {
        let (s, d) = CaptureMode::Both.paths(Path::new("/tmp/x/run.pcap"));
        assert_eq!(s, Some(PathBuf::from("/tmp/x/run.pcap")));
        assert_eq!(d, Some(PathBuf::from("/tmp/x/run-delivered.pcap")));
        let (s, d) = CaptureMode::Delivered.paths(Path::new("a.pcap"));
        assert_eq!((s, d), (None, Some(PathBuf::from("a.pcap"))));
        assert_eq!(CaptureMode::parse("sent"), Ok(CaptureMode::Sent));
        assert!(CaptureMode::parse("all").is_err());
    }
}
