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
    let model = orders::ActiveModel {
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
    let id = orders::Entity::insert(model)
        .exec(conn)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "clientOrderId was already used"))?
        .last_insert_id;
    Ok(Order {
        id,
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
    })
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
    let (kind, cash_delta, signed_qty) = match order.side {
        Side::Buy => (LedgerKind::Buy, -fill.total.0, order.quantity),
        Side::Sell => (LedgerKind::Sell, fill.total.0, -order.quantity),
    };
    let reference = Some(format!("order:{}", order.id));
    let (user, _) = move_cash(
        conn,
        user,
        kind,
        Cents(cash_delta),
        Cents(user.reserved_cents),
        reference,
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
    trades::Entity::insert(trades::ActiveModel {
        order_id: Set(order.id),
        user_id: Set(user.id),
        stock_id: Set(order.stock_id),
        side: Set(order.side.as_str().into()),
        quantity: Set(signed_qty),
        price_cents: Set(fill.price.0),
        total_cents: Set(fill.total.0),
        realized_pnl_cents: Set(fill.realized.0),
        executed_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok((user, position))
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
    match existing {
        Some(p) => {
            let realized = p
                .realized_pnl_cents
                .checked_add(fill.realized.0)
                .ok_or_else(|| Error::internal("realized P&L out of range"))?;
            positions::Entity::update_many()
                .col_expr(
                    positions::Column::Quantity,
                    Expr::value(fill.quantity_after.0),
                )
                .col_expr(
                    positions::Column::ReservedQuantity,
                    Expr::value(p.reserved_quantity),
                )
                .col_expr(
                    positions::Column::CostBasisCents,
                    Expr::value(fill.basis_after.0),
                )
                .col_expr(positions::Column::RealizedPnlCents, Expr::value(realized))
                .col_expr(positions::Column::UpdatedAt, Expr::value(now))
                .filter(positions::Column::Id.eq(p.id))
                .exec(conn)
                .await?;
            Ok(positions::Model {
                quantity: fill.quantity_after.0,
                cost_basis_cents: fill.basis_after.0,
                realized_pnl_cents: realized,
                updated_at: now,
                ..p.clone()
            })
        }
        None => {
            let id = positions::Entity::insert(positions::ActiveModel {
                user_id: Set(user.0),
                stock_id: Set(stock.0),
                quantity: Set(fill.quantity_after.0),
                reserved_quantity: Set(0),
                cost_basis_cents: Set(fill.basis_after.0),
                realized_pnl_cents: Set(fill.realized.0),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(conn)
            .await?
            .last_insert_id;
            Ok(positions::Model {
                id,
                user_id: user.0,
                stock_id: stock.0,
                quantity: fill.quantity_after.0,
                reserved_quantity: 0,
                cost_basis_cents: fill.basis_after.0,
                realized_pnl_cents: fill.realized.0,
                updated_at: now,
            })
        }
    }
}

/// Ends a working order as the engine found it at a round, in one conditional statement
/// (exactly once: None when it is no longer OPEN): EXECUTED at `fill`, or REJECTED with
/// `reason`, its reservation zeroed and `triggered_at` recorded.
async fn end_working(
    conn: &impl ConnectionTrait,
    order: &Order,
    outcome: Result<&Fill, &str>,
    triggered_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut update = orders::Entity::update_many()
        .col_expr(orders::Column::ReservedCents, Expr::value(0i64))
        .col_expr(orders::Column::ReservedShares, Expr::value(0i64))
        .col_expr(orders::Column::TriggeredAt, Expr::value(triggered_at))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now));
    update = match outcome {
        Ok(fill) => update
            .col_expr(
                orders::Column::Status,
                Expr::value(Status::Executed.as_str()),
            )
            .col_expr(orders::Column::PriceCents, Expr::value(fill.price.0))
            .col_expr(orders::Column::TotalCents, Expr::value(fill.total.0))
            .col_expr(orders::Column::ExecutedAt, Expr::value(now)),
        Err(reason) => update
            .col_expr(
                orders::Column::Status,
                Expr::value(Status::Rejected.as_str()),
            )
            .col_expr(orders::Column::RejectReason, Expr::value(reason)),
    };
    let ended = update
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(Status::Open.as_str()))
        .exec(conn)
        .await?;
    Ok(ended.rows_affected == 1)
}

/// What a working order's fill or rejection wrote: the order, and its owner and position as
/// written (for the next order of the same batch).
pub(super) struct Ended {
    pub order: Order,
    pub user: users::Model,
    pub position: Option<positions::Model>,
}

/// Fills a working order at a round. `user` and `held` are the locked owner's rows with the
/// order's reservation already released (in memory: they are written here). None when the
/// order is no longer OPEN (nothing written).
pub(super) async fn execute_working(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    held: Option<&positions::Model>,
    mut order: Order,
    fill: &Fill,
    triggered_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<Ended>> {
    if !end_working(conn, &order, Ok(fill), triggered_at, now).await? {
        return Ok(None);
    }
    let (user, position) = apply_fill(conn, user, held, &order, fill, now).await?;
    order.status = Status::Executed;
    order.price_cents = Some(fill.price.0);
    order.total_cents = Some(fill.total.0);
    order.executed_at = Some(now);
    order.triggered_at = triggered_at;
    order.reserved_cents = 0;
    order.reserved_shares = 0;
    order.updated_at = now;
    Ok(Some(Ended {
        order,
        user,
        position: Some(position),
    }))
}

/// Rejects a working order whose fill the owner can no longer cover, writing the released
/// reservation (`user` and `held` as in [`execute_working`]). None when it is no longer OPEN.
pub(super) async fn reject_working(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    held: Option<&positions::Model>,
    mut order: Order,
    reason: String,
    triggered_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<Ended>> {
    if !end_working(conn, &order, Err(&reason), triggered_at, now).await? {
        return Ok(None);
    }
    users::Entity::update_many()
        .col_expr(
            users::Column::ReservedCents,
            Expr::value(user.reserved_cents),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(conn)
        .await?;
    if let Some(p) = held {
        positions::Entity::update_many()
            .col_expr(
                positions::Column::ReservedQuantity,
                Expr::value(p.reserved_quantity),
            )
            .col_expr(positions::Column::UpdatedAt, Expr::value(now))
            .filter(positions::Column::Id.eq(p.id))
            .exec(conn)
            .await?;
    }
    order.status = Status::Rejected;
    order.reject_reason = Some(reason);
    order.triggered_at = triggered_at;
    order.reserved_cents = 0;
    order.reserved_shares = 0;
    order.updated_at = now;
    Ok(Some(Ended {
        order,
        user: user.clone(),
        position: held.cloned(),
    }))
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
