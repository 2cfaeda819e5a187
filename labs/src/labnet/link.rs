//! The link: the labnet process reads each packet the client's namespace sends into
//! its TUN device and writes it into the server's (and the other way), through one
//! [`Lane`] per direction, and writes every packet it delivers to the capture.
//!
//! One thread, one `ppoll(2)` over both TUN descriptors; its timeout is the time until
//! the next queued packet is due (at most 100 ms, so a stop request is seen quickly).

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;
use rand::rngs::StdRng;

use super::impair::{Impairments, PerDirection};
use super::lane::{Lane, LaneStats};
use super::pcap::PcapWriter;

/// Test-only: with this variable set to N, the link panics after forwarding N packets,
/// so that tests can check that a panic still tears the network down.
pub const PANIC_AFTER_ENV: &str = "LABNET_TEST_PANIC_AFTER";

/// Packets read from one side before the other gets its turn.
const BATCH: usize = 64;

/// The longest a finishing link waits for quiet.
const MAX_LINGER: Duration = Duration::from_secs(5);

/// How long `poll` may sleep when nothing is queued.
const IDLE: Duration = Duration::from_millis(100);

/// The two TUN devices, the two lanes and the capture.
pub struct Link {
    tuns: [File; 2],
    lanes: [Lane; 2],
    pcap: Option<PcapWriter<File>>,
    rng: StdRng,
    panic_after: Option<u64>,
}

/// What each direction of the link did.
pub type LinkStats = PerDirection<LaneStats>;

impl Link {
    /// A link between the client's TUN `client` and the server's `server`.
    pub fn new(
        client: File,
        server: File,
        imp: PerDirection<Impairments>,
        pcap: Option<PcapWriter<File>>,
        rng: StdRng,
    ) -> Link {
        let panic_after = std::env::var(PANIC_AFTER_ENV)
            .ok()
            .and_then(|v| v.parse().ok());
        Link {
            tuns: [client, server],
            lanes: [Lane::new(imp.to_server), Lane::new(imp.to_client)],
            pcap,
            rng,
            panic_after,
        }
    }

    /// Moves packets until `stop` becomes true, or, once `finish` is true, until the
    /// link has been quiet for a while (the last ACKs of a close still in flight cross
    /// it; see [`Link::quiet_time`]); then flushes the capture.
    pub fn run(&mut self, stop: &AtomicBool, finish: &AtomicBool) -> unp::Result<()> {
        let mut buf = vec![0u8; 65536];
        let mut last_packet = Instant::now();
        let mut finish_by = None;
        while !stop.load(Ordering::Relaxed) {
            let ready = self.wait(self.timeout())?;
            for (from, readable) in ready.into_iter().enumerate() {
                if readable {
                    self.read_side(from, &mut buf)?;
                    last_packet = Instant::now();
                }
            }
            self.deliver_due()?;
            if finish.load(Ordering::Relaxed) {
                let now = Instant::now();
                let by = *finish_by.get_or_insert(now + MAX_LINGER);
                let idle = self.lanes.iter().all(|l| l.next_due().is_none())
                    && now - last_packet >= self.quiet_time();
                if idle || now >= by {
                    break;
                }
            }
        }
        self.flush()
    }

    /// How long the link must carry nothing before a finishing run ends: a round trip
    /// (with jitter) and 200 ms more.
    pub fn quiet_time(&self) -> Duration {
        let trip = |l: &Lane| l.impairments().delay + l.impairments().jitter;
        trip(&self.lanes[0]) + trip(&self.lanes[1]) + Duration::from_millis(200)
    }

    /// What each direction did so far.
    pub fn stats(&self) -> LinkStats {
        PerDirection {
            to_server: self.lanes[0].stats,
            to_client: self.lanes[1].stats,
        }
    }

    fn timeout(&self) -> Duration {
        let now = Instant::now();
        self.lanes
            .iter()
            .filter_map(Lane::next_due)
            .map(|t| t.saturating_duration_since(now))
            .fold(IDLE, Duration::min)
    }

    /// Sleeps in ppoll(2) for at most `timeout`; which TUN devices have packets.
    fn wait(&self, timeout: Duration) -> unp::Result<[bool; 2]> {
        let mut fds = [
            PollFd::new(self.tuns[0].as_fd(), PollFlags::POLLIN),
            PollFd::new(self.tuns[1].as_fd(), PollFlags::POLLIN),
        ];
        // ppoll: poll(2) with a timeout in nanoseconds, not milliseconds, so that a
        // 100 ms delay is 100 ms, not up to 101.
        match ppoll(&mut fds, Some(TimeSpec::from(timeout)), None) {
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok([false; 2]),
            Err(e) => return Err(unp::Error::errno("poll", e)),
        }
        let readable = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        Ok([readable(&fds[0]), readable(&fds[1])])
    }

    /// Reads up to [`BATCH`] packets from side `from` into its lane.
    fn read_side(&mut self, from: usize, buf: &mut [u8]) -> unp::Result<()> {
        for _ in 0..BATCH {
            let n = match self.tuns[from].read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(unp::Error::os("read", e).with_detail("TUN device")),
            };
            if self.lanes[from].passes_through() {
                self.lanes[from].passed_through();
                self.deliver(1 - from, &buf[..n])?;
            } else {
                self.lanes[from].admit(Instant::now(), buf[..n].to_vec(), &mut self.rng);
            }
        }
        Ok(())
    }

    /// Delivers every queued packet whose time has come.
    fn deliver_due(&mut self) -> unp::Result<()> {
        let now = Instant::now();
        for from in 0..2 {
            while let Some(packet) = self.lanes[from].pop_due(now) {
                self.deliver(1 - from, &packet)?;
            }
        }
        Ok(())
    }

    /// Writes `packet` into the TUN device of side `to`, and to the capture.
    fn deliver(&mut self, to: usize, packet: &[u8]) -> unp::Result<()> {
        if let Some(pcap) = &mut self.pcap {
            pcap.packet(SystemTime::now(), packet)
                .map_err(|e| unp::Error::os("write", e).with_detail("capture"))?;
        }
        // A full or downed device drops the packet, as a real interface would.
        let _ = self.tuns[to].write(packet);
        if let Some(left) = &mut self.panic_after {
            *left = left.saturating_sub(1);
            if *left == 0 {
                panic!("{PANIC_AFTER_ENV}: the link panics on purpose (test)");
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> unp::Result<()> {
        match &mut self.pcap {
            Some(p) => p
                .flush()
                .map_err(|e| unp::Error::os("write", e).with_detail("capture")),
            None => Ok(()),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Keep what was captured even when the link ends by an error or a panic.
        let _ = self.flush();
    }
}

/// One line per direction: `client→server: 1000 in, 903 out, 97 lost, ...`.
pub fn describe(stats: &LinkStats) -> String {
    let line = |dir: &str, s: &LaneStats| {
        let mut l = format!("{dir}: {} packets in, {} out", s.received, s.forwarded);
        for (n, what) in [
            (s.lost, "lost"),
            (s.duplicated, "duplicated"),
            (s.reordered, "reordered"),
            (s.overflowed, "dropped by a full queue"),
        ] {
            if n > 0 {
                l += &format!(", {n} {what}");
            }
        }
        l
    };
    format!(
        "{}\n{}",
        line("client→server", &stats.to_server),
        line("server→client", &stats.to_client)
    )
}
