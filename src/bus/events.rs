//! Event payloads: plain data (money in cents) so every instance, and every version during a
//! rolling deploy, reads them the same way.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One tick round: every stock that moved, and the live candles it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickRound {
    pub at: DateTime<Utc>,
    pub ticks: Vec<Tick>,
    pub candles: Vec<CandleUpdate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub stock_id: i64,
    pub symbol: String,
    pub price_cents: i64,
    pub prev_close_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandleUpdate {
    pub stock_id: i64,
    /// `H1`, `H4` or `D1`.
    pub interval: String,
    pub bucket_start: DateTime<Utc>,
    pub open_cents: i64,
    pub high_cents: i64,
    pub low_cents: i64,
    pub close_cents: i64,
    pub tick_count: i64,
}

/// The market's state as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketStatus {
    pub is_open: bool,
    /// An emergency override is in force.
    pub emergency: bool,
    pub reason: Option<String>,
    pub next_open: Option<DateTime<Utc>>,
    pub next_close: Option<DateTime<Utc>>,
    pub timezone: String,
}

/// An order changed status (placed, queued, executed, rejected, canceled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    pub user_id: i64,
    pub order_id: i64,
    pub stock_id: i64,
    pub side: String,
    pub quantity: i64,
    pub status: String,
    pub price_cents: Option<i64>,
    pub total_cents: Option<i64>,
    pub client_order_id: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub executed_at: Option<DateTime<Utc>>,
}
