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
