//! Reading a capture file: pcap (micro- and nanosecond, either byte order) and pcapng,
//! one packet at a time, without loading the file.
//!
//! [`Capture::for_each`] hands each packet's link-layer bytes to a closure and forgets
//! them; the reader's buffer is the only memory it keeps (pcap-parser's circular buffer),
//! so a capture of millions of packets is read in constant memory.
//!
//! What goes wrong with real files, and what happens then:
//! - not a capture at all (empty, garbage, a text file): [`CaptureError::NotACapture`];
//! - the tail is cut (tcpdump killed mid-write, a partial download): the packets before
//!   the cut are delivered and [`Summary::warning`] says where it stopped;
//! - a corrupt record in the middle: same as a cut, the reader cannot find the next
//!   record boundary in a pcap file, so it stops there with a warning.

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};
use std::fmt;
use std::io::Read;

/// The size of the reader's buffer; one record must fit (tcpdump's default snap length
/// is 262144 bytes, so records are smaller than that).
const BUFFER: usize = 1 << 20;

/// One captured packet, borrowed from the reader's buffer for the duration of a callback.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// 1-based position in the file, counting every packet (what Wireshark calls the frame number).
    pub frame: u64,
    /// Capture time in nanoseconds since the Unix epoch.
    pub time_ns: i128,
    /// The link-layer type of the interface the packet was captured on (LINKTYPE_* value).
    pub linktype: i32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
}

/// Why a file could not be read as a capture at all.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be read (open or read failed).
    Io(std::io::Error),
    /// The file is empty.
    Empty,
    /// The first bytes are neither a pcap nor a pcapng header.
    NotACapture,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io(e) => write!(f, "{e}"),
            CaptureError::Empty => f.write_str("the file is empty: not a capture"),
            CaptureError::NotACapture => f.write_str(
                "not a pcap or pcapng capture (the file does not start with a capture header)",
            ),
        }
    }
}

impl std::error::Error for CaptureError {}

/// What reading the whole file found, besides the packets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// How many packets were delivered.
    pub packets: u64,
    /// Set when the reader stopped before the end of the file (truncated or corrupt tail).
    pub warning: Option<String>,
}

/// One interface of a pcapng section: its link type and clock.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: i32,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds to add to every timestamp.
    offset: i64,
}

/// A capture file being read.
pub struct Capture<'r> {
    reader: Box<dyn PcapReaderIterator + Send + 'r>,
}

impl<'r> Capture<'r> {
    /// Starts reading a capture from `input`; checks the file header.
    pub fn new<R: Read + Send + 'r>(input: R) -> Result<Capture<'r>, CaptureError> {
        match create_reader(BUFFER, input) {
            Ok(reader) => Ok(Capture { reader }),
            Err(PcapError::Eof) => Err(CaptureError::Empty),
            Err(PcapError::ReadError) => Err(CaptureError::Io(std::io::Error::other(
                "read error while reading the capture header",
            ))),
            Err(_) => Err(CaptureError::NotACapture),
        }
    }

    /// Calls `each` with every packet in file order and returns what was read.
    pub fn for_each(mut self, mut each: impl FnMut(&Packet<'_>)) -> Summary {
        let mut summary = Summary::default();
        let mut legacy: Option<(i32, bool)> = None; // (linktype, nanosecond)
        let mut interfaces: Vec<Interface> = Vec::new();
        loop {
            let stop = match self.reader.next() {
                Ok((used, block)) => {
                    let packet = match block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            legacy = Some((h.network.0, h.is_nanosecond_precision()));
                            None
                        }
                        PcapBlockOwned::Legacy(b) => legacy.map(|(linktype, nanos)| {
                            let frac = if nanos {
                                i128::from(b.ts_usec)
                            } else {
                                i128::from(b.ts_usec) * 1000
                            };
                            (
                                linktype,
                                i128::from(b.ts_sec) * 1_000_000_000 + frac,
                                b.data,
                            )
                        }),
                        PcapBlockOwned::NG(block) => ng_packet(&block, &mut interfaces),
                    };
                    if let Some((linktype, time_ns, data)) = packet {
                        summary.packets += 1;
                        each(&Packet {
                            frame: summary.packets,
                            time_ns,
                            linktype,
                            data,
                        });
                    }
                    self.reader.consume(used);
                    None
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => match self.reader.refill() {
                    Ok(()) => None,
                    Err(_) => Some("a read error".to_string()),
                },
                Err(PcapError::UnexpectedEof) => {
                    Some("the file ends in the middle of a record (truncated capture)".to_string())
                }
                Err(PcapError::BufferTooSmall) => Some(
                    "a record claims to be larger than any capture allows (corrupt file)"
                        .to_string(),
                ),
                Err(PcapError::ReadError) => Some("a read error".to_string()),
                Err(_) => Some("a record that is not valid pcap/pcapng (corrupt file)".to_string()),
            };
            if let Some(why) = stop {
                summary.warning = Some(format!(
                    "stopped after packet {} at byte {}: {why}",
                    summary.packets,
                    self.reader.consumed()
                ));
                break;
            }
        }
        summary
    }
}

/// Turns a pcapng block into a packet, remembering interfaces as they are described.
fn ng_packet<'a>(
    block: &Block<'a>,
    interfaces: &mut Vec<Interface>,
) -> Option<(i32, i128, &'a [u8])> {
    match block {
        Block::SectionHeader(_) => {
            // A new section starts a new list of interfaces.
            interfaces.clear();
            None
        }
        Block::InterfaceDescription(idb) => {
            interfaces.push(Interface {
                linktype: idb.linktype.0,
                resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                offset: idb.ts_offset(),
            });
            None
        }
        Block::EnhancedPacket(epb) => {
            let iface = interfaces.get(usize::try_from(epb.if_id).ok()?)?;
            let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let secs = i128::from(ticks / iface.resolution) + i128::from(iface.offset);
            let frac =
                i128::from(ticks % iface.resolution) * 1_000_000_000 / i128::from(iface.resolution);
            let len = usize::try_from(epb.caplen).unwrap_or(usize::MAX);
            let data = epb.data.get(..len).unwrap_or(epb.data);
            Some((iface.linktype, secs * 1_000_000_000 + frac, data))
        }
        Block::SimplePacket(spb) => {
            // Simple packets carry no time and always belong to interface 0.
            let iface = interfaces.first()?;
            let len = usize::try_from(spb.origlen).unwrap_or(usize::MAX);
            let data = spb.data.get(..len).unwrap_or(spb.data);
            Some((iface.linktype, 0, data))
        }
        _ => None,
    }
}

/// Writes a classic pcap file header (microsecond, little-endian): for tests, the
/// benchmark and anyone building a capture by hand.
pub fn pcap_header(linktype: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&262_144u32.to_le_bytes());
    h[20..24].copy_from_slice(&linktype.to_le_bytes());
    h
}

/// Appends one pcap record (microsecond timestamp) holding `frame` to `out`.
pub fn pcap_record(out: &mut Vec<u8>, time_us: u64, frame: &[u8]) {
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    let secs = u32::try_from(time_us / 1_000_000).unwrap_or(u32::MAX);
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&((time_us % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(frame);
}

/// Appends one pcap record of a frame that was `wire_len` bytes long on the wire, of
/// which the capture kept `frame` (a small snap length, `tcpdump -s`).
pub fn pcap_record_snapped(out: &mut Vec<u8>, time_us: u64, frame: &[u8], wire_len: usize) {
    let start = out.len();
    pcap_record(out, time_us, frame);
    let orig = u32::try_from(wire_len.max(frame.len())).unwrap_or(u32::MAX);
    out[start + 12..start + 16].copy_from_slice(&orig.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    type Got = Vec<(u64, i128, i32, Vec<u8>)>;

    fn read(bytes: &[u8]) -> Result<(Got, Summary), CaptureError> {
        let mut got = Vec::new();
        let summary = Capture::new(bytes)?.for_each(|p| {
            got.push((p.frame, p.time_ns, p.linktype, p.data.to_vec()));
        });
        Ok((got, summary))
    }

    #[test]
    fn reads_a_microsecond_pcap() {
        let mut file = pcap_header(0).to_vec();
        pcap_record(&mut file, 1_500_000, b"abcd");
        pcap_record(&mut file, 2_000_001, b"xy");
        let (got, summary) = read(&file).unwrap();
        assert_eq!(
            summary,
            Summary {
                packets: 2,
                warning: None
            }
        );
        assert_eq!(got[0], (1, 1_500_000_000, 0, b"abcd".to_vec()));
        assert_eq!(got[1], (2, 2_000_001_000, 0, b"xy".to_vec()));
    }

    #[test]
    fn reads_a_nanosecond_pcap() {
        let mut file = pcap_header(1).to_vec();
        file[0..4].copy_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        pcap_record(&mut file, 1_000_123, b"z"); // the fraction field now holds ns
        let (got, _) = read(&file).unwrap();
        assert_eq!(got[0].1, 1_000_000_123);
        assert_eq!(got[0].2, 1);
    }

    #[test]
    fn empty_and_garbage_files_are_errors() {
        assert!(matches!(read(b""), Err(CaptureError::Empty)));
        assert!(matches!(
            read(b"hello, this is not a capture file at all"),
            Err(CaptureError::NotACapture)
        ));
        assert!(matches!(
            read(&[0xd4, 0xc3]),
            Err(CaptureError::NotACapture)
        ));
    }

    #[test]
    fn a_truncated_tail_keeps_the_packets_before_it() {
        let mut file = pcap_header(0).to_vec();
        pcap_record(&mut file, 1, b"first");
        pcap_record(&mut file, 2, b"second packet");
        file.truncate(file.len() - 5);
        let (got, summary) = read(&file).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(summary.packets, 1);
        let warning = summary.warning.unwrap();
        assert!(warning.contains("truncated"), "{warning}");
    }

    #[test]
    fn reads_pcapng_with_interfaces_and_resolution() {
        // SHB, IDB (linktype 276, if_tsresol = 9 → ns), EPB.
        let mut f = Vec::new();
        let block = |f: &mut Vec<u8>, kind: u32, body: &[u8]| {
            let len = (12 + body.len()) as u32;
            f.extend_from_slice(&kind.to_le_bytes());
            f.extend_from_slice(&len.to_le_bytes());
            f.extend_from_slice(body);
            f.extend_from_slice(&len.to_le_bytes());
        };
        let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        block(&mut f, 0x0a0d_0d0a, &shb);
        let mut idb = 276u16.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0]);
        idb.extend_from_slice(&0u32.to_le_bytes());
        idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]); // if_tsresol = 9
        idb.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        block(&mut f, 1, &idb);
        let ticks: u64 = 3_000_000_007;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ticks as u32).to_le_bytes());
        epb.extend_from_slice(&3u32.to_le_bytes());
        epb.extend_from_slice(&3u32.to_le_bytes());
        epb.extend_from_slice(&[7, 8, 9, 0]);
        block(&mut f, 6, &epb);
        let (got, summary) = read(&f).unwrap();
        assert_eq!(summary.warning, None);
        assert_eq!(got, vec![(1, 3_000_000_007, 276, vec![7, 8, 9])]);
    }
}
