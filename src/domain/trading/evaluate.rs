//! The engine's work on working orders: after each tick round, trailing stops follow the
//! round's prices and the orders those prices reach are filled (or, stop-limits, triggered) in
//! time priority; at the close, DAY orders expire.
//!
//! Set-based where it can be: the trailing stops of all the round's stocks move in one
//! statement per side, and one read finds the orders the round reaches (two partial indexes on
//! `status = 'OPEN'` keep it to those orders), so a round costs little however many orders
//! wait. The orders found are then handled in batches, one fenced transaction each: the
//! batch's owners are locked first, in id order (as the admin's halt locks them, so the two
//! never deadlock), the orders are read again under those locks and each is decided again by
//! [`working::at_round`] before anything is written. An order leaves OPEN by a conditional
//! update, exactly once: a fill racing a cancel, or two engines, end in one of them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{market_state, orders, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait, Value, sea_query::Expr,
};

use super::{
    Trading,
    order::{Order, Side, Status, TimeInForce},
    queue::execute_claimed,
    store,
    units::Cents,
    working::{self, Step},
};
use crate::{
    domain::{Error, Result},
    infra::lease::Fence,
};

/// Orders handled per transaction.
const BATCH: usize = 200;

/// What one evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evaluated {
    /// Orders the round's prices reached (candidates read).
    pub reached: usize,
    pub executed: usize,
    /// Triggered stops whose fill could not be covered.
    pub rejected: usize,
    /// Stop-limits that became working limits.
    pub triggered: usize,
}

#[derive(Debug, FromQueryResult)]
struct Candidate {
    id: i64,
    user_id: i64,
}

/// `(VALUES (stock, price), …)`: the round as a table both databases read the same way, its
/// columns named `column1` and `column2`. Only integers from the round go in.
fn round_table(prices: &HashMap<i64, Cents>) -> String {
    let rows: Vec<String> = prices
        .iter()
        .map(|(stock, price)| format!("({stock}, {})", price.0))
        .collect();
    format!("(VALUES {}) AS r", rows.join(", "))
}

/// Moves the trailing stops of one side to the round's prices where they beat the reference:
/// the same arithmetic as [`working::trail_stop`] (a percentage's offset rounded down).
fn trailing_sql(side: Side, round: &str) -> String {
    let (beats, sign) = match side {
        Side::Sell => (">", "-"),
        Side::Buy => ("<", "+"),
    };
    format!(
        "UPDATE orders SET trail_reference_cents = r.column2, stop_price_cents = CASE \
         WHEN orders.trail_amount_cents IS NOT NULL THEN r.column2 {sign} orders.trail_amount_cents \
         ELSE r.column2 {sign} (r.column2 * orders.trail_percent_bps) / 10000 END \
         FROM {round} WHERE orders.stock_id = r.column1 AND orders.status = 'OPEN' \
         AND orders.order_type = 'TRAILING_STOP' AND orders.side = '{side}' \
         AND r.column2 {beats} orders.trail_reference_cents",
        side = side.as_str(),
    )
}

/// The orders a round reaches: those [`working::at_round`] would not leave waiting, placed
/// before the round, in time priority. A stock halted since the round (or a round of one
/// halted) fills nothing: its orders keep working.
fn reached_sql(round: &str, placeholder: &str) -> String {
    let limit = "(o.order_type = 'LIMIT' OR o.triggered_at IS NOT NULL)";
    format!(
        "SELECT o.id, o.user_id FROM orders o JOIN {round} ON o.stock_id = r.column1 \
         JOIN stocks s ON s.id = o.stock_id AND s.active \
         WHERE o.status = 'OPEN' AND o.created_at < {placeholder} AND ( \
         (o.side = 'BUY' AND o.limit_price_cents >= r.column2 AND {limit}) \
         OR (o.side = 'SELL' AND o.limit_price_cents <= r.column2 AND {limit}) \
         OR (o.side = 'BUY' AND o.stop_price_cents <= r.column2 AND o.triggered_at IS NULL) \
         OR (o.side = 'SELL' AND o.stop_price_cents >= r.column2 AND o.triggered_at IS NULL)) \
         ORDER BY o.id"
    )
}

impl Trading {
    /// Evaluates the working orders of the stocks in a tick round at `at` with `prices`
    /// (stock id → the round's price, in cents). Orders placed at or after `at` wait for the
    /// next round. Only the lease holder runs it; `fence` stops a deposed leader before it
    /// writes. An error ends the pass: what was committed stays, the rest is evaluated at the
    /// next round's prices.
    pub async fn evaluate_working(
        &self,
        fence: &Fence,
        at: DateTime<Utc>,
        prices: &HashMap<i64, i64>,
    ) -> Result<Evaluated> {
        let prices: HashMap<i64, Cents> = prices.iter().map(|(s, p)| (*s, Cents(*p))).collect();
        if prices.is_empty() {
            return Ok(Evaluated::default());
        }
        let backend = self.db.get_database_backend();
        let round = round_table(&prices);
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        for side in [Side::Sell, Side::Buy] {
            txn.execute_raw(Statement::from_string(backend, trailing_sql(side, &round)))
                .await?;
        }
        txn.commit().await?;

        let placeholder = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let reached = Candidate::find_by_statement(Statement::from_sql_and_values(
            backend,
            reached_sql(&round, placeholder),
            [Value::from(at)],
        ))
        .all(&self.db)
        .await?;
        let mut done = Evaluated {
            reached: reached.len(),
            ..Default::default()
        };
        for batch in reached.chunks(BATCH) {
            let changed = self.evaluate_batch(fence, batch, &prices).await?;
            for (order, step) in &changed {
                match (step, order.status) {
                    (_, Status::Executed) => done.executed += 1,
                    (_, Status::Rejected) => done.rejected += 1,
                    (Step::Trigger, _) => done.triggered += 1,
                    _ => {}
                }
            }
            for (order, _) in changed {
                self.after_change(&order).await;
            }
        }
        if done.executed > 0 {
            metrics::counter!("zebrat_orders_executed_total", "when" => "working")
                .increment(done.executed as u64);
        }
        if done.rejected > 0 {
            metrics::counter!("zebrat_orders_rejected_total", "stage" => "triggered")
                .increment(done.rejected as u64);
        }
        Ok(done)
    }

    /// One batch in one fenced transaction; the orders it changed, as committed.
    async fn evaluate_batch(
        &self,
        fence: &Fence,
        batch: &[Candidate],
        prices: &HashMap<i64, Cents>,
    ) -> Result<Vec<(Order, Step)>> {
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        let active = lock_owners(&txn, batch.iter().map(|c| c.user_id)).await?;
        let now = self.clock.now();
        let mut changed = Vec::new();
        for order in open_orders(&txn, batch.iter().map(|c| c.id)).await? {
            // A deactivated owner's orders were canceled with the account; one left over
            // (placed in the same instant) waits for an admin.
            let Some(owner) = active.get(&order.user_id) else {
                continue;
            };
            let Some(&price) = prices.get(&order.stock_id) else {
                continue;
            };
            let step = working::at_round(&order, price);
            let order = match step {
                Step::Wait => continue,
                Step::Trigger => mark_triggered(&txn, order, now).await?,
                Step::Fill { triggered } => {
                    let order = if triggered {
                        mark_triggered(&txn, order, now).await?
                    } else {
                        order
                    };
                    let claimed =
                        store::claim(&txn, owner, order, Status::Executed, None, now).await?;
                    execute_claimed(&txn, claimed, price, store::REJECTED_AT_TRIGGER, now).await?
                }
            };
            changed.push((order, step));
        }
        txn.commit().await?;
        Ok(changed)
    }

    /// Expires the DAY orders still working from before the market's last close, releasing
    /// what they reserved. Does nothing while the market is open. Only the lease holder runs
    /// it; safe to repeat.
    pub async fn expire_day_orders(&self, fence: &Fence) -> Result<usize> {
        let state = market_state::Entity::find_by_id(1).one(&self.db).await?;
        let Some(closed_at) = state.filter(|s| !s.is_open).and_then(|s| s.last_close_at) else {
            return Ok(0);
        };
        let mut expired = 0;
        loop {
            let due = orders::Entity::find()
                .select_only()
                .column(orders::Column::Id)
                .column(orders::Column::UserId)
                .filter(orders::Column::Status.eq(Status::Open.as_str()))
                .filter(orders::Column::TimeInForce.eq(TimeInForce::Day.as_str()))
                .filter(orders::Column::CreatedAt.lt(closed_at))
                .order_by_asc(orders::Column::Id)
                .limit(BATCH as u64)
                .into_model::<Candidate>()
                .all(&self.db)
                .await?;
            if due.is_empty() {
                break;
            }
            let txn = self.db.begin().await?;
            fence.check(&txn).await?;
            let owners = lock_all_owners(&txn, due.iter().map(|c| c.user_id)).await?;
            let now = self.clock.now();
            let mut changed = Vec::with_capacity(due.len());
            for order in open_orders(&txn, due.iter().map(|c| c.id)).await? {
                let owner = owners
                    .get(&order.user_id)
                    .ok_or_else(|| Error::internal("order without owner"))?;
                changed.push(store::claim(&txn, owner, order, Status::Expired, None, now).await?);
            }
            txn.commit().await?;
            expired += changed.len();
            for order in changed {
                self.after_change(&order).await;
            }
        }
        if expired > 0 {
            metrics::counter!("zebrat_orders_expired_total").increment(expired as u64);
            tracing::info!(expired, "DAY orders expired at the close");
        }
        Ok(expired)
    }
}

/// Locks the owners (ascending ids, every locker's order) and returns the active ones.
async fn lock_owners(
    conn: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, users::Model>> {
    let mut owners = lock_all_owners(conn, ids).await?;
    owners.retain(|_, u| u.active);
    Ok(owners)
}

/// Locks the owners, active or not, in ascending id order.
pub(super) async fn lock_all_owners(
    conn: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, users::Model>> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .order_by_asc(users::Column::Id)
        .lock_exclusive()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// The orders among `ids` still OPEN, oldest first (read under their owners' locks).
async fn open_orders(
    conn: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<Vec<Order>> {
    orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids.collect::<Vec<_>>()))
        .filter(orders::Column::Status.eq(Status::Open.as_str()))
        .order_by_asc(orders::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Order::try_from)
        .collect()
}

/// Records that a working order's stop was crossed.
async fn mark_triggered(
    conn: &impl ConnectionTrait,
    mut order: Order,
    now: DateTime<Utc>,
) -> Result<Order> {
    orders::Entity::update_many()
        .col_expr(orders::Column::TriggeredAt, Expr::value(now))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(Status::Open.as_str()))
        .exec(conn)
        .await?;
    order.triggered_at = Some(now);
    order.updated_at = now;
    Ok(order)
}
