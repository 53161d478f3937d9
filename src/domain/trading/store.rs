//! Row storage of orders, trades, positions and reservations. Writes only what the plan
//! decided; every function runs inside the caller's transaction, with the owner locked.

use chrono::{DateTime, Utc};
use entity::{orders, positions, trades, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};

use super::{
    LedgerKind,
    context::position,
    move_cash,
    order::{Order, PlaceOrder, Side, Status},
    plan::{Fill, Reservation},
    terms::Trail,
    units::{Cents, StockId, UserId},
};
use crate::domain::{Error, Result};

/// How a new order is stored.
pub(super) enum NewOrder<'a> {
    /// Filled at once: the caller applies the fill in the same transaction.
    Executed(&'a Fill),
    /// A market order waiting for the open, holding this reservation.
    Queued(Reservation),
    /// A working order, holding this reservation.
    Working(Working),
    /// An IOC or FOK order that could not fill at once.
    Canceled,
}

/// What a new working order starts with.
pub(super) struct Working {
    pub reservation: Reservation,
    /// The stop price: as given, or a trailing stop's first one.
    pub stop: Option<Cents>,
    /// A trailing stop's reference: the price at placement.
    pub reference: Option<Cents>,
    /// A DAY order's scheduled expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

fn held(reservation: Reservation) -> (i64, i64) {
    match reservation {
        Reservation::Cash(cents) => (cents.0, 0),
        Reservation::Shares(shares) => (0, shares.0),
    }
}

/// Stores a new order (one statement).
pub(super) async fn insert_order(
    conn: &impl ConnectionTrait,
    user_id: i64,
    cmd: &PlaceOrder,
    how: NewOrder<'_>,
    now: DateTime<Utc>,
) -> Result<Order> {
    let (row, mut order) = new_order(user_id, cmd, how, now);
    order.id = orders::Entity::insert(row)
        .exec(conn)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "clientOrderId was already used"))?
        .last_insert_id;
    Ok(order)
}

/// A new order's row, and the order it stores (its id 0 until it is inserted).
pub(super) fn new_order(
    user_id: i64,
    cmd: &PlaceOrder,
    how: NewOrder<'_>,
    now: DateTime<Utc>,
) -> (orders::ActiveModel, Order) {
    let terms = &cmd.terms;
    let (status, fill, (reserved_cents, reserved_shares)) = match &how {
        NewOrder::Executed(fill) => (Status::Executed, Some(*fill), (0, 0)),
        NewOrder::Queued(reservation) => (Status::Queued, None, held(*reservation)),
        NewOrder::Working(working) => (Status::Open, None, held(working.reservation)),
        NewOrder::Canceled => (Status::Canceled, None, (0, 0)),
    };
    let (stop, reference, expires_at) = match &how {
        NewOrder::Working(w) => (w.stop, w.reference, w.expires_at),
        _ => (terms.stop_price, None, None),
    };
    let (trail_percent_bps, trail_amount_cents) = match terms.trail {
        Some(Trail::Percent { bps }) => (Some(bps), None),
        Some(Trail::Amount(cents)) => (None, Some(cents.0)),
        None => (None, None),
    };
    let canceled_at = (status == Status::Canceled).then_some(now);
    let row = orders::ActiveModel {
        user_id: Set(user_id),
        stock_id: Set(cmd.stock_id),
        side: Set(cmd.side.as_str().into()),
        quantity: Set(cmd.quantity.0),
        status: Set(status.as_str().into()),
        order_type: Set(terms.order_type.as_str().into()),
        time_in_force: Set(terms.time_in_force.as_str().into()),
        limit_price_cents: Set(terms.limit_price.map(|c| c.0)),
        stop_price_cents: Set(stop.map(|c| c.0)),
        trail_percent_bps: Set(trail_percent_bps),
        trail_amount_cents: Set(trail_amount_cents),
        trail_reference_cents: Set(reference.map(|c| c.0)),
        triggered_at: Set(None),
        expires_at: Set(expires_at),
        canceled_at: Set(canceled_at),
        price_cents: Set(fill.map(|f| f.price.0)),
        total_cents: Set(fill.map(|f| f.total.0)),
        reserved_cents: Set(reserved_cents),
        reserved_shares: Set(reserved_shares),
        replaced_by: Set(None),
        client_order_id: Set(cmd.client_order_id.clone()),
        reject_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        executed_at: Set(fill.map(|_| now)),
        ..Default::default()
    };
    let order = Order {
        id: 0,
        user_id,
        stock_id: cmd.stock_id,
        side: cmd.side,
        quantity: cmd.quantity.0,
        status,
        price_cents: fill.map(|f| f.price.0),
        total_cents: fill.map(|f| f.total.0),
        client_order_id: cmd.client_order_id.clone(),
        reject_reason: None,
        created_at: now,
        executed_at: fill.map(|_| now),
        order_type: terms.order_type,
        time_in_force: terms.time_in_force,
        limit_price_cents: terms.limit_price.map(|c| c.0),
        stop_price_cents: stop.map(|c| c.0),
        trail_percent_bps,
        trail_amount_cents,
        trail_reference_cents: reference.map(|c| c.0),
        triggered_at: None,
        expires_at,
        canceled_at,
        updated_at: now,
        reserved_cents,
        reserved_shares,
        replaced_by: None,
    };
    (row, order)
}

/// Writes a planned fill of a stored order for a locked `user` (its row as it is to be
/// written: the caller may have released a reservation from it): cash and its ledger row,
/// the position (`held`, likewise), the trade. Returns the user and position as written.
pub(super) async fn apply_fill(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    held: Option<&positions::Model>,
    order: &Order,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<(users::Model, positions::Model)> {
    let (kind, amount) = cash_of(order.side, fill);
    let (user, _) = move_cash(
        conn,
        user,
        kind,
        amount,
        Cents(user.reserved_cents),
        Some(reference(order)),
        now,
    )
    .await?;
    let position = save_position(
        conn,
        UserId(user.id),
        StockId(order.stock_id),
        held,
        fill,
        now,
    )
    .await?;
    trades::Entity::insert(trade_row(order, fill, now))
        .exec_without_returning(conn)
        .await?;
    Ok((user, position))
}

/// How a fill moves its owner's cash: the ledger kind and the signed amount.
pub(super) fn cash_of(side: Side, fill: &Fill) -> (LedgerKind, Cents) {
    match side {
        Side::Buy => (LedgerKind::Buy, Cents(-fill.total.0)),
        Side::Sell => (LedgerKind::Sell, fill.total),
    }
}

/// What a fill's ledger row refers to.
pub(super) fn reference(order: &Order) -> String {
    format!("order:{}", order.id)
}

/// The trade row of `order`'s fill (quantity signed: positive for buys).
pub(super) fn trade_row(order: &Order, fill: &Fill, now: DateTime<Utc>) -> trades::ActiveModel {
    let quantity = match order.side {
        Side::Buy => order.quantity,
        Side::Sell => -order.quantity,
    };
    trades::ActiveModel {
        order_id: Set(order.id),
        user_id: Set(order.user_id),
        stock_id: Set(order.stock_id),
        side: Set(order.side.as_str().into()),
        quantity: Set(quantity),
        price_cents: Set(fill.price.0),
        total_cents: Set(fill.total.0),
        realized_pnl_cents: Set(fill.realized.0),
        executed_at: Set(now),
        ..Default::default()
    }
}

/// The position after `fill` of `user`'s order in `stock`, with `existing`'s reservation (a
/// first buy starts one, its id 0 until it is stored).
pub(super) fn position_after(
    user: UserId,
    stock: StockId,
    existing: Option<&positions::Model>,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<positions::Model> {
    let (id, reserved, realized) = match existing {
        Some(p) => (
            p.id,
            p.reserved_quantity,
            p.realized_pnl_cents
                .checked_add(fill.realized.0)
                .ok_or_else(|| Error::internal("realized P&L out of range"))?,
        ),
        None => (0, 0, fill.realized.0),
    };
    Ok(positions::Model {
        id,
        user_id: user.0,
        stock_id: stock.0,
        quantity: fill.quantity_after.0,
        reserved_quantity: reserved,
        cost_basis_cents: fill.basis_after.0,
        realized_pnl_cents: realized,
        updated_at: now,
    })
}

/// Writes the position after `fill` (creating it on a first buy), with `existing`'s
/// reservation; returns it as written.
async fn save_position(
    conn: &impl ConnectionTrait,
    user: UserId,
    stock: StockId,
    existing: Option<&positions::Model>,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<positions::Model> {
    let mut after = position_after(user, stock, existing, fill, now)?;
    if existing.is_some() {
        positions::Entity::update_many()
            .col_expr(positions::Column::Quantity, Expr::value(after.quantity))
            .col_expr(
                positions::Column::ReservedQuantity,
                Expr::value(after.reserved_quantity),
            )
            .col_expr(
                positions::Column::CostBasisCents,
                Expr::value(after.cost_basis_cents),
            )
            .col_expr(
                positions::Column::RealizedPnlCents,
                Expr::value(after.realized_pnl_cents),
            )
            .col_expr(positions::Column::UpdatedAt, Expr::value(now))
            .filter(positions::Column::Id.eq(after.id))
            .exec(conn)
            .await?;
    } else {
        after.id = positions::Entity::insert(positions::ActiveModel {
            user_id: Set(after.user_id),
            stock_id: Set(after.stock_id),
            quantity: Set(after.quantity),
            reserved_quantity: Set(after.reserved_quantity),
            cost_basis_cents: Set(after.cost_basis_cents),
            realized_pnl_cents: Set(after.realized_pnl_cents),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(conn)
        .await?
        .last_insert_id;
    }
    Ok(after)
}

/// Records a claimed queued order as executed at its fill's price.
pub(super) async fn mark_executed(
    conn: &impl ConnectionTrait,
    mut order: Order,
    fill: &Fill,
    now: DateTime<Utc>,
) -> Result<Order> {
    orders::Entity::update_many()
        .col_expr(orders::Column::PriceCents, Expr::value(fill.price.0))
        .col_expr(orders::Column::TotalCents, Expr::value(fill.total.0))
        .col_expr(orders::Column::ExecutedAt, Expr::value(now))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::Id.eq(order.id))
        .exec(conn)
        .await?;
    order.status = Status::Executed;
    order.updated_at = now;
    order.price_cents = Some(fill.price.0);
    order.total_cents = Some(fill.total.0);
    order.executed_at = Some(now);
    Ok(order)
}

/// How a reason found at the open is stored: this, then the reason.
pub(super) const REJECTED_AT_OPEN: &str = "rejected at the open: ";
/// How a reason found when a stop triggered is stored: this, then the reason.
pub(super) const REJECTED_AT_TRIGGER: &str = "rejected when its stop triggered: ";

/// Records a claimed order as rejected with `reason` (one of the prefixes above, then why).
pub(super) async fn mark_rejected(
    conn: &impl ConnectionTrait,
    mut order: Order,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Order> {
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
    order.updated_at = now;
    order.reject_reason = Some(reason);
    Ok(order)
}

/// Holds what a queued or working order reserved: cash on the locked `user`, or shares on `position`.
pub(super) async fn hold(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    position: Option<&positions::Model>,
    reservation: Reservation,
    now: DateTime<Utc>,
) -> Result<()> {
    match reservation {
        Reservation::Cash(cents) => {
            users::ActiveModel {
                id: Set(user.id),
                reserved_cents: Set(user.reserved_cents + cents.0),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(conn)
            .await?;
        }
        Reservation::Shares(shares) => {
            // The plan only reserves shares that are held, so the position exists.
            let p =
                position.ok_or_else(|| Error::internal("shares reserved without a position"))?;
            positions::ActiveModel {
                id: Set(p.id),
                reserved_quantity: Set(p.reserved_quantity + shares.0),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(conn)
            .await?;
        }
    }
    Ok(())
}

/// Ends a live (QUEUED or OPEN) order exactly once: moves it from the status it was read
/// with to `status` (CONFLICT when something else moved it first: a fill, a cancel, another
/// engine) and releases what it reserved, as stored on its row, from the locked `user` and
/// their position.
pub(super) async fn claim(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    mut order: Order,
    status: Status,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Order> {
    let no_longer = || {
        Error::Conflict(format!(
            "the order is no longer {}",
            order.status.as_str().to_lowercase()
        ))
    };
    let row = orders::Entity::find_by_id(order.id)
        .one(conn)
        .await?
        .ok_or_else(no_longer)?;
    let canceled_at = (status == Status::Canceled).then_some(now);
    let claimed = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(status.as_str()))
        .col_expr(orders::Column::RejectReason, Expr::value(reason.clone()))
        .col_expr(orders::Column::ReservedCents, Expr::value(0i64))
        .col_expr(orders::Column::ReservedShares, Expr::value(0i64))
        .col_expr(orders::Column::CanceledAt, Expr::value(canceled_at))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(order.status.as_str()))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(no_longer());
    }
    if row.reserved_cents != 0 {
        users::Entity::update_many()
            .col_expr(
                users::Column::ReservedCents,
                Expr::col(users::Column::ReservedCents).sub(row.reserved_cents),
            )
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(user.id))
            .exec(conn)
            .await?;
    }
    if row.reserved_shares != 0
        && let Some(p) = position(conn, UserId(user.id), StockId(order.stock_id)).await?
    {
        positions::ActiveModel {
            id: Set(p.id),
            reserved_quantity: Set(std::cmp::max(p.reserved_quantity - row.reserved_shares, 0)),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(conn)
        .await?;
    }
    order.status = status;
    order.reject_reason = reason;
    order.reserved_cents = 0;
    order.reserved_shares = 0;
    order.canceled_at = canceled_at.or(order.canceled_at);
    order.updated_at = now;
    Ok(order)
}
