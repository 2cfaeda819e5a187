//! Whose marks labtrace follows. Wireshark's TCP analysis changed between 4.0 (Debian 12)
//! and 4.4 (Debian 13): five rules; and once more in 4.6 (the macOS and Windows
//! download in 2026): one. Each is a [`Rule`] here, checked against 4.0.17, 4.4.19 and
//! 4.6.9 frame by frame on captures built to show it. Everything else in
//! [`super::analysis`] is the same in all three.
//!
//! A segment whose marks the other version would set differently carries an [`Other`],
//! so that its sentence can say what the other Wireshark calls it.

use std::process::Command;

use super::analysis::{Flow, Mark, Marks, Seen, gt};

/// The Wireshark whose `tcp.analysis.*` marks labtrace reproduces (`--like-wireshark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Like {
    /// Wireshark 4.0 and older (checked: 4.0.17, Debian 12).
    V4_0,
    /// Wireshark 4.4, and 4.2 (checked: 4.4.19, Debian 13): the default.
    #[default]
    V4_4,
    /// Wireshark 4.6 and newer (checked: 4.6.9).
    V4_6,
}

impl Like {
    /// The version for a Wireshark version string (`4.0`, `4.4.19`, `3.6.2`): 4.0's
    /// rules before 4.2, 4.4's in 4.2 to 4.5 (4.2 is not checked), 4.6's from 4.6 on.
    pub fn parse(version: &str) -> Result<Like, String> {
        let mut parts = version.trim().split('.').map(str::parse::<u32>);
        match (parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor))) => Ok(match (major, minor) {
                v if v < (4, 2) => Like::V4_0,
                v if v < (4, 6) => Like::V4_4,
                _ => Like::V4_6,
            }),
            _ => Err(format!(
                "{version:?} is not a Wireshark version (4.0, 4.4, 4.6.9)"
            )),
        }
    }

    /// `4.0`, `4.4` or `4.6`.
    pub fn name(self) -> &'static str {
        match self {
            Like::V4_0 => "4.0",
            Like::V4_4 => "4.4",
            Like::V4_6 => "4.6",
        }
    }

    /// The version a note compares with: the nearest one.
    pub fn other(self) -> Like {
        match self {
            Like::V4_0 | Like::V4_6 => Like::V4_4,
            Like::V4_4 => Like::V4_0,
        }
    }

    /// True if this version marks segments by `rule`.
    pub fn follows(self, rule: Rule) -> bool {
        self >= rule.since()
    }
}

/// A rule some Wireshark versions have and others have not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// An ACK that would be a window update (same Seq and Ack, a new window) but carries
    /// a SACK option is a duplicate ACK, counted with the others: RFC 5681 §2 lets SACK
    /// information, not an unchanged window, tell a duplicate (Wireshark issue 14937).
    SackDuplicateAck,
    /// Within 20 ms of the peer's second (or later) duplicate ACK, when that ACK carried
    /// SACK blocks, a resent segment is a fast retransmission even if its Seq is not the
    /// peer's Ack, unless it lies inside a SACK block. (4.4 and 4.6 compare the segment's
    /// end as an absolute number, raw Seq + Len, with the blocks' relative edges, so in
    /// practice it lies inside one only when the sender's initial Seq is small.)
    SackFastRetransmission,
    /// A segment whose bytes the capture already showed in a segment not yet
    /// acknowledged is a retransmission (a copy), never out-of-order.
    SeenCopyIsRetransmission,
    /// A segment that fills the gap exactly up to the highest Seq, soon, is out-of-order
    /// when the segment that set the highest Seq carried no data (a pure ACK after a
    /// gap, or the SYN): Wireshark issue 17214. 4.0 calls it a retransmission.
    GapBeforeEmptySegment,
    /// After an ACKed-unseen segment, the bytes expected to be acknowledged next start at
    /// that ACK (or past the captured segments contiguous above it), so each byte the
    /// capture missed is flagged once; 4.0 takes every byte sent so far as expected,
    /// which misses later gaps and flags the same gap again.
    UnseenOnce,
    /// Whether a segment below the highest Seq came soon enough (within the initial
    /// round trip) to be out-of-order is timed from the peer's last ACK, no longer from
    /// the segment that set the highest Seq (4.6).
    OutOfOrderTimedFromAck,
}

impl Rule {
    /// Every rule, in the order the docs list them.
    pub const ALL: [Rule; 6] = [
        Rule::SackDuplicateAck,
        Rule::SackFastRetransmission,
        Rule::SeenCopyIsRetransmission,
        Rule::GapBeforeEmptySegment,
        Rule::UnseenOnce,
        Rule::OutOfOrderTimedFromAck,
    ];

    /// The first version that follows the rule.
    pub fn since(self) -> Like {
        match self {
            Rule::OutOfOrderTimedFromAck => Like::V4_6,
            _ => Like::V4_4,
        }
    }
}

/// What the other version marks on a segment where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Other {
    /// The other version.
    pub like: Like,
    /// The rule behind the difference.
    pub rule: Rule,
    /// The other version's marks.
    pub marks: Marks,
}

/// How the other version's marks differ from a segment's, as found so far.
#[derive(Default)]
pub(super) struct Delta {
    /// The first rule found to make a difference.
    rule: Option<Rule>,
    add: Marks,
    remove: Marks,
}

impl Delta {
    /// By `rule`, the other version sets `m` (`on`) or leaves it unset where this one
    /// does the opposite.
    pub(super) fn note(&mut self, rule: Rule, m: Mark, on: bool) {
        self.rule.get_or_insert(rule);
        let (to, from) = if on {
            (&mut self.add, &mut self.remove)
        } else {
            (&mut self.remove, &mut self.add)
        };
        to.set(m);
        from.unset(m);
    }

    /// What the other version marks on a segment `like` marks with `marks`, if it differs.
    pub(super) fn other(&self, marks: Marks, like: Like) -> Option<Other> {
        let mut theirs = marks;
        for m in Mark::ALL {
            if self.remove.has(m) {
                theirs.unset(m);
            } else if self.add.has(m) {
                theirs.set(m);
            }
        }
        Some(Other {
            like: like.other(),
            rule: self.rule?,
            marks: theirs,
        })
    }
}

/// [`Rule::SackFastRetransmission`]'s test: whether the peer's last segment (a duplicate
/// ACK with SACK blocks, as the caller checked) leaves `s` outside every block, compared
/// as Wireshark 4.4 does.
pub(super) fn outside_sack(rev: &Flow, s: &Seen) -> bool {
    !rev.sack.blocks().is_empty()
        && !rev
            .sack
            .blocks()
            .iter()
            .any(|&(left, right)| s.seq >= left && s.abs_end <= right)
}

/// [`Rule::SeenCopyIsRetransmission`]'s test: the unacknowledged segment (index in
/// `fwd.unacked`, newest first) whose bytes hold all of `s`'s, if any.
pub(super) fn seen_copy(fwd: &Flow, s: &Seen) -> Option<usize> {
    let end = s.seq.wrapping_add(s.len);
    fwd.unacked
        .iter()
        .position(|u| !gt(u.seq, s.seq) && !gt(end, u.next))
}

/// Where the bytes expected to be acknowledged next start after an ACKed-unseen
/// segment whose Ack is `ack`, by `like`'s rules ([`Rule::UnseenOnce`]).
pub(super) fn expected_after_unseen(rev: &Flow, ack: u32, like: Like) -> u32 {
    if !like.follows(Rule::UnseenOnce) {
        return rev.nextseq;
    }
    // The run of captured segments that starts at the Ack, if one does: walking the
    // list newest (highest) first, each segment at or above the Ack either extends the
    // run downwards or starts a new one.
    let (mut low, mut high) = (0u32, 0u32);
    for u in &rev.unacked {
        if low == high {
            (low, high) = (u.seq, u.next);
        }
        if !gt(ack, u.seq) {
            if u.next == low {
                low = u.seq;
            } else {
                (low, high) = (u.seq, u.next);
            }
        }
    }
    if low == ack && gt(high, ack) {
        high
    } else {
        ack
    }
}

/// The installed tshark's version (`4.0.17`, from `TShark (Wireshark) 4.0.17 (...)`),
/// if it runs.
pub fn tshark_version() -> Option<String> {
    let out = Command::new("tshark").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next()?;
    let version = first.strip_prefix("TShark (Wireshark) ")?;
    let version = version.split([' ', '(']).next()?.trim_end_matches('.');
    (out.status.success() && !version.is_empty()).then(|| version.to_string())
}
