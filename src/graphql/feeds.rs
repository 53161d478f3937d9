//! Public live feeds: ticks, market state, candles. Identical subscriptions to these share one
//! execution per event (see `http::ws`), so resolvers here must not depend on the caller.

use std::{collections::HashSet, sync::Arc};

use async_graphql::{Context, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, stream};
use rust_decimal::Decimal;
use tokio::sync::broadcast;

use super::{
    context::ContextExt,
    error::{ApiError, ApiResult, parse_id},
    market::{Candle, CandleInterval, MarketState, change_percent},
};
use crate::{
    bus::Event,
    domain::{market::candles, money::from_cents},
};

/// Root fields whose answers are the same for every caller.
pub const PUBLIC_FEEDS: &[&str] = &["ticks", "marketState", "candles"];

/// Every root field of `Subscription` (a bounded label set for metrics; a test holds it to
/// the schema).
pub const SUBSCRIPTION_FIELDS: &[&str] = &[
    "ticks",
    "marketState",
    "candles",
    "orderUpdates",
    "portfolio",
    "adminStats",
];

/// One tick round.
#[derive(SimpleObject, Clone)]
pub struct TickBatch {
    /// Increases by one per tick round; a jump tells a subscriber that rounds were missed,
    /// e.g. during a Redis outage.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub ticks: Vec<TickQuote>,
}

#[derive(SimpleObject, Clone)]
pub struct TickQuote {
    pub stock_id: ID,
    pub symbol: String,
    pub price: Decimal,
    pub change: Decimal,
    pub change_percent: Decimal,
}

#[derive(Default)]
pub struct FeedSubscription;

#[Subscription]
impl FeedSubscription {
    /// Every tick round: one event per round with the stocks asked for, by id or by symbol
    /// (all stocks when neither is given).
    async fn ticks(
        &self,
        ctx: &Context<'_>,
        stock_ids: Option<Vec<ID>>,
        #[graphql(desc = "Symbols such as `[\"AAPL\", \"MSFT\"]`, instead of `stockIds`.")]
        symbols: Option<Vec<String>>,
    ) -> async_graphql::Result<impl Stream<Item = TickBatch> + use<>> {
        Ok(tick_stream(ctx, stock_ids, symbols).await?)
    }

    /// The market state: the current one at once, then each open, close or override change.
    async fn market_state(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = MarketState> + use<>> {
        let s = ctx.services();
        // Subscribe before reading, so no change can fall between the two.
        let changes = events(s.bus.subscribe()).filter_map(|e| {
            std::future::ready(match &*e {
                Event::MarketState(s) => Some(s.clone()),
                _ => None,
            })
        });
        let now = s.market.status().await.map_err(ApiError::from)?;
        // Only changes: a state equal to the last one sent (the first read racing the first
        // event, or a new engine leader announcing the state it found) is not sent again.
        let mut last = None;
        Ok(stream::once(std::future::ready(now))
            .chain(changes)
            .filter_map(move |status| {
                let fresh = last.as_ref() != Some(&status);
                last = Some(status.clone());
                std::future::ready(fresh.then(|| MarketState::from(status)))
            }))
    }

    /// The live candle of one stock and interval, each time a tick changes it.
    async fn candles(
        &self,
        ctx: &Context<'_>,
        stock_id: ID,
        interval: CandleInterval,
    ) -> async_graphql::Result<impl Stream<Item = Candle> + use<>> {
        Ok(candle_stream(ctx, stock_id, interval).await?)
    }
}

/// The stock ids a `ticks` subscription asked for (None: all).
async fn wanted_stocks(
    ctx: &Context<'_>,
    stock_ids: Option<Vec<ID>>,
    symbols: Option<Vec<String>>,
) -> Result<Option<HashSet<i64>>, crate::domain::Error> {
    let ids = stock_ids
        .map(|ids| ids.iter().map(|id| parse_id(id, "stockIds")).collect())
        .transpose()?;
    ctx.services().market.watched_stocks(ids, symbols).await
}

async fn tick_stream(
    ctx: &Context<'_>,
    stock_ids: Option<Vec<ID>>,
    symbols: Option<Vec<String>>,
) -> ApiResult<impl Stream<Item = TickBatch> + use<>> {
    let wanted = wanted_stocks(ctx, stock_ids, symbols).await?;
    Ok(events(ctx.services().bus.subscribe()).filter_map(move |e| {
        let Event::TickRound(round) = &*e else {
            return std::future::ready(None);
        };
        let ticks: Vec<TickQuote> = round
            .ticks
            .iter()
            .filter(|t| wanted.as_ref().is_none_or(|w| w.contains(&t.stock_id)))
            .map(|t| TickQuote {
                stock_id: ID(t.stock_id.to_string()),
                symbol: t.symbol.clone(),
                price: from_cents(t.price_cents),
                change: from_cents(t.price_cents - t.prev_close_cents),
                change_percent: change_percent(t.price_cents, t.prev_close_cents),
            })
            .collect();
        let batch = (!ticks.is_empty()).then_some(TickBatch {
            seq: round.seq,
            at: round.at,
            ticks,
        });
        std::future::ready(batch)
    }))
}

async fn candle_stream(
    ctx: &Context<'_>,
    stock_id: ID,
    interval: CandleInterval,
) -> ApiResult<impl Stream<Item = Candle> + use<>> {
    let stock = ctx
        .services()
        .market
        .stock(parse_id(&stock_id, "stockId")?)
        .await?;
    let wanted = candles::Interval::from(interval);
    Ok(events(ctx.services().bus.subscribe()).filter_map(move |e| {
        let Event::TickRound(round) = &*e else {
            return std::future::ready(None);
        };
        let candle = round
            .candles
            .iter()
            .find(|c| c.stock_id == stock.id && c.interval == wanted)
            .map(|c| Candle {
                stock_id: ID(c.stock_id.to_string()),
                interval,
                bucket_start: c.bucket_start,
                open: from_cents(c.open_cents),
                high: from_cents(c.high_cents),
                low: from_cents(c.low_cents),
                close: from_cents(c.close_cents),
                tick_count: c.tick_count,
            });
        std::future::ready(candle)
    }))
}

/// Bus events for this subscriber; one that falls behind skips what it missed.
pub fn events(rx: broadcast::Receiver<Arc<Event>>) -> impl Stream<Item = Arc<Event>> {
    stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    metrics::counter!("zebrat_events_delivered_total", "kind" => event.kind())
                        .increment(1);
                    return Some((event, rx));
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // Which kinds were skipped is unknowable here: counted by consumer.
                    metrics::counter!("zebrat_events_dropped_total", "consumer" => "subscription")
                        .increment(n);
                    tracing::debug!(skipped = n, "feed subscriber lagged");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
