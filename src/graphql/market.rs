//! Market data: state, hours, holidays, stocks with live prices, candles.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{
    context::ContextExt,
    error::{ApiResult, parse_id},
};
use crate::{
    domain::events::MarketStatus,
    domain::{
        Error,
        market::{
            self, CandleWindow,
            candles::{self, Interval},
            stocks::{Listing, Quote},
        },
        money::from_cents,
    },
    services::Services,
};

/// Points in a stock's `trend`.
pub const TREND_POINTS: u64 = 24;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CandleInterval {
    H1,
    H4,
    D1,
}

impl From<CandleInterval> for Interval {
    fn from(i: CandleInterval) -> Self {
        match i {
            CandleInterval::H1 => Interval::H1,
            CandleInterval::H4 => Interval::H4,
            CandleInterval::D1 => Interval::D1,
        }
    }
}

impl From<Interval> for CandleInterval {
    fn from(i: Interval) -> Self {
        match i {
            Interval::H1 => CandleInterval::H1,
            Interval::H4 => CandleInterval::H4,
            Interval::D1 => CandleInterval::D1,
        }
    }
}

/// Whether the market is open, and why.
#[derive(SimpleObject, Clone)]
pub struct MarketState {
    pub is_open: bool,
    /// An emergency override holds the market open or closed regardless of the schedule.
    pub emergency: bool,
    pub reason: Option<String>,
    /// Next scheduled opening (null while an override holds).
    pub next_open: Option<DateTime<Utc>>,
    /// Next scheduled closing (null while an override holds).
    pub next_close: Option<DateTime<Utc>>,
    /// IANA name of the market time zone, e.g. `America/New_York`.
    pub timezone: String,
}

impl From<MarketStatus> for MarketState {
    fn from(s: MarketStatus) -> Self {
        MarketState {
            is_open: s.is_open,
            emergency: s.emergency,
            reason: s.reason,
            next_open: s.next_open,
            next_close: s.next_close,
            timezone: s.timezone,
        }
    }
}

/// Trading hours of one weekday, in the market time zone.
#[derive(SimpleObject)]
pub struct MarketDay {
    /// Monday = 0 … Sunday = 6.
    pub day: i32,
    /// Opening time, `HH:MM`.
    pub open: String,
    /// Closing time, `HH:MM`.
    pub close: String,
    /// No trading at all on this weekday.
    pub closed: bool,
}

#[derive(SimpleObject)]
pub struct Holiday {
    pub id: ID,
    pub date: NaiveDate,
    pub name: String,
}

impl From<market::Holiday> for Holiday {
    fn from(h: market::Holiday) -> Self {
        Holiday {
            id: ID(h.id.to_string()),
            date: h.date,
            name: h.name,
        }
    }
}

/// One OHLC candle. Buckets are in the market time zone; `D1` is the trading day.
#[derive(SimpleObject, Clone)]
pub struct Candle {
    pub stock_id: ID,
    pub interval: CandleInterval,
    pub bucket_start: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub tick_count: i64,
}

impl From<candles::Candle> for Candle {
    fn from(c: candles::Candle) -> Self {
        Candle {
            stock_id: ID(c.stock_id.to_string()),
            interval: c.interval.into(),
            bucket_start: c.bucket_start,
            open: from_cents(c.open),
            high: from_cents(c.high),
            low: from_cents(c.low),
            close: from_cents(c.close),
            tick_count: c.tick_count,
        }
    }
}

/// A stock with its live price.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Stock {
    pub id: ID,
    pub symbol: String,
    pub name: String,
    /// Inactive stocks are halted: no ticks, no new orders.
    pub active: bool,
    /// Last price.
    pub price: Decimal,
    /// `price - previousClose`.
    pub change: Decimal,
    /// `change / previousClose` in percent, two decimals.
    pub change_percent: Decimal,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub previous_close: Decimal,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<Quote> for Stock {
    fn from(q: Quote) -> Self {
        Stock {
            id: ID(q.id.to_string()),
            symbol: q.symbol,
            name: q.name,
            active: q.active,
            price: from_cents(q.last_cents),
            change: from_cents(q.last_cents - q.prev_close_cents),
            change_percent: change_percent(q.last_cents, q.prev_close_cents),
            open: from_cents(q.open_cents),
            high: from_cents(q.high_cents),
            low: from_cents(q.low_cents),
            previous_close: from_cents(q.prev_close_cents),
            updated_at: q.updated_at,
            stock_id: q.id,
        }
    }
}

/// Percent change, always with two decimals.
pub fn change_percent(last_cents: i64, prev_close_cents: i64) -> Decimal {
    percent(last_cents - prev_close_cents, prev_close_cents)
}

/// `part / whole` in percent, always with two decimals (`"0.00"`, not `"0"`).
pub fn percent(part: i64, whole: i64) -> Decimal {
    let mut p = if whole == 0 {
        Decimal::ZERO
    } else {
        (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(2)
    };
    p.rescale(2);
    p
}

#[ComplexObject]
impl Stock {
    /// The last 24 hourly closes, oldest first: enough for a sparkline.
    async fn trend(&self, ctx: &Context<'_>) -> ApiResult<Vec<Decimal>> {
        let loader = ctx.data::<DataLoader<TrendLoader>>()?;
        let closes = loader
            .load_one(self.stock_id)
            .await
            .map_err(Error::internal)?;
        Ok(closes
            .unwrap_or_default()
            .into_iter()
            .map(from_cents)
            .collect())
    }

    /// Candles of this stock; see `Query.candles`.
    async fn candles(
        &self,
        ctx: &Context<'_>,
        interval: CandleInterval,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        last: Option<i32>,
    ) -> ApiResult<Vec<Candle>> {
        load_candles(ctx.services(), self.stock_id, interval, from, to, last).await
    }
}

/// Loads trends for all stocks of a response in one pass.
pub struct TrendLoader(pub Services);

impl Loader<i64> for TrendLoader {
    type Value = Vec<i64>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<i64>>, Self::Error> {
        self.0
            .market
            .trends(keys, TREND_POINTS)
            .await
            .map_err(Arc::new)
    }
}

async fn load_candles(
    services: &Services,
    stock_id: i64,
    interval: CandleInterval,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    last: Option<i32>,
) -> ApiResult<Vec<Candle>> {
    let window = CandleWindow { from, to, last };
    let rows = services
        .market
        .candles(stock_id, interval.into(), window)
        .await?;
    Ok(rows.into_iter().map(Candle::from).collect())
}

#[derive(Default)]
pub struct MarketQuery;

#[Object]
impl MarketQuery {
    /// Whether the market is open now, and when that changes.
    async fn market_state(&self, ctx: &Context<'_>) -> ApiResult<MarketState> {
        Ok(ctx.services().market.status().await?.into())
    }

    /// Trading hours per weekday, Monday first.
    async fn market_hours(&self, ctx: &Context<'_>) -> ApiResult<Vec<MarketDay>> {
        let config = ctx.services().market.config().await?;
        Ok(config
            .calendar
            .week
            .iter()
            .zip(0..)
            .map(|(d, day)| MarketDay {
                day,
                open: d.open.format("%H:%M").to_string(),
                close: d.close.format("%H:%M").to_string(),
                closed: d.closed,
            })
            .collect())
    }

    /// Days the market stays closed, oldest first.
    async fn holidays(&self, ctx: &Context<'_>) -> ApiResult<Vec<Holiday>> {
        Ok(ctx
            .services()
            .market
            .holidays()
            .await?
            .into_iter()
            .map(Holiday::from)
            .collect())
    }

    /// All active stocks, by symbol.
    async fn stocks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stock>> {
        let quotes = ctx.services().market.stocks(Listing::Active).await?;
        Ok(quotes.into_iter().map(Stock::from).collect())
    }

    /// One stock, by `id` or by `symbol` (exactly one of them).
    async fn stock(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        symbol: Option<String>,
    ) -> ApiResult<Stock> {
        let market = &ctx.services().market;
        let quote = match (id, symbol) {
            (Some(id), None) => market.stock(parse_id(&id, "id")?).await?,
            (None, Some(symbol)) => market.stock_by_symbol(&symbol).await?,
            _ => return Err(Error::bad_input("id", "pass exactly one of id and symbol").into()),
        };
        Ok(quote.into())
    }

    /// Candles of a stock, oldest first. `from` is inclusive, `to` exclusive; `last` keeps the
    /// newest N of the window (at most 2000 are returned).
    async fn candles(
        &self,
        ctx: &Context<'_>,
        stock_id: ID,
        interval: CandleInterval,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        last: Option<i32>,
    ) -> ApiResult<Vec<Candle>> {
        let services = ctx.services();
        let stock = services
            .market
            .stock(parse_id(&stock_id, "stockId")?)
            .await?;
        load_candles(services, stock.id, interval, from, to, last).await
    }
}
