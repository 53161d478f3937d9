//! Market orders: quote, place (execute now or queue), cancel, and the queue run at the open.

use chrono::{DateTime, Utc};
use entity::{market_state, orders, positions, prices_live, stocks as stock_rows, trades, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::Expr,
};

pub use super::order::{Order, Side, Status};
use super::{LedgerKind, Trading, lock_user, move_cash};
use crate::{
    domain::events::Event,
    domain::{
        Error, Result,
        market::stocks::{self, Quote},
        money::from_cents,
        page::{self, Page, PageRequest},
    },
    infra::lease::Fence,
};

#[derive(Debug, Clone)]
pub struct Trade {
    pub id: i64,
    pub order_id: i64,
    pub stock_id: i64,
    pub side: Side,
    /// Shares (always positive; `side` says which way).
    pub quantity: i64,
    pub price_cents: i64,
    pub total_cents: i64,
    pub realized_pnl_cents: i64,
    pub executed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub stock_id: i64,
    pub side: Side,
    pub quantity: i64,
    pub client_order_id: Option<String>,
}

/// What an order would do now.
#[derive(Debug, Clone)]
pub struct OrderQuote {
    pub stock: Quote,
    pub side: Side,
    pub quantity: i64,
    pub price_cents: i64,
    pub total_cents: i64,
    pub cash_after_cents: i64,
    pub shares_after: i64,
    pub market_open: bool,
    /// False when the market is closed (the order would queue) or it cannot be covered.
    pub executes_now: bool,
    /// Why it could not be placed, if it could not.
    pub problem: Option<String>,
}

impl Trading {
    fn validate(&self, quantity: i64, client_order_id: Option<&str>) -> Result<()> {
        if quantity < 1 || quantity > self.limits.max_order_quantity {
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

    /// The price preview: never writes anything.
    pub async fn quote(
        &self,
        user_id: i64,
        stock_id: i64,
        side: Side,
        quantity: i64,
    ) -> Result<OrderQuote> {
        self.validate(quantity, None)?;
        let stock = tradable(&self.db, stock_id).await?;
        let user = users::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::Unauthenticated("account not found".into()))?;
        let position = position(&self.db, user_id, stock_id).await?;
        let market_open = market_open(&self.db).await?;
        let total = total(stock.last_cents, quantity)?;
        let available_shares = position
            .as_ref()
            .map_or(0, |p| p.quantity - p.reserved_quantity);
        let held = position.as_ref().map_or(0, |p| p.quantity);
        let (cash_after, shares_after, problem) = match side {
            Side::Buy => {
                let after = user.cash_cents - total;
                let short = user.cash_cents - user.reserved_cents < total;
                (
                    after,
                    held + quantity,
                    short.then(|| "insufficient funds".to_string()),
                )
            }
            Side::Sell => {
                let short = available_shares < quantity;
                (
                    user.cash_cents + total,
                    held - quantity,
                    short.then(|| "insufficient shares".to_string()),
                )
            }
        };
        Ok(OrderQuote {
            side,
            quantity,
            price_cents: stock.last_cents,
            total_cents: total,
            cash_after_cents: cash_after,
            shares_after,
            market_open,
            executes_now: market_open && problem.is_none(),
            problem,
            stock,
        })
    }

    /// Places a market order: executed at once while the market is open, queued (with cash or
    /// shares reserved) while it is closed. A repeated `clientOrderId` returns the first order.
    #[tracing::instrument(skip(self, cmd), fields(stock_id = cmd.stock_id, side = cmd.side.as_str(), quantity = cmd.quantity))]
    pub async fn place_order(&self, user_id: i64, cmd: PlaceOrder) -> Result<Order> {
        self.validate(cmd.quantity, cmd.client_order_id.as_deref())?;
        let txn = self.db.begin().await?;
        let user = lock_user(&txn, user_id).await?;
        if let Some(coid) = &cmd.client_order_id {
            let existing = orders::Entity::find()
                .filter(orders::Column::UserId.eq(user_id))
                .filter(orders::Column::ClientOrderId.eq(coid.as_str()))
                .one(&txn)
                .await?;
            if let Some(existing) = existing {
                let existing = Order::try_from(existing)?;
                if existing.stock_id != cmd.stock_id
                    || existing.side != cmd.side
                    || existing.quantity != cmd.quantity
                {
                    return Err(Error::Conflict(
                        "clientOrderId was already used for a different order".into(),
                    ));
                }
                return Ok(existing);
            }
        }
        let now = self.clock.now();
        let context = order_context(&txn, user_id, cmd.stock_id).await?;
        let order = if context.market_open {
            let held = context.position.as_ref();
            let fill = plan_fill(&user, held, cmd.side, cmd.quantity, context.price_cents)?;
            let order = insert_order(&txn, user_id, &cmd, NewOrder::Executed(&fill), now).await?;
            apply_fill(&txn, &user, held, &order, &fill, now).await?;
            order
        } else {
            queue(&txn, &user, &cmd, &context, now).await?
        };
        txn.commit().await?;
        self.after_change(&order).await;
        Ok(order)
    }

    /// Cancels the caller's own queued order and releases what it reserved.
    #[tracing::instrument(skip(self))]
    pub async fn cancel_order(&self, user_id: i64, order_id: i64) -> Result<Order> {
        let txn = self.db.begin().await?;
        let user = lock_user(&txn, user_id).await?;
        let order = orders::Entity::find_by_id(order_id)
            .one(&txn)
            .await?
            .filter(|o| o.user_id == user_id) // others' orders do not exist for this caller
            .ok_or_else(|| Error::NotFound("order".into()))?;
        let order = Order::try_from(order)?;
        if order.status != Status::Queued {
            return Err(Error::Conflict(format!(
                "only queued orders can be canceled; this one is {}",
                order.status.as_str()
            )));
        }
        let now = self.clock.now();
        let order = finish_queued(&txn, &user, order, Status::Canceled, None, now).await?;
        txn.commit().await?;
        self.after_change(&order).await;
        Ok(order)
    }

    /// Runs queued orders first-in first-out at current prices while the market is open.
    /// Each order is its own transaction; an order that can no longer be covered is rejected.
    /// Safe to run concurrently: an order leaves QUEUED exactly once. Only the lease holder
    /// runs it; `fence` stops a deposed leader before it writes.
    pub async fn execute_queued(&self, fence: &Fence) -> Result<usize> {
        let mut done = 0;
        let mut after_id = 0;
        loop {
            if !market_open(&self.db).await? {
                return Ok(done);
            }
            let batch = orders::Entity::find()
                .filter(orders::Column::Status.eq(Status::Queued.as_str()))
                .filter(orders::Column::Id.gt(after_id))
                .order_by_asc(orders::Column::Id)
                .limit(200)
                .all(&self.db)
                .await?;
            let Some(last) = batch.last() else {
                return Ok(done);
            };
            after_id = last.id;
            for order in batch {
                if let Some(order) = self.execute_one_queued(fence, order.id).await? {
                    done += 1;
                    self.after_change(&order).await;
                }
            }
        }
    }

    async fn execute_one_queued(&self, fence: &Fence, order_id: i64) -> Result<Option<Order>> {
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        let Some(order) = orders::Entity::find_by_id(order_id).one(&txn).await? else {
            return Ok(None);
        };
        let user = match lock_user(&txn, order.user_id).await {
            Ok(user) => user,
            // A deactivated owner's orders stay queued until an admin deals with the account.
            Err(Error::Unauthenticated(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        // Re-read under the owner's lock: a cancel may have won the race.
        let order = match orders::Entity::find_by_id(order_id).one(&txn).await? {
            Some(o) if o.status == Status::Queued.as_str() => Order::try_from(o)?,
            _ => return Ok(None),
        };
        let now = self.clock.now();
        // Only a stock that is really gone or inactive rejects; a failed lookup (a lock
        // timeout, a dropped connection) aborts this attempt and the order stays queued.
        let stock = stocks::by_ids(&txn, &[order.stock_id])
            .await?
            .remove(&order.stock_id)
            .filter(|s| s.active);
        let Some(stock) = stock else {
            let order = finish_queued(
                &txn,
                &user,
                order,
                Status::Rejected,
                Some("the stock is halted".into()),
                now,
            )
            .await?;
            txn.commit().await?;
            return Ok(Some(order));
        };
        // Release the reservation, then check the order against what is really there now.
        let order = finish_queued(&txn, &user, order, Status::Executed, None, now).await?;
        let user = lock_user(&txn, user.id).await?;
        let held = position(&txn, user.id, order.stock_id).await?;
        let order = match plan_fill(
            &user,
            held.as_ref(),
            order.side,
            order.quantity,
            stock.last_cents,
        ) {
            Ok(fill) => {
                let order = mark_executed(&txn, order, &fill, now).await?;
                apply_fill(&txn, &user, held.as_ref(), &order, &fill, now).await?;
                order
            }
            Err(Error::InsufficientFunds(reason) | Error::InsufficientShares(reason)) => {
                reject(&txn, order, &reason, now).await?
            }
            Err(e) => return Err(e),
        };
        txn.commit().await?;
        Ok(Some(order))
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

    pub async fn order(&self, user_id: i64, order_id: i64) -> Result<Order> {
        orders::Entity::find_by_id(order_id)
            .one(&self.db)
            .await?
            .filter(|o| o.user_id == user_id)
            .ok_or_else(|| Error::NotFound("order".into()))
            .and_then(Order::try_from)
    }

    pub async fn trades(&self, user_id: i64, page: PageRequest) -> Result<Page<Trade>> {
        let rows = trades::Entity::find().filter(trades::Column::UserId.eq(user_id));
        page::fetch(&self.db, rows, trades::Column::Id, page, |t| {
            Ok(Trade {
                id: t.id,
                order_id: t.order_id,
                stock_id: t.stock_id,
                side: Side::parse(&t.side)?,
                quantity: t.quantity.abs(),
                price_cents: t.price_cents,
                total_cents: t.total_cents,
                realized_pnl_cents: t.realized_pnl_cents,
                executed_at: t.executed_at,
            })
        })
        .await
    }

    async fn after_change(&self, order: &Order) {
        self.publish(Event::OrderUpdated(order.clone())).await;
        if order.status == Status::Executed {
            self.publish(Event::PortfolioChanged {
                user_id: order.user_id,
            })
            .await;
        }
    }
}

/// The market state the engine last applied.
async fn market_open(conn: &impl ConnectionTrait) -> Result<bool> {
    Ok(market_state::Entity::find_by_id(1)
        .one(conn)
        .await?
        .is_some_and(|s| s.is_open))
}

/// Everything a market order reads besides its owner, in one statement.
struct OrderContext {
    price_cents: i64,
    market_open: bool,
    position: Option<positions::Model>,
}

#[derive(Debug, FromQueryResult)]
struct OrderContextRow {
    active: bool,
    last_cents: i64,
    is_open: Option<bool>,
    position_id: Option<i64>,
    quantity: Option<i64>,
    reserved_quantity: Option<i64>,
    cost_basis_cents: Option<i64>,
    realized_pnl_cents: Option<i64>,
    position_updated_at: Option<DateTime<Utc>>,
}

/// The stock (NOT_FOUND when unknown or halted), its live price, the market state the engine
/// applied, and `user_id`'s position in it.
async fn order_context(
    conn: &impl ConnectionTrait,
    user_id: i64,
    stock_id: i64,
) -> Result<OrderContext> {
    use sea_orm::sea_query::{Alias, Condition, ExprTrait, Query};
    let (s, p, m, pos) = (
        stock_rows::Entity,
        prices_live::Entity,
        market_state::Entity,
        positions::Entity,
    );
    let query = Query::select()
        .column((s, stock_rows::Column::Active))
        .column((p, prices_live::Column::LastCents))
        .column((m, market_state::Column::IsOpen))
        .expr_as(
            Expr::col((pos, positions::Column::Id)),
            Alias::new("position_id"),
        )
        .column((pos, positions::Column::Quantity))
        .column((pos, positions::Column::ReservedQuantity))
        .column((pos, positions::Column::CostBasisCents))
        .column((pos, positions::Column::RealizedPnlCents))
        .expr_as(
            Expr::col((pos, positions::Column::UpdatedAt)),
            Alias::new("position_updated_at"),
        )
        .from(s)
        .inner_join(
            p,
            Expr::col((p, prices_live::Column::StockId)).equals((s, stock_rows::Column::Id)),
        )
        .left_join(m, Expr::col((m, market_state::Column::Id)).eq(1))
        .left_join(
            pos,
            Condition::all()
                .add(
                    Expr::col((pos, positions::Column::StockId))
                        .equals((s, stock_rows::Column::Id)),
                )
                .add(Expr::col((pos, positions::Column::UserId)).eq(user_id)),
        )
        .and_where(Expr::col((s, stock_rows::Column::Id)).eq(stock_id))
        .to_owned();
    let row = OrderContextRow::find_by_statement(conn.get_database_backend().build(&query))
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("stock".into()))?;
    if !row.active {
        return Err(Error::NotFound("stock (it is halted)".into()));
    }
    let position = match (row.position_id, row.quantity, row.cost_basis_cents) {
        (Some(id), Some(quantity), Some(cost_basis_cents)) => Some(positions::Model {
            id,
            user_id,
            stock_id,
            quantity,
            reserved_quantity: row.reserved_quantity.unwrap_or(0),
            cost_basis_cents,
            realized_pnl_cents: row.realized_pnl_cents.unwrap_or(0),
            updated_at: row.position_updated_at.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(OrderContext {
        price_cents: row.last_cents,
        market_open: row.is_open.unwrap_or(false),
        position,
    })
}

/// A stock that takes orders: it exists and is not halted.
async fn tradable(conn: &impl ConnectionTrait, stock_id: i64) -> Result<Quote> {
    let stock = stocks::by_id(conn, stock_id).await?;
    if !stock.active {
        return Err(Error::NotFound("stock (it is halted)".into()));
    }
    Ok(stock)
}

fn total(price_cents: i64, quantity: i64) -> Result<i64> {
    price_cents
        .checked_mul(quantity)
        .ok_or_else(|| Error::bad_input("quantity", "order value is too large"))
}

async fn position(
    conn: &impl ConnectionTrait,
    user_id: i64,
    stock_id: i64,
) -> Result<Option<positions::Model>> {
    Ok(positions::Entity::find()
        .filter(positions::Column::UserId.eq(user_id))
        .filter(positions::Column::StockId.eq(stock_id))
        .one(conn)
        .await?)
}

/// How a new order is stored.
enum NewOrder<'a> {
    /// Filled at once: the caller applies the fill in the same transaction.
    Executed(&'a Fill),
    /// Waiting for the open, with this much cash reserved (buys).
    Queued { reserved_cents: i64 },
}

/// Stores a new order, final from the start (one statement).
async fn insert_order(
    conn: &impl ConnectionTrait,
    user_id: i64,
    cmd: &PlaceOrder,
    how: NewOrder<'_>,
    now: DateTime<Utc>,
) -> Result<Order> {
    let (status, fill, reserved_cents) = match how {
        NewOrder::Executed(fill) => (Status::Executed, Some(fill), 0),
        NewOrder::Queued { reserved_cents } => (Status::Queued, None, reserved_cents),
    };
    let id = orders::Entity::insert(orders::ActiveModel {
        user_id: Set(user_id),
        stock_id: Set(cmd.stock_id),
        side: Set(cmd.side.as_str().into()),
        quantity: Set(cmd.quantity),
        status: Set(status.as_str().into()),
        price_cents: Set(fill.map(|f| f.price_cents)),
        total_cents: Set(fill.map(|f| f.total_cents)),
        reserved_cents: Set(reserved_cents),
        client_order_id: Set(cmd.client_order_id.clone()),
        reject_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        executed_at: Set(fill.map(|_| now)),
        ..Default::default()
    })
    .exec(conn)
    .await
    .map_err(|e| Error::conflict_on_unique(e, "clientOrderId was already used"))?
    .last_insert_id;
    Ok(Order {
        id,
        user_id,
        stock_id: cmd.stock_id,
        side: cmd.side,
        quantity: cmd.quantity,
        status,
        price_cents: fill.map(|f| f.price_cents),
        total_cents: fill.map(|f| f.total_cents),
        client_order_id: cmd.client_order_id.clone(),
        reject_reason: None,
        created_at: now,
        executed_at: fill.map(|_| now),
    })
}

/// What a fill changes, decided (and checked) before anything is written.
#[derive(Debug, Clone, Copy)]
struct Fill {
    price_cents: i64,
    total_cents: i64,
    /// Shares held after the fill, and their cost basis.
    quantity_after: i64,
    basis_after: i64,
    /// Realized P&L of this fill (sells).
    realized_cents: i64,
}

/// Prices a fill of `quantity` shares for a locked `user` holding `held`: INSUFFICIENT_FUNDS
/// or INSUFFICIENT_SHARES when it cannot be covered (reservations count as spoken for).
fn plan_fill(
    user: &users::Model,
    held: Option<&positions::Model>,
    side: Side,
    quantity: i64,
    price_cents: i64,
) -> Result<Fill> {
    let total_cents = total(price_cents, quantity)?;
    let (held_qty, basis) = held.map_or((0, 0), |p| (p.quantity, p.cost_basis_cents));
    match side {
        Side::Buy => {
            let available = user.cash_cents - user.reserved_cents;
            if available < total_cents {
                return Err(Error::InsufficientFunds(format!(
                    "needs {}, available {}",
                    from_cents(total_cents),
                    from_cents(available)
                )));
            }
            Ok(Fill {
                price_cents,
                total_cents,
                quantity_after: held_qty + quantity,
                basis_after: basis + total_cents,
                realized_cents: 0,
            })
        }
        Side::Sell => {
            let free = held.map_or(0, |p| p.quantity - p.reserved_quantity);
            if free < quantity {
                return Err(Error::InsufficientShares(format!(
                    "holds {free} free shares"
                )));
            }
            // Average cost: the sold shares take their proportional part of the cost basis.
            let removed = if quantity == held_qty {
                basis
            } else {
                (i128::from(basis) * i128::from(quantity) / i128::from(held_qty)) as i64
            };
            Ok(Fill {
                price_cents,
                total_cents,
                quantity_after: held_qty - quantity,
                basis_after: basis - removed,
                realized_cents: total_cents - removed,
            })
        }
    }
}

/// Writes a planned fill of a stored order for a locked `user`: cash and its ledger row, the
/// position, the trade. Runs in the order's transaction.
async fn apply_fill(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    held: Option<&positions::Model>,
    order: &Order,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<()> {
    let (kind, cash_delta, signed_qty) = match order.side {
        Side::Buy => (LedgerKind::Buy, -fill.total_cents, order.quantity),
        Side::Sell => (LedgerKind::Sell, fill.total_cents, -order.quantity),
    };
    let reference = Some(format!("order:{}", order.id));
    move_cash(
        conn,
        user,
        kind,
        cash_delta,
        user.reserved_cents,
        reference,
        now,
    )
    .await?;
    save_position(conn, user.id, order.stock_id, held, fill, now).await?;
    trades::Entity::insert(trades::ActiveModel {
        order_id: Set(order.id),
        user_id: Set(user.id),
        stock_id: Set(order.stock_id),
        side: Set(order.side.as_str().into()),
        quantity: Set(signed_qty),
        price_cents: Set(fill.price_cents),
        total_cents: Set(fill.total_cents),
        realized_pnl_cents: Set(fill.realized_cents),
        executed_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Records a claimed queued order as executed at its fill's price.
async fn mark_executed(
    conn: &impl ConnectionTrait,
    mut order: Order,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<Order> {
    orders::Entity::update_many()
        .col_expr(orders::Column::PriceCents, Expr::value(fill.price_cents))
        .col_expr(orders::Column::TotalCents, Expr::value(fill.total_cents))
        .col_expr(orders::Column::ExecutedAt, Expr::value(now))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::Id.eq(order.id))
        .exec(conn)
        .await?;
    order.status = Status::Executed;
    order.price_cents = Some(fill.price_cents);
    order.total_cents = Some(fill.total_cents);
    order.executed_at = Some(now);
    Ok(order)
}

/// Writes the position after `fill` (creating it on a first buy).
async fn save_position(
    conn: &impl ConnectionTrait,
    user_id: i64,
    stock_id: i64,
    existing: Option<&positions::Model>,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<()> {
    match existing {
        Some(p) => {
            positions::Entity::update_many()
                .col_expr(
                    positions::Column::Quantity,
                    Expr::value(fill.quantity_after),
                )
                .col_expr(
                    positions::Column::CostBasisCents,
                    Expr::value(fill.basis_after),
                )
                .col_expr(
                    positions::Column::RealizedPnlCents,
                    Expr::value(p.realized_pnl_cents + fill.realized_cents),
                )
                .col_expr(positions::Column::UpdatedAt, Expr::value(now))
                .filter(positions::Column::Id.eq(p.id))
                .exec(conn)
                .await?;
        }
        None => {
            positions::Entity::insert(positions::ActiveModel {
                user_id: Set(user_id),
                stock_id: Set(stock_id),
                quantity: Set(fill.quantity_after),
                reserved_quantity: Set(0),
                cost_basis_cents: Set(fill.basis_after),
                realized_pnl_cents: Set(fill.realized_cents),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(())
}

/// Queues an order while the market is closed, reserving its estimated cost (at the price in
/// `context`) or its shares (from the position in `context`).
async fn queue(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    cmd: &PlaceOrder,
    context: &OrderContext,
    now: DateTime<Utc>,
) -> Result<Order> {
    match cmd.side {
        Side::Buy => {
            let estimate = total(context.price_cents, cmd.quantity)?;
            let available = user.cash_cents - user.reserved_cents;
            if available < estimate {
                return Err(Error::InsufficientFunds(format!(
                    "needs about {}, available {}",
                    from_cents(estimate),
                    from_cents(available)
                )));
            }
            users::ActiveModel {
                id: Set(user.id),
                reserved_cents: Set(user.reserved_cents + estimate),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(conn)
            .await?;
            let how = NewOrder::Queued {
                reserved_cents: estimate,
            };
            insert_order(conn, user.id, cmd, how, now).await
        }
        Side::Sell => {
            let held = context.position.as_ref();
            let free = held.map_or(0, |p| p.quantity - p.reserved_quantity);
            let Some(p) = held.filter(|_| free >= cmd.quantity) else {
                return Err(Error::InsufficientShares(format!(
                    "holds {free} free shares"
                )));
            };
            positions::ActiveModel {
                id: Set(p.id),
                reserved_quantity: Set(p.reserved_quantity + cmd.quantity),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(conn)
            .await?;
            let how = NewOrder::Queued { reserved_cents: 0 };
            insert_order(conn, user.id, cmd, how, now).await
        }
    }
}

/// Takes a QUEUED order out of the queue (exactly once), releasing its reservation.
async fn finish_queued(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    mut order: Order,
    status: Status,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Order> {
    let reserved = orders::Entity::find_by_id(order.id)
        .one(conn)
        .await?
        .map_or(0, |o| o.reserved_cents);
    let claimed = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(status.as_str()))
        .col_expr(orders::Column::RejectReason, Expr::value(reason.clone()))
        .col_expr(orders::Column::ReservedCents, Expr::value(0i64))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(Status::Queued.as_str()))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(Error::Conflict("the order is no longer queued".into()));
    }
    match order.side {
        Side::Buy => {
            users::ActiveModel {
                id: Set(user.id),
                reserved_cents: Set(user.reserved_cents - reserved),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(conn)
            .await?;
        }
        Side::Sell => {
            if let Some(p) = position(conn, user.id, order.stock_id).await? {
                positions::ActiveModel {
                    id: Set(p.id),
                    reserved_quantity: Set((p.reserved_quantity - order.quantity).max(0)),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(conn)
                .await?;
            }
        }
    }
    order.status = status;
    order.reject_reason = reason;
    Ok(order)
}

/// Rejects every queued order of a stock (it was halted), owners locked in id order.
pub(crate) async fn reject_queued_for_stock(
    conn: &impl ConnectionTrait,
    stock_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Order>> {
    let queued = orders::Entity::find()
        .filter(orders::Column::StockId.eq(stock_id))
        .filter(orders::Column::Status.eq(Status::Queued.as_str()))
        .order_by_asc(orders::Column::UserId)
        .order_by_asc(orders::Column::Id)
        .all(conn)
        .await?;
    let mut rejected = Vec::with_capacity(queued.len());
    for order in queued {
        let user = users::Entity::find_by_id(order.user_id)
            .lock_exclusive()
            .one(conn)
            .await?
            .ok_or_else(|| Error::internal("order without owner"))?;
        let order = Order::try_from(order)?;
        let reason = Some(reason.to_string());
        rejected.push(finish_queued(conn, &user, order, Status::Rejected, reason, now).await?);
    }
    Ok(rejected)
}

async fn reject(
    conn: &impl ConnectionTrait,
    mut order: Order,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Order> {
    let reason = format!("rejected at the open: {reason}");
    orders::ActiveModel {
        id: Set(order.id),
        status: Set(Status::Rejected.as_str().into()),
        reject_reason: Set(Some(reason.clone())),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(conn)
    .await?;
    order.status = Status::Rejected;
    order.reject_reason = Some(reason);
    Ok(order)
}
