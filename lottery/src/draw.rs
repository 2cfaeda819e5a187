//! The lottery's state: up to six distinct numbers from 1 to 45, drawn one per GEN.

use rand::rngs::{StdRng, SysRng};
use rand::{RngExt, SeedableRng};

use crate::proto::{Command, NUMBER_RANGE, Reply, SLOTS};

/// One draw: the numbers so far (0 in the slots not drawn yet) and the generator.
///
/// With a seed ([`Draw::seeded`]) the same GEN sequence gives the same numbers every
/// run, which the docs and tests rely on; [`Draw::from_os`] seeds from the operating
/// system, as the handout's `srand(time(NULL))` meant to.
#[derive(Debug)]
pub struct Draw {
    numbers: [u8; SLOTS],
    count: usize,
    rng: StdRng,
}

impl Draw {
    /// A draw whose numbers follow from `seed`.
    pub fn seeded(seed: u64) -> Draw {
        Draw::with_rng(StdRng::seed_from_u64(seed))
    }

    /// A draw seeded from the operating system's random source.
    pub fn from_os() -> unp::Result<Draw> {
        let rng = StdRng::try_from_rng(&mut SysRng)
            .map_err(|e| unp::Error::msg(format!("getrandom error: {e}")))?;
        Ok(Draw::with_rng(rng))
    }

    fn with_rng(rng: StdRng) -> Draw {
        Draw {
            numbers: [0; SLOTS],
            count: 0,
            rng,
        }
    }

    /// GEN: draws a number not drawn before, or answers `Full` once six exist.
    pub fn generate(&mut self) -> Reply {
        if self.count == SLOTS {
            return Reply::Full;
        }
        let drawn = &self.numbers[..self.count];
        let n = loop {
            let candidate = self.rng.random_range(NUMBER_RANGE);
            if !drawn.contains(&candidate) {
                break candidate;
            }
        };
        self.numbers[self.count] = n;
        self.count += 1;
        Reply::NewNumber(n)
    }

    /// LIST: the six slots, 0 where nothing was drawn yet.
    pub fn list(&self) -> Reply {
        Reply::Numbers(self.numbers)
    }

    /// The reply to `command`; `None` for END, which gets no reply.
    pub fn answer(&mut self, command: Command) -> Option<Reply> {
        match command {
            Command::Gen => Some(self.generate()),
            Command::List => Some(self.list()),
            Command::End => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn six(draw: &mut Draw) -> Vec<u8> {
        (0..SLOTS)
            .map(|_| match draw.generate() {
                Reply::NewNumber(n) => n,
                other => panic!("expected a number, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn six_distinct_numbers_in_range_then_full() {
        for seed in 0..200 {
            let mut d = Draw::seeded(seed);
            assert_eq!(d.list(), Reply::Numbers([0; SLOTS]));
            let mut got = six(&mut d);
            assert_eq!(d.list(), Reply::Numbers(got.clone().try_into().unwrap()));
            assert_eq!(d.generate(), Reply::Full);
            assert_eq!(d.generate(), Reply::Full);
            assert!(got.iter().all(|n| NUMBER_RANGE.contains(n)), "{got:?}");
            got.sort_unstable();
            got.dedup();
            assert_eq!(got.len(), SLOTS, "seed {seed}");
        }
    }

    #[test]
    fn same_seed_same_draw_different_seed_different_draw() {
        assert_eq!(six(&mut Draw::seeded(7)), six(&mut Draw::seeded(7)));
        assert_ne!(six(&mut Draw::seeded(7)), six(&mut Draw::seeded(8)));
    }

    #[test]
    fn end_has_no_reply() {
        let mut d = Draw::seeded(1);
        assert_eq!(d.answer(Command::End), None);
        assert!(matches!(d.answer(Command::Gen), Some(Reply::NewNumber(_))));
    }
}
