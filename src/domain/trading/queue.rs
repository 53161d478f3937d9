//! Orders placed while the market is closed: reserving at placement, the run at the open, and
//! rejecting the queue of a halted stock.

use chrono::{DateTime, Utc};
use entity::{orders, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::{
    Trading,
    context::{OrderContext, funds, holding, market_open, position},
    lock_user,
    order::{Order, PlaceOrder, Status},
    plan::{self, AtOpen},
    store::{self, NewOrder},
    units::{Cents, Shares, StockId, UserId},
};
use crate::{
    domain::{Error, Result, market::stocks},
    infra::lease::Fence,
};

/// Queues an order while the market is closed, reserving its estimated cost (at the price in
/// `context`) or its shares (from the position in `context`).
pub(super) async fn place_queued(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    cmd: &PlaceOrder,
    context: &OrderContext,
    now: DateTime<Utc>,
) -> Result<Order> {
    let held = context.position.as_ref();
    let reservation = plan::reserve(
        cmd.side,
        cmd.quantity,
        context.stock.price,
        funds(user),
        holding(held),
    )?;
    store::hold(conn, user, held, reservation, now).await?;
    store::insert_order(conn, user.id, cmd, NewOrder::Queued(reservation), now).await
}

impl Trading {
    /// Runs queued orders first-in first-out at current prices while the market is open.
    /// Each order is its own transaction; an order that can no longer be covered is rejected.
    /// Safe to run concurrently: an order leaves QUEUED exactly once. Only the lease holder
    /// runs it; `fence` stops a deposed leader before it writes. An error ends the pass and
    /// leaves the order it met queued: the next pass (the next tick) tries again.
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
                    // After its commit: counted by what the order became at the open.
                    match order.status {
                        Status::Executed => {
                            metrics::counter!("zebrat_orders_executed_total", "when" => "at_open")
                                .increment(1)
                        }
                        Status::Rejected => {
                            metrics::counter!("zebrat_orders_rejected_total", "stage" => "at_open")
                                .increment(1)
                        }
                        _ => {}
                    }
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
        let lookup = stocks::by_ids(&txn, &[order.stock_id])
            .await
            .map(|mut found| found.remove(&order.stock_id));
        let order = match plan::at_open(lookup)? {
            AtOpen::Fill { price } => {
                // Release the reservation, then check the order against what is there now.
                let order = store::claim(&txn, &user, order, Status::Executed, None, now).await?;
                execute_claimed(&txn, order, price, store::REJECTED_AT_OPEN, now).await?
            }
            AtOpen::Reject(reason) => {
                let reason = Some(reason.to_string());
                store::claim(&txn, &user, order, Status::Rejected, reason, now).await?
            }
        };
        txn.commit().await?;
        Ok(Some(order))
    }
}

/// Fills an order just claimed for execution (its reservation released) at `price`, checked
/// against the owner's cash and shares now; rejected with `stage` and the reason when they no
/// longer cover it. The owner is locked.
pub(super) async fn execute_claimed(
    conn: &impl ConnectionTrait,
    order: Order,
    price: Cents,
    stage: &str,
    now: DateTime<Utc>,
) -> Result<Order> {
    let user = lock_user(conn, order.user_id).await?;
    let held = position(conn, UserId(user.id), StockId(order.stock_id)).await?;
    let planned = plan::fill(
        order.side,
        Shares(order.quantity),
        price,
        funds(&user),
        holding(held.as_ref()),
    );
    match planned {
        Ok(fill) => {
            let order = store::mark_executed(conn, order, &fill, now).await?;
            store::apply_fill(conn, &user, held.as_ref(), &order, &fill, now).await?;
            Ok(order)
        }
        Err(refusal) => store::mark_rejected(conn, order, format!("{stage}{refusal}"), now).await,
    }
}

impl Trading {
    /// Orders waiting in the queue now (one count on the status index, for `/metrics`).
    pub async fn queued_waiting(&self) -> Result<u64> {
        Ok(orders::Entity::find()
            .filter(orders::Column::Status.eq(Status::Queued.as_str()))
            .count(&self.db)
            .await?)
    }
}

/// Rejects the orders of a stock (it was halted) that are still queued once their owner is
/// locked, owners locked in id order. One the queue run or a cancel took out of the queue
/// meanwhile is left as it is: the halt must not fail because the market moved on.
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
        // Read again under the owner's lock: the read above may be stale by now.
        let order = match orders::Entity::find_by_id(order.id).one(conn).await? {
            Some(o) if o.status == Status::Queued.as_str() => Order::try_from(o)?,
            _ => continue,
        };
        let reason = Some(reason.to_string());
        rejected.push(store::claim(conn, &user, order, Status::Rejected, reason, now).await?);
    }
    Ok(rejected)
}
