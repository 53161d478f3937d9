//! The price ticker: every `TICK_INTERVAL_SECS` while the market is open, one round moves
//! every active stock, writes prices, ticks and live candles in one transaction, then
//! publishes ONE event with everything that moved.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{price_ticks, prices_live};
use rand::{SeedableRng, rngs::StdRng};
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::Ctx;
use crate::{
    bus::{
        Event,
        events::{Tick, TickRound},
    },
    domain::{
        Error, Result,
        market::{
            candles::{self, Candle, Interval},
            gbm::{self, Params},
            stocks::{self, Listing},
        },
    },
    infra::lease::Fence,
};

pub async fn run(
    services: Ctx,
    fence: Fence,
    mut open: watch::Receiver<bool>,
    candle_writer: super::CandleWriter,
    shutdown: CancellationToken,
) {
    let mut ticker = Ticker {
        rng: match services.config.sim_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        },
        exact: HashMap::new(),
        services,
        fence,
    };
    let interval = chrono::Duration::from_std(ticker.services.config.tick_interval)
        .unwrap_or(chrono::Duration::seconds(2));
    loop {
        // Sleep while closed.
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = open.wait_for(|open| *open) => if changed.is_err() { return },
        }
        let next = ticker.services.clock.now() + interval;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.services.clock.sleep_until(next) => {}
        }
        if !*open.borrow() {
            continue;
        }
        let now = ticker.services.clock.now();
        let span = tracing::info_span!("tick_round", at = %now);
        let guard = candle_writer.lock().await;
        let round = retry!(
            "tick round",
            &shutdown,
            ticker.round(now).instrument(span.clone())
        );
        drop(guard);
        if let Some(round) = round
            && let Err(e) = ticker.services.bus.publish(Event::TickRound(round)).await
        {
            tracing::warn!(error = %e, "publishing a tick round");
        }
        // Orders queued while the market was opening (or left by a failed pass) run now.
        if let Err(e) = ticker.services.trading.execute_queued(&ticker.fence).await {
            tracing::warn!(error = %e, "running queued orders");
        }
    }
}

struct Ticker {
    services: Ctx,
    fence: Fence,
    rng: StdRng,
    /// Unrounded prices, so sub-cent moves accumulate instead of being rounded away.
    exact: HashMap<i64, f64>,
}

impl Ticker {
    async fn round(&mut self, now: DateTime<Utc>) -> Result<Option<TickRound>> {
        let config = &self.services.config;
        let tz = config.market_timezone;
        let txn = self.services.db.begin().await?;
        self.fence.check(&txn).await?;
        let quotes = stocks::list(&txn, Listing::Active).await?;
        if quotes.is_empty() {
            return Ok(None);
        }
        let today = now.with_timezone(&tz).date_naive();
        let secs = config.tick_interval.as_secs_f64();
        let mut ticks = Vec::with_capacity(quotes.len());
        for q in &quotes {
            let start = self
                .exact
                .get(&q.id)
                .copied()
                .filter(|p| gbm::to_cents(*p) == q.last_cents) // changed elsewhere: resync
                .unwrap_or(q.last_cents as f64 / 100.0);
            let params = Params::for_step(q.drift, q.volatility, secs, config.max_tick_pct);
            let exact = params.step(start, &mut self.rng);
            self.exact.insert(q.id, exact);
            let price = gbm::to_cents(exact);
            // A new trading day starts from yesterday's last price.
            let (open, high, low, prev_close) = if q.session_date == today {
                (
                    q.open_cents,
                    q.high_cents.max(price),
                    q.low_cents.min(price),
                    q.prev_close_cents,
                )
            } else {
                (price, price, price, q.last_cents)
            };
            prices_live::ActiveModel {
                stock_id: Set(q.id),
                last_cents: Set(price),
                open_cents: Set(open),
                high_cents: Set(high),
                low_cents: Set(low),
                prev_close_cents: Set(prev_close),
                change_cents: Set(price - prev_close),
                session_date: Set(today),
                updated_at: Set(now),
            }
            .update(&txn)
            .await?;
            ticks.push(Tick {
                stock_id: q.id,
                symbol: q.symbol.clone(),
                price_cents: price,
                prev_close_cents: prev_close,
            });
        }
        price_ticks::Entity::insert_many(ticks.iter().map(|t| price_ticks::ActiveModel {
            stock_id: Set(t.stock_id),
            price_cents: Set(t.price_cents),
            at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
        let candles = live_candles(&txn, &ticks, now, tz).await?;
        candles::upsert(&txn, &candles, now).await?;
        txn.commit().await?;
        Ok(Some(TickRound {
            at: now,
            ticks,
            candles: candles.into_iter().map(Candle::to_update).collect(),
        }))
    }
}

/// The current candle of every interval, with this round's price added.
async fn live_candles(
    conn: &impl sea_orm::ConnectionTrait,
    ticks: &[Tick],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<Vec<Candle>> {
    let ids: Vec<i64> = ticks.iter().map(|t| t.stock_id).collect();
    let starts: Vec<_> = Interval::ALL
        .iter()
        .map(|i| (*i, i.bucket_start(now, tz)))
        .collect();
    let mut stored = candles::current(conn, &ids, &starts).await?;
    let mut out = Vec::with_capacity(ticks.len() * starts.len());
    for t in ticks {
        for &(interval, start) in &starts {
            let candle = match stored.remove(&(t.stock_id, interval)) {
                Some(mut c) => {
                    c.push(t.price_cents);
                    c
                }
                None => Candle::first(t.stock_id, interval, start, t.price_cents),
            };
            out.push(candle);
        }
    }
    if out.is_empty() {
        return Err(Error::internal("no candles for a non-empty round"));
    }
    Ok(out)
}
