//! The engine's work on working orders: after each tick round, trailing stops follow the
//! round's prices and the orders those prices reach are filled (or, stop-limits, triggered) in
//! time priority; at the close, DAY orders expire.
//!
//! Set-based where it can be: the trailing stops of all the round's stocks move in one
//! statement per side, and one read finds the orders the round reaches through the two partial
//! indexes on working orders, so a round costs little however many orders wait. The orders
//! found are then handled in batches, one fenced transaction each: the batch's owners are
//! locked first, in id order (as the admin's halt locks them, so the two never deadlock), the
//! orders and positions are read under those locks, and each order is decided again by
//! [`working::at_round`] and [`plan::fill`], in order, against its owners' rows and positions
//! as the batch's earlier orders left them (in memory); the batch's writes then go out in a
//! few multi-row statements ([`super::batch`]). An order leaves OPEN by a conditional update,
//! exactly once: a fill racing a cancel, or two engines, end in one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{market_state, orders, positions, stocks, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait, Value,
};

use super::{
    Trading,
    batch::Writes,
    context::{among, funds, holding, positions_among},
    order::{Order, Side, Status, TimeInForce},
    plan, store,
    units::{Cents, Shares},
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

/// A trailing stop's stop from its reference, in SQL: the same arithmetic as
/// [`super::terms::Trail::stop`] (a percentage's offset rounded down).
fn trailing_stop_sql(side: Side) -> String {
    let sign = match side {
        Side::Sell => "-",
        Side::Buy => "+",
    };
    format!(
        "CASE WHEN o.trail_amount_cents IS NOT NULL \
         THEN o.trail_reference_cents {sign} o.trail_amount_cents \
         ELSE o.trail_reference_cents {sign} (o.trail_reference_cents * o.trail_percent_bps) / 10000 END"
    )
}

/// Moves the trailing stops' references of one side to the round's prices where they beat
/// them. Only the reference changes (the stop is derived from it): no index holds that
/// column, so on PostgreSQL the rows are rewritten in place.
fn trailing_sql(side: Side, round: &str) -> String {
    let beats = match side {
        Side::Sell => ">",
        Side::Buy => "<",
    };
    format!(
        "UPDATE orders SET trail_reference_cents = r.column2 \
         FROM {round} WHERE orders.stock_id = r.column1 AND orders.status = 'OPEN' \
         AND orders.order_type = 'TRAILING_STOP' AND orders.side = '{side}' \
         AND r.column2 {beats} orders.trail_reference_cents",
        side = side.as_str(),
    )
}

/// The orders a round reaches: those [`working::at_round`] would not leave waiting, placed
/// before the round, in time priority. Six ranges per stock: limits and stops by side, looked
/// up in the partial indexes, and the trailing stops by side (their stops are derived from
/// their references, so every trailing stop of the stock is looked at: a short list), with
/// the round's stocks as the outer loop: on PostgreSQL each stock's ranges are a `LATERAL`
/// subquery (a plain join is planned as a hash over every working order), on SQLite a `CROSS
/// JOIN`, which fixes the join order there (left of it, SQLite walks the status index in id
/// order to save the sort, reading every working order).
fn reached_sql(backend: DbBackend, round: &str) -> String {
    let limit = "(o.order_type = 'LIMIT' OR o.triggered_at IS NOT NULL)";
    let stop = "o.triggered_at IS NULL AND o.order_type <> 'TRAILING_STOP'";
    let trailing = "o.order_type = 'TRAILING_STOP'";
    let ranges = [
        format!("o.side = 'BUY' AND o.limit_price_cents >= r.column2 AND {limit}"),
        format!("o.side = 'SELL' AND o.limit_price_cents <= r.column2 AND {limit}"),
        format!("o.side = 'BUY' AND o.stop_price_cents <= r.column2 AND {stop}"),
        format!("o.side = 'SELL' AND o.stop_price_cents >= r.column2 AND {stop}"),
        format!(
            "o.side = 'BUY' AND {trailing} AND {} <= r.column2",
            trailing_stop_sql(Side::Buy)
        ),
        format!(
            "o.side = 'SELL' AND {trailing} AND {} >= r.column2",
            trailing_stop_sql(Side::Sell)
        ),
    ];
    match backend {
        DbBackend::Postgres => {
            let per_stock: Vec<String> = ranges
                .iter()
                .map(|range| {
                    format!(
                        "SELECT o.id, o.user_id FROM orders o WHERE o.stock_id = r.column1 \
                         AND o.status = 'OPEN' AND o.created_at < $1 AND {range}"
                    )
                })
                .collect();
            format!(
                "SELECT c.id, c.user_id FROM {round} CROSS JOIN LATERAL ({}) c ORDER BY c.id",
                per_stock.join(" UNION ALL ")
            )
        }
        _ => {
            let each: Vec<String> = ranges
                .iter()
                .map(|range| {
                    format!(
                        "SELECT o.id, o.user_id FROM {round} CROSS JOIN orders o \
                         WHERE o.stock_id = r.column1 AND o.status = 'OPEN' \
                         AND o.created_at < ? AND {range}"
                    )
                })
                .collect();
            format!(
                "SELECT id, user_id FROM ({}) ORDER BY id",
                each.join(" UNION ALL ")
            )
        }
    }
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
        // A stock halted since the round (or in it) fills nothing: its orders keep working.
        let active: Vec<i64> = stocks::Entity::find()
            .select_only()
            .column(stocks::Column::Id)
            .filter(stocks::Column::Id.is_in(prices.keys().copied()))
            .filter(stocks::Column::Active.eq(true))
            .into_tuple()
            .all(&self.db)
            .await?;
        let prices: HashMap<i64, Cents> = active
            .into_iter()
            .filter_map(|id| prices.get(&id).map(|p| (id, Cents(*p))))
            .collect();
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
        if backend == DbBackend::Postgres {
            // The planner cannot know how narrow the round's ranges are: it costs the read as
            // if it returned a third of the orders, and JIT-compiles a query that runs in
            // milliseconds (and takes tens of them to compile).
            txn.execute_unprepared("SET LOCAL jit = off").await?;
        }
        let reached = Candidate::find_by_statement(Statement::from_sql_and_values(
            backend,
            reached_sql(backend, &round),
            std::iter::repeat_n(
                Value::from(at),
                if backend == DbBackend::Postgres { 1 } else { 6 },
            ),
        ))
        .all(&txn)
        .await?;
        txn.commit().await?;

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
        let owners = lock_owners(&txn, batch.iter().map(|c| c.user_id)).await?;
        let orders = open_orders(&txn, batch.iter().map(|c| c.id)).await?;
        let held = positions_among(
            &txn,
            orders.iter().map(|o| o.user_id),
            orders.iter().map(|o| o.stock_id),
        )
        .await?;
        let mut writes = Writes::new(self.clock.now(), owners, held);
        let mut changed = Vec::new();
        for order in orders {
            // A deactivated owner's orders were canceled with the account; one left over
            // (placed in the same instant) waits for an admin.
            let (Some(owner), Some(&price)) =
                (writes.owner(order.user_id), prices.get(&order.stock_id))
            else {
                continue;
            };
            let step = working::at_round(&order, price);
            let triggered_at = match step {
                Step::Wait => continue,
                Step::Trigger => {
                    changed.push((writes.trigger(order), step));
                    continue;
                }
                Step::Fill { triggered: true } => Some(writes.now()),
                Step::Fill { triggered: false } => order.triggered_at,
            };
            // The reservation goes back; the fill takes what it really costs.
            let held = writes.position(order.user_id, order.stock_id);
            let (user, position) = released(owner, held, &order);
            let planned = plan::fill(
                order.side,
                Shares(order.quantity),
                price,
                funds(&user),
                holding(position.as_ref()),
            );
            let ended = match planned {
                Ok(fill) => writes.fill(user, position.as_ref(), order, &fill, triggered_at)?,
                Err(refusal) => {
                    let reason = format!("{}{refusal}", store::REJECTED_AT_TRIGGER);
                    writes.reject(user, position, order, reason, triggered_at)
                }
            };
            changed.push((ended, step));
        }
        writes.write(&txn).await?;
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
        .filter(among(conn.get_database_backend(), users::Column::Id, ids))
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

/// The owner's row and position once `order`'s reservation goes back (in memory).
fn released(
    owner: &users::Model,
    position: Option<&positions::Model>,
    order: &Order,
) -> (users::Model, Option<positions::Model>) {
    let user = users::Model {
        reserved_cents: owner.reserved_cents - order.reserved_cents,
        ..owner.clone()
    };
    let position = position.map(|p| positions::Model {
        reserved_quantity: std::cmp::max(p.reserved_quantity - order.reserved_shares, 0),
        ..p.clone()
    });
    (user, position)
}
