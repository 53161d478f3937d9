//! The reads an order decides on: the stock, its live price, the market state, the position,
//! and their conversion into what the pure plan sees.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{market_state, orders, positions, prices_live, stocks as stock_rows, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    sea_query::{Expr, ExprTrait, PgFunc, SimpleExpr},
};

use super::{
    order::Status,
    plan::{Funds, Holding},
    units::{Cents, Shares, StockId, UserId},
};
use crate::domain::{Error, Result};

/// Everything a market order reads besides its owner, in one statement: the stock's side
/// and the owner's position in it.
pub(super) struct OrderContext {
    pub stock: StockContext,
    pub position: Option<positions::Model>,
}

#[derive(Debug, FromQueryResult)]
struct OrderContextRow {
    active: bool,
    last_cents: i64,
    is_open: Option<bool>,
    queue_waiting: bool,
    position_id: Option<i64>,
    quantity: Option<i64>,
    reserved_quantity: Option<i64>,
    cost_basis_cents: Option<i64>,
    realized_pnl_cents: Option<i64>,
    position_updated_at: Option<DateTime<Utc>>,
}

/// The stock (NOT_FOUND when unknown), whether it is active, its live price, the market state
/// the engine applied, and `user_id`'s position in it. A halted stock is read like any other:
/// placement refuses it ([`OrderContext::takes_orders`]), a quote reports it.
pub(super) async fn order_context(
    conn: &impl ConnectionTrait,
    user: UserId,
    stock: StockId,
) -> Result<OrderContext> {
    let (user_id, stock_id) = (user.0, stock.0);
    use sea_orm::sea_query::{Alias, Condition, ExprTrait, Query};
    let (s, p, m, pos) = (
        stock_rows::Entity,
        prices_live::Entity,
        market_state::Entity,
        positions::Entity,
    );
    let waiting = Query::select()
        .expr(Expr::val(1))
        .from(orders::Entity)
        .and_where(Expr::col((orders::Entity, orders::Column::StockId)).eq(stock_id))
        .and_where(Expr::col((orders::Entity, orders::Column::Status)).eq(Status::Queued.as_str()))
        .to_owned();
    let query = Query::select()
        .column((s, stock_rows::Column::Active))
        .column((p, prices_live::Column::LastCents))
        .column((m, market_state::Column::IsOpen))
        .expr_as(Expr::exists(waiting), Alias::new("queue_waiting"))
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
    // The position's columns are NOT NULL: they are all present when it exists. A partial
    // row would be a broken read, so it is an error rather than zeros that move money.
    let position = match row.position_id {
        None => None,
        Some(id) => match (
            row.quantity,
            row.reserved_quantity,
            row.cost_basis_cents,
            row.realized_pnl_cents,
            row.position_updated_at,
        ) {
            (
                Some(quantity),
                Some(reserved_quantity),
                Some(cost_basis_cents),
                Some(realized_pnl_cents),
                Some(updated_at),
            ) => Some(positions::Model {
                id,
                user_id,
                stock_id,
                quantity,
                reserved_quantity,
                cost_basis_cents,
                realized_pnl_cents,
                updated_at,
            }),
            _ => return Err(Error::internal(format!("position {id} read partially"))),
        },
    };
    Ok(OrderContext {
        stock: StockContext::of(row.active, row.last_cents, row.is_open, row.queue_waiting),
        position,
    })
}

impl OrderContext {
    /// See [`StockContext::executes_market_now`].
    pub fn executes_market_now(&self) -> bool {
        self.stock.executes_market_now()
    }

    /// See [`StockContext::takes_orders`].
    pub fn takes_orders(&self) -> Result<()> {
        self.stock.takes_orders()
    }
}

/// What an order reads of its stock (a batch of market orders reads only this, and the
/// positions apart).
pub(super) struct StockContext {
    /// False when the stock is halted: it takes no new orders.
    pub active: bool,
    pub price: Cents,
    pub market_open: bool,
    /// Market orders in this stock are still QUEUED (the opening run has not reached them,
    /// e.g. after a crash or a failover during it): a new market order waits behind them.
    pub queue_waiting: bool,
}

impl StockContext {
    fn of(active: bool, last_cents: i64, is_open: Option<bool>, queue_waiting: bool) -> Self {
        StockContext {
            active,
            price: Cents(last_cents),
            // No market state row yet: the engine has not opened the market.
            market_open: is_open.unwrap_or(false),
            queue_waiting,
        }
    }

    /// Whether a market order executes now: the market is open and no older market order in
    /// this stock is still waiting in the queue (time priority holds across a crash or a
    /// failover during the opening run).
    pub fn executes_market_now(&self) -> bool {
        self.market_open && !self.queue_waiting
    }

    /// STOCK_HALTED when the stock takes no new orders.
    pub fn takes_orders(&self) -> Result<()> {
        if self.active {
            Ok(())
        } else {
            Err(Error::StockHalted(
                "the stock is halted: it takes no new orders".into(),
            ))
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct StockContextRow {
    id: i64,
    active: bool,
    last_cents: i64,
    is_open: Option<bool>,
    queue_waiting: bool,
}

/// The stocks among `ids` that exist, with what an order in each decides on, in one statement.
pub(super) async fn stock_contexts(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, StockContext>> {
    use sea_orm::sea_query::{Alias, ExprTrait, Query};
    let (s, p, m) = (
        stock_rows::Entity,
        prices_live::Entity,
        market_state::Entity,
    );
    let waiting = Query::select()
        .expr(Expr::val(1))
        .from(orders::Entity)
        .and_where(
            Expr::col((orders::Entity, orders::Column::StockId))
                .equals((s, stock_rows::Column::Id)),
        )
        .and_where(Expr::col((orders::Entity, orders::Column::Status)).eq(Status::Queued.as_str()))
        .to_owned();
    let query = Query::select()
        .column((s, stock_rows::Column::Id))
        .column((s, stock_rows::Column::Active))
        .column((p, prices_live::Column::LastCents))
        .column((m, market_state::Column::IsOpen))
        .expr_as(Expr::exists(waiting), Alias::new("queue_waiting"))
        .from(s)
        .inner_join(
            p,
            Expr::col((p, prices_live::Column::StockId)).equals((s, stock_rows::Column::Id)),
        )
        .left_join(m, Expr::col((m, market_state::Column::Id)).eq(1))
        .and_where(among(
            conn.get_database_backend(),
            stock_rows::Column::Id,
            ids.to_vec(),
        ))
        .to_owned();
    let rows = StockContextRow::find_by_statement(conn.get_database_backend().build(&query))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let context = StockContext::of(r.active, r.last_cents, r.is_open, r.queue_waiting);
            (r.id, context)
        })
        .collect())
}

/// The positions of `users` in `stocks`, by (user, stock), in one statement.
pub(super) async fn positions_among(
    conn: &impl ConnectionTrait,
    users: impl Iterator<Item = i64>,
    stocks: impl Iterator<Item = i64>,
) -> Result<HashMap<(i64, i64), positions::Model>> {
    let users: HashSet<i64> = users.collect();
    let stocks: HashSet<i64> = stocks.collect();
    let backend = conn.get_database_backend();
    Ok(positions::Entity::find()
        .filter(among(
            backend,
            positions::Column::UserId,
            users.into_iter().collect(),
        ))
        .filter(among(
            backend,
            positions::Column::StockId,
            stocks.into_iter().collect(),
        ))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| ((p.user_id, p.stock_id), p))
        .collect())
}

/// `column` is one of `ids`: `= ANY($1)` with one array on PostgreSQL, so the statement's
/// text stays the same whatever the number of ids and its prepared form is reused; `IN (…)`
/// on SQLite.
pub(super) fn among<C: ColumnTrait>(backend: DbBackend, column: C, ids: Vec<i64>) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::col((column.entity_name(), column))
            .eq(PgFunc::any(Expr::val(sea_orm::Value::from(ids)))),
        _ => column.is_in(ids),
    }
}

/// The market state the engine last applied (closed until it wrote one).
pub(super) async fn market_open(conn: &impl ConnectionTrait) -> Result<bool> {
    Ok(market_state::Entity::find_by_id(1)
        .one(conn)
        .await?
        .is_some_and(|s| s.is_open))
}

pub(super) async fn position(
    conn: &impl ConnectionTrait,
    user: UserId,
    stock: StockId,
) -> Result<Option<positions::Model>> {
    Ok(positions::Entity::find()
        .filter(positions::Column::UserId.eq(user.0))
        .filter(positions::Column::StockId.eq(stock.0))
        .one(conn)
        .await?)
}

/// A user's cash as the plan sees it.
pub(super) fn funds(user: &users::Model) -> Funds {
    Funds {
        balance: Cents(user.cash_cents),
        reserved: Cents(user.reserved_cents),
    }
}

/// A position as the plan sees it; none held is all zero.
pub(super) fn holding(position: Option<&positions::Model>) -> Holding {
    position.map_or(Holding::default(), |p| Holding {
        quantity: Shares(p.quantity),
        reserved: Shares(p.reserved_quantity),
        basis: Cents(p.cost_basis_cents),
    })
}
