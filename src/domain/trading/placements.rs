//! Market orders that execute at once, placed together: the orders that arrive while a batch
//! is being written wait for it, then go into the next batch, in ONE transaction with a fixed
//! number of statements (lock the owners, read the stocks and the positions, insert the
//! orders, then `batch::Writes`: owners, positions, ledger, trades). Alone, an order costs
//! about nine statements and a commit; in a batch of thirty-two, well under one each. Nobody
//! waits for a batch to fill: at low load a batch is one order, and the latency is the single
//! path's.
//!
//! Every decision is the single path's, taken per order in arrival order under the owners'
//! locks, against the owners and positions as the batch's earlier orders left them (`plan`
//! covers each one, so a batch can never overspend or oversell). What a batch does not decide
//! goes back to its caller, who places it alone (`placement`): an order that would not execute
//! now (the market is closed, older market orders in the stock still wait), a `clientOrderId`
//! repeated within the batch, and every order of a batch that failed to write (rolled back
//! whole: nothing of it is stored).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use tokio::sync::oneshot;
use tracing::Instrument;

use super::{
    Trading,
    batch::Writes,
    context::{funds, holding, positions_among, stock_contexts},
    evaluate::lock_all_owners,
    order::{Order, PlaceOrder},
    orders::placed_before,
    plan::{self, Fill},
    store::{self, NewOrder},
};
use crate::domain::{Error, Result};

/// The most orders one batch takes; the rest wait for the next.
const MAX_BATCH: usize = 64;

/// What became of an order sent to a batch.
pub(super) enum Placed {
    /// Executed and committed.
    Executed(Order),
    /// Its `clientOrderId` was placed before: the first order, as it is now.
    Replayed(Order),
    /// Refused, nothing stored: the same error the single path gives.
    Refused(Error),
    /// Not decided here: the caller places it alone.
    Alone,
}

struct Request {
    user_id: i64,
    cmd: PlaceOrder,
    reply: oneshot::Sender<Placed>,
}

/// The orders waiting for a batch, and whether a batch is running. Shared by the clones of
/// [`Trading`].
#[derive(Default)]
pub(super) struct Placements {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Request>,
    running: bool,
}

impl Placements {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Held by the task that runs batches: when it ends in any way (the queue ran dry, a panic,
/// the runtime shutting down), the next order starts a new one, and the orders still waiting
/// go back to their callers rather than wait for nobody.
struct Runner(Arc<Placements>);

impl Drop for Runner {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        queue.running = false;
        // Dropping their reply senders answers them `Alone`.
        queue.waiting.clear();
    }
}

impl Trading {
    /// Sends a market order to the next batch and waits for what became of it.
    pub(super) async fn place_together(&self, user_id: i64, cmd: PlaceOrder) -> Placed {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.placements.lock();
            queue.waiting.push(Request {
                user_id,
                cmd,
                reply,
            });
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            let runner = Runner(self.placements.clone());
            tokio::spawn(self.clone().run_batches(runner));
        }
        // A runner that went away without answering leaves the order to its caller.
        answer.await.unwrap_or(Placed::Alone)
    }

    /// Runs batches until no order waits.
    async fn run_batches(self, runner: Runner) {
        loop {
            let batch: Vec<Request> = {
                let mut queue = runner.0.lock();
                if queue.waiting.is_empty() {
                    queue.running = false;
                    return;
                }
                let take = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..take).collect()
            };
            let span = tracing::info_span!("place_batch", orders = batch.len());
            self.run_batch(batch).instrument(span).await;
        }
    }

    async fn run_batch(&self, batch: Vec<Request>) {
        metrics::histogram!("zebrat_order_batch_size").record(batch.len() as f64);
        let outcomes = match self.place_batch(&batch).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                tracing::warn!(error = %e, orders = batch.len(), "a batch of market orders failed: each is placed alone");
                Vec::new()
            }
        };
        let mut outcomes = outcomes.into_iter();
        for request in batch {
            // A caller that went away has nobody to tell: its order stands, as when it is
            // placed alone.
            let _ = request.reply.send(outcomes.next().unwrap_or(Placed::Alone));
        }
    }

    /// The batch in one transaction; what became of each order, in order.
    async fn place_batch(&self, batch: &[Request]) -> Result<Vec<Placed>> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await?;
        let owners = lock_all_owners(&txn, batch.iter().map(|r| r.user_id)).await?;
        let stock_ids: Vec<i64> = batch.iter().map(|r| r.cmd.stock_id).collect();
        let stocks = stock_contexts(&txn, &stock_ids).await?;
        let held = positions_among(&txn, owners.keys().copied(), stock_ids.iter().copied()).await?;
        let now = self.clock.now();
        // Decide each order against the batch as its earlier orders left it.
        let mut view = Writes::new(now, owners.clone(), held.clone());
        let mut keys = HashSet::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut fills: Vec<(usize, Order, Fill)> = Vec::new();
        for (i, Request { user_id, cmd, .. }) in batch.iter().enumerate() {
            let user = match view.owner(*user_id) {
                None => Err(Error::Unauthenticated("account not found".into())),
                Some(u) if !u.active => {
                    Err(Error::Unauthenticated("account is deactivated".into()))
                }
                Some(u) => Ok(u.clone()),
            };
            let user = match user {
                Ok(user) => user,
                Err(e) => {
                    outcomes.push(Placed::Refused(e));
                    continue;
                }
            };
            if let Some(key) = &cmd.client_order_id {
                if !keys.insert((*user_id, key.clone())) {
                    outcomes.push(Placed::Alone);
                    continue;
                }
                match placed_before(&txn, *user_id, cmd).await {
                    Ok(Some(first)) => {
                        outcomes.push(Placed::Replayed(first));
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        outcomes.push(Placed::Refused(e));
                        continue;
                    }
                }
            }
            let Some(stock) = stocks.get(&cmd.stock_id) else {
                outcomes.push(Placed::Refused(Error::NotFound("stock".into())));
                continue;
            };
            if let Err(e) = stock.takes_orders().and_then(|()| {
                cmd.terms
                    .check_against(cmd.side, stock.price, stock.market_open)
                    .map(|_| ())
            }) {
                outcomes.push(Placed::Refused(e));
                continue;
            }
            if !stock.executes_market_now() {
                outcomes.push(Placed::Alone);
                continue;
            }
            let position = view.position(*user_id, cmd.stock_id).cloned();
            let fill = match plan::fill(
                cmd.side,
                cmd.quantity,
                stock.price,
                funds(&user),
                holding(position.as_ref()),
            ) {
                Ok(fill) => fill,
                Err(refusal) => {
                    outcomes.push(Placed::Refused(refusal.into()));
                    continue;
                }
            };
            let (_, order) = store::new_order(*user_id, cmd, NewOrder::Executed(&fill), now);
            view.settle(user, position.as_ref(), &order, &fill)?;
            fills.push((i, order, fill));
            outcomes.push(Placed::Alone); // replaced below once stored
        }
        if fills.is_empty() {
            txn.commit().await?;
            return Ok(outcomes);
        }
        let orders = insert_executed(&txn, batch, &fills, now).await?;
        // Settle again, now with the orders' ids: the same fills, in the same order, from the
        // same rows, so the same arithmetic as the decisions above.
        let mut writes = Writes::new(now, owners, held);
        for ((i, _, fill), order) in fills.iter().zip(&orders) {
            let user = writes
                .owner(order.user_id)
                .cloned()
                .ok_or_else(|| Error::internal("a batch's owner went missing"))?;
            let position = writes.position(order.user_id, order.stock_id).cloned();
            writes.settle(user, position.as_ref(), order, fill)?;
            outcomes[*i] = Placed::Executed(order.clone());
        }
        writes.write(&txn).await?;
        txn.commit().await?;
        Ok(outcomes)
    }
}

/// Inserts the batch's executed orders in one statement; returns them with their ids, in the
/// order of `fills`.
///
/// Neither database promises that `RETURNING` lists the rows in the order of `VALUES`, so each
/// stored row is matched back by what it holds (owner, stock, side, quantity, key). Two orders
/// that hold the same are the same order to everyone (same price and total, same instant), so
/// which of them gets which id changes nothing.
async fn insert_executed(
    conn: &impl sea_orm::ConnectionTrait,
    batch: &[Request],
    fills: &[(usize, Order, Fill)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Order>> {
    use sea_orm::EntityTrait;
    type Key = (i64, i64, String, i64, Option<String>);
    let rows = fills.iter().map(|(i, _, fill)| {
        let request = &batch[*i];
        store::new_order(request.user_id, &request.cmd, NewOrder::Executed(fill), now).0
    });
    let stored = entity::orders::Entity::insert_many(rows)
        .exec_with_returning(conn)
        .await
        .map_err(|e| Error::conflict_on_unique(e, "clientOrderId was already used"))?;
    if stored.len() != fills.len() {
        return Err(Error::internal(format!(
            "{} of the batch's {} orders were stored",
            stored.len(),
            fills.len()
        )));
    }
    let mut ids: HashMap<Key, Vec<i64>> = HashMap::new();
    for row in stored {
        let key = (
            row.user_id,
            row.stock_id,
            row.side,
            row.quantity,
            row.client_order_id,
        );
        ids.entry(key).or_default().push(row.id);
    }
    fills
        .iter()
        .map(|(_, order, _)| {
            let key = (
                order.user_id,
                order.stock_id,
                order.side.as_str().to_string(),
                order.quantity,
                order.client_order_id.clone(),
            );
            let id = ids
                .get_mut(&key)
                .and_then(Vec::pop)
                .ok_or_else(|| Error::internal("a batch's order was not stored as sent"))?;
            Ok(Order {
                id,
                ..order.clone()
            })
        })
        .collect()
}
