//! Armour for the sequence server's count: what it remembers must not grow with the
//! numbers a peer chooses. One datagram numbered 16 million must cost no more than one
//! numbered 16, so the numbers are followed with a bit each, below [`FOLLOWED`] only
//! (128 KiB at the most); higher ones are counted and said so in the summary. labtrace
//! counts a capture's sequence experiment with this same tally.

/// Numbers from 0 up to this (excluded) are followed: a run of the experiment sends
/// thousands.
pub const FOLLOWED: i32 = 1 << 20;

/// What the server saw: how many datagrams, how many out of order, and which numbers
/// came (to tell those that never did, below the highest that did).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Datagrams received (duplicates counted each time).
    pub received: u64,
    /// Datagrams that were not the one expected next (`Error!`).
    pub errors: u64,
    /// Datagrams numbered [`FOLLOWED`] or more: counted, not followed.
    pub beyond: u64,
    /// A bit per number below [`FOLLOWED`], as far as the highest one received.
    seen: Vec<u64>,
    /// The highest number received below [`FOLLOWED`].
    highest: Option<i32>,
}

impl Tally {
    /// Counts datagram `seq`; true if it was the one expected next.
    pub fn record(&mut self, seq: i32, expected: i32) -> bool {
        self.received += 1;
        if seq >= FOLLOWED {
            self.beyond += 1;
        } else if let Ok(n) = usize::try_from(seq) {
            if self.seen.len() <= n / 64 {
                self.seen.resize(n / 64 + 1, 0);
            }
            self.seen[n / 64] |= 1 << (n % 64);
            self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        }
        let in_order = seq == expected;
        self.errors += u64::from(!in_order);
        in_order
    }

    /// True if a datagram numbered `seq` (below [`FOLLOWED`]) came.
    pub fn has(&self, seq: i32) -> bool {
        usize::try_from(seq).is_ok_and(|n| self.word(n) >> (n % 64) & 1 == 1)
    }

    /// The server's last line: `received 16 datagrams, 2 out of order, 1 never
    /// arrived: 12`, every range of missing numbers listed.
    pub fn summary(&self) -> String {
        self.summary_listing(usize::MAX)
    }

    /// [`Tally::summary`] with at most `most` ranges listed, then `…`.
    pub fn summary_listing(&self, most: usize) -> String {
        let (missing, list) = self.never_arrived(most);
        let list = match missing {
            0 => String::new(),
            _ => format!(": {list}"),
        };
        let beyond = match self.beyond {
            0 => String::new(),
            n => format!("; {n} numbered {FOLLOWED} or more (not followed)"),
        };
        format!(
            "received {} datagrams, {} out of order, {missing} never arrived{list}{beyond}",
            self.received, self.errors
        )
    }

    /// The numbers below the highest received that never came: how many, and the first
    /// `most` runs of them as ranges (`2, 7-9, …`), skipping 64 at a time where it can.
    pub fn never_arrived(&self, most: usize) -> (u64, String) {
        let Some(top) = self.highest.and_then(|h| usize::try_from(h).ok()) else {
            return (0, String::new());
        };
        let whole = |n: usize| n % 64 == 0 && n + 63 <= top;
        let (mut count, mut ranges, mut n) = (0u64, Vec::new(), 0usize);
        while n <= top {
            if whole(n) && self.word(n) == u64::MAX {
                n += 64;
                continue;
            }
            if self.has_bit(n) {
                n += 1;
                continue;
            }
            let start = n;
            while n <= top && !self.has_bit(n) {
                n += if whole(n) && self.word(n) == 0 { 64 } else { 1 };
            }
            count += (n - start) as u64;
            if ranges.len() < most {
                ranges.push(match n - 1 == start {
                    true => start.to_string(),
                    false => format!("{start}-{}", n - 1),
                });
            } else if ranges.len() == most {
                ranges.push("…".into());
            }
        }
        (count, ranges.join(", "))
    }

    /// The word of 64 bits that holds number `n`'s.
    fn word(&self, n: usize) -> u64 {
        self.seen.get(n / 64).copied().unwrap_or(0)
    }

    fn has_bit(&self, n: usize) -> bool {
        self.word(n) >> (n % 64) & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers below the highest that never came, found one by one, as ranges:
    /// what the tally must agree with.
    fn naive(run: &[i32]) -> (u64, String) {
        let top = run.iter().copied().filter(|&n| n < FOLLOWED).max();
        let missing: Vec<i32> = (0..=top.unwrap_or(-1))
            .filter(|n| !run.contains(n))
            .collect();
        let mut ranges: Vec<String> = Vec::new();
        for (i, &n) in missing.iter().enumerate() {
            if i > 0 && missing[i - 1] == n - 1 {
                let start = ranges.pop().unwrap_or_default();
                let start = start.split('-').next().unwrap_or_default().to_string();
                ranges.push(format!("{start}-{n}"));
            } else {
                ranges.push(n.to_string());
            }
        }
        (missing.len() as u64, ranges.join(", "))
    }

    fn tally(run: &[i32]) -> Tally {
        let (mut t, mut expected) = (Tally::default(), 0);
        for &n in run {
            t.record(n, expected);
            expected = n.wrapping_add(1);
        }
        t
    }

    #[test]
    fn counts_errors_and_gaps() {
        // 3 (expected 2), 2 (expected 4), 4 (expected 3), 7 (expected 5).
        let t = tally(&[0, 1, 3, 2, 4, 7]);
        assert_eq!((t.received, t.errors), (6, 4));
        assert_eq!(
            t.summary(),
            "received 6 datagrams, 4 out of order, 2 never arrived: 5-6"
        );
        assert_eq!(
            tally(&[0, 1, 2]).summary(),
            "received 3 datagrams, 0 out of order, 0 never arrived"
        );
        assert_eq!(
            Tally::default().summary(),
            "received 0 datagrams, 0 out of order, 0 never arrived"
        );
    }

    #[test]
    fn gaps_of_every_size_and_word_boundary_agree_with_counting_one_by_one() {
        let runs: [&[i32]; 6] = [
            &[5, 5, 200, 63, 64, 65, 127, 129],
            &[-3, 0, 70_000, 1],
            &[0, 64, 128, 191],
            &[63],
            &[-1, -5],
            &[1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21],
        ];
        for run in runs {
            let t = tally(run);
            assert_eq!(t.never_arrived(usize::MAX), naive(run), "{run:?}");
            for n in 0..300 {
                assert_eq!(t.has(n), run.contains(&n), "{run:?} {n}");
            }
        }
        assert_eq!(
            tally(&[5, 5, 200, 63, 64, 65, 127, 129]).never_arrived(usize::MAX),
            (194, "0-4, 6-62, 66-126, 128, 130-199".into())
        );
        // The first `most` ranges, then an ellipsis.
        assert_eq!(
            tally(&[1, 3, 5, 7, 9, 11, 13]).never_arrived(3),
            (7, "0, 2, 4, …".into())
        );
    }

    #[test]
    fn a_number_no_run_reaches_costs_nothing_and_is_said() {
        let t = tally(&[0, FOLLOWED - 1, 16_777_215, i32::MAX, -7]);
        assert!(t.seen.len() * 8 <= 128 << 10, "{} words", t.seen.len());
        assert_eq!(
            t.summary(),
            "received 5 datagrams, 4 out of order, 1048574 never arrived: 1-1048574; \
             2 numbered 1048576 or more (not followed)"
        );
        assert!(!t.has(16_777_215) && t.has(FOLLOWED - 1) && !t.has(-7));
    }
}
