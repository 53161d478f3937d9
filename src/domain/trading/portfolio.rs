//! Valuation: cash, positions at live prices, P&L.

use std::collections::HashMap;

use entity::positions;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{Trading, cash::Cash};
use crate::domain::{Result, market::stocks, money::from_cents};

/// One holding at the live price (cents).
#[derive(Debug, Clone)]
pub struct Holding {
    pub stock_id: i64,
    pub quantity: i64,
    /// Shares held by queued sell orders.
    pub reserved_quantity: i64,
    pub cost_basis_cents: i64,
    pub realized_pnl_cents: i64,
    pub last_cents: i64,
    pub prev_close_cents: i64,
}

impl Holding {
    pub fn market_value_cents(&self) -> i64 {
        self.quantity * self.last_cents
    }

    pub fn unrealized_pnl_cents(&self) -> i64 {
        self.market_value_cents() - self.cost_basis_cents
    }

    pub fn day_change_cents(&self) -> i64 {
        self.quantity * (self.last_cents - self.prev_close_cents)
    }

    /// Cost basis per share, always with four decimals (zero when nothing is held).
    pub fn average_cost(&self) -> Decimal {
        let mut avg =
            (from_cents(self.cost_basis_cents) / Decimal::from(self.quantity.max(1))).round_dp(4);
        avg.rescale(4);
        avg
    }
}

#[derive(Debug, Clone)]
pub struct Portfolio {
    pub user_id: i64,
    pub cash: Cash,
    /// Open positions (quantity > 0), by stock id.
    pub holdings: Vec<Holding>,
    /// Realized P&L of every position, closed ones included.
    pub realized_pnl_cents: i64,
}

impl Portfolio {
    pub fn positions_value_cents(&self) -> i64 {
        self.holdings.iter().map(Holding::market_value_cents).sum()
    }

    pub fn total_value_cents(&self) -> i64 {
        self.cash.balance_cents + self.positions_value_cents()
    }

    pub fn unrealized_pnl_cents(&self) -> i64 {
        self.holdings
            .iter()
            .map(Holding::unrealized_pnl_cents)
            .sum()
    }

    pub fn day_change_cents(&self) -> i64 {
        self.holdings.iter().map(Holding::day_change_cents).sum()
    }
}

impl Trading {
    pub async fn portfolio(&self, user_id: i64) -> Result<Portfolio> {
        let cash = self.cash(user_id).await?;
        let rows = positions::Entity::find()
            .filter(positions::Column::UserId.eq(user_id))
            .order_by_asc(positions::Column::StockId)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|p| p.stock_id).collect();
        let quotes: HashMap<i64, stocks::Quote> = stocks::by_ids(&self.db, &ids).await?;
        let realized_pnl_cents = rows.iter().map(|p| p.realized_pnl_cents).sum();
        let holdings = rows
            .into_iter()
            .filter(|p| p.quantity > 0)
            .filter_map(|p| {
                let q = quotes.get(&p.stock_id)?;
                Some(Holding {
                    stock_id: p.stock_id,
                    quantity: p.quantity,
                    reserved_quantity: p.reserved_quantity,
                    cost_basis_cents: p.cost_basis_cents,
                    realized_pnl_cents: p.realized_pnl_cents,
                    last_cents: q.last_cents,
                    prev_close_cents: q.prev_close_cents,
                })
            })
            .collect();
        Ok(Portfolio {
            user_id,
            cash,
            holdings,
            realized_pnl_cents,
        })
    }
}
