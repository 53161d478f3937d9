//! Positions and the portfolio valuation, keyed by their owner.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};

use super::{Cash, load_stock};
use crate::{
    domain::trading::portfolio,
    graphql::{
        connection::{UNCAPPED_LIST, list_cost},
        error::ApiResult,
        market::{Stock, percent},
        node::{Kind, global_id},
        scalars::{DateTime, Decimal, money},
    },
};

/// Shares of one stock held by one user. Its id is the owner's and the stock's, so a trade's
/// `position` and the portfolio's entry are one cache record.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Position {
    /// Global id (one per account and stock).
    pub id: ID,
    /// Shares held (0 once all are sold).
    pub quantity: i64,
    /// Shares held by queued sell orders.
    pub reserved_quantity: i64,
    /// Cost basis per share (4 decimals).
    pub average_cost: Decimal,
    /// The stock's last price.
    pub current_price: Decimal,
    /// `quantity × currentPrice`.
    pub market_value: Decimal,
    /// `marketValue` minus the cost basis.
    pub unrealized_pnl: Decimal,
    /// Unrealized P&L in percent of the cost basis (2 decimals).
    pub unrealized_pnl_percent: Decimal,
    /// P&L realized by sells of this stock so far.
    pub realized_pnl: Decimal,
    #[graphql(skip)]
    pub stock_id: i64,
}

#[ComplexObject]
impl Position {
    /// The stock held.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
}

impl Position {
    pub fn of(user_id: i64, h: &portfolio::Holding) -> Self {
        Position {
            id: global_id(Kind::Position, format!("{user_id}:{}", h.stock_id)),
            quantity: h.quantity,
            reserved_quantity: h.reserved_quantity,
            average_cost: h.average_cost().into(),
            current_price: money(h.last_cents),
            market_value: money(h.market_value_cents()),
            unrealized_pnl: money(h.unrealized_pnl_cents()),
            unrealized_pnl_percent: percent(h.unrealized_pnl_cents(), h.cost_basis_cents),
            realized_pnl: money(h.realized_pnl_cents),
            stock_id: h.stock_id,
        }
    }
}

/// One user's valuation at live prices. Its id is the owner's.
#[derive(SimpleObject, Clone)]
pub struct Portfolio {
    /// Global id (one per account).
    pub id: ID,
    /// The account's cash.
    pub cash: Cash,
    /// The positions at their last prices.
    pub positions_value: Decimal,
    /// `cash.balance + positionsValue`.
    pub total_value: Decimal,
    /// Change of the positions' value since the previous close.
    pub day_change: Decimal,
    /// Sum of the positions' unrealized P&L.
    pub unrealized_pnl: Decimal,
    /// Realized P&L of all positions, closed ones included.
    pub realized_pnl: Decimal,
    /// Open positions (quantity above 0), by stock.
    #[graphql(complexity = "list_cost(UNCAPPED_LIST, child_complexity)")]
    pub positions: Vec<Position>,
    /// When this valuation was computed.
    pub updated_at: DateTime,
}

impl Portfolio {
    pub fn new(p: portfolio::Portfolio, at: chrono::DateTime<chrono::Utc>) -> Self {
        let user_id = p.user_id;
        Portfolio {
            id: global_id(Kind::Portfolio, user_id),
            positions_value: money(p.positions_value_cents()),
            total_value: money(p.total_value_cents()),
            day_change: money(p.day_change_cents()),
            unrealized_pnl: money(p.unrealized_pnl_cents()),
            realized_pnl: money(p.realized_pnl_cents),
            positions: p
                .holdings
                .iter()
                .map(|h| Position::of(user_id, h))
                .collect(),
            cash: Cash::of(user_id, p.cash),
            updated_at: at.into(),
        }
    }
}
