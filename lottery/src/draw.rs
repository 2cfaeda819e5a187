//! The lottery's state: up to six distinct numbers from 1 to 45, drawn one per GEN;
//! and which draw each session answers from ([`Draws`]).

use std::sync::{Arc, Mutex, PoisonError};

use rand::rngs::{StdRng, SysRng};
use rand::{RngExt, SeedableRng};
use unp::serve::Concurrency;

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

/// Where the numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeding {
    /// The same numbers every run (docs, tests).
    Fixed(u64),
    /// Seeded from the operating system.
    Os,
}

impl Seeding {
    /// A fresh draw.
    pub fn new_draw(self) -> unp::Result<Draw> {
        match self {
            Seeding::Fixed(seed) => Ok(Draw::seeded(seed)),
            Seeding::Os => Draw::from_os(),
        }
    }
}

/// Which draw each session of a server answers from.
///
/// - One client at a time: one draw for the server's whole life; a client that leaves
///   without END hands it on to the next.
/// - A thread per client: the same, one draw shared by all threads under a mutex; six
///   numbers in all, whoever asks.
/// - A process per client: each child draws its own. A child gets a *copy* of the
///   parent's memory, and processes share nothing unless told to. The child makes its
///   draw itself, *after* the fork: seeded from the OS before the fork, every child
///   would copy the same generator state and every client would draw the same numbers.
///   With a fixed seed every child starts the same sequence (reproducible sessions).
#[derive(Debug, Clone)]
pub enum Draws {
    /// One draw for every session.
    Shared(Arc<Mutex<Draw>>),
    /// A new draw per session, made in the session.
    PerSession(Seeding),
}

impl Draws {
    /// The draws of a server that serves clients the way `how` says.
    pub fn new(how: Concurrency, seeding: Seeding) -> unp::Result<Draws> {
        Ok(match how {
            Concurrency::ProcessPerClient => {
                // One draw made here and thrown away, before any fork: what a first draw
                // sets up once (finding getrandom, probing the CPU for the generator's
                // fastest code) is then done once, and every child inherits it instead of
                // redoing it per client. It also proves the random source works before
                // the first client comes. The children still seed their own draws.
                seeding.new_draw()?.generate();
                Draws::PerSession(seeding)
            }
            Concurrency::OneAtATime | Concurrency::ThreadPerClient => {
                Draws::Shared(Arc::new(Mutex::new(seeding.new_draw()?)))
            }
        })
    }

    /// The draw a session starts with; called in the session (in a forked child, after
    /// the fork).
    pub fn for_session(&self) -> unp::Result<SessionDraw> {
        match self {
            Draws::Shared(shared) => Ok(SessionDraw::Shared(Arc::clone(shared))),
            Draws::PerSession(seeding) => Ok(SessionDraw::Own(seeding.new_draw()?)),
        }
    }
}

/// The draw one session answers from.
// Own is large (the generator's state) on purpose: boxed, it would be a heap allocation
// in every forked child.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum SessionDraw {
    /// A forked child's: a plain value in the child's memory, which nobody else can
    /// see, so there is nothing to lock.
    Own(Draw),
    /// The server's one draw, behind a mutex: the threads (or the sessions one after
    /// another) share it.
    Shared(Arc<Mutex<Draw>>),
}

impl SessionDraw {
    /// [`Draw::answer`]; a shared draw is locked for just that moment.
    pub fn answer(&mut self, command: Command) -> Option<Reply> {
        match self {
            SessionDraw::Own(draw) => draw.answer(command),
            SessionDraw::Shared(shared) => {
                // A session that panicked cannot leave the draw half-updated (each
                // update is one assignment), so a poisoned lock is still usable.
                let mut draw = shared.lock().unwrap_or_else(PoisonError::into_inner);
                draw.answer(command)
            }
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

    #[test]
    fn shared_draws_are_one_draw_per_session_draws_are_fresh() {
        let first = six(&mut Draw::seeded(3))[0];
        for how in [Concurrency::OneAtATime, Concurrency::ThreadPerClient] {
            let draws = Draws::new(how, Seeding::Fixed(3)).unwrap();
            let (mut a, mut b) = (draws.for_session().unwrap(), draws.for_session().unwrap());
            assert_eq!(a.answer(Command::Gen), Some(Reply::NewNumber(first)));
            assert_ne!(b.answer(Command::Gen), Some(Reply::NewNumber(first)));
        }
        let draws = Draws::new(Concurrency::ProcessPerClient, Seeding::Fixed(3)).unwrap();
        for _ in 0..2 {
            let mut s = draws.for_session().unwrap();
            assert_eq!(s.answer(Command::Gen), Some(Reply::NewNumber(first)));
        }
    }
}
