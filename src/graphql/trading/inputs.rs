//! What clients send to the trading queries and mutations.

use async_graphql::{ID, InputObject};

use super::OrderSide;
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

/// A market order to place.
#[derive(InputObject)]
pub struct PlaceOrderInput {
    /// The stock, by global id or by symbol, e.g. `{symbol: "AAPL"}`.
    pub stock: StockRef,
    /// Buy or sell.
    pub side: OrderSide,
    /// Whole shares, at least 1 (at most `MAX_ORDER_QUANTITY`).
    pub quantity: i32,
    /// Your idempotency key (1–64 characters): retrying with the same key returns the first
    /// order instead of placing another.
    pub client_order_id: Option<String>,
}

/// An order to cancel.
#[derive(InputObject)]
pub struct CancelOrderInput {
    /// The global id of one of your QUEUED orders.
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
