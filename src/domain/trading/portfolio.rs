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

    /// Values the holdings at new prices (`price_of` gives a stock's price and previous close
    /// in cents, or None when it did not move); true when any holding changed. Cash and
    /// quantities change only through the account's own commands, which reload it.
    pub fn revalue(&mut self, price_of: impl Fn(i64) -> Option<(i64, i64)>) -> bool {
        let mut moved = false;
        for h in &mut self.holdings {
            if let Some((last, prev_close)) = price_of(h.stock_id)
                && (last, prev_close) != (h.last_cents, h.prev_close_cents)
            {
                (h.last_cents, h.prev_close_cents) = (last, prev_close);
                moved = true;
            }
        }
        moved
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

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(stock_id: i64, quantity: i64, last_cents: i64) -> Holding {
        Holding {
            stock_id,
            quantity,
            reserved_quantity: 0,
            cost_basis_cents: quantity * 100,
            realized_pnl_cents: 0,
            last_cents,
            prev_close_cents: 100,
        }
    }

    #[test]
    fn revaluing_moves_only_held_stocks_that_moved() {
        let mut p = Portfolio {
            user_id: 1,
            cash: Cash {
                balance_cents: 1_000,
                reserved_cents: 0,
            },
            holdings: vec![holding(1, 2, 100), holding(2, 3, 200)],
            realized_pnl_cents: 0,
        };
        assert_eq!(p.total_value_cents(), 1_000 + 200 + 600);
        // A round that moves only a stock not held, or repeats the same prices: nothing.
        assert!(!p.revalue(|id| (id == 9).then_some((500, 100))));
        assert!(!p.revalue(|id| (id == 1).then_some((100, 100))));
        // Stock 2 moves: its value, the total and the day change follow; stock 1 stays.
        assert!(p.revalue(|id| (id == 2).then_some((250, 100))));
        assert_eq!(p.holdings[1].last_cents, 250);
        assert_eq!(p.positions_value_cents(), 200 + 750);
        assert_eq!(p.total_value_cents(), 1_000 + 950);
        // Stock 1 adds nothing to either: it did not move and is valued at cost.
        assert_eq!(p.day_change_cents(), 3 * 150);
        assert_eq!(p.unrealized_pnl_cents(), 750 - 300);
    }
}
