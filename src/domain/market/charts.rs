//! The chart cache: each charted stock's recent candles in one interval, in memory, so that a
//! chart read (`candles`, `Stock.candles`, a candle by its global id) costs no database round
//! trip. The quote board (`board`) does the same for prices.
//!
//! The database stays the source of truth. A series (one stock, one interval) is loaded from it
//! on first read: the candles of the last [`WINDOW`] (and whether older ones exist), kept as
//! the complete candles and the newest one, the only one a tick round can still change. The bus
//! keeps it current: each round's candle for the series replaces the newest or, when its bucket
//! is a later one, closes it (the newest joins the complete ones) and takes its place, exactly
//! as the round's upsert did in the database. A `StocksChanged` event, a gap in the events
//! (this instance fell behind) or in the rounds' numbers (a round this instance never heard of)
//! drops every series, so that the next read reloads it. Every instance follows the same
//! events, so every instance agrees. As a backstop against writes no event announced (the
//! aggregator's rebuild from stored ticks, which writes what the rounds wrote unless one was
//! lost; a command-line edit on another process), a series older than [`MAX_AGE`] is reloaded
//! on its next read. History written for a stock without candles needs no event: an empty
//! series is never kept, and a stock's history is written in one transaction.
//!
//! A read reaching before the window (older candles exist and the window holds too few of the
//! ones asked for) goes to the database, as every read did before.
//!
//! Memory is bounded: at most [`MAX_SERIES`] series (the least recently read one makes room
//! for a new one), each holding at most [`WINDOW`] of candles plus the few buckets rounds add
//! within [`MAX_AGE`]. The largest is an hourly series of a market open around the clock: 744
//! candles of about 72 bytes, some 54 KB; so at most about 54 MB in all, and about 11 MB with
//! the exchange's hours (7 hourly candles a trading day).

use std::{
    cmp::Ordering as Order,
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::candles::{self, Candle, Interval};
use crate::domain::{
    Result,
    events::{Event, TickRound},
};

/// How far back a series reaches when it is loaded: 30 days of charts, and a day more so that
/// a client's "last 30 days" window computed a while ago (a chart left open, a load run) still
/// falls inside it.
pub const WINDOW: chrono::Duration = chrono::Duration::days(31);

/// The most series held at once: a thousand stocks charted in one interval, or every interval
/// of 333 of them.
pub const MAX_SERIES: usize = 1_000;

/// The longest a series is served without a reload.
const MAX_AGE: Duration = Duration::from_secs(30);

/// One stock's stored candles in one interval from `since` on, as this instance knows them.
#[derive(Debug)]
struct Series {
    /// Every candle from `since` on but the newest, oldest first: they no longer change.
    complete: Arc<Vec<Candle>>,
    /// The newest candle: the one a round can still change (or close, starting a later one).
    newest: Candle,
    /// Where the loaded window starts: every stored candle from here on is in the series.
    since: DateTime<Utc>,
    /// Candles before `since` exist: a read that needs them goes to the database.
    older: bool,
    loaded_at: Instant,
    /// When it was last read, on the cache's read counter (for eviction).
    last_read: AtomicU64,
}

impl Series {
    fn new(mut stored: Vec<Candle>, since: DateTime<Utc>, older: bool) -> Option<Self> {
        let newest = stored.pop()?;
        Some(Series {
            complete: Arc::new(stored),
            newest,
            since,
            older,
            loaded_at: Instant::now(),
            last_read: AtomicU64::new(0),
        })
    }

    /// The candle at `i` of complete-then-newest.
    fn at(&self, i: usize) -> Candle {
        self.complete.get(i).copied().unwrap_or(self.newest)
    }

    /// How many candles start before `t`.
    fn before(&self, t: DateTime<Utc>) -> usize {
        let p = self.complete.partition_point(|c| c.bucket_start < t);
        if p == self.complete.len() && self.newest.bucket_start < t {
            p + 1
        } else {
            p
        }
    }

    /// What `candles::query(from, to, Some(limit))` would return from the database: the newest
    /// `limit` candles starting in `[from, to)`, oldest first. `None` when the answer may hold
    /// candles from before the window.
    fn answer(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: u64,
    ) -> Option<Vec<Candle>> {
        let lo = from.map_or(0, |t| self.before(t));
        let hi = to
            .map_or(self.complete.len() + 1, |t| self.before(t))
            .max(lo);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let found = hi - lo;
        let reaches_older = from.is_none_or(|f| f < self.since);
        if found < limit && self.older && reaches_older {
            return None;
        }
        Some((hi - found.min(limit)..hi).map(|i| self.at(i)).collect())
    }

    /// The series after a round stored `update` (its candle of this stock and interval); `None`
    /// when the update is older than the newest candle (the series is not what the database
    /// holds: reload rather than guess).
    fn with(&self, update: Candle) -> Option<Self> {
        let complete = match update.bucket_start.cmp(&self.newest.bucket_start) {
            Order::Equal => self.complete.clone(),
            Order::Greater => {
                // The newest candle's bucket has ended: it is complete now.
                let mut complete = Vec::with_capacity(self.complete.len() + 1);
                complete.extend_from_slice(&self.complete);
                complete.push(self.newest);
                Arc::new(complete)
            }
            Order::Less => return None,
        };
        Some(Series {
            complete,
            newest: update,
            since: self.since,
            older: self.older,
            loaded_at: self.loaded_at,
            last_read: AtomicU64::new(self.last_read.load(Ordering::Relaxed)),
        })
    }
}

type Key = (i64, Interval);

/// The shared cache. Cheap to clone.
#[derive(Clone, Default)]
pub struct ChartCache {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: RwLock<State>,
    /// Rises with every change applied or dropped: a load that saw the database before a change
    /// it did not apply must not be kept.
    generation: AtomicU64,
    /// Counts reads, to find the least recently read series.
    reads: AtomicU64,
}

#[derive(Default)]
struct State {
    series: HashMap<Key, Arc<Series>>,
    /// The number of the last round applied (0: none yet, or rounds of a release without
    /// numbers).
    last_seq: u64,
}

impl ChartCache {
    /// The newest `limit` candles of a stock starting in `[from, to)`, oldest first: from
    /// memory when the loaded window holds them, else from `db`. `now` places the window.
    #[allow(clippy::too_many_arguments)] // the query's own arguments, plus where to read
    pub async fn query(
        &self,
        db: &DatabaseConnection,
        stock_id: i64,
        interval: Interval,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candle>> {
        let key = (stock_id, interval);
        let series = match self.fresh(key) {
            Some(series) => Some(series),
            None => self.load(db, key, now).await?,
        };
        if let Some(found) = series.and_then(|s| s.answer(from, to, limit)) {
            return Ok(found);
        }
        candles::query(db, stock_id, interval, from, to, Some(limit)).await
    }

    /// The series under `key` if it is held and young enough, marked as just read.
    fn fresh(&self, key: Key) -> Option<Arc<Series>> {
        let series = self.inner.state.read().ok()?.series.get(&key)?.clone();
        if series.loaded_at.elapsed() >= MAX_AGE {
            return None;
        }
        let tick = self.inner.reads.fetch_add(1, Ordering::Relaxed);
        series.last_read.store(tick, Ordering::Relaxed);
        Some(series)
    }

    /// Loads the series under `key` from `db` and keeps it unless a change came meanwhile.
    /// `None` when the window holds no candle (not kept: a stock that does not exist, or one
    /// whose history is still being written).
    async fn load(
        &self,
        db: &DatabaseConnection,
        (stock_id, interval): Key,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<Series>>> {
        let generation = self.inner.generation.load(Ordering::Acquire);
        let since = now - WINDOW;
        let stored = candles::query(db, stock_id, interval, Some(since), None, None).await?;
        if stored.is_empty() {
            return Ok(None);
        }
        let older = !candles::query(db, stock_id, interval, None, Some(since), Some(1))
            .await?
            .is_empty();
        let Some(series) = Series::new(stored, since, older) else {
            return Ok(None);
        };
        let series = Arc::new(series);
        series.last_read.store(
            self.inner.reads.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        if let Ok(mut state) = self.inner.state.write()
            && self.inner.generation.load(Ordering::Acquire) == generation
        {
            let key = (stock_id, interval);
            if state.series.len() >= MAX_SERIES && !state.series.contains_key(&key) {
                state.evict_least_recently_read();
            }
            state.series.insert(key, series.clone());
        }
        Ok(Some(series))
    }

    /// Forgets every series: the next reads reload them.
    pub fn invalidate(&self) {
        if let Ok(mut state) = self.inner.state.write() {
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
            state.series.clear();
        }
    }

    /// Applies one delivered event (`None`: events were missed).
    pub fn apply(&self, event: Option<&Event>) {
        match event {
            Some(Event::TickRound(round)) => self.apply_round(round),
            Some(Event::StocksChanged) | None => self.invalidate(),
            Some(_) => {}
        }
    }

    /// The round's candles into the series held (readers keep the ones they hold).
    fn apply_round(&self, round: &TickRound) {
        let Ok(mut state) = self.inner.state.write() else {
            return;
        };
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        let follows = state.last_seq == 0 || round.seq == 0 || round.seq == state.last_seq + 1;
        if round.seq != 0 {
            state.last_seq = round.seq;
        }
        if !follows {
            // A round in between never reached this instance: its closing candles are unknown.
            state.series.clear();
            return;
        }
        for update in &round.candles {
            let key = (update.stock_id, update.interval);
            let Some(series) = state.series.get(&key) else {
                continue; // not held: the next read loads it with this round in it
            };
            match series.with(Candle::from_update(update)) {
                Some(next) => {
                    state.series.insert(key, Arc::new(next));
                }
                None => {
                    state.series.remove(&key);
                }
            }
        }
    }
}

impl State {
    fn evict_least_recently_read(&mut self) {
        let oldest = self
            .series
            .iter()
            .min_by_key(|(_, s)| s.last_read.load(Ordering::Relaxed))
            .map(|(k, _)| *k);
        if let Some(key) = oldest {
            self.series.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::Tick;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn hour(h: u32, close: i64) -> Candle {
        let start = utc("2026-11-25T00:00:00Z") + chrono::Duration::hours(i64::from(h));
        Candle {
            close,
            ..Candle::first(1, Interval::H1, start, 100)
        }
    }

    /// Hours 10 to 14 loaded, the window starting at 10:00 (`older`: earlier hours exist).
    fn series(older: bool) -> Series {
        let stored = (10..15).map(|h| hour(h, i64::from(h))).collect();
        Series::new(stored, hour(10, 0).bucket_start, older).unwrap()
    }

    fn hours(candles: &[Candle]) -> Vec<u32> {
        use chrono::Timelike;
        candles.iter().map(|c| c.bucket_start.hour()).collect()
    }

    #[test]
    fn answers_like_the_database_inside_the_window() {
        let s = series(true);
        let at = |h: u32| Some(hour(h, 0).bucket_start);
        // The newest `limit`, oldest first; `to` exclusive, `from` inclusive.
        assert_eq!(hours(&s.answer(None, None, 2).unwrap()), [13, 14]);
        assert_eq!(hours(&s.answer(None, at(14), 2).unwrap()), [12, 13]);
        assert_eq!(
            hours(&s.answer(at(11), None, 10).unwrap()),
            [11, 12, 13, 14]
        );
        assert_eq!(hours(&s.answer(at(11), at(13), 10).unwrap()), [11, 12]);
        assert_eq!(hours(&s.answer(at(14), None, 1).unwrap()), [14]);
        assert!(s.answer(at(15), None, 10).unwrap().is_empty());
        assert!(s.answer(at(12), at(11), 10).unwrap().is_empty());
        // More than the window holds, with older candles stored: the database's to answer.
        assert!(s.answer(None, None, 6).is_none());
        assert!(s.answer(at(9), None, 6).is_none());
        assert!(s.answer(None, at(10), 1).is_none());
        // Without older candles the window is everything there is.
        let all = series(false);
        assert_eq!(all.answer(None, None, 2_001).unwrap().len(), 5);
        assert!(all.answer(None, at(10), 1).unwrap().is_empty());
    }

    #[test]
    fn a_round_changes_the_newest_candle_or_closes_it() {
        let s = series(true);
        let same = s.with(hour(14, 99)).unwrap();
        assert_eq!(same.complete.len(), 4);
        assert_eq!(same.newest.close, 99);
        assert!(Arc::ptr_eq(&same.complete, &s.complete), "nothing copied");
        let next = same.with(hour(15, 7)).unwrap();
        assert_eq!(hours(&next.complete), [10, 11, 12, 13, 14]);
        assert_eq!(next.complete[4].close, 99, "closed as last updated");
        assert_eq!(next.newest, hour(15, 7));
        assert!(next.with(hour(13, 1)).is_none(), "an older bucket: reload");
    }

    fn round(seq: u64, update: Candle) -> Event {
        Event::TickRound(TickRound {
            at: update.bucket_start,
            ticks: vec![Tick {
                stock_id: update.stock_id,
                symbol: "S".into(),
                price_cents: update.close,
                prev_close_cents: 100,
                day: None,
            }],
            candles: vec![update.to_update()],
            seq,
        })
    }

    fn held(cache: &ChartCache) -> Option<Arc<Series>> {
        cache
            .inner
            .state
            .read()
            .unwrap()
            .series
            .get(&(1, Interval::H1))
            .cloned()
    }

    fn hold(cache: &ChartCache, s: Series) {
        let mut state = cache.inner.state.write().unwrap();
        state.series.insert((1, Interval::H1), Arc::new(s));
    }

    #[test]
    fn rounds_in_sequence_apply_and_a_gap_drops_everything() {
        let cache = ChartCache::default();
        hold(&cache, series(true));
        cache.apply(Some(&round(7, hour(14, 50))));
        cache.apply(Some(&round(8, hour(15, 51))));
        let s = held(&cache).unwrap();
        assert_eq!((s.complete.len(), s.newest), (5, hour(15, 51)));
        // Round 9 never arrived.
        cache.apply(Some(&round(10, hour(15, 52))));
        assert!(held(&cache).is_none());
        // Rounds after it apply again; other events leave the series alone or drop it.
        hold(&cache, series(true));
        cache.apply(Some(&round(11, hour(14, 53))));
        cache.apply(Some(&Event::MarketConfigChanged));
        assert_eq!(held(&cache).unwrap().newest, hour(14, 53));
        for dropping in [Some(Event::StocksChanged), None] {
            hold(&cache, series(true));
            cache.apply(dropping.as_ref());
            assert!(held(&cache).is_none(), "{dropping:?}");
        }
    }

    #[test]
    fn the_least_recently_read_series_makes_room() {
        let mut state = State::default();
        for id in 0..3 {
            let s = series(true);
            s.last_read.store(10 - id as u64, Ordering::Relaxed);
            state.series.insert((id, Interval::H1), Arc::new(s));
        }
        state.evict_least_recently_read();
        let mut left: Vec<i64> = state.series.keys().map(|k| k.0).collect();
        left.sort();
        assert_eq!(left, [0, 1]);
    }
}
