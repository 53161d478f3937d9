//! Public live feeds: ticks, market state, live candles. Identical subscriptions to these
//! share one execution per event (see `http::ws`), so resolvers here must not depend on the
//! caller.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{ComplexObject, Context, ID, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast;

use super::{
    connection::{UNCAPPED_LIST, list_cost},
    context::ContextExt,
    error::{ApiError, ApiResult},
    market::{Candle, CandleInterval, MarketState, Stock, StockRef, change_percent},
    node::{Kind, global_id, row_id},
    scalars::{DateTime, Decimal, money},
    trading::find_stock,
};
use crate::{
    bus::Event,
    domain::{
        Error,
        events::{Tick, TickRound},
        market::candles,
    },
};

/// Root fields whose answers are the same for every caller.
pub const PUBLIC_FEEDS: &[&str] = &["ticks", "marketState", "liveCandle"];

/// Every root field of `Subscription` (a bounded label set for metrics; a test holds it to
/// the schema).
pub const SUBSCRIPTION_FIELDS: &[&str] = &[
    "ticks",
    "marketState",
    "liveCandle",
    "orderUpdates",
    "portfolio",
    "adminStats",
    "portfolioHistory",
    "leaderboard",
];

/// Most stocks one `liveCandle` subscription follows.
const MAX_LIVE_CANDLES: usize = 50;

/// One tick round: the stocks asked for that moved.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct TickBatch {
    /// Increases by one per tick round; a jump tells a subscriber that rounds were missed,
    /// e.g. during a Redis outage.
    pub seq: u64,
    /// When the round was priced.
    pub at: DateTime,
    #[graphql(skip)]
    round: Arc<Event>,
    #[graphql(skip)]
    wanted: Option<Arc<HashSet<i64>>>,
}

impl TickBatch {
    fn round(&self) -> Option<&TickRound> {
        match &*self.round {
            Event::TickRound(round) => Some(round),
            _ => None,
        }
    }

    fn moved(&self) -> impl Iterator<Item = &Tick> {
        self.round()
            .into_iter()
            .flat_map(|r| r.ticks.iter())
            .filter(|t| self.wanted.as_ref().is_none_or(|w| w.contains(&t.stock_id)))
    }
}

#[ComplexObject]
impl TickBatch {
    /// The moved stocks' prices: the light shape, for tick feeds that keep their own state.
    #[graphql(complexity = "list_cost(UNCAPPED_LIST, child_complexity)")]
    async fn ticks(&self) -> Vec<TickQuote> {
        self.moved()
            .map(|t| TickQuote {
                stock_id: global_id(Kind::Stock, t.stock_id),
                symbol: t.symbol.clone(),
                price: money(t.price_cents),
                change: money(t.price_cents - t.prev_close_cents),
                change_percent: change_percent(t.price_cents, t.prev_close_cents),
            })
            .collect()
    }

    /// The moved stocks as `Stock` (price, change, day open, high and low): a normalized
    /// client cache updates every view of these stocks with no code of its own.
    #[graphql(complexity = "list_cost(UNCAPPED_LIST, child_complexity)")]
    async fn stocks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stock>> {
        let at = self.round().map(|r| r.at);
        let mut stocks = Vec::new();
        for tick in self.moved() {
            match (&tick.day, at) {
                (Some(day), Some(at)) => stocks.push(Stock::from_tick(tick, day, at)),
                // A round from the previous release: read the stock instead.
                _ => stocks.extend(find_stock(ctx, tick.stock_id).await?),
            }
        }
        Ok(stocks)
    }
}

/// One stock's move in a tick round.
#[derive(SimpleObject, Clone)]
pub struct TickQuote {
    /// The stock's global id.
    pub stock_id: ID,
    /// Ticker symbol, e.g. `"AAPL"`.
    pub symbol: String,
    /// The new last price.
    pub price: Decimal,
    /// `price - previousClose`.
    pub change: Decimal,
    /// `change / previousClose` in percent, two decimals.
    pub change_percent: Decimal,
}

#[derive(Default)]
pub struct FeedSubscription;

#[Subscription]
impl FeedSubscription {
    /// Every tick round: one event per round with the stocks asked for, by id or by symbol
    /// (all stocks when neither is given). Public. Rounds in which none of them moved are
    /// not sent.
    async fn ticks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids of the stocks to follow.")] stock_ids: Option<Vec<ID>>,
        #[graphql(desc = "Symbols such as `[\"AAPL\", \"MSFT\"]`, instead of `stockIds`.")]
        symbols: Option<Vec<String>>,
    ) -> async_graphql::Result<impl Stream<Item = TickBatch> + use<>> {
        Ok(tick_stream(ctx, stock_ids, symbols).await?)
    }

    /// The market state: the current one at once, then each open, close or override change.
    /// Public.
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

    /// The live candles of one or more stocks in one interval, each time a tick changes one.
    /// When a bucket ends, its candle is sent once more with `isFinal: true` before the first
    /// candle of the next bucket. Public. NOT_FOUND for an unknown stock.
    async fn live_candle(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stocks, by global id or symbol (1–50).")] stocks: Vec<StockRef>,
        #[graphql(desc = "The candle length.")] interval: CandleInterval,
    ) -> async_graphql::Result<impl Stream<Item = Candle> + use<>> {
        Ok(candle_stream(ctx, stocks, interval).await?)
    }
}

/// The stock ids a `ticks` subscription asked for (None: all).
async fn wanted_stocks(
    ctx: &Context<'_>,
    stock_ids: Option<Vec<ID>>,
    symbols: Option<Vec<String>>,
) -> Result<Option<HashSet<i64>>, Error> {
    let ids = stock_ids
        .map(|ids| {
            ids.iter()
                .map(|id| row_id(id, Kind::Stock, "stockIds"))
                .collect()
        })
        .transpose()?;
    ctx.services().market.watched_stocks(ids, symbols).await
}

async fn tick_stream(
    ctx: &Context<'_>,
    stock_ids: Option<Vec<ID>>,
    symbols: Option<Vec<String>>,
) -> ApiResult<impl Stream<Item = TickBatch> + use<>> {
    let wanted = wanted_stocks(ctx, stock_ids, symbols).await?.map(Arc::new);
    Ok(events(ctx.services().bus.subscribe()).filter_map(move |e| {
        let batch = match &*e {
            Event::TickRound(round) => Some(TickBatch {
                seq: round.seq,
                at: round.at.into(),
                round: e.clone(),
                wanted: wanted.clone(),
            }),
            _ => None,
        }
        .filter(|b| b.moved().next().is_some());
        std::future::ready(batch)
    }))
}

async fn candle_stream(
    ctx: &Context<'_>,
    refs: Vec<StockRef>,
    interval: CandleInterval,
) -> ApiResult<impl Stream<Item = Candle> + use<>> {
    if refs.is_empty() || refs.len() > MAX_LIVE_CANDLES {
        return Err(
            Error::bad_input("stocks", format!("follow 1 to {MAX_LIVE_CANDLES} stocks")).into(),
        );
    }
    let mut wanted = HashSet::new();
    for r in &refs {
        wanted.insert(r.resolve(ctx, "stocks").await?.0);
    }
    let interval = candles::Interval::from(interval);
    // The last candle sent per stock: sent again as final when its bucket ends.
    let mut open: HashMap<i64, candles::Candle> = HashMap::new();
    Ok(events(ctx.services().bus.subscribe()).flat_map(move |e| {
        let mut out = Vec::new();
        if let Event::TickRound(round) = &*e {
            for c in &round.candles {
                if c.interval != interval || !wanted.contains(&c.stock_id) {
                    continue;
                }
                let candle = candles::Candle::from_update(c);
                if let Some(previous) = open.insert(c.stock_id, candle)
                    && previous.bucket_start < candle.bucket_start
                {
                    out.push(Candle::new(previous, true));
                }
                out.push(Candle::new(candle, false));
            }
        }
        stream::iter(out)
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
