//! The engine's steps, one market-service call each. Every write runs in a transaction that
//! starts with a fence check, so a deposed leader cannot write.

use chrono::{DateTime, Utc};
use sea_orm::TransactionTrait;
use tokio::sync::Mutex;

use super::{
    Market, MarketStatus, backfill, candles,
    stocks::{self, Listing},
    tick::{self, Simulation},
};
use crate::{
    domain::{Error, Result, events::TickRound},
    infra::lease::Fence,
};

/// What [`Market::apply_state`] found and did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The state at the time asked, as clients see it.
    pub status: MarketStatus,
    /// The applied open/closed state changed in this call.
    pub changed: bool,
    /// When the state next changes by itself (None while an override holds).
    pub next: Option<DateTime<Utc>>,
}

impl Applied {
    /// The market opened in this call: queued orders are due.
    pub fn just_opened(&self) -> bool {
        self.changed && self.status.is_open
    }
}

/// Which round [`Market::round`] plans.
#[derive(Debug, Clone, Copy)]
enum Round {
    /// Every active stock takes a step.
    Tick,
    /// The stocks starting a new trading day take the opening gap.
    Opening,
}

impl Market {
    /// Computes the state due at `now` from hours, holidays and the override, and records it
    /// as applied when it differs from what was applied last.
    pub async fn apply_state(&self, fence: &Fence, now: DateTime<Utc>) -> Result<Applied> {
        let config = self.config().await?;
        let status = config.status(now);
        let changed = status.is_open != config.applied_open;
        if changed {
            let txn = self.db.begin().await?;
            fence.check(&txn).await?;
            super::record_applied(&txn, status.is_open, now).await?;
            txn.commit().await?;
        }
        Ok(Applied {
            next: config.next_transition(now),
            status,
            changed,
        })
    }

    /// One tick round at `now`: moves every active stock one step and writes live prices,
    /// ticks and live candles in one transaction. None when no stock is active. `sim` keeps
    /// the new exact prices only once the round is committed.
    pub async fn tick_round(
        &self,
        fence: &Fence,
        now: DateTime<Utc>,
        sim: &mut Simulation,
    ) -> Result<Option<TickRound>> {
        self.round(fence, now, sim, Round::Tick).await
    }

    /// The opening round at `now`, run when the market opens and before the queued orders:
    /// every active stock still on an older trading day jumps from its last price by the
    /// opening gap and starts the day there, written as a tick round. None (and nothing
    /// written) when every stock has opened already or the gap is off.
    pub async fn opening_round(
        &self,
        fence: &Fence,
        now: DateTime<Utc>,
        sim: &mut Simulation,
    ) -> Result<Option<TickRound>> {
        if self.settings.tick.overnight <= 0.0 {
            return Ok(None);
        }
        self.round(fence, now, sim, Round::Opening).await
    }

    async fn round(
        &self,
        fence: &Fence,
        now: DateTime<Utc>,
        sim: &mut Simulation,
        round: Round,
    ) -> Result<Option<TickRound>> {
        // Where a round's time goes, step by step (debug level: `RUST_LOG=zebrat=debug`).
        let mut lap = Laps::start();
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        let quotes = stocks::list(&txn, Listing::Active).await?;
        lap.done("read");
        let today = now.with_timezone(&self.tz).date_naive();
        let step = self.settings.tick;
        let plan = match round {
            Round::Tick => tick::plan(&quotes, sim, step, today),
            Round::Opening => tick::opening(&quotes, sim, step, today),
        };
        if plan.ticks.is_empty() {
            return Ok(None);
        }
        lap.done("plan");
        stocks::save_live(&txn, &plan.prices, now).await?;
        lap.done("prices");
        candles::record_ticks(&txn, &plan.ticks, now).await?;
        lap.done("ticks");
        let buckets = tick::live_buckets(now, self.tz);
        let ids: Vec<i64> = plan.ticks.iter().map(|t| t.stock_id).collect();
        let stored = candles::current(&txn, &ids, &buckets).await?;
        lap.done("candles_read");
        let live = tick::live_candles(stored, &plan.ticks, &buckets);
        candles::upsert(&txn, &live, now).await?;
        lap.done("candles_write");
        let seq = super::next_round_seq(&txn).await?;
        txn.commit().await?;
        lap.done("commit");
        tracing::debug!(stocks = plan.ticks.len(), laps = %lap, "round stored");
        match round {
            Round::Tick => sim.remember(plan.exact),
            Round::Opening => sim.remember_also(plan.exact),
        }
        Ok(Some(TickRound {
            at: now,
            ticks: plan.ticks,
            candles: live.into_iter().map(candles::Candle::to_update).collect(),
            seq,
        }))
    }

    /// Gives every stock without candles its history, one transaction per stock, each while
    /// holding `writer`: the lock the tick rounds take, so that a round waits for one stock's
    /// history at most rather than for every stock's (10,000 new stocks take minutes).
    pub async fn backfill_missing(&self, fence: &Fence, writer: &Mutex<()>) -> Result<usize> {
        let cal = self.config().await?.calendar;
        let now = self.clock.now();
        let mut written = 0;
        for stock in stocks::list(&self.db, Listing::All).await? {
            let _writing = writer.lock().await;
            let txn = self.db.begin().await?;
            fence.check(&txn).await?;
            written +=
                backfill::ensure_history(&txn, &cal, self.settings.backfill, &stock, now).await?;
            txn.commit().await?;
        }
        Ok(written)
    }

    /// Rebuilds every candle touching `[since, now]` from the stored ticks (idempotent, so
    /// restarts and missed live updates heal), then prunes ticks past their retention. Holds
    /// `writer` (see [`Market::backfill_missing`]) for one stock at a time.
    pub async fn rebuild_candles(
        &self,
        fence: &Fence,
        writer: &Mutex<()>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for stock in stocks::list(&self.db, Listing::All).await? {
            let _writing = writer.lock().await;
            // One transaction per stock: a deposed leader cannot overwrite the new one's.
            let txn = self.db.begin().await?;
            fence.check(&txn).await?;
            candles::rebuild(&txn, stock.id, self.tz, since, now).await?;
            txn.commit().await?;
        }
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        let retention =
            chrono::Duration::from_std(self.settings.tick_retention).map_err(Error::internal)?;
        let pruned = candles::prune_ticks(&txn, now - retention).await?;
        txn.commit().await?;
        if pruned > 0 {
            tracing::debug!(ticks = pruned, "pruned old ticks");
        }
        Ok(())
    }
}

/// Milliseconds per named step, for a round's debug line.
struct Laps {
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Laps {
    fn start() -> Self {
        Laps {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    fn done(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        self.laps
            .push((step, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }
}

impl std::fmt::Display for Laps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (step, ms)) in self.laps.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{step}={ms:.1}ms")?;
        }
        Ok(())
    }
}
