//! The quote board: every stock with its live price, in memory, so that the public reads
//! (`stocks`, `stock`, the stocks behind positions and ticks) cost no database round trip.
//!
//! The database stays the source of truth. The board is loaded from it on first use, then
//! kept current by the bus: each tick round overwrites the prices of the stocks it moved, and
//! a `StocksChanged` event (a stock created, renamed, halted or resumed, on any instance) or
//! a gap in the events (this instance fell behind) drops it so that the next read reloads it.
//! Every instance follows the same events, so every instance agrees. As a backstop against
//! changes no event announced (e.g. a command-line edit on another process), a board older
//! than `MAX_AGE` is reloaded on its next read. One read reloads it while the others that
//! need it wait for that load: a thousand account feeds executing in the same round after the
//! board aged out cost one load, not a thousand.
//!
//! Transactions never read the board: the order path reads prices inside its own transaction.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

use super::stocks::{self, Listing, Quote};
use crate::domain::{
    Result,
    events::{Event, TickRound},
};

/// The longest a board is served without a reload.
const MAX_AGE: Duration = Duration::from_secs(30);

/// Every stock, halted ones included, by symbol.
#[derive(Debug)]
pub struct Board {
    quotes: Vec<Quote>,
    by_id: HashMap<i64, usize>,
    loaded_at: Instant,
}

impl Board {
    fn new(quotes: Vec<Quote>, loaded_at: Instant) -> Self {
        let by_id = quotes.iter().enumerate().map(|(i, q)| (q.id, i)).collect();
        Board {
            quotes,
            by_id,
            loaded_at,
        }
    }

    /// The stocks of a listing, by symbol.
    pub fn list(&self, listing: Listing) -> Vec<Quote> {
        self.quotes
            .iter()
            .filter(|q| listing == Listing::All || q.active)
            .cloned()
            .collect()
    }

    pub fn get(&self, id: i64) -> Option<&Quote> {
        self.by_id.get(&id).map(|&i| &self.quotes[i])
    }

    /// The stock with this symbol (already normalized: trimmed, upper case).
    pub fn by_symbol(&self, symbol: &str) -> Option<&Quote> {
        self.quotes.iter().find(|q| q.symbol == symbol)
    }
}

/// The shared board. Cheap to clone.
#[derive(Clone, Default)]
pub struct QuoteBoard {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    board: RwLock<Option<Arc<Board>>>,
    /// Rises with every change applied or dropped: a load that saw the database before a change
    /// it did not apply must not be kept.
    generation: AtomicU64,
    /// Held by the one read that is loading the board.
    loading: tokio::sync::Mutex<()>,
}

impl QuoteBoard {
    /// The current board, loaded from `db` when there is none or it is too old.
    pub async fn get(&self, db: &DatabaseConnection) -> Result<Arc<Board>> {
        if let Some(board) = self.fresh() {
            return Ok(board);
        }
        let _loading = self.inner.loading.lock().await;
        // Loaded by the read this one waited for.
        if let Some(board) = self.fresh() {
            return Ok(board);
        }
        let generation = self.inner.generation.load(Ordering::Acquire);
        let board = Arc::new(Board::new(
            stocks::list(db, Listing::All).await?,
            Instant::now(),
        ));
        if let Ok(mut slot) = self.inner.board.write()
            && self.inner.generation.load(Ordering::Acquire) == generation
        {
            *slot = Some(board.clone());
        }
        Ok(board)
    }

    /// The board, unless there is none or it is too old.
    fn fresh(&self) -> Option<Arc<Board>> {
        let board = self.inner.board.read().ok()?.clone()?;
        (board.loaded_at.elapsed() < MAX_AGE).then_some(board)
    }

    /// Forgets the board: the next read reloads it.
    pub fn invalidate(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut slot) = self.inner.board.write() {
            *slot = None;
        }
    }

    /// Applies one delivered event (`None`: events were missed).
    pub fn apply(&self, event: Option<&Event>, tz: Tz) {
        match event {
            Some(Event::TickRound(round)) => self.apply_round(round, tz),
            Some(Event::StocksChanged) | None => self.invalidate(),
            Some(_) => {}
        }
    }

    /// The round's prices into a copy of the board (readers keep the one they hold).
    fn apply_round(&self, round: &TickRound, tz: Tz) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        let Ok(mut slot) = self.inner.board.write() else {
            return;
        };
        let Some(board) = slot.as_ref() else {
            return; // nothing loaded: the next read loads the round from the database
        };
        let mut quotes = board.quotes.clone();
        let session_date = round.at.with_timezone(&tz).date_naive();
        for tick in &round.ticks {
            let Some(&i) = board.by_id.get(&tick.stock_id) else {
                // A stock this board does not know: reload rather than guess the rest of it.
                *slot = None;
                return;
            };
            let q = &mut quotes[i];
            q.last_cents = tick.price_cents;
            q.prev_close_cents = tick.prev_close_cents;
            q.updated_at = round.at;
            q.session_date = session_date;
            match &tick.day {
                Some(day) => {
                    q.name.clone_from(&day.name);
                    q.open_cents = day.open_cents;
                    q.high_cents = day.high_cents;
                    q.low_cents = day.low_cents;
                }
                None => {
                    // A round from the previous release: the day's range from the price alone.
                    q.high_cents = q.high_cents.max(tick.price_cents);
                    q.low_cents = q.low_cents.min(tick.price_cents);
                }
            }
        }
        *slot = Some(Arc::new(Board {
            quotes,
            by_id: board.by_id.clone(),
            loaded_at: board.loaded_at,
        }));
    }
}
