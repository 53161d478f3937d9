//! What this instance remembers of each user's session epoch, so that verifying an access
//! token costs no database read on the hot path. Entries are dropped when a revocation event
//! arrives (from any instance) and expire after a while anyway, so a lost event (Redis down)
//! delays a revocation elsewhere by at most `MAX_AGE` instead of forever.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long an entry is trusted without an event.
const MAX_AGE: Duration = Duration::from_secs(15);
/// Beyond this many users the map starts over rather than growing without limit.
const MAX_USERS: usize = 100_000;

/// A user's session state as the database last said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    pub epoch: i64,
    pub active: bool,
}

#[derive(Default)]
pub struct Epochs {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Moves on every invalidation: a read from the database that started before one may be
    /// stale, and is not remembered.
    generation: u64,
    users: HashMap<i64, (Current, Instant)>,
}

impl Epochs {
    /// The remembered state of `user_id`, if fresh.
    pub fn get(&self, user_id: i64) -> Option<Current> {
        let state = self.lock();
        state
            .users
            .get(&user_id)
            .filter(|(_, read_at)| read_at.elapsed() < MAX_AGE)
            .map(|(current, _)| *current)
    }

    /// Take this before reading the database; pass it to [`Epochs::remember`].
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Remembers what the database said, unless an invalidation arrived since `generation`.
    pub fn remember(&self, generation: u64, user_id: i64, current: Current) {
        let mut state = self.lock();
        if state.generation != generation {
            return;
        }
        if state.users.len() >= MAX_USERS {
            state.users.clear();
        }
        state.users.insert(user_id, (current, Instant::now()));
    }

    /// Forgets `user_id` (their sessions changed).
    pub fn forget(&self, user_id: i64) {
        let mut state = self.lock();
        state.generation += 1;
        state.users.remove(&user_id);
    }

    /// Forgets everyone (events may have been missed).
    pub fn forget_all(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.users.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The map stays consistent whatever a panicking holder did: every write is one call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Current = Current {
        epoch: 3,
        active: true,
    };

    #[test]
    fn remembers_until_forgotten() {
        let epochs = Epochs::default();
        assert_eq!(epochs.get(1), None);
        epochs.remember(epochs.generation(), 1, NOW);
        assert_eq!(epochs.get(1), Some(NOW));
        epochs.forget(1);
        assert_eq!(epochs.get(1), None);
        epochs.remember(epochs.generation(), 1, NOW);
        epochs.forget_all();
        assert_eq!(epochs.get(1), None);
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_remembered() {
        let epochs = Epochs::default();
        let before_read = epochs.generation();
        epochs.forget(2); // a revocation lands while the read is in flight
        epochs.remember(before_read, 1, NOW);
        assert_eq!(epochs.get(1), None);
    }
}
