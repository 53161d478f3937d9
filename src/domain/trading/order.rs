//! The one shape of an order: read from its row, carried by `OrderUpdated` events, mapped to
//! GraphQL at the edge.

use chrono::{DateTime, Utc};
use entity::orders;
use serde::{Deserialize, Serialize};

use super::{
    terms::{Terms, Trail},
    units::{Cents, Shares},
};
use crate::domain::{Error, Result};

/// Which way an order trades. Stored and sent as `BUY` / `SELL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "BUY" => Ok(Side::Buy),
            "SELL" => Ok(Side::Sell),
            other => Err(Error::internal(format!("order side {other}"))),
        }
    }
}

/// Where an order is in its life. Stored and sent as `QUEUED`, `OPEN`, `EXECUTED`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// A market order placed while the market was closed; runs at the open.
    Queued,
    /// A working order: accepted, waiting for its price (limit, stop, trailing stop).
    Open,
    Executed,
    /// Canceled by its owner, an administrator, a replacement, or its time in force (IOC and
    /// FOK orders that could not fill at once).
    Canceled,
    /// Could not be filled when its turn came (at the open, or when its stop triggered).
    Rejected,
    /// A DAY order still working at the close.
    Expired,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Open,
        Status::Executed,
        Status::Canceled,
        Status::Rejected,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "QUEUED",
            Status::Open => "OPEN",
            Status::Executed => "EXECUTED",
            Status::Canceled => "CANCELED",
            Status::Rejected => "REJECTED",
            Status::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::internal(format!("order status {s}")))
    }

    /// Queued or working: it still holds a reservation and may still fill or be canceled.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Queued | Status::Open)
    }
}

/// How an order is priced. Stored and sent as `MARKET`, `LIMIT`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    /// At the current price (now while open, at the open while closed).
    #[default]
    Market,
    /// At the limit price or better.
    Limit,
    /// A market order once the price reaches the stop price.
    Stop,
    /// A limit order once the price reaches the stop price.
    StopLimit,
    /// A stop that follows the best price since placement by an amount or a percentage.
    TrailingStop,
}

impl OrderType {
    pub const ALL: [OrderType; 5] = [
        OrderType::Market,
        OrderType::Limit,
        OrderType::Stop,
        OrderType::StopLimit,
        OrderType::TrailingStop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit => "LIMIT",
            OrderType::Stop => "STOP",
            OrderType::StopLimit => "STOP_LIMIT",
            OrderType::TrailingStop => "TRAILING_STOP",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::internal(format!("order type {s}")))
    }

    /// Whether a limit price is part of this type.
    pub fn has_limit(self) -> bool {
        matches!(self, OrderType::Limit | OrderType::StopLimit)
    }

    /// Whether this type waits for a stop condition before it can fill.
    pub fn has_stop(self) -> bool {
        matches!(
            self,
            OrderType::Stop | OrderType::StopLimit | OrderType::TrailingStop
        )
    }
}

/// How long an order works. Stored and sent as `DAY`, `GTC`, `IOC`, `FOK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TimeInForce {
    /// Until the close of the session it works in.
    #[default]
    #[serde(rename = "DAY")]
    Day,
    /// Until filled or canceled, across days and restarts.
    #[serde(rename = "GTC")]
    Gtc,
    /// Immediate or cancel: fills at once or is canceled (whole orders only).
    #[serde(rename = "IOC")]
    Ioc,
    /// Fill or kill: the whole order fills at once or it is canceled.
    #[serde(rename = "FOK")]
    Fok,
}

impl TimeInForce {
    pub const ALL: [TimeInForce; 4] = [
        TimeInForce::Day,
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Fok,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Day => "DAY",
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::internal(format!("time in force {s}")))
    }

    /// IOC and FOK: fill at placement or never.
    pub fn is_immediate(self) -> bool {
        matches!(self, TimeInForce::Ioc | TimeInForce::Fok)
    }
}

/// An order to place.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub stock_id: i64,
    pub side: Side,
    pub quantity: Shares,
    pub client_order_id: Option<String>,
    pub terms: Terms,
}

/// An order. The serialized field names are the bus wire format (`order_id` for `id`), kept
/// as the previous release wrote them so instances of both versions read each other: the
/// fields this release added read as their defaults when absent (see [`OrderWire`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "OrderWire")]
pub struct Order {
    #[serde(rename = "order_id")]
    pub id: i64,
    pub user_id: i64,
    pub stock_id: i64,
    pub side: Side,
    pub quantity: i64,
    pub status: Status,
    pub price_cents: Option<i64>,
    pub total_cents: Option<i64>,
    pub client_order_id: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub executed_at: Option<DateTime<Utc>>,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub limit_price_cents: Option<i64>,
    /// For a trailing stop: its current trigger price.
    pub stop_price_cents: Option<i64>,
    pub trail_percent_bps: Option<i64>,
    pub trail_amount_cents: Option<i64>,
    /// A trailing stop's best price since placement.
    pub trail_reference_cents: Option<i64>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Cash held (buys) while queued or working.
    pub reserved_cents: i64,
    /// Shares held (sells) while queued or working.
    pub reserved_shares: i64,
    pub replaced_by: Option<i64>,
}

/// [`Order`] as read from the bus: the fields added after the first release are optional.
#[derive(Deserialize)]
struct OrderWire {
    order_id: i64,
    user_id: i64,
    stock_id: i64,
    side: Side,
    quantity: i64,
    status: Status,
    price_cents: Option<i64>,
    total_cents: Option<i64>,
    client_order_id: Option<String>,
    reject_reason: Option<String>,
    created_at: DateTime<Utc>,
    executed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    order_type: OrderType,
    #[serde(default)]
    time_in_force: TimeInForce,
    #[serde(default)]
    limit_price_cents: Option<i64>,
    #[serde(default)]
    stop_price_cents: Option<i64>,
    #[serde(default)]
    trail_percent_bps: Option<i64>,
    #[serde(default)]
    trail_amount_cents: Option<i64>,
    #[serde(default)]
    trail_reference_cents: Option<i64>,
    #[serde(default)]
    triggered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    canceled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    reserved_cents: i64,
    #[serde(default)]
    reserved_shares: i64,
    #[serde(default)]
    replaced_by: Option<i64>,
}

impl From<OrderWire> for Order {
    fn from(w: OrderWire) -> Self {
        Order {
            id: w.order_id,
            user_id: w.user_id,
            stock_id: w.stock_id,
            side: w.side,
            quantity: w.quantity,
            status: w.status,
            price_cents: w.price_cents,
            total_cents: w.total_cents,
            client_order_id: w.client_order_id,
            reject_reason: w.reject_reason,
            created_at: w.created_at,
            executed_at: w.executed_at,
            order_type: w.order_type,
            time_in_force: w.time_in_force,
            limit_price_cents: w.limit_price_cents,
            stop_price_cents: w.stop_price_cents,
            trail_percent_bps: w.trail_percent_bps,
            trail_amount_cents: w.trail_amount_cents,
            trail_reference_cents: w.trail_reference_cents,
            triggered_at: w.triggered_at,
            expires_at: w.expires_at,
            canceled_at: w.canceled_at,
            // The previous release changed orders only when it executed or ended them.
            updated_at: w.updated_at.or(w.executed_at).unwrap_or(w.created_at),
            reserved_cents: w.reserved_cents,
            reserved_shares: w.reserved_shares,
            replaced_by: w.replaced_by,
        }
    }
}

impl TryFrom<orders::Model> for Order {
    type Error = Error;
    fn try_from(m: orders::Model) -> Result<Self> {
        let order = Order {
            id: m.id,
            user_id: m.user_id,
            stock_id: m.stock_id,
            side: Side::parse(&m.side)?,
            quantity: m.quantity,
            status: Status::parse(&m.status)?,
            price_cents: m.price_cents,
            total_cents: m.total_cents,
            client_order_id: m.client_order_id,
            reject_reason: m.reject_reason,
            created_at: m.created_at,
            executed_at: m.executed_at,
            order_type: OrderType::parse(&m.order_type)?,
            time_in_force: TimeInForce::parse(&m.time_in_force)?,
            limit_price_cents: m.limit_price_cents,
            stop_price_cents: m.stop_price_cents,
            trail_percent_bps: m.trail_percent_bps,
            trail_amount_cents: m.trail_amount_cents,
            trail_reference_cents: m.trail_reference_cents,
            triggered_at: m.triggered_at,
            expires_at: m.expires_at,
            canceled_at: m.canceled_at,
            updated_at: m.updated_at,
            reserved_cents: m.reserved_cents,
            reserved_shares: m.reserved_shares,
            replaced_by: m.replaced_by,
        };
        Ok(order.with_trailing_stop())
    }
}

impl Order {
    /// A trailing stop's stop as it stands: derived from the best price since placement. The
    /// stored `stop_price_cents` is the stop at placement; each round the engine moves only
    /// the reference, a column no index holds, so that PostgreSQL can rewrite those rows in
    /// place (a heap-only update) instead of adding an entry to every index of `orders`.
    fn with_trailing_stop(mut self) -> Self {
        if self.order_type == OrderType::TrailingStop
            && let (Some(reference), Some(trail)) = (self.trail_reference_cents, self.terms().trail)
        {
            self.stop_price_cents = Some(trail.stop(self.side, Cents(reference)).0);
        }
        self
    }

    /// The terms it was placed with.
    pub fn terms(&self) -> Terms {
        Terms {
            order_type: self.order_type,
            time_in_force: self.time_in_force,
            limit_price: self.limit_price_cents.map(Cents),
            stop_price: match self.order_type {
                // A trailing stop's stop price is derived, not a term.
                OrderType::TrailingStop => None,
                _ => self.stop_price_cents.map(Cents),
            },
            trail: match (self.trail_percent_bps, self.trail_amount_cents) {
                (Some(bps), _) => Some(Trail::Percent { bps }),
                (None, Some(cents)) => Some(Trail::Amount(Cents(cents))),
                (None, None) => None,
            },
        }
    }
}

/// Why an order was rejected, for programs. Derived from the stored reason, which only the
/// queue and the working-order engine write, from [`super::plan::Refusal`] and [`super::plan::at_open`] (a test holds them
/// together); None for a reason this version does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectCode {
    InsufficientFunds,
    InsufficientShares,
    StockHalted,
    TooLarge,
}

impl RejectCode {
    pub fn of(reason: &str) -> Option<Self> {
        let reason = [
            super::store::REJECTED_AT_OPEN,
            super::store::REJECTED_AT_TRIGGER,
        ]
        .iter()
        .find_map(|prefix| reason.strip_prefix(prefix))
        .unwrap_or(reason);
        if reason.starts_with("needs ") {
            Some(RejectCode::InsufficientFunds)
        } else if reason.starts_with("holds ") {
            Some(RejectCode::InsufficientShares)
        } else if reason.contains("halted") {
            Some(RejectCode::StockHalted)
        } else if reason.contains("too large") {
            Some(RejectCode::TooLarge)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod reject_code_tests {
    use super::super::{
        plan::{AtOpen, Refusal, at_open},
        units::{Cents, Shares},
    };
    use super::RejectCode;

    #[test]
    fn every_reason_the_queue_writes_has_its_code() {
        let funds = Refusal::InsufficientFunds {
            needed: Cents(41527),
            available: Cents(41520),
            estimate: false,
        };
        let shares = Refusal::InsufficientShares { free: Shares(2) };
        assert_eq!(
            RejectCode::of(&funds.to_string()),
            Some(RejectCode::InsufficientFunds)
        );
        // As the queue stores it.
        let stored = format!("{}{funds}", super::super::store::REJECTED_AT_OPEN);
        assert_eq!(RejectCode::of(&stored), Some(RejectCode::InsufficientFunds));
        let stored = format!("{}{funds}", super::super::store::REJECTED_AT_TRIGGER);
        assert_eq!(RejectCode::of(&stored), Some(RejectCode::InsufficientFunds));
        assert_eq!(
            RejectCode::of(&shares.to_string()),
            Some(RejectCode::InsufficientShares)
        );
        assert_eq!(
            RejectCode::of(&Refusal::TooLarge.to_string()),
            Some(RejectCode::TooLarge)
        );
        let Ok(AtOpen::Reject(halted)) = at_open(Ok(None)) else {
            panic!("a missing stock is rejected");
        };
        assert_eq!(RejectCode::of(halted), Some(RejectCode::StockHalted));
        // The admin's halt rejects the queue with its own words.
        assert_eq!(
            RejectCode::of("the stock was halted"),
            Some(RejectCode::StockHalted)
        );
        assert_eq!(RejectCode::of("something new"), None);
    }
}
