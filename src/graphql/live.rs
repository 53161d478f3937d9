//! Counters of this instance's open connections and subscriptions: the transports keep them,
//! the admin statistics read them.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

#[derive(Debug, Default)]
pub struct LiveCounters {
    pub connections: AtomicUsize,
    pub subscriptions: AtomicUsize,
}

impl LiveCounters {
    /// `(connections, subscriptions)` open now.
    pub fn snapshot(&self) -> (usize, usize) {
        (
            self.connections.load(Ordering::Relaxed),
            self.subscriptions.load(Ordering::Relaxed),
        )
    }
}

/// Holds one unit of a counter; gives it back when dropped.
pub struct Counted(Arc<LiveCounters>, fn(&LiveCounters) -> &AtomicUsize);

impl Counted {
    pub fn new(live: &Arc<LiveCounters>, which: fn(&LiveCounters) -> &AtomicUsize) -> Self {
        which(live).fetch_add(1, Ordering::Relaxed);
        Counted(live.clone(), which)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::Relaxed);
    }
}
