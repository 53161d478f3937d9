//! Placing, replacing and canceling orders: the one decision of what a new order does (fill
//! now, queue for the open, work, or be canceled by its time in force), taken in the owner's
//! locked transaction.

use chrono::{DateTime, Utc};
use entity::{orders, users};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};

use super::{
    Trading,
    context::{OrderContext, funds, holding, order_context},
    lock_user,
    order::{Order, OrderType, PlaceOrder, Status, TimeInForce},
    orders::placed_before,
    placements::Placed,
    plan::{self, Reservation},
    queue,
    store::{self, NewOrder, Working},
    terms::{Terms, TermsInput, Trail},
    units::{Cents, OrderId, Shares, StockId, UserId},
    working,
};
use crate::domain::{Error, Result, market, money};

/// What `replaceOrder` may change; `None` keeps the order's own.
#[derive(Debug, Clone, Default)]
pub struct ReplaceOrder {
    pub quantity: Option<Shares>,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub trail_percent: Option<Decimal>,
    pub trail_amount: Option<Decimal>,
    pub time_in_force: Option<TimeInForce>,
}

/// What a replacement did: the new order, and the old one (CANCELED, `replaced_by` the new).
#[derive(Debug, Clone)]
pub struct Replaced {
    pub order: Order,
    pub replaced: Order,
}

/// Counts a new order once it is committed (a replayed `clientOrderId` is not a new one).
fn placed_metrics(order: &Order, started: std::time::Instant) {
    let result = match order.status {
        Status::Executed => "executed",
        Status::Open => "working",
        Status::Canceled => "canceled",
        _ => "queued",
    };
    metrics::counter!("zebrat_orders_placed_total", "side" => order.side.as_str()).increment(1);
    match order.status {
        Status::Executed => {
            metrics::counter!("zebrat_orders_executed_total", "when" => "at_placement").increment(1)
        }
        Status::Queued => metrics::counter!("zebrat_orders_queued_total").increment(1),
        _ => {}
    }
    metrics::histogram!("zebrat_order_duration_seconds", "result" => result)
        .record(started.elapsed().as_secs_f64());
}

impl Trading {
    /// Places an order. A market order executes at once while the market is open, or queues
    /// (with cash or shares reserved) while it is closed, or while older market orders in the
    /// stock are still queued. Limit, stop, stop-limit and trailing-stop orders work (OPEN,
    /// reserving their worst cost or their shares) until the engine fills them at a tick
    /// round, their time in force ends, or they are canceled; IOC and FOK orders fill at once
    /// or are canceled. A repeated `clientOrderId` returns the first order. Market orders go
    /// to the next batch (`placements`) and are placed alone only when it does not decide them.
    #[tracing::instrument(skip(self, cmd), fields(stock_id = cmd.stock_id, side = cmd.side.as_str(), quantity = cmd.quantity.0, order_type = cmd.terms.order_type.as_str()))]
    pub async fn place_order(&self, user_id: i64, cmd: PlaceOrder) -> Result<Order> {
        self.check_order(&cmd)?;
        let started = std::time::Instant::now();
        if cmd.terms.order_type == OrderType::Market {
            match self.place_together(user_id, cmd.clone()).await {
                Placed::Executed(order) => {
                    placed_metrics(&order, started);
                    self.after_change(&order).await;
                    return Ok(order);
                }
                Placed::Replayed(order) => return Ok(order),
                Placed::Refused(e) => return Err(e),
                Placed::Alone => {}
            }
        }
        let txn = self.db.begin().await?;
        let user = lock_user(&txn, user_id).await?;
        // Again under the user's lock: a concurrent retry may have placed it meanwhile.
        if let Some(existing) = placed_before(&txn, user_id, &cmd).await? {
            return Ok(existing);
        }
        let now = self.clock.now();
        let order = self.place_in(&txn, &user, &cmd, now).await?;
        txn.commit().await?;
        placed_metrics(&order, started);
        self.after_change(&order).await;
        Ok(order)
    }

    /// What a new order does, for the locked `user`, in their transaction.
    async fn place_in(
        &self,
        txn: &impl ConnectionTrait,
        user: &users::Model,
        cmd: &PlaceOrder,
        now: DateTime<Utc>,
    ) -> Result<Order> {
        let context = order_context(txn, UserId(user.id), StockId(cmd.stock_id)).await?;
        context.takes_orders()?;
        let terms = &cmd.terms;
        let stop = terms.check_against(cmd.side, context.stock.price, context.stock.market_open)?;
        let immediate = terms.time_in_force.is_immediate();
        match terms.order_type {
            OrderType::Market if context.executes_market_now() => {
                fill_now(txn, user, cmd, &context, now).await
            }
            // Open, but older market orders in the stock still wait for the opening run.
            OrderType::Market if immediate => {
                store::insert_order(txn, user.id, cmd, NewOrder::Canceled, now).await
            }
            OrderType::Market => queue::place_queued(txn, user, cmd, &context, now).await,
            OrderType::Limit if immediate => {
                let reached = terms
                    .limit_price
                    .is_some_and(|l| working::limit_reached(cmd.side, l, context.stock.price));
                if reached && context.executes_market_now() {
                    fill_now(txn, user, cmd, &context, now).await
                } else {
                    store::insert_order(txn, user.id, cmd, NewOrder::Canceled, now).await
                }
            }
            _ => {
                let held = context.position.as_ref();
                let reservation = working::reservation(
                    cmd.side,
                    cmd.quantity,
                    terms,
                    stop,
                    self.limits.max_round_move_bps,
                )?;
                let cash = match reservation {
                    Reservation::Cash(cents) => cents,
                    Reservation::Shares(_) => Cents(0),
                };
                plan::cover(cmd.side, cmd.quantity, cash, funds(user), holding(held))?;
                let expires_at = match terms.time_in_force {
                    TimeInForce::Day => {
                        market::status(txn, self.tz, self.calendar, now)
                            .await?
                            .next_close
                    }
                    _ => None,
                };
                store::hold(txn, user, held, reservation, now).await?;
                let reference = terms.trail.map(|_| context.stock.price);
                let how = NewOrder::Working(Working {
                    reservation,
                    stop,
                    reference,
                    expires_at,
                });
                store::insert_order(txn, user.id, cmd, how, now).await
            }
        }
    }

    /// Replaces a working order atomically: the old one is canceled (its reservation
    /// released) and a new one placed with the changes, its terms checked as a new order's.
    /// The new order keeps the old one's `clientOrderId`; the old one links to it by
    /// `replaced_by`. CONFLICT when the order is no longer working (filled, canceled, expired,
    /// replaced); nothing changes when the new order is refused.
    #[tracing::instrument(skip(self, changes))]
    pub async fn replace_order(
        &self,
        user: UserId,
        order: OrderId,
        changes: ReplaceOrder,
    ) -> Result<Replaced> {
        if let Some(quantity) = changes.quantity {
            self.validate(quantity, None)?;
        }
        let txn = self.db.begin().await?;
        let owner = lock_user(&txn, user.0).await?;
        let old = own_order(&txn, user, order).await?;
        if old.status != Status::Open {
            let why = match old.replaced_by {
                Some(_) => "it was already replaced".to_string(),
                None => format!("it is {}", old.status.as_str()),
            };
            return Err(Error::Conflict(format!(
                "only working (OPEN) orders can be replaced; {why}"
            )));
        }
        let cmd = PlaceOrder {
            stock_id: old.stock_id,
            side: old.side,
            quantity: changes.quantity.unwrap_or(Shares(old.quantity)),
            client_order_id: None,
            terms: Terms::parse(replaced_terms(&old, &changes))?,
        };
        let now = self.clock.now();
        let replaced = store::claim(&txn, &owner, old, Status::Canceled, None, now).await?;
        // The released reservation counts for the new order.
        let owner = lock_user(&txn, user.0).await?;
        let mut order = self.place_in(&txn, &owner, &cmd, now).await?;
        let mut replaced = replaced;
        orders::Entity::update_many()
            .col_expr(orders::Column::ReplacedBy, Expr::value(order.id))
            .filter(orders::Column::Id.eq(replaced.id))
            .exec(&txn)
            .await?;
        replaced.replaced_by = Some(order.id);
        if let Some(key) = replaced.client_order_id.clone() {
            // Now that the old order is replaced, its key passes on (unique among the
            // orders not replaced).
            orders::Entity::update_many()
                .col_expr(orders::Column::ClientOrderId, Expr::value(key.clone()))
                .filter(orders::Column::Id.eq(order.id))
                .exec(&txn)
                .await?;
            order.client_order_id = Some(key);
        }
        txn.commit().await?;
        metrics::counter!("zebrat_orders_replaced_total").increment(1);
        self.after_change(&replaced).await;
        self.after_change(&order).await;
        Ok(Replaced { order, replaced })
    }

    /// Cancels the caller's own queued or working order and releases its reservation.
    #[tracing::instrument(skip(self))]
    pub async fn cancel_order(&self, user: UserId, order: OrderId) -> Result<Order> {
        let txn = self.db.begin().await?;
        let owner = lock_user(&txn, user.0).await?;
        let order = own_order(&txn, user, order).await?;
        if !order.status.is_live() {
            return Err(Error::Conflict(format!(
                "only queued or working orders can be canceled; this one is {}",
                order.status.as_str()
            )));
        }
        let now = self.clock.now();
        let order = store::claim(&txn, &owner, order, Status::Canceled, None, now).await?;
        txn.commit().await?;
        self.after_change(&order).await;
        Ok(order)
    }
}

/// Fills `cmd` now at the price in `context`, refused when it cannot be covered.
async fn fill_now(
    txn: &impl ConnectionTrait,
    user: &users::Model,
    cmd: &PlaceOrder,
    context: &OrderContext,
    now: DateTime<Utc>,
) -> Result<Order> {
    let held = context.position.as_ref();
    let fill = plan::fill(
        cmd.side,
        cmd.quantity,
        context.stock.price,
        funds(user),
        holding(held),
    )?;
    let order = store::insert_order(txn, user.id, cmd, NewOrder::Executed(&fill), now).await?;
    store::apply_fill(txn, user, held, &order, &fill, now).await?;
    Ok(order)
}

/// The caller's order, read under their lock; NOT_FOUND for another user's.
async fn own_order(conn: &impl ConnectionTrait, user: UserId, order: OrderId) -> Result<Order> {
    orders::Entity::find_by_id(order.0)
        .one(conn)
        .await?
        .filter(|o| o.user_id == user.0) // others' orders do not exist for this caller
        .ok_or_else(|| Error::NotFound("order".into()))
        .and_then(Order::try_from)
}

/// The terms of a replacement: the old order's, with the changes. A new trail replaces the
/// old one whichever way it is given (both at once is refused by the parse).
fn replaced_terms(old: &Order, changes: &ReplaceOrder) -> TermsInput {
    let terms = old.terms();
    let dollars = |cents: Option<Cents>| cents.map(|c| money::from_cents(c.0));
    let new_trail = changes.trail_percent.is_some() || changes.trail_amount.is_some();
    let (trail_percent, trail_amount) = match (new_trail, terms.trail) {
        (true, _) | (false, None) => (changes.trail_percent, changes.trail_amount),
        (false, Some(Trail::Percent { bps })) => (Some(Trail::percent(bps)), None),
        (false, Some(Trail::Amount(cents))) => (None, dollars(Some(cents))),
    };
    TermsInput {
        order_type: terms.order_type,
        time_in_force: changes.time_in_force.unwrap_or(terms.time_in_force),
        limit_price: changes.limit_price.or(dollars(terms.limit_price)),
        stop_price: changes.stop_price.or(dollars(terms.stop_price)),
        trail_percent,
        trail_amount,
    }
}
