//! The link: the labnet process reads each packet the client's namespace sends into
//! its TUN device and writes it into the server's (and the other way), through one
//! [`Lane`] per direction, and writes every packet to the capture as it enters the
//! link (what the host sent), as it leaves it (what was delivered), or both (see [`Tap`]).
//!
//! Each direction is a [`Way`] with a thread of its own, which sleeps in `ppoll(2)` on
//! its TUN device until a packet comes or a queued one is due (at most 100 ms, so that
//! a stop request is seen quickly). The capture is shared, behind a lock.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::impair::{Impairments, PerDirection};
use super::lane::{Lane, LaneStats};
use super::offload::HDR_LEN;
use super::tap::Tap;
use super::way::{Control, Way};

pub use super::way::PANIC_AFTER_ENV;

/// The two directions and the captures.
pub struct Link {
    ways: [Way; 2],
    tap: Mutex<Tap>,
}

/// What each direction of the link did.
pub type LinkStats = PerDirection<LaneStats>;

/// Sets the shared halt flag when a direction's thread ends by an error or a panic,
/// so that the other direction ends too.
struct HaltUnlessDone<'a> {
    halt: &'a AtomicBool,
    done: bool,
}

impl Drop for HaltUnlessDone<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.halt.store(true, Ordering::Relaxed);
        }
    }
}

impl Link {
    /// A link between the client's TUN `client` and the server's `server`; `rng`
    /// seeds each direction's random draws.
    pub fn new(
        client: File,
        server: File,
        imp: PerDirection<Impairments>,
        tap: Tap,
        mut rng: StdRng,
    ) -> unp::Result<Link> {
        let dup = |f: &File| {
            f.try_clone()
                .map_err(|e| unp::Error::os("dup", e).with_detail("TUN device"))
        };
        let captures = (tap.takes_sent(), tap.takes_delivered());
        let (to_client, to_server) = (dup(&client)?, dup(&server)?);
        let way = |from, to, imp, rng: &mut StdRng| {
            let lane = Lane::new(imp, HDR_LEN);
            Way::new(from, to, lane, StdRng::from_rng(rng), captures)
        };
        Ok(Link {
            ways: [
                way(client, to_server, imp.to_server, &mut rng),
                way(server, to_client, imp.to_client, &mut rng),
            ],
            tap: Mutex::new(tap),
        })
    }

    /// Moves packets until `stop` becomes true, or, once `finish` is true, until the
    /// link has been quiet for a while (the last ACKs of a close still in flight cross
    /// it; see [`Link::quiet_time`]); then flushes the capture.
    pub fn run(&mut self, stop: &AtomicBool, finish: &AtomicBool) -> unp::Result<()> {
        let ctl = Control::new(stop, finish, self.quiet_time());
        let tap = &self.tap;
        let ended = std::thread::scope(|s| {
            let threads = self.ways.each_mut().map(|way| {
                let ctl = &ctl;
                s.spawn(move || {
                    let mut guard = HaltUnlessDone {
                        halt: &ctl.halt,
                        done: false,
                    };
                    let result = way.run(tap, ctl);
                    guard.done = result.is_ok();
                    result
                })
            });
            threads.map(|t| t.join())
        });
        self.report_profile();
        let flushed = self.flush();
        for result in ended {
            match result {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(r) => r?,
            }
        }
        flushed
    }

    /// How long the link must carry nothing before a finishing run ends: a round trip
    /// (with jitter) and 200 ms more.
    pub fn quiet_time(&self) -> Duration {
        let trip = |w: &Way| w.lane().impairments().delay + w.lane().impairments().jitter;
        trip(&self.ways[0]) + trip(&self.ways[1]) + Duration::from_millis(200)
    }

    /// What each direction did so far.
    pub fn stats(&self) -> LinkStats {
        PerDirection {
            to_server: self.ways[0].stats(),
            to_client: self.ways[1].stats(),
        }
    }

    /// With `LABNET_PROFILE=1`: where each direction's time went.
    fn report_profile(&self) {
        for (dir, way) in ["client→server", "server→client"].iter().zip(&self.ways) {
            if way.profile.enabled() {
                eprintln!("labnet: profile {dir}: {}", way.profile);
            }
        }
    }

    fn flush(&mut self) -> unp::Result<()> {
        self.tap
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
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
        let packets = crate::plural(s.received, "packet");
        let mut l = format!("{dir}: {packets} in, {} out", s.forwarded);
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
