//! Timing counters for the link's loop, to see where its time goes without a profiler:
//! with `LABNET_PROFILE=1`, each direction of the link counts its wake-ups and packets
//! and adds up the time spent waiting in `ppoll`, reading the TUN device, writing the
//! other one and writing the capture; labnet prints them when the link ends. Without
//! the variable the counters cost one branch per step.

use std::fmt;
use std::time::{Duration, Instant};

/// Set to 1 to have the link print its timing counters when it ends.
pub const PROFILE_ENV: &str = "LABNET_PROFILE";

/// A step of the link's loop.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Sleeping in `ppoll` until a packet comes or one is due.
    Wait,
    /// `read` from a TUN device (including the last one, which finds it empty).
    Read,
    /// `write` into the other TUN device (the receiving kernel's work happens here).
    Write,
    /// Writing the capture.
    Capture,
}

const STEPS: usize = 4;

/// The counters of one direction.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    enabled: bool,
    started: Option<Instant>,
    wakeups: u64,
    packets: u64,
    spent: [Duration; STEPS],
}

impl Profile {
    /// Counters that count when `LABNET_PROFILE=1`.
    pub fn from_env() -> Profile {
        Profile {
            enabled: std::env::var(PROFILE_ENV).as_deref() == Ok("1"),
            ..Profile::default()
        }
    }

    /// Whether the counters count.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The start of a step (nothing when disabled).
    #[inline]
    pub fn start(&mut self) -> Option<Instant> {
        self.enabled.then(|| {
            let now = Instant::now();
            self.started.get_or_insert(now);
            now
        })
    }

    /// Adds the time since `start` to `step`.
    #[inline]
    pub fn add(&mut self, step: Step, start: Option<Instant>) {
        if let Some(t) = start {
            self.spent[step as usize] += t.elapsed();
        }
    }

    /// Counts a wake-up from `ppoll` and the packets it brought.
    #[inline]
    pub fn woke(&mut self, packets: u64) {
        self.wakeups += 1;
        self.packets += packets;
    }

    /// Adds another direction's counters to these.
    pub fn merge(&mut self, other: &Profile) {
        self.enabled |= other.enabled;
        self.started = match (self.started, other.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.wakeups += other.wakeups;
        self.packets += other.packets;
        for (a, b) in self.spent.iter_mut().zip(other.spent) {
            *a += b;
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.started.map(|t| t.elapsed()).unwrap_or_default();
        let s = |i: usize| self.spent[i].as_secs_f64();
        let per_wakeup = self.packets as f64 / self.wakeups.max(1) as f64;
        write!(
            f,
            "{}, {per_wakeup:.1} packets each; ppoll {:.3} s, read {:.3} s, \
             write {:.3} s, capture {:.3} s, of {:.3} s",
            crate::plural(self.wakeups, "wake-up"),
            s(Step::Wait as usize),
            s(Step::Read as usize),
            s(Step::Write as usize),
            s(Step::Capture as usize),
            total.as_secs_f64()
        )
    }
}
