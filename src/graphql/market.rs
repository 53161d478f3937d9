//! Market data: state, hours, holidays, stocks with live prices, candles.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, OneofObject, SimpleObject,
    dataloader::{DataLoader, Loader},
};

use super::{
    connection::{UNCAPPED_LIST, list_cost},
    context::ContextExt,
    error::ApiResult,
    node::{Kind, global_id, row_id},
    scalars::{Date, DateTime, Decimal, money},
    trading::load_stock,
};
use crate::{
    domain::events::{MarketStatus, Tick, TickDay},
    domain::{
        Error,
        market::{
            self, CandleWindow,
            candles::{self, Interval},
            stocks::{Listing, Quote},
        },
        trading::units::StockId,
    },
    services::Services,
};

/// Points in a stock's `trend`.
pub const TREND_POINTS: u64 = 24;

/// A candle's length. Buckets are in the market time zone. New values may be added: clients
/// must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CandleInterval {
    /// One hour, on the hour.
    H1,
    /// Four hours: 00:00, 04:00, 08:00 … local time.
    H4,
    /// One trading day.
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

/// A stock, named by exactly one of its global id or its symbol.
#[derive(OneofObject, Clone, Debug)]
pub enum StockRef {
    /// The stock's global id (`Stock.id`).
    Id(ID),
    /// The ticker symbol, e.g. `"AAPL"` (any case).
    Symbol(String),
}

impl StockRef {
    /// The stock's row id; NOT_FOUND when there is no such stock, BAD_USER_INPUT (naming
    /// `field`) for an id that is not a stock's.
    pub async fn resolve(&self, ctx: &Context<'_>, field: &'static str) -> Result<StockId, Error> {
        let market = &ctx.services().market;
        let quote = match self {
            StockRef::Id(id) => market.stock(row_id(id, Kind::Stock, field)?).await?,
            StockRef::Symbol(symbol) => market.stock_by_symbol(symbol).await?,
        };
        Ok(StockId(quote.id))
    }
}

/// Whether the market is open, and why. There is one market: its id is constant, so every
/// view of it is one cache record.
#[derive(SimpleObject, Clone)]
pub struct MarketState {
    /// Global id (constant).
    pub id: ID,
    /// Orders execute at once while open; they queue for the open while closed.
    pub is_open: bool,
    /// An emergency override holds the market open or closed regardless of the schedule.
    pub emergency: bool,
    /// Why it is in this state, for people, e.g. `"holiday: Christmas Day"`; null on a
    /// plain schedule.
    pub reason: Option<String>,
    /// Next scheduled opening (null while an override holds).
    pub next_open: Option<DateTime>,
    /// Next scheduled closing (null while an override holds).
    pub next_close: Option<DateTime>,
    /// IANA name of the market time zone, e.g. `America/New_York`.
    pub timezone: String,
}

impl From<MarketStatus> for MarketState {
    fn from(s: MarketStatus) -> Self {
        MarketState {
            id: global_id(Kind::MarketState, "market"),
            is_open: s.is_open,
            emergency: s.emergency,
            reason: s.reason,
            next_open: s.next_open.map(Into::into),
            next_close: s.next_close.map(Into::into),
            timezone: s.timezone,
        }
    }
}

/// Trading hours of one weekday, in the market time zone.
#[derive(SimpleObject, Clone)]
pub struct MarketDay {
    /// Global id (one per weekday).
    pub id: ID,
    /// Monday = 0 … Sunday = 6.
    pub day: i32,
    /// Opening time, `HH:MM`.
    pub open: String,
    /// Closing time, `HH:MM`.
    pub close: String,
    /// No trading at all on this weekday.
    pub closed: bool,
}

impl MarketDay {
    pub fn new(day: i32, hours: &market::calendar::DayHours) -> Self {
        MarketDay {
            id: global_id(Kind::MarketDay, day),
            day,
            open: hours.open.format("%H:%M").to_string(),
            close: hours.close.format("%H:%M").to_string(),
            closed: hours.closed,
        }
    }
}

/// What a calendar day does to its weekday's hours. New values may be added: clients must
/// treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum CalendarDayKind {
    /// Closed all day.
    #[default]
    Holiday,
    /// Opens as usual and closes at `closeTime` (or at the regular close, if that is earlier).
    EarlyClose,
    /// The weekday's regular hours, whatever the exchange's rules say of the date: how an
    /// admin lifts a computed holiday or early close.
    Open,
}

impl From<market::DayKind> for CalendarDayKind {
    fn from(kind: market::DayKind) -> Self {
        match kind {
            market::DayKind::Holiday => CalendarDayKind::Holiday,
            market::DayKind::EarlyClose(_) => CalendarDayKind::EarlyClose,
            market::DayKind::Open => CalendarDayKind::Open,
        }
    }
}

/// An early close's local time, `HH:MM`.
fn close_time(kind: market::DayKind) -> Option<String> {
    match kind {
        market::DayKind::EarlyClose(at) => Some(at.format("%H:%M").to_string()),
        market::DayKind::Holiday | market::DayKind::Open => None,
    }
}

/// A calendar day an admin listed: a holiday, an early close, or a day open as usual. It
/// replaces whatever the exchange's rules say of its date.
#[derive(SimpleObject, Clone)]
pub struct Holiday {
    /// Global id.
    pub id: ID,
    /// The listing's row number.
    pub database_id: i64,
    /// The day, in the market time zone.
    pub date: Date,
    /// E.g. `"Christmas Day"`.
    pub name: String,
    /// Closed, closing early, or open as usual.
    pub kind: CalendarDayKind,
    /// For `EARLY_CLOSE`: the local closing time, `HH:MM`; null otherwise.
    pub close_time: Option<String>,
}

impl From<market::Holiday> for Holiday {
    fn from(h: market::Holiday) -> Self {
        Holiday {
            id: global_id(Kind::Holiday, h.id),
            database_id: h.id,
            date: h.date.into(),
            name: h.name,
            kind: h.kind.into(),
            close_time: close_time(h.kind),
        }
    }
}

/// Where a calendar day comes from. New values may be added: clients must treat this enum as
/// open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CalendarDaySource {
    /// Computed from the exchange's rules (`MARKET_CALENDAR`).
    ExchangeRule,
    /// Listed by an admin (`addHoliday`); see `holiday`.
    Admin,
}

/// A day whose hours differ from its weekday's: the market calendar as the schedule applies it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CalendarDay {
    /// The day, in the market time zone.
    pub date: Date,
    /// Closed, closing early, or open as usual.
    pub kind: CalendarDayKind,
    /// For `EARLY_CLOSE`: the local closing time, `HH:MM`; null otherwise.
    pub close_time: Option<String>,
    /// E.g. `"Thanksgiving Day"`.
    pub name: String,
    /// Computed, or listed by an admin.
    pub source: CalendarDaySource,
    #[graphql(skip)]
    listed: Option<i64>,
}

impl From<market::SpecialDay> for CalendarDay {
    fn from(d: market::SpecialDay) -> Self {
        CalendarDay {
            date: d.date.into(),
            kind: d.kind.into(),
            close_time: close_time(d.kind),
            name: d.name,
            source: match d.listed {
                Some(_) => CalendarDaySource::Admin,
                None => CalendarDaySource::ExchangeRule,
            },
            listed: d.listed,
        }
    }
}

#[ComplexObject]
impl CalendarDay {
    /// The admin's listing (to delete it with `deleteHoliday`); null for a computed day.
    async fn holiday(&self) -> Option<Holiday> {
        let id = self.listed?;
        Some(Holiday {
            id: global_id(Kind::Holiday, id),
            database_id: id,
            date: self.date,
            name: self.name.clone(),
            kind: self.kind,
            close_time: self.close_time.clone(),
        })
    }
}

/// One OHLC candle. Buckets are in the market time zone; `D1` is the trading day.
#[derive(Clone)]
pub struct Candle {
    candle: candles::Candle,
    is_final: bool,
    /// The global id, made on first use (the node interface borrows it).
    id: OnceLock<ID>,
}

impl Candle {
    /// `c`, final when `is_final`.
    pub fn new(candle: candles::Candle, is_final: bool) -> Self {
        Candle {
            candle,
            is_final,
            id: OnceLock::new(),
        }
    }
}

// Each field is computed when asked, not before: a chart of hundreds of candles usually asks
// for a few of them, and the two ids alone cost four allocations a candle.
/// One OHLC candle. Buckets are in the market time zone; `D1` is the trading day.
#[Object]
impl Candle {
    /// Global id (one per stock, interval and bucket): the live candle and the same bucket
    /// in a history are one cache record.
    pub async fn id(&self) -> &ID {
        self.id.get_or_init(|| {
            let c = &self.candle;
            global_id(
                Kind::Candle,
                format!(
                    "{}:{}:{}",
                    c.stock_id,
                    c.interval.as_str(),
                    c.bucket_start.timestamp()
                ),
            )
        })
    }

    /// The stock's global id; see `stock` for the object.
    async fn stock_id(&self) -> ID {
        global_id(Kind::Stock, self.candle.stock_id)
    }

    /// The candle's length.
    async fn interval(&self) -> CandleInterval {
        self.candle.interval.into()
    }

    /// Start of the bucket (UTC).
    async fn bucket_start(&self) -> DateTime {
        self.candle.bucket_start.into()
    }

    /// First price in the bucket.
    async fn open(&self) -> Decimal {
        money(self.candle.open)
    }

    /// Highest price in the bucket.
    async fn high(&self) -> Decimal {
        money(self.candle.high)
    }

    /// Lowest price in the bucket.
    async fn low(&self) -> Decimal {
        money(self.candle.low)
    }

    /// Last price in the bucket so far.
    async fn close(&self) -> Decimal {
        money(self.candle.close)
    }

    /// Ticks that made it.
    async fn tick_count(&self) -> i64 {
        self.candle.tick_count
    }

    /// True once the bucket has ended: the candle no longer changes. In a history every
    /// candle is final but the live bucket's; `liveCandle` sends the closing candle once
    /// with true.
    async fn is_final(&self) -> bool {
        self.is_final
    }

    /// The stock.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.candle.stock_id).await
    }
}

/// Candles of one window, oldest first.
#[derive(SimpleObject)]
pub struct CandleSeries {
    /// Oldest first.
    pub candles: Vec<Candle>,
    /// True when the window held older candles than these (cut by `last`, or by the limit of
    /// 2000): ask again with an earlier `to` for more.
    pub truncated: bool,
}

impl CandleSeries {
    /// `s` as read at `now`: a candle is final once its bucket has ended (so a history's
    /// candle and the same bucket from `node(id:)` or `liveCandle` agree).
    fn new(s: market::CandleSeries, now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Self {
        CandleSeries {
            candles: s
                .candles
                .into_iter()
                .map(|c| {
                    let ended = c.has_ended(now, tz);
                    Candle::new(c, ended)
                })
                .collect(),
            truncated: s.truncated,
        }
    }
}

/// A stock with its live price.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Stock {
    /// Global id.
    pub id: ID,
    /// The stock's row number.
    pub database_id: i64,
    /// Ticker symbol, upper case, e.g. `"AAPL"`.
    pub symbol: String,
    /// Company name, e.g. `"Apple Inc."`.
    pub name: String,
    /// Inactive stocks are halted: no ticks, no new orders.
    pub active: bool,
    /// Last price.
    pub price: Decimal,
    /// `price - previousClose`.
    pub change: Decimal,
    /// `change / previousClose` in percent, two decimals.
    pub change_percent: Decimal,
    /// First price of the current trading day.
    pub open: Decimal,
    /// Highest price of the current trading day.
    pub high: Decimal,
    /// Lowest price of the current trading day.
    pub low: Decimal,
    /// Last price of the previous trading day.
    pub previous_close: Decimal,
    /// When the price last changed.
    pub updated_at: DateTime,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<Quote> for Stock {
    fn from(q: Quote) -> Self {
        Stock {
            id: global_id(Kind::Stock, q.id),
            database_id: q.id,
            symbol: q.symbol,
            name: q.name,
            active: q.active,
            price: money(q.last_cents),
            change: money(q.last_cents - q.prev_close_cents),
            change_percent: change_percent(q.last_cents, q.prev_close_cents),
            open: money(q.open_cents),
            high: money(q.high_cents),
            low: money(q.low_cents),
            previous_close: money(q.prev_close_cents),
            updated_at: q.updated_at.into(),
            stock_id: q.id,
        }
    }
}

impl Stock {
    /// The stock as a tick round left it (a ticking stock is active).
    pub fn from_tick(t: &Tick, day: &TickDay, at: chrono::DateTime<chrono::Utc>) -> Self {
        Stock {
            id: global_id(Kind::Stock, t.stock_id),
            database_id: t.stock_id,
            symbol: t.symbol.clone(),
            name: day.name.clone(),
            active: true,
            price: money(t.price_cents),
            change: money(t.price_cents - t.prev_close_cents),
            change_percent: change_percent(t.price_cents, t.prev_close_cents),
            open: money(day.open_cents),
            high: money(day.high_cents),
            low: money(day.low_cents),
            previous_close: money(t.prev_close_cents),
            updated_at: at.into(),
            stock_id: t.stock_id,
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
        rust_decimal::Decimal::ZERO
    } else {
        (rust_decimal::Decimal::from(part) * rust_decimal::Decimal::ONE_HUNDRED
            / rust_decimal::Decimal::from(whole))
        .round_dp(2)
    };
    p.rescale(2);
    Decimal(p)
}

#[ComplexObject]
impl Stock {
    /// The last 24 hourly closes, oldest first: enough for a sparkline. Null when they could
    /// not be read (the rest of the stock still answers).
    #[graphql(complexity = "super::connection::list_cost(TREND_POINTS as usize, 1)")]
    async fn trend(&self, ctx: &Context<'_>) -> Option<Vec<Decimal>> {
        let loader = ctx.data::<DataLoader<TrendLoader>>().ok()?;
        match loader.load_one(self.stock_id).await {
            Ok(closes) => Some(closes.unwrap_or_default().into_iter().map(money).collect()),
            Err(e) => {
                tracing::warn!(error = %e, stock = self.stock_id, "reading a trend");
                None
            }
        }
    }

    /// Candles of this stock; see `Query.candles`.
    #[graphql(complexity = "super::connection::candles_cost(last, child_complexity)")]
    async fn candles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The candle length.")] interval: CandleInterval,
        #[graphql(desc = "Inclusive start of the window; unbounded when null.")] from: Option<
            DateTime,
        >,
        #[graphql(desc = "Exclusive end of the window; unbounded when null.")] to: Option<DateTime>,
        #[graphql(desc = "Keep only the newest N of the window (1–2000; default 2000).")]
        last: Option<i32>,
    ) -> ApiResult<CandleSeries> {
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
    from: Option<DateTime>,
    to: Option<DateTime>,
    last: Option<i32>,
) -> ApiResult<CandleSeries> {
    let window = CandleWindow {
        from: from.map(|t| t.0),
        to: to.map(|t| t.0),
        last,
    };
    let market = &services.market;
    let series = market.candles(stock_id, interval.into(), window).await?;
    Ok(CandleSeries::new(
        series,
        services.clock.now(),
        market.timezone(),
    ))
}

#[derive(Default)]
pub struct MarketQuery;

#[Object]
impl MarketQuery {
    /// Whether the market is open now, and when that changes. Public.
    async fn market_state(&self, ctx: &Context<'_>) -> ApiResult<MarketState> {
        Ok(ctx.services().market.status().await?.into())
    }

    /// Trading hours per weekday, Monday first. Public.
    #[graphql(complexity = "list_cost(7, child_complexity)")]
    async fn market_hours(&self, ctx: &Context<'_>) -> ApiResult<Vec<MarketDay>> {
        let config = ctx.services().market.config().await?;
        Ok(config
            .calendar
            .week
            .iter()
            .zip(0..)
            .map(|(d, day)| MarketDay::new(day, d))
            .collect())
    }

    /// The days admins listed (holidays, early closes, days open as usual), oldest first.
    /// The exchange's own holidays and early closes are computed, not listed: see
    /// `marketCalendar`. Public.
    #[graphql(complexity = "list_cost(UNCAPPED_LIST, child_complexity)")]
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

    /// The days in `[from, to]` whose hours differ from their weekday's, in date order: the
    /// exchange's holidays and early closes computed for those years, with the days admins
    /// listed in their place or besides. At most 1830 days at once (BAD_USER_INPUT otherwise,
    /// and when `to` is before `from`). Public.
    async fn market_calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (market time zone), inclusive.")] from: Date,
        #[graphql(desc = "Last day, inclusive.")] to: Date,
    ) -> ApiResult<Vec<CalendarDay>> {
        let days = ctx.services().market.special_days(from.0, to.0).await?;
        Ok(days.into_iter().map(CalendarDay::from).collect())
    }

    /// All active stocks, by symbol. Public.
    #[graphql(complexity = "list_cost(UNCAPPED_LIST, child_complexity)")]
    async fn stocks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stock>> {
        let quotes = ctx.services().market.stocks(Listing::Active).await?;
        Ok(quotes.into_iter().map(Stock::from).collect())
    }

    /// One stock, by global id or by symbol, e.g. `stock(by: {symbol: "AAPL"})`; null when
    /// there is none. Public.
    async fn stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Exactly one of `id` and `symbol`.")] by: StockRef,
    ) -> ApiResult<Option<Stock>> {
        match by.resolve(ctx, "id").await {
            Ok(id) => Ok(super::trading::find_stock(ctx, id.0).await?),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Candles of a stock, oldest first. `from` is inclusive, `to` exclusive; `last` keeps
    /// the newest N of the window (at most 2000 are returned; `truncated` says when more
    /// exist). Public. NOT_FOUND for an unknown stock.
    #[graphql(complexity = "super::connection::candles_cost(last, child_complexity)")]
    async fn candles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stock, by global id or symbol.")] stock: StockRef,
        #[graphql(desc = "The candle length.")] interval: CandleInterval,
        #[graphql(desc = "Inclusive start of the window; unbounded when null.")] from: Option<
            DateTime,
        >,
        #[graphql(desc = "Exclusive end of the window; unbounded when null.")] to: Option<DateTime>,
        #[graphql(desc = "Keep only the newest N of the window (1–2000; default 2000).")]
        last: Option<i32>,
    ) -> ApiResult<CandleSeries> {
        let stock_id = stock.resolve(ctx, "stock").await?;
        load_candles(ctx.services(), stock_id.0, interval, from, to, last).await
    }
}
