//! The one shape of an order: read from its row, carried by `OrderUpdated` events, mapped to
//! GraphQL at the edge.

use chrono::{DateTime, Utc};
use entity::orders;
use serde::{Deserialize, Serialize};

use super::units::Shares;
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

/// Where an order is in its life. Stored and sent as `QUEUED`, `EXECUTED`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Placed while the market was closed; runs at the open.
    Queued,
    Executed,
    Canceled,
    /// Could not be filled at the open.
    Rejected,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Queued,
        Status::Executed,
        Status::Canceled,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "QUEUED",
            Status::Executed => "EXECUTED",
            Status::Canceled => "CANCELED",
            Status::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::internal(format!("order status {s}")))
    }
}

/// A market order to place.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub stock_id: i64,
    pub side: Side,
    pub quantity: Shares,
    pub client_order_id: Option<String>,
}

/// An order. The serialized field names are the bus wire format (`order_id` for `id`), kept
/// as the previous release wrote them so instances of both versions read each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl TryFrom<orders::Model> for Order {
    type Error = Error;
    fn try_from(m: orders::Model) -> Result<Self> {
        Ok(Order {
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
        })
    }
}

/// Why an order was rejected, for programs. Derived from the stored reason, which only the
/// queue writes, from [`super::plan::Refusal`] and [`super::plan::at_open`] (a test holds them
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
        let reason = reason
            .strip_prefix(super::store::REJECTED_AT_OPEN)
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
