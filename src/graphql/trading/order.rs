//! Orders and trades as clients see them, and the enums that describe them.

use async_graphql::{ComplexObject, Context, Enum, ID, SimpleObject};

use super::load_stock;
use crate::{
    domain::trading::{
        lookup::Reader,
        order::{OrderType as DomainType, RejectCode, TimeInForce as DomainTif},
        orders::{self, Side, Status},
        terms::Trail,
        units::UserId,
    },
    graphql::{
        context::ContextExt,
        error::ApiResult,
        market::Stock,
        node::{Kind, global_id},
        scalars::{DateTime, Decimal, money},
    },
};

/// Which way an order trades. New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderSide {
    /// Spends cash for shares.
    Buy,
    /// Turns held shares into cash (no short selling: only shares held and not reserved).
    Sell,
}

impl From<OrderSide> for Side {
    fn from(s: OrderSide) -> Self {
        match s {
            OrderSide::Buy => Side::Buy,
            OrderSide::Sell => Side::Sell,
        }
    }
}

impl From<Side> for OrderSide {
    fn from(s: Side) -> Self {
        match s {
            Side::Buy => OrderSide::Buy,
            Side::Sell => OrderSide::Sell,
        }
    }
}

/// Where an order is in its life. New values may be added: clients must treat this enum as
/// open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderStatus {
    /// A market order placed while the market was closed; runs at the open.
    Queued,
    /// Working: accepted, not yet filled or triggered into a fill (limit, stop, stop-limit and
    /// trailing-stop orders). It holds its reservation (see `reserved`).
    Open,
    /// Filled: see `price`, `total` and `trades`.
    Executed,
    /// Canceled, its reservation released: by its owner, by an administrator or a
    /// deactivation (see `rejectReason`), by `replaceOrder` (see `replacedBy`), or because an
    /// IOC or FOK order could not fill at once.
    Canceled,
    /// Could not be filled when its turn came, at the open or when its stop triggered (see
    /// `rejectReason`).
    Rejected,
    /// A DAY order still working at the close; its reservation was released.
    Expired,
}

impl From<OrderStatus> for Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Queued => Status::Queued,
            OrderStatus::Open => Status::Open,
            OrderStatus::Executed => Status::Executed,
            OrderStatus::Canceled => Status::Canceled,
            OrderStatus::Rejected => Status::Rejected,
            OrderStatus::Expired => Status::Expired,
        }
    }
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => OrderStatus::Queued,
            Status::Open => OrderStatus::Open,
            Status::Executed => OrderStatus::Executed,
            Status::Canceled => OrderStatus::Canceled,
            Status::Rejected => OrderStatus::Rejected,
            Status::Expired => OrderStatus::Expired,
        }
    }
}

/// How an order is priced. New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderType {
    /// At the current price: at once while the market is open, at the open while it is
    /// closed.
    #[default]
    Market,
    /// At `limitPrice` or better: a buy fills at the first tick round at or below it, a sell
    /// at or above it, at that round's price.
    Limit,
    /// Becomes a market order when a tick round reaches `stopPrice` (a buy at or above it, a
    /// sell at or below it) and fills at that round's price.
    Stop,
    /// Becomes a limit order at `limitPrice` when a tick round reaches `stopPrice`.
    StopLimit,
    /// A stop that follows the best price since placement by `trailPercent` or
    /// `trailAmount` (a sell's stop rises with the price, a buy's falls) and fills at the
    /// round that retraces to it.
    TrailingStop,
}

impl From<OrderType> for DomainType {
    fn from(t: OrderType) -> Self {
        match t {
            OrderType::Market => DomainType::Market,
            OrderType::Limit => DomainType::Limit,
            OrderType::Stop => DomainType::Stop,
            OrderType::StopLimit => DomainType::StopLimit,
            OrderType::TrailingStop => DomainType::TrailingStop,
        }
    }
}

impl From<DomainType> for OrderType {
    fn from(t: DomainType) -> Self {
        match t {
            DomainType::Market => OrderType::Market,
            DomainType::Limit => OrderType::Limit,
            DomainType::Stop => OrderType::Stop,
            DomainType::StopLimit => OrderType::StopLimit,
            DomainType::TrailingStop => OrderType::TrailingStop,
        }
    }
}

/// How long an order works. New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum TimeInForce {
    /// Until the close of the session it works in (placed while the market is closed: the
    /// next session), then EXPIRED.
    #[default]
    Day,
    /// Good till canceled: works across days and restarts until filled or canceled.
    Gtc,
    /// Immediate or cancel: fills at once at the current price or is CANCELED. MARKET and
    /// LIMIT orders only, while the market is open. Orders fill whole here, so it is FOK.
    Ioc,
    /// Fill or kill: the whole order fills at once at the current price or it is CANCELED.
    /// MARKET and LIMIT orders only, while the market is open.
    Fok,
}

impl From<TimeInForce> for DomainTif {
    fn from(t: TimeInForce) -> Self {
        match t {
            TimeInForce::Day => DomainTif::Day,
            TimeInForce::Gtc => DomainTif::Gtc,
            TimeInForce::Ioc => DomainTif::Ioc,
            TimeInForce::Fok => DomainTif::Fok,
        }
    }
}

impl From<DomainTif> for TimeInForce {
    fn from(t: DomainTif) -> Self {
        match t {
            DomainTif::Day => TimeInForce::Day,
            DomainTif::Gtc => TimeInForce::Gtc,
            DomainTif::Ioc => TimeInForce::Ioc,
            DomainTif::Fok => TimeInForce::Fok,
        }
    }
}

/// Why an order was rejected. New values may be added: clients must treat this enum as open
/// and show `rejectReason` for a code they do not know.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderRejectCode {
    /// The available cash did not cover the order at the price it would have filled at.
    InsufficientFunds,
    /// The shares were no longer held.
    InsufficientShares,
    /// The stock was halted while the order waited.
    StockHalted,
    /// Price × quantity did not fit in the money range.
    TooLarge,
}

impl From<RejectCode> for OrderRejectCode {
    fn from(c: RejectCode) -> Self {
        match c {
            RejectCode::InsufficientFunds => OrderRejectCode::InsufficientFunds,
            RejectCode::InsufficientShares => OrderRejectCode::InsufficientShares,
            RejectCode::StockHalted => OrderRejectCode::StockHalted,
            RejectCode::TooLarge => OrderRejectCode::TooLarge,
        }
    }
}

/// What a queued or working order holds until it fills or ends: zero once it has.
#[derive(SimpleObject, Clone, Copy)]
pub struct OrderReservation {
    /// Cash a buy holds: a queued market buy its estimated cost, a limit or stop-limit buy
    /// `limitPrice × quantity`, a stop or trailing-stop buy its stop price plus the largest
    /// move of one tick round (`MAX_TICK_PCT`), per share. Counted in `Cash.reserved`.
    pub cash: Decimal,
    /// Shares a sell holds (its quantity). Counted in `Position.reservedQuantity`.
    pub shares: i64,
}

/// An order: market, limit, stop, stop-limit or trailing stop.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Order {
    /// Global id.
    pub id: ID,
    /// The order's row number, for support and reconciliation.
    pub database_id: i64,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// Buy or sell.
    pub side: OrderSide,
    /// How it is priced.
    #[graphql(name = "type")]
    pub order_type: OrderType,
    /// How long it works.
    pub time_in_force: TimeInForce,
    /// Whole shares, at least 1.
    pub quantity: i64,
    /// The limit price (LIMIT and STOP_LIMIT orders); null for other types.
    pub limit_price: Option<Decimal>,
    /// The stop price (STOP and STOP_LIMIT orders); for a TRAILING_STOP the current stop,
    /// which follows the best price since placement. Null for other types.
    pub stop_price: Option<Decimal>,
    /// A trailing stop's trail as a percentage of the best price, e.g. `"2.50"`; null
    /// otherwise.
    pub trail_percent: Option<Decimal>,
    /// A trailing stop's trail as an amount per share; null otherwise.
    pub trail_amount: Option<Decimal>,
    /// Execution price per share; null until executed.
    pub price: Option<Decimal>,
    /// `price × quantity`; null until executed.
    pub total: Option<Decimal>,
    /// What the order holds while queued or working; zero once it has ended.
    pub reserved: OrderReservation,
    /// The idempotency key the client sent with `placeOrder`, if any. A replacement keeps the
    /// key of the order it replaced.
    pub client_order_id: Option<String>,
    /// When the order was placed.
    pub created_at: DateTime,
    /// When it last changed (status, trigger, reservation).
    pub updated_at: DateTime,
    /// When its stop was reached (STOP, STOP_LIMIT, TRAILING_STOP); null until then.
    pub triggered_at: Option<DateTime>,
    /// When a DAY order is due to expire: the scheduled close of the session it works in.
    /// Null for other times in force, and while an emergency override held the market at
    /// placement (the order then expires at the next close, whenever it comes).
    pub expires_at: Option<DateTime>,
    /// When it was canceled; null unless CANCELED.
    pub canceled_at: Option<DateTime>,
    /// When it was filled; null until executed.
    pub executed_at: Option<DateTime>,
    /// Why it was rejected, or why someone other than its owner canceled it (an
    /// administrator, a deactivation), for people; null otherwise.
    pub reject_reason: Option<String>,
    /// Why it was rejected, for programs; null unless REJECTED (or for a reason this server
    /// version does not name).
    pub reject_code: Option<OrderRejectCode>,
    #[graphql(skip)]
    pub stock_id: i64,
    #[graphql(skip)]
    pub user_id: i64,
    #[graphql(skip)]
    pub replaced_by_row: Option<i64>,
}

impl From<orders::Order> for Order {
    fn from(o: orders::Order) -> Self {
        let reject_code = match o.status {
            Status::Rejected => o.reject_reason.as_deref().and_then(RejectCode::of),
            _ => None,
        };
        let trail = o.terms().trail;
        Order {
            id: global_id(Kind::Order, o.id),
            database_id: o.id,
            status: o.status.into(),
            side: o.side.into(),
            order_type: o.order_type.into(),
            time_in_force: o.time_in_force.into(),
            quantity: o.quantity,
            limit_price: o.limit_price_cents.map(money),
            stop_price: o.stop_price_cents.map(money),
            trail_percent: match trail {
                Some(Trail::Percent { bps }) => Some(Trail::percent(bps).into()),
                _ => None,
            },
            trail_amount: match trail {
                Some(Trail::Amount(cents)) => Some(money(cents.0)),
                _ => None,
            },
            price: o.price_cents.map(money),
            total: o.total_cents.map(money),
            reserved: OrderReservation {
                cash: money(o.reserved_cents),
                shares: o.reserved_shares,
            },
            client_order_id: o.client_order_id,
            created_at: o.created_at.into(),
            updated_at: o.updated_at.into(),
            triggered_at: o.triggered_at.map(Into::into),
            expires_at: o.expires_at.map(Into::into),
            canceled_at: o.canceled_at.map(Into::into),
            executed_at: o.executed_at.map(Into::into),
            reject_code: reject_code.map(Into::into),
            reject_reason: o.reject_reason,
            stock_id: o.stock_id,
            user_id: o.user_id,
            replaced_by_row: o.replaced_by,
        }
    }
}

#[ComplexObject]
impl Order {
    /// The stock traded.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }

    /// The fills of this order, oldest first: one once executed, none before.
    async fn trades(&self, ctx: &Context<'_>) -> ApiResult<Vec<Trade>> {
        Ok(order_trades(ctx, self).await?)
    }

    /// The order that replaced this one (`replaceOrder`); null unless it was replaced.
    async fn replaced_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Order>> {
        let Some(row) = self.replaced_by_row else {
            return Ok(None);
        };
        let trading = &ctx.services().trading;
        let order = trading
            .order_for(Reader::Owner(UserId(self.user_id)), row)
            .await?;
        Ok(order.map(Order::from))
    }
}

pub(in crate::graphql) async fn order_trades(
    ctx: &Context<'_>,
    order: &Order,
) -> ApiResult<Vec<Trade>> {
    if order.status != OrderStatus::Executed {
        return Ok(Vec::new());
    }
    let trading = &ctx.services().trading;
    let trades = trading.trades_of_order(order.database_id).await?;
    Ok(trades.into_iter().map(Trade::from).collect())
}

/// A fill: shares and cash that changed hands for an order.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Trade {
    /// Global id.
    pub id: ID,
    /// The trade's row number.
    pub database_id: i64,
    /// The global id of the order filled; see `order` for the object.
    pub order_id: ID,
    /// Buy or sell.
    pub side: OrderSide,
    /// Whole shares.
    pub quantity: i64,
    /// Price per share.
    pub price: Decimal,
    /// `price × quantity`.
    pub total: Decimal,
    /// P&L a sell realized against the average cost (0 for buys).
    pub realized_pnl: Decimal,
    /// When it was filled.
    pub executed_at: DateTime,
    #[graphql(skip)]
    pub stock_id: i64,
    #[graphql(skip)]
    pub order_row: i64,
    #[graphql(skip)]
    pub user_id: i64,
}

impl From<orders::Trade> for Trade {
    fn from(t: orders::Trade) -> Self {
        Trade {
            id: global_id(Kind::Trade, t.id),
            database_id: t.id,
            order_id: global_id(Kind::Order, t.order_id),
            side: t.side.into(),
            quantity: t.quantity,
            price: money(t.price_cents),
            total: money(t.total_cents),
            realized_pnl: money(t.realized_pnl_cents),
            executed_at: t.executed_at.into(),
            stock_id: t.stock_id,
            order_row: t.order_id,
            user_id: t.user_id,
        }
    }
}

#[ComplexObject]
impl Trade {
    /// The stock traded.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }

    /// The order this trade filled.
    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Option<Order>> {
        let trading = &ctx.services().trading;
        let order = trading
            .order_for(Reader::Owner(UserId(self.user_id)), self.order_row)
            .await?;
        Ok(order.map(Order::from))
    }
}
