//! Orders as the user sees them: the quote, the checks and replay before placement, and the
//! reads. Placing, replacing and canceling are in `placement`; the rules in `plan`, `terms`
//! and `working`, the writes in `store`, the queue at the open in `queue`.

use chrono::{DateTime, Utc};
use entity::{orders, trades, users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

pub use super::order::{Order, PlaceOrder, Side, Status};
use super::{
    Trading,
    context::{funds, holding, order_context},
    plan::{self, QuoteProblem},
    units::{Cents, OrderId, Shares, StockId, UserId},
};
use crate::domain::{
    Error, Result,
    events::Event,
    page::{self, Page, PageRequest},
};

#[derive(Debug, Clone)]
pub struct Trade {
    pub id: i64,
    pub order_id: i64,
    pub user_id: i64,
    pub stock_id: i64,
    pub side: Side,
    /// Shares (always positive; `side` says which way).
    pub quantity: i64,
    pub price_cents: i64,
    pub total_cents: i64,
    pub realized_pnl_cents: i64,
    pub executed_at: DateTime<Utc>,
}

impl TryFrom<trades::Model> for Trade {
    type Error = Error;
    fn try_from(t: trades::Model) -> Result<Self> {
        Ok(Trade {
            id: t.id,
            order_id: t.order_id,
            user_id: t.user_id,
            stock_id: t.stock_id,
            side: Side::parse(&t.side)?,
            quantity: t.quantity.abs(),
            price_cents: t.price_cents,
            total_cents: t.total_cents,
            realized_pnl_cents: t.realized_pnl_cents,
            executed_at: t.executed_at,
        })
    }
}

/// What an order would do now.
#[derive(Debug, Clone)]
pub struct OrderQuote {
    pub stock_id: i64,
    pub side: Side,
    pub quantity: Shares,
    pub price: Cents,
    pub total: Cents,
    pub cash_after: Cents,
    pub shares_after: Shares,
    pub market_open: bool,
    /// False when the market is closed (the order would queue) or it would be refused.
    pub executes_now: bool,
    /// Why it would be refused, if it would.
    pub problem: Option<QuoteProblem>,
}

impl Trading {
    /// Refuses an order whose input is out of bounds (BAD_USER_INPUT), without touching the
    /// database; `place_order` checks the same.
    pub fn check_order(&self, cmd: &PlaceOrder) -> Result<()> {
        self.validate(cmd.quantity, cmd.client_order_id.as_deref())
    }

    /// The order already placed under this command's `clientOrderId`, if any (CONFLICT when
    /// the key was used for a different order): what a retry gets back.
    pub async fn replay(&self, user_id: i64, cmd: &PlaceOrder) -> Result<Option<Order>> {
        placed_before(&self.db, user_id, cmd).await
    }

    pub(super) fn validate(&self, quantity: Shares, client_order_id: Option<&str>) -> Result<()> {
        if quantity.0 < 1 || quantity.0 > self.limits.max_order_quantity {
            return Err(Error::bad_input(
                "quantity",
                format!(
                    "quantity must be a whole number from 1 to {}",
                    self.limits.max_order_quantity
                ),
            ));
        }
        if let Some(id) = client_order_id
            && (id.is_empty() || id.len() > 64 || id.chars().any(char::is_control))
        {
            return Err(Error::bad_input(
                "clientOrderId",
                "clientOrderId must be 1 to 64 printable characters",
            ));
        }
        Ok(())
    }

    /// The price preview: never writes anything. Reports the after-trade amounts even when
    /// the order would be refused (`problem` says why: not covered, or the stock halted).
    pub async fn quote(
        &self,
        user: UserId,
        stock: StockId,
        side: Side,
        quantity: Shares,
    ) -> Result<OrderQuote> {
        self.validate(quantity, None)?;
        let context = order_context(&self.db, user, stock).await?;
        let user = users::Entity::find_by_id(user.0)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::Unauthenticated("account not found".into()))?;
        let held = holding(context.position.as_ref());
        let preview = plan::preview(side, quantity, context.stock.price, funds(&user), held)?;
        // A halted stock refuses the order whatever the account holds.
        let problem = if context.stock.active {
            preview.problem
        } else {
            Some(QuoteProblem::StockHalted)
        };
        Ok(OrderQuote {
            stock_id: stock.0,
            side,
            quantity,
            price: context.stock.price,
            total: preview.total,
            cash_after: preview.cash_after,
            shares_after: preview.shares_after,
            market_open: context.stock.market_open,
            executes_now: context.executes_market_now() && problem.is_none(),
            problem,
        })
    }

    pub async fn orders(
        &self,
        user_id: i64,
        status: Option<Status>,
        page: PageRequest,
    ) -> Result<Page<Order>> {
        let mut rows = orders::Entity::find().filter(orders::Column::UserId.eq(user_id));
        if let Some(status) = status {
            rows = rows.filter(orders::Column::Status.eq(status.as_str()));
        }
        page::fetch(&self.db, rows, orders::Column::Id, page, Order::try_from).await
    }

    pub async fn order(&self, user: UserId, order: OrderId) -> Result<Order> {
        orders::Entity::find_by_id(order.0)
            .one(&self.db)
            .await?
            .filter(|o| o.user_id == user.0)
            .ok_or_else(|| Error::NotFound("order".into()))
            .and_then(Order::try_from)
    }

    pub async fn trades(&self, user_id: i64, page: PageRequest) -> Result<Page<Trade>> {
        let rows = trades::Entity::find().filter(trades::Column::UserId.eq(user_id));
        page::fetch(&self.db, rows, trades::Column::Id, page, Trade::try_from).await
    }

    /// Tells the owner's feeds, after the commit. Every change of an order moves cash or
    /// shares, or what is reserved of them, so the portfolio changes too.
    pub(super) async fn after_change(&self, order: &Order) {
        self.publish(Event::OrderUpdated(Box::new(order.clone())))
            .await;
        self.publish(Event::PortfolioChanged {
            user_id: order.user_id,
        })
        .await;
    }
}

/// The order `user_id` first placed under `cmd`'s `clientOrderId` (as it is now: replaced,
/// maybe); CONFLICT when that key was used for a different order.
pub(super) async fn placed_before(
    conn: &impl ConnectionTrait,
    user_id: i64,
    cmd: &PlaceOrder,
) -> Result<Option<Order>> {
    let Some(coid) = &cmd.client_order_id else {
        return Ok(None);
    };
    // The first order placed under the key: a replacement shares its key (the lineage).
    let Some(existing) = orders::Entity::find()
        .filter(orders::Column::UserId.eq(user_id))
        .filter(orders::Column::ClientOrderId.eq(coid.as_str()))
        .order_by_asc(orders::Column::Id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let existing = Order::try_from(existing)?;
    if existing.stock_id != cmd.stock_id
        || existing.side != cmd.side
        || existing.quantity != cmd.quantity.0
        || existing.terms() != cmd.terms
    {
        return Err(Error::Conflict(
            "clientOrderId was already used for a different order".into(),
        ));
    }
    Ok(Some(existing))
}
