//! The market service: what the API and the engine ask of the market, one call each (the
//! engine's steps are in `steps`). The storage helpers of the sibling modules take a
//! connection so they compose inside a transaction; this type owns the connection and the
//! settings they need.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

use super::{
    Holiday, MarketCalendar, MarketConfig, MarketStatus, SpecialDay, backfill,
    board::QuoteBoard,
    candles::{Candle, Interval},
    charts::ChartCache,
    stocks::{self, Listing, Quote},
    tick,
};
use crate::{
    clock::SharedClock,
    config::Config,
    domain::{Error, Result},
};

/// Longest range of days one calendar read covers (five years).
pub const MAX_CALENDAR_DAYS: i64 = 5 * 366;
/// Most candles one read returns.
pub const MAX_CANDLES: u64 = 2_000;
/// Most stocks one tick subscription may name.
pub const MAX_WATCHED_STOCKS: usize = 500;
/// Longest symbol a client may send.
const MAX_SYMBOL_LEN: usize = 32;

/// A window of candles as a client asks for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CandleWindow {
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Keep only the newest `last` of the window (1 to `MAX_CANDLES`).
    pub last: Option<i32>,
}

/// Candles of one window, oldest first.
#[derive(Debug, Clone)]
pub struct CandleSeries {
    pub candles: Vec<Candle>,
    /// The window held older candles than these (`last` or `MAX_CANDLES` cut them).
    pub truncated: bool,
}

/// Which candles of a series can still change: a candle is final once its bucket has ended
/// (ticks after that go to the next bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finality {
    /// One flag per candle, in the series' order.
    pub is_final: Vec<bool>,
    /// The latest bucket end (`None` for an empty series).
    pub last_ended: Option<DateTime<Utc>>,
}

impl Finality {
    /// Whether no candle of the series can change any more.
    pub fn all_final(&self) -> bool {
        self.is_final.iter().all(|f| *f)
    }
}

/// What the market service needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub tz: Tz,
    /// Which holidays and early closes the calendar computes.
    pub calendar: MarketCalendar,
    /// How much history a stock without candles gets.
    pub backfill: backfill::Settings,
    /// How long raw ticks are kept before pruning.
    pub tick_retention: std::time::Duration,
    /// One tick round's GBM step.
    pub tick: tick::Step,
}

impl From<&Config> for Settings {
    fn from(config: &Config) -> Self {
        Settings {
            tz: config.market_timezone,
            calendar: config.market_calendar,
            backfill: config.into(),
            tick_retention: config.tick_retention,
            tick: config.into(),
        }
    }
}

/// The market service. Cheap to clone.
#[derive(Clone)]
pub struct Market {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: SharedClock,
    pub(crate) tz: Tz,
    pub(super) settings: Settings,
    /// Every stock's live quote, for the public reads.
    board: QuoteBoard,
    /// The recent candles of the charted stocks, for the chart reads.
    charts: ChartCache,
}

impl Market {
    pub fn new(db: DatabaseConnection, clock: SharedClock, settings: Settings) -> Self {
        Market {
            db,
            clock,
            tz: settings.tz,
            settings,
            board: QuoteBoard::default(),
            charts: ChartCache::default(),
        }
    }

    /// The quote board this service reads from (for the writers that must drop it).
    pub fn board(&self) -> QuoteBoard {
        self.board.clone()
    }

    /// The chart cache this service reads candles from (for the writers that must drop it).
    pub fn charts(&self) -> ChartCache {
        self.charts.clone()
    }

    /// Follows the bus until `shutdown`: the task that keeps this instance's quote board and
    /// chart cache current, both from the same deliveries (`None`: events were missed).
    pub async fn follow(
        self,
        bus: crate::bus::SharedBus,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        crate::bus::follow(bus.as_ref(), &shutdown, |delivery| {
            let event = match &delivery {
                crate::bus::Delivery::Event(event) => Some(event.as_ref()),
                crate::bus::Delivery::Missed(_) => None,
            };
            self.board.apply(event, self.tz);
            self.charts.apply(event);
        })
        .await;
    }

    /// The market's time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// How much history a new stock gets.
    pub fn backfill_settings(&self) -> backfill::Settings {
        self.settings.backfill
    }

    /// Whether the market is open now, and when that changes.
    pub async fn status(&self) -> Result<MarketStatus> {
        Ok(self.config().await?.status(self.clock.now()))
    }

    /// Hours, holidays, the override and the applied state.
    pub async fn config(&self) -> Result<MarketConfig> {
        super::load_config(&self.db, self.tz, self.settings.calendar).await
    }

    /// The days admins listed, oldest first.
    pub async fn holidays(&self) -> Result<Vec<Holiday>> {
        super::holidays(&self.db).await
    }

    /// The days in `[from, to]` (local dates) that differ from their weekday's hours:
    /// computed holidays and early closes, and the days admins listed in their place or
    /// besides. At most [`MAX_CALENDAR_DAYS`] days at once.
    pub async fn special_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<SpecialDay>> {
        if to < from {
            return Err(Error::bad_input("to", "`to` must not be before `from`"));
        }
        if (to - from).num_days() >= MAX_CALENDAR_DAYS {
            return Err(Error::bad_input(
                "to",
                format!("ask for at most {MAX_CALENDAR_DAYS} days at once"),
            ));
        }
        Ok(self.config().await?.calendar.special_days(from, to))
    }

    /// Stocks with their live prices, by symbol (from the quote board).
    pub async fn stocks(&self, listing: Listing) -> Result<Vec<Quote>> {
        Ok(self.board.get(&self.db).await?.list(listing))
    }

    /// One stock by id; NOT_FOUND when unknown.
    pub async fn stock(&self, id: i64) -> Result<Quote> {
        match self.board.get(&self.db).await?.get(id) {
            Some(q) => Ok(q.clone()),
            // Created on another instance a moment ago, its event still on the way?
            None => stocks::by_id(&self.db, id).await,
        }
    }

    /// One stock by symbol (any case, trimmed); NOT_FOUND when unknown.
    pub async fn stock_by_symbol(&self, symbol: &str) -> Result<Quote> {
        let normalized = symbol.trim().to_uppercase();
        match self.board.get(&self.db).await?.by_symbol(&normalized) {
            Some(q) => Ok(q.clone()),
            None => stocks::by_symbol(&self.db, symbol).await,
        }
    }

    /// Stocks by id, unknown ids left out: what DataLoaders call.
    pub async fn stocks_by_ids(&self, ids: &[i64]) -> Result<HashMap<i64, Quote>> {
        let board = self.board.get(&self.db).await?;
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for &id in ids {
            match board.get(id) {
                Some(q) => {
                    found.insert(id, q.clone());
                }
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            found.extend(stocks::by_ids(&self.db, &missing).await?);
        }
        Ok(found)
    }

    /// The stocks a tick subscription watches, by id or by symbol (`None`: every stock).
    /// NOT_FOUND names the first unknown one; asking both ways, or for too many, is refused.
    pub async fn watched_stocks(
        &self,
        ids: Option<Vec<i64>>,
        symbols: Option<Vec<String>>,
    ) -> Result<Option<HashSet<i64>>> {
        let asked = ids.as_ref().map_or(0, Vec::len) + symbols.as_ref().map_or(0, Vec::len);
        if asked > MAX_WATCHED_STOCKS {
            return Err(Error::bad_input(
                "stockIds",
                format!("ask for at most {MAX_WATCHED_STOCKS} stocks (or for none, to get all)"),
            ));
        }
        match (ids, symbols) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(Error::bad_input(
                "symbols",
                "give stockIds or symbols, not both",
            )),
            (Some(ids), None) => {
                let ids: HashSet<i64> = ids.into_iter().collect();
                let known = self
                    .stocks_by_ids(&ids.iter().copied().collect::<Vec<_>>())
                    .await?;
                match ids.iter().find(|id| !known.contains_key(id)) {
                    Some(missing) => Err(Error::NotFound(format!("stock {missing}"))),
                    None => Ok(Some(ids)),
                }
            }
            (None, Some(symbols)) => {
                if symbols.iter().any(|s| s.len() > MAX_SYMBOL_LEN) {
                    return Err(Error::bad_input(
                        "symbols",
                        format!("a symbol is at most {MAX_SYMBOL_LEN} characters"),
                    ));
                }
                let known = stocks::ids_by_symbols(&self.db, &symbols).await?;
                symbols
                    .iter()
                    .map(|s| {
                        let symbol = s.trim().to_uppercase();
                        known
                            .get(&symbol)
                            .copied()
                            .ok_or_else(|| Error::NotFound(format!("stock {symbol}")))
                    })
                    .collect::<Result<HashSet<_>>>()
                    .map(Some)
            }
        }
    }

    /// Candles of a stock in `window`, oldest first: the newest `last` (at most
    /// `MAX_CANDLES`), and whether the window held more. From the chart cache when its window
    /// holds them.
    pub async fn candles(
        &self,
        stock_id: i64,
        interval: Interval,
        window: CandleWindow,
    ) -> Result<CandleSeries> {
        let last = window.checked_last()?;
        // One more than asked tells whether older candles were left out.
        let mut candles = self
            .charts
            .query(
                &self.db,
                stock_id,
                interval,
                window.from,
                window.to,
                last + 1,
                self.clock.now(),
            )
            .await?;
        let truncated = candles.len() as u64 > last;
        if truncated {
            candles.remove(0);
        }
        Ok(CandleSeries { candles, truncated })
    }

    /// Which candles of `series` are final now, on the market clock.
    pub fn finality(&self, series: &CandleSeries) -> Finality {
        let now = self.clock.now();
        Finality {
            is_final: series
                .candles
                .iter()
                .map(|c| c.has_ended(now, self.tz))
                .collect(),
            last_ended: series
                .candles
                .iter()
                .map(|c| c.interval.bucket_end(c.bucket_start, self.tz))
                .max(),
        }
    }

    /// The newest `points` hourly closes (cents) of each stock, oldest first (from the chart
    /// cache, as charts are).
    pub async fn trends(&self, stock_ids: &[i64], points: u64) -> Result<HashMap<i64, Vec<i64>>> {
        let now = self.clock.now();
        let mut out = HashMap::with_capacity(stock_ids.len());
        for &id in stock_ids {
            let hours = self
                .charts
                .query(&self.db, id, Interval::H1, None, None, points, now)
                .await?;
            out.insert(id, hours.into_iter().map(|c| c.close).collect());
        }
        Ok(out)
    }
}

impl CandleWindow {
    /// How many candles to return at most; BAD_USER_INPUT for a `last` out of range or an
    /// empty window.
    fn checked_last(&self) -> Result<u64> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(Error::bad_input("from", "from must be before to"));
        }
        match self.last {
            None => Ok(MAX_CANDLES),
            Some(n) if n >= 1 && n as u64 <= MAX_CANDLES => Ok(n as u64),
            Some(_) => Err(Error::bad_input(
                "last",
                format!("last must be between 1 and {MAX_CANDLES}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn candle_windows_are_checked() {
        let all = CandleWindow::default();
        assert_eq!(all.checked_last().unwrap(), MAX_CANDLES);
        let last = |n| CandleWindow {
            last: Some(n),
            ..Default::default()
        };
        assert_eq!(last(5).checked_last().unwrap(), 5);
        assert_eq!(last(2_000).checked_last().unwrap(), 2_000);
        for bad in [0, -1, 2_001] {
            assert_eq!(
                last(bad).checked_last().unwrap_err().code(),
                "BAD_USER_INPUT"
            );
        }
        let backwards = CandleWindow {
            from: at("2026-03-02T00:00:00Z"),
            to: at("2026-03-01T00:00:00Z"),
            last: None,
        };
        assert_eq!(
            backwards.checked_last().unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        let empty = CandleWindow {
            to: backwards.from,
            ..backwards
        };
        assert!(empty.checked_last().is_err(), "from == to is empty");
    }
}
