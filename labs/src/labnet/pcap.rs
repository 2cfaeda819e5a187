//! The capture of the link: a classic pcap file (what tcpdump `-w` writes) whose
//! packets are bare IP packets, link type 101 (LINKTYPE_RAW: IPv4 or IPv6, told apart
//! by the version nibble). tshark, Wireshark, tcpdump `-r` and labtrace read it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// LINKTYPE_RAW: each packet starts with its IP header.
pub const LINKTYPE_RAW: u32 = 101;

/// By default, packets longer than this are cut in the file (the capture holds packets
/// of the TUN's MTU, far below it: see [`super::offload`]).
pub const SNAPLEN: u32 = 65535;

/// The capture is written in chunks of this size: one `write(2)` per 4 MiB.
const CHUNK: usize = 4 << 20;

/// Writes packets to a pcap file.
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
    snaplen: u32,
}

impl PcapWriter<File> {
    /// Creates (or truncates) `path` and writes the file header; at most `snaplen`
    /// bytes of each packet are kept (`tcpdump -s`).
    pub fn create(path: &Path, snaplen: u32) -> unp::Result<PcapWriter<File>> {
        let file = File::create(path)
            .map_err(|e| unp::Error::os("open", e).with_detail(path.display().to_string()))?;
        PcapWriter::new(file, snaplen)
            .map_err(|e| unp::Error::os("write", e).with_detail(path.display().to_string()))
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte file header (microsecond timestamps, this host's byte order,
    /// which the magic number tells readers) to `out`.
    pub fn new(out: W, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let snaplen = snaplen.max(1);
        let mut out = BufWriter::with_capacity(CHUNK, out);
        out.write_all(&0xa1b2_c3d4u32.to_ne_bytes())?;
        out.write_all(&2u16.to_ne_bytes())?; // version 2.4
        out.write_all(&4u16.to_ne_bytes())?;
        out.write_all(&0i32.to_ne_bytes())?; // time zone: UTC
        out.write_all(&0u32.to_ne_bytes())?; // timestamp accuracy
        out.write_all(&snaplen.to_ne_bytes())?;
        out.write_all(&LINKTYPE_RAW.to_ne_bytes())?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Appends one packet, stamped with `time`.
    pub fn packet(&mut self, time: SystemTime, data: &[u8]) -> io::Result<()> {
        self.packet_in_parts(time, data, &[])
    }

    /// Appends one packet given in two parts (its headers, its payload).
    pub fn packet_in_parts(
        &mut self,
        time: SystemTime,
        head: &[u8],
        body: &[u8],
    ) -> io::Result<()> {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let len = head.len() + body.len();
        let kept = len.min(self.snaplen as usize);
        let seconds = u32::try_from(since.as_secs()).unwrap_or(u32::MAX);
        self.out.write_all(&seconds.to_ne_bytes())?;
        self.out.write_all(&since.subsec_micros().to_ne_bytes())?;
        self.out.write_all(&(kept as u32).to_ne_bytes())?;
        self.out.write_all(&(len as u32).to_ne_bytes())?;
        let from_head = kept.min(head.len());
        self.out.write_all(&head[..from_head])?;
        self.out.write_all(&body[..kept - from_head])
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn header_and_record_are_laid_out_as_libpcap_reads_them() {
        let mut buf = Vec::new();
        {
            let mut w = PcapWriter::new(&mut buf, SNAPLEN).unwrap();
            let t = UNIX_EPOCH + Duration::from_micros(5_000_007);
            w.packet(t, &[0x45, 0, 0, 3]).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(buf.len(), 24 + 16 + 4);
        assert_eq!(u32::from_ne_bytes(buf[20..24].try_into().unwrap()), 101);
        assert_eq!(u32::from_ne_bytes(buf[24..28].try_into().unwrap()), 5);
        assert_eq!(u32::from_ne_bytes(buf[28..32].try_into().unwrap()), 7);
        assert_eq!(u32::from_ne_bytes(buf[32..36].try_into().unwrap()), 4);
        assert_eq!(&buf[40..], &[0x45, 0, 0, 3]);
    }

    #[test]
    fn a_snaplen_keeps_the_start_of_each_packet_and_its_length() {
        let mut buf = Vec::new();
        {
            let mut w = PcapWriter::new(&mut buf, 3).unwrap();
            w.packet(UNIX_EPOCH, &[1, 2, 3, 4, 5]).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(u32::from_ne_bytes(buf[16..20].try_into().unwrap()), 3);
        assert_eq!(u32::from_ne_bytes(buf[32..36].try_into().unwrap()), 3);
        assert_eq!(u32::from_ne_bytes(buf[36..40].try_into().unwrap()), 5);
        assert_eq!(&buf[40..], &[1, 2, 3]);
    }

    #[test]
    fn labtrace_reads_the_file() {
        let mut buf = Vec::new();
        {
            let mut w = PcapWriter::new(&mut buf, SNAPLEN).unwrap();
            w.packet(SystemTime::now(), &[0x45; 20]).unwrap();
            w.flush().unwrap();
        }
        let cap = crate::capture::Capture::new(&buf[..]).unwrap();
        let mut n = 0;
        cap.for_each(|p| {
            assert_eq!(p.linktype, 101);
            n += 1;
        });
        assert_eq!(n, 1);
    }
}
