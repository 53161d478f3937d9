//! What clients send to the trading queries and mutations.

use async_graphql::{ID, InputObject};

use super::{OrderSide, OrderType, TimeInForce};
use crate::graphql::{market::StockRef, scalars::Decimal};

/// An order to preview.
#[derive(InputObject)]
pub struct QuoteInput {
    /// The stock, by global id or by symbol.
    pub stock: StockRef,
    /// Buy or sell.
    pub side: OrderSide,
    /// Whole shares, at least 1.
    pub quantity: i32,
}

/// An order to place. Prices have at most two decimals and are positive; each type takes
/// exactly the prices it uses (others are refused with BAD_USER_INPUT naming the field).
#[derive(InputObject)]
pub struct PlaceOrderInput {
    /// The stock, by global id or by symbol, e.g. `{symbol: "AAPL"}`.
    pub stock: StockRef,
    /// Buy or sell.
    pub side: OrderSide,
    /// Whole shares, at least 1 (at most `MAX_ORDER_QUANTITY`).
    pub quantity: i32,
    /// How the order is priced.
    #[graphql(name = "type", default)]
    pub order_type: OrderType,
    /// LIMIT and STOP_LIMIT orders: the worst price to fill at, e.g. `"101.50"`.
    pub limit_price: Option<Decimal>,
    /// STOP and STOP_LIMIT orders: the price that triggers the order. A buy stop must be above
    /// the current price, a sell stop below it.
    pub stop_price: Option<Decimal>,
    /// TRAILING_STOP orders: the trail as a percentage of the best price since placement,
    /// above 0 and below 100 with at most two decimals, e.g. `"2.5"`. Give this or
    /// `trailAmount`, not both.
    pub trail_percent: Option<Decimal>,
    /// TRAILING_STOP orders: the trail as an amount per share, e.g. `"1.50"`. Give this or
    /// `trailPercent`, not both.
    pub trail_amount: Option<Decimal>,
    /// How long the order works. IOC and FOK need an open market and apply to MARKET and
    /// LIMIT orders.
    #[graphql(default)]
    pub time_in_force: TimeInForce,
    /// Your idempotency key (1–64 characters): retrying with the same key returns the first
    /// order instead of placing another.
    pub client_order_id: Option<String>,
}

/// A working order to replace, and what to change; fields left out keep the order's own.
#[derive(InputObject)]
pub struct ReplaceOrderInput {
    /// The global id of one of your OPEN (working) orders.
    pub id: ID,
    /// New whole number of shares, at least 1.
    pub quantity: Option<i32>,
    /// New limit price (LIMIT and STOP_LIMIT orders).
    pub limit_price: Option<Decimal>,
    /// New stop price (STOP and STOP_LIMIT orders), checked against the current price.
    pub stop_price: Option<Decimal>,
    /// New trail as a percentage (TRAILING_STOP orders); replaces the order's trail, whichever
    /// way that was given.
    pub trail_percent: Option<Decimal>,
    /// New trail as an amount per share (TRAILING_STOP orders); replaces the order's trail.
    pub trail_amount: Option<Decimal>,
    /// New time in force.
    pub time_in_force: Option<TimeInForce>,
}

/// An order to cancel.
#[derive(InputObject)]
pub struct CancelOrderInput {
    /// The global id of one of your QUEUED or OPEN orders.
    pub order_id: ID,
}

/// A deposit or a withdrawal.
#[derive(InputObject)]
pub struct CashInput {
    /// Positive, at most two decimals, at most `MAX_CASH_OPERATION` per operation, e.g.
    /// `"250.00"`.
    pub amount: Decimal,
    /// Your idempotency key (1–64 characters, unique per user): retrying with the same key
    /// returns the first answer and moves no money.
    pub idempotency_key: Option<String>,
}
