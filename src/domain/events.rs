//! Typed domain events: what the engine and the domain publish after a commit and the bus
//! carries to every instance. Money is in cents; enums serialize as the strings the previous
//! release wrote, so during a rolling upgrade both versions read each other's events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{market::interval::Interval, trading::order::Order};

/// Everything that travels over the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A user must lose their live sessions: deactivated, or their role changed (their access
    /// tokens from before are refused, and their sockets close).
    UserDisabled { user_id: i64 },
    /// A user's sessions ended (logged out everywhere, password reset): their tokens from
    /// before are refused and their sockets close. Older releases skip it as unknown.
    SessionsRevoked { user_id: i64 },
    /// Prices moved: one event per tick round, all stocks in it.
    TickRound(TickRound),
    /// The market opened, closed, or its override changed.
    MarketState(MarketStatus),
    /// Hours, holidays or the override changed: the scheduler must re-plan.
    MarketConfigChanged,
    /// One of a user's orders changed status (goes only to its owner's subscriptions). Boxed:
    /// an order is many times the size of the other variants.
    OrderUpdated(Box<Order>),
    /// A user's cash or positions changed (a trade): their valuation must be pushed.
    PortfolioChanged { user_id: i64 },
    /// A stock was created, renamed, halted or resumed: every instance reloads its quote
    /// board. Older releases skip it as unknown.
    StocksChanged,
    /// Every account's value was recorded at `at` (equity history, the leaderboard). Older
    /// releases skip it as unknown.
    EquitySnapshot {
        at: DateTime<Utc>,
        grain: super::equity::Grain,
    },
}

impl Event {
    /// The variant's name: a bounded label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::UserDisabled { .. } => "UserDisabled",
            Event::SessionsRevoked { .. } => "SessionsRevoked",
            Event::TickRound(_) => "TickRound",
            Event::MarketState(_) => "MarketState",
            Event::MarketConfigChanged => "MarketConfigChanged",
            Event::OrderUpdated(_) => "OrderUpdated",
            Event::PortfolioChanged { .. } => "PortfolioChanged",
            Event::StocksChanged => "StocksChanged",
            Event::EquitySnapshot { .. } => "EquitySnapshot",
        }
    }
}

/// One tick round: every stock that moved, and the live candles it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickRound {
    pub at: DateTime<Utc>,
    pub ticks: Vec<Tick>,
    pub candles: Vec<CandleUpdate>,
    /// Rises by exactly one per round across the deployment, leader changes and restarts
    /// (stored with the round): a jump tells a subscriber that rounds were missed. Rounds
    /// from the previous release lack it and read as 0.
    #[serde(default)]
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub stock_id: i64,
    pub symbol: String,
    pub price_cents: i64,
    pub prev_close_cents: i64,
    /// The stock's name and its trading day so far, so that a tick can update every view of
    /// the stock. Rounds from the previous release lack them: they read as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<TickDay>,
}

/// A stock's name and trading day at a tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickDay {
    pub name: String,
    pub open_cents: i64,
    pub high_cents: i64,
    pub low_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandleUpdate {
    pub stock_id: i64,
    pub interval: Interval,
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::trading::order::{OrderType, Side, Status, TimeInForce};

    /// Events exactly as the previous release (string sides, statuses and intervals)
    /// published them: this release must read them, and write the same JSON back.
    #[test]
    fn reads_and_writes_the_previous_wire_format() {
        let order = json!({
            "type": "order_updated", "user_id": 7, "order_id": 42, "stock_id": 3,
            "side": "SELL", "quantity": 5, "status": "EXECUTED", "price_cents": 12345,
            "total_cents": 61725, "client_order_id": "c-1", "reject_reason": null,
            "created_at": "2026-03-02T15:00:00Z", "executed_at": "2026-03-02T15:00:01Z"
        });
        let event: Event = serde_json::from_value(order.clone()).unwrap();
        let Event::OrderUpdated(o) = &event else {
            panic!("an order update: {event:?}")
        };
        assert_eq!((o.id, o.side, o.status), (42, Side::Sell, Status::Executed));
        // Fields this release added read as their defaults; a change's time as the fill's.
        assert_eq!(
            (
                o.order_type,
                o.time_in_force,
                o.reserved_shares,
                o.replaced_by
            ),
            (OrderType::Market, TimeInForce::Day, 0, None)
        );
        assert_eq!(o.updated_at, o.executed_at.unwrap());
        // Written back with every field the previous release wrote, as it wrote them (it
        // ignores the new ones), and read back the same.
        let written = serde_json::to_value(&event).unwrap();
        for (key, value) in order.as_object().unwrap() {
            assert_eq!(&written[key], value, "{key}");
        }
        assert_eq!(written["order_type"], "MARKET");
        assert_eq!(written["time_in_force"], "DAY");
        assert_eq!(serde_json::from_value::<Event>(written).unwrap(), event);

        let round = json!({
            "type": "tick_round", "at": "2026-03-02T15:00:00Z",
            "ticks": [{"stock_id": 3, "symbol": "AAPL", "price_cents": 100, "prev_close_cents": 99}],
            "candles": [{"stock_id": 3, "interval": "H4", "bucket_start": "2026-03-02T13:00:00Z",
                "open_cents": 1, "high_cents": 2, "low_cents": 1, "close_cents": 2, "tick_count": 3}]
        });
        let event: Event = serde_json::from_value(round.clone()).unwrap();
        let Event::TickRound(r) = &event else {
            panic!("a tick round: {event:?}")
        };
        assert_eq!(r.candles[0].interval, Interval::H4);
        assert_eq!(r.seq, 0, "a round without a number reads as 0");
        // Written back with its number; the previous release ignores the field.
        let mut numbered = round.clone();
        numbered["seq"] = json!(0);
        assert_eq!(serde_json::to_value(&event).unwrap(), numbered);
        numbered["seq"] = json!(42);
        let event: Event = serde_json::from_value(numbered.clone()).unwrap();
        assert!(
            matches!(&event, Event::TickRound(r) if r.seq == 42),
            "{event:?}"
        );
        assert_eq!(serde_json::to_value(&event).unwrap(), numbered);

        let unknown_status = json!({
            "type": "order_updated", "user_id": 7, "order_id": 42, "stock_id": 3,
            "side": "SELL", "quantity": 5, "status": "TELEPORTED", "price_cents": null,
            "total_cents": null, "client_order_id": null, "reject_reason": null,
            "created_at": "2026-03-02T15:00:00Z", "executed_at": null
        });
        assert!(serde_json::from_value::<Event>(unknown_status).is_err());

        let disabled = json!({ "type": "user_disabled", "user_id": 7 });
        let event: Event = serde_json::from_value(disabled.clone()).unwrap();
        assert_eq!(event, Event::UserDisabled { user_id: 7 });
        assert_eq!(serde_json::to_value(&event).unwrap(), disabled);
        assert_eq!(
            serde_json::to_value(Event::SessionsRevoked { user_id: 7 }).unwrap(),
            json!({ "type": "sessions_revoked", "user_id": 7 })
        );
    }
}
