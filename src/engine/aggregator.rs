//! The candle aggregator: backfills history for stocks that have none, then every
//! `CANDLE_AGGREGATION_FREQUENCY` rebuilds recent candles from stored ticks (so restarts and
//! missed updates heal; rebuilding is idempotent) and prunes old ticks.

use chrono::{DateTime, Utc};
use entity::price_ticks;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    app::Services,
    domain::{
        Result,
        lease::Fence,
        market::{
            self, backfill,
            candles::{self, Interval},
            stocks::{self, Listing},
        },
    },
};

pub async fn run(
    services: Services,
    fence: Fence,
    candle_writer: super::CandleWriter,
    shutdown: CancellationToken,
) {
    let span = tracing::info_span!("candle_backfill");
    let guard = candle_writer.lock().await;
    retry!(
        "candle backfill",
        &shutdown,
        backfill_all(&services, &fence).instrument(span.clone())
    );
    drop(guard);
    // The first pass rebuilds the whole current trading day; later ones the recent window.
    let tz = services.config.market_timezone;
    let mut since = Interval::D1.bucket_start(services.clock.now(), tz);
    let every = chrono::Duration::from_std(services.config.candle_aggregation_frequency)
        .unwrap_or(chrono::Duration::minutes(5));
    loop {
        let now = services.clock.now();
        let span = tracing::info_span!("candle_rebuild", since = %since);
        let guard = candle_writer.lock().await;
        retry!(
            "candle rebuild",
            &shutdown,
            rebuild(&services, &fence, since, now).instrument(span.clone())
        );
        drop(guard);
        since = now - every * 2;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = services.clock.sleep_until(now + every) => {}
        }
    }
}

/// Gives every stock without candles its history.
pub async fn backfill_all(services: &Services, fence: &Fence) -> Result<usize> {
    let config = &services.config;
    let cal = market::load_config(&services.db, config.market_timezone)
        .await?
        .calendar;
    let settings = config.backfill_settings();
    let now = services.clock.now();
    let mut written = 0;
    for stock in stocks::list(&services.db, Listing::All).await? {
        // One fenced transaction per stock, like the rebuild.
        let txn = services.db.begin().await?;
        fence.check(&txn).await?;
        written += backfill::ensure_history(&txn, &cal, settings, &stock, now).await?;
        txn.commit().await?;
    }
    if written > 0 {
        tracing::info!(candles = written, "backfilled candle history");
    }
    Ok(written)
}

/// Rebuilds every candle touching `[since, now]` from the ticks, then prunes old ticks.
pub async fn rebuild(
    services: &Services,
    fence: &Fence,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let db = &services.db;
    let tz = services.config.market_timezone;
    let hour_start = Interval::H1.bucket_start(since, tz);
    let day_start = Interval::D1.bucket_start(since, tz);
    for stock in stocks::list(db, Listing::All).await? {
        // One transaction per stock: a deposed leader cannot overwrite the new one's candles.
        let txn = db.begin().await?;
        fence.check(&txn).await?;
        let ticks = price_ticks::Entity::find()
            .filter(price_ticks::Column::StockId.eq(stock.id))
            .filter(price_ticks::Column::At.gte(hour_start))
            .order_by_asc(price_ticks::Column::At)
            .order_by_asc(price_ticks::Column::Id)
            .all(&txn)
            .await?;
        if ticks.is_empty() {
            continue;
        }
        let hourly = candles::aggregate(
            stock.id,
            Interval::H1,
            tz,
            ticks.iter().map(|t| (t.at, t.price_cents)),
        );
        candles::upsert(&txn, &hourly, now).await?;
        // Longer buckets are sums of their hours.
        let day_hours =
            candles::query(&txn, stock.id, Interval::H1, Some(day_start), None, None).await?;
        let mut rolled = candles::roll_up(Interval::H4, tz, &day_hours);
        rolled.retain(|c| c.bucket_start >= Interval::H4.bucket_start(since, tz));
        rolled.extend(candles::roll_up(Interval::D1, tz, &day_hours));
        candles::upsert(&txn, &rolled, now).await?;
        txn.commit().await?;
    }
    let txn = db.begin().await?;
    fence.check(&txn).await?;
    prune(&txn, now - services.config.tick_retention).await?;
    txn.commit().await?;
    Ok(())
}

async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<()> {
    let deleted = price_ticks::Entity::delete_many()
        .filter(price_ticks::Column::At.lt(before))
        .exec(db)
        .await?;
    if deleted.rows_affected > 0 {
        tracing::debug!(ticks = deleted.rows_affected, "pruned old ticks");
    }
    Ok(())
}
