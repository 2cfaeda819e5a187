//! One direction of the link, in a thread of its own: it reads the packets one
//! namespace sends into its TUN device, passes them through its [`Lane`], and writes
//! them into the other namespace's TUN device when they are due. Each packet keeps its
//! virtio header from one device to the other (a large segment stays one, see
//! [`super::offload`]).
//!
//! Why a thread per direction: writing a packet into a TUN device runs the receiving
//! kernel's TCP input (`tcp_v4_rcv`) in the writer's thread, and an ACK written into
//! the sender's namespace makes its kernel send the next segments right there. With one
//! thread for both directions, the data and the ACKs took turns; with two, each
//! direction has a core.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;
use rand::rngs::StdRng;

use super::lane::{Lane, LaneStats};
use super::offload::{self, HDR_LEN};
use super::profile::{Profile, Step};
use super::tap::Tap;

/// Test-only: with this variable set to N, a direction of the link panics after
/// forwarding N packets, so that tests can check that a panic still tears down.
pub const PANIC_AFTER_ENV: &str = "LABNET_TEST_PANIC_AFTER";

/// Packets read in one wake-up, at most, before the due ones are delivered.
const BATCH: usize = 64;

/// The longest a finishing link waits for quiet.
const MAX_LINGER: Duration = Duration::from_secs(5);

/// How long `ppoll` may sleep when nothing is queued (how soon a stop is seen).
const IDLE: Duration = Duration::from_millis(100);

/// What the two directions share: requests to end, and when the link last carried a
/// packet either way.
pub struct Control<'a> {
    stop: &'a AtomicBool,
    finish: &'a AtomicBool,
    /// Set when a direction failed or panicked: the other one ends too.
    pub halt: AtomicBool,
    base: Instant,
    last_packet: AtomicU64,
    quiet: Duration,
}

impl<'a> Control<'a> {
    /// `stop`: end now; `finish`: end once the link has carried nothing for `quiet`.
    pub fn new(stop: &'a AtomicBool, finish: &'a AtomicBool, quiet: Duration) -> Control<'a> {
        Control {
            stop,
            finish,
            halt: AtomicBool::new(false),
            base: Instant::now(),
            last_packet: AtomicU64::new(0),
            quiet,
        }
    }

    fn ending(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.halt.load(Ordering::Relaxed)
    }

    fn packet_seen(&self, now: Instant) {
        let t = (now - self.base).as_nanos() as u64;
        self.last_packet.fetch_max(t, Ordering::Relaxed);
    }

    fn quiet_at(&self, now: Instant) -> bool {
        let last = Duration::from_nanos(self.last_packet.load(Ordering::Relaxed));
        now.saturating_duration_since(self.base + last) >= self.quiet
    }
}

/// One direction: the TUN device it reads, the one it writes, its lane.
pub struct Way {
    from: File,
    to: File,
    lane: Lane,
    rng: StdRng,
    captures: (bool, bool),
    panic_after: Option<u64>,
    /// Timing counters (`LABNET_PROFILE=1`).
    pub profile: Profile,
}

impl Way {
    /// Packets read from `from` cross `lane` into `to`; `captures` says whether the
    /// tap records packets entering and leaving the link.
    pub fn new(from: File, to: File, lane: Lane, rng: StdRng, captures: (bool, bool)) -> Way {
        let panic_after = std::env::var(PANIC_AFTER_ENV)
            .ok()
            .and_then(|v| v.parse().ok());
        Way {
            from,
            to,
            lane,
            rng,
            captures,
            panic_after,
            profile: Profile::from_env(),
        }
    }

    /// The lane of this direction.
    pub fn lane(&self) -> &Lane {
        &self.lane
    }

    /// What this direction did so far.
    pub fn stats(&self) -> LaneStats {
        self.lane.stats
    }

    /// Moves packets until `ctl` says stop, or, once it says finish, until nothing is
    /// queued here and the link was quiet for a while.
    pub fn run(&mut self, tap: &Mutex<Tap>, ctl: &Control) -> unp::Result<()> {
        if self.lane.impairments().keeps_time() {
            run_on_time();
        }
        // A virtio header and the largest IP packet.
        let mut buf = vec![0u8; HDR_LEN + 65536];
        let mut finish_by = None;
        while !ctl.ending() {
            let t = self.profile.start();
            let readable = self.wait(self.timeout())?;
            self.profile.add(Step::Wait, t);
            if readable {
                let got = self.read_batch(&mut buf, tap)?;
                self.profile.woke(got);
                if got > 0 {
                    ctl.packet_seen(Instant::now());
                }
            }
            self.deliver_due(tap)?;
            if ctl.finish.load(Ordering::Relaxed) {
                let now = Instant::now();
                let by = *finish_by.get_or_insert(now + MAX_LINGER);
                if (self.lane.next_due().is_none() && ctl.quiet_at(now)) || now >= by {
                    break;
                }
            }
        }
        Ok(())
    }

    fn timeout(&self) -> Duration {
        let now = Instant::now();
        self.lane
            .next_due()
            .map_or(IDLE, |t| t.saturating_duration_since(now).min(IDLE))
    }

    /// Sleeps in ppoll(2) for at most `timeout`; whether a packet is waiting.
    fn wait(&self, timeout: Duration) -> unp::Result<bool> {
        let mut fds = [PollFd::new(self.from.as_fd(), PollFlags::POLLIN)];
        // ppoll: poll(2) with a timeout in nanoseconds, not milliseconds, so that a
        // 100 ms delay is 100 ms, not up to 101.
        match ppoll(&mut fds, Some(TimeSpec::from(timeout)), None) {
            Ok(_) => Ok(fds[0].revents().is_some_and(|r| !r.is_empty())),
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(unp::Error::errno("poll", e)),
        }
    }

    /// Reads up to [`BATCH`] packets (one wake-up's worth) into the lane; how many.
    fn read_batch(&mut self, buf: &mut [u8], tap: &Mutex<Tap>) -> unp::Result<u64> {
        let mut got = 0;
        for _ in 0..BATCH {
            let t = self.profile.start();
            let read = self.from.read(buf);
            self.profile.add(Step::Read, t);
            let n = match read {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(unp::Error::os("read", e).with_detail("TUN device")),
            };
            got += 1;
            // The virtio header and the packet: both cross the link together.
            let frame = &buf[..n];
            if self.captures.0 {
                self.capture(tap, |t| t.sent(frame))?;
            }
            let wire = offload::wire_count(frame);
            if self.lane.passes_through() {
                self.lane.passed_through(wire);
                self.deliver(frame, tap)?;
            } else {
                self.lane.admit(Instant::now(), frame, wire, &mut self.rng);
            }
        }
        Ok(got)
    }

    /// Delivers every queued packet whose time has come.
    fn deliver_due(&mut self, tap: &Mutex<Tap>) -> unp::Result<()> {
        let now = Instant::now();
        while let Some(frame) = self.lane.pop_due(now) {
            self.deliver(&frame, tap)?;
            self.lane.recycle(frame);
        }
        Ok(())
    }

    /// Writes `frame` into the other TUN device (and to the capture of what leaves).
    fn deliver(&mut self, frame: &[u8], tap: &Mutex<Tap>) -> unp::Result<()> {
        if self.captures.1 {
            self.capture(tap, |t| t.delivered(frame))?;
        }
        let t = self.profile.start();
        // A full or downed device drops the packet, as a real interface would.
        let _ = self.to.write(frame);
        self.profile.add(Step::Write, t);
        if let Some(left) = &mut self.panic_after {
            *left = left.saturating_sub(1);
            if *left == 0 {
                panic!("{PANIC_AFTER_ENV}: the link panics on purpose (test)");
            }
        }
        Ok(())
    }

    /// Records a packet in the capture both directions share.
    fn capture(
        &mut self,
        tap: &Mutex<Tap>,
        record: impl FnOnce(&mut Tap) -> unp::Result<()>,
    ) -> unp::Result<()> {
        let t = self.profile.start();
        // The time stamp is taken under the lock, so the file is in time order.
        let result = record(&mut tap.lock().unwrap_or_else(PoisonError::into_inner));
        self.profile.add(Step::Capture, t);
        result
    }
}

/// Asks the kernel to run the calling thread (a direction of the link that holds
/// packets until they are due) ahead of every ordinary thread, at the lowest real-time
/// priority (`SCHED_FIFO` 1; children started from it would not inherit it): a queued
/// packet then leaves when it is due, also on a machine busy with other work. With
/// ordinary scheduling, two busy programs on two cores made the thread wake up to tens
/// of milliseconds late, and a delay or a rate that late is not the one asked for
/// (docs/labnet-inside.md#accuracy). Ordinary threads still get a core whenever the
/// thread sleeps in `ppoll`, which it does while nothing is due. A direction that
/// forwards each packet as it comes (no impairment, loss, duplication) keeps ordinary
/// priority: it has no time to keep, and the programs at both ends share the cores with
/// it as before. Where the kernel refuses (no `CAP_SYS_NICE`, a container without
/// real-time time), the thread stays ordinary: the link works, less punctually on a
/// busy machine.
fn run_on_time() {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: sched_setscheduler(2) reads the `sched_param` passed by reference for
    // the duration of the call; pid 0 is the calling thread.
    let _ = unsafe {
        libc::sched_setscheduler(0, libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK, &param)
    };
}
