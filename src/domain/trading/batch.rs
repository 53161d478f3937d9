//! The writes of one batch of fills, gathered in memory and written in a handful of multi-row
//! statements. The engine's batches over working orders use it, and so do market orders placed
//! together (`placements`), which insert their orders already executed and settle them here.
//!
//! An engine batch writes: one update of the orders, one of their owners' rows, one
//! of the positions that existed (and one insert of those the batch opened), one insert of
//! the ledger rows and one of the trades. A round that fills a hundred orders costs a few
//! statements instead of five per fill.
//!
//! The batch runs in one fenced transaction holding its owners' locks, and the orders were
//! read OPEN under those locks: everything that ends an order (a cancel, a replace, an admin,
//! another engine) locks its owner first, so the batch's orders stay OPEN until it commits.
//! The orders' update keeps its `status = 'OPEN'` condition all the same, and a count short of
//! the batch fails the batch (rolled back whole, evaluated again at the next round): an order
//! leaves OPEN exactly once.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{cash_ledger, positions, trades, users};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Set, Statement, Value};

use super::{
    balance_after,
    order::{Order, Status},
    plan::Fill,
    store,
    units::{StockId, UserId},
};
use crate::domain::{Error, Result};

/// How an order leaves the batch.
enum End {
    Executed {
        price: i64,
        total: i64,
    },
    Rejected(String),
    /// A stop-limit whose stop was crossed: it works on as a limit.
    Triggered,
}

struct OrderChange {
    id: i64,
    end: End,
    /// Whether the order's `triggered_at` becomes the batch's instant.
    triggers: bool,
}

/// The writes of one batch, in memory until [`Writes::write`]; also the batch's view of its
/// owners and their positions, as its earlier orders left them.
pub(super) struct Writes {
    now: DateTime<Utc>,
    orders: Vec<OrderChange>,
    /// The locked owners' rows as they stand in the batch, by id.
    users: HashMap<i64, users::Model>,
    /// Their positions as they stand in the batch, by (user, stock); id 0: opened by it.
    positions: HashMap<(i64, i64), positions::Model>,
    /// The rows the batch changed: only these are written.
    changed_users: HashSet<i64>,
    changed_positions: HashSet<(i64, i64)>,
    ledger: Vec<cash_ledger::ActiveModel>,
    trades: Vec<trades::ActiveModel>,
}

impl Writes {
    /// A batch at `now` over the `owners` it locked and their positions (`held`).
    pub fn new(
        now: DateTime<Utc>,
        owners: HashMap<i64, users::Model>,
        held: HashMap<(i64, i64), positions::Model>,
    ) -> Self {
        Writes {
            now,
            orders: Vec::new(),
            users: owners,
            positions: held,
            changed_users: HashSet::new(),
            changed_positions: HashSet::new(),
            ledger: Vec::new(),
            trades: Vec::new(),
        }
    }

    /// An owner's row as the batch's earlier orders left it; None when not locked (inactive).
    pub fn owner(&self, user_id: i64) -> Option<&users::Model> {
        self.users.get(&user_id)
    }

    /// A position as the batch's earlier orders left it.
    pub fn position(&self, user_id: i64, stock_id: i64) -> Option<&positions::Model> {
        self.positions.get(&(user_id, stock_id))
    }

    fn keep(&mut self, user: users::Model, position: Option<positions::Model>) {
        self.changed_users.insert(user.id);
        self.users.insert(user.id, user);
        if let Some(p) = position {
            let key = (p.user_id, p.stock_id);
            self.changed_positions.insert(key);
            self.positions.insert(key, p);
        }
    }

    /// The batch's instant: when its orders are executed, rejected or triggered.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Fills `order` at `fill` for its owner `user` and position `held` (both with the order's
    /// reservation already released). Returns the order as it will be.
    pub fn fill(
        &mut self,
        user: users::Model,
        held: Option<&positions::Model>,
        mut order: Order,
        fill: &Fill,
        triggered_at: Option<DateTime<Utc>>,
    ) -> Result<Order> {
        let now = self.now;
        self.settle(user, held, &order, fill)?;
        self.orders.push(OrderChange {
            id: order.id,
            end: End::Executed {
                price: fill.price.0,
                total: fill.total.0,
            },
            triggers: triggered_at != order.triggered_at,
        });
        order.status = Status::Executed;
        order.price_cents = Some(fill.price.0);
        order.total_cents = Some(fill.total.0);
        order.executed_at = Some(now);
        order.triggered_at = triggered_at;
        order.reserved_cents = 0;
        order.reserved_shares = 0;
        order.updated_at = now;
        Ok(order)
    }

    /// What `order`'s `fill` does to its owner `user` and position `held`: the cash and its
    /// ledger row, the position, the trade. The order's own row is the caller's: [`Writes::fill`]
    /// updates a working one; a market order placed in a batch is inserted already executed.
    pub fn settle(
        &mut self,
        user: users::Model,
        held: Option<&positions::Model>,
        order: &Order,
        fill: &Fill,
    ) -> Result<()> {
        let now = self.now;
        let (kind, amount) = store::cash_of(order.side, fill);
        let balance = balance_after(&user, amount)?;
        self.ledger.push(cash_ledger::ActiveModel {
            user_id: Set(user.id),
            kind: Set(kind.as_str().into()),
            amount_cents: Set(amount.0),
            balance_after_cents: Set(balance),
            reference: Set(Some(store::reference(order))),
            created_at: Set(now),
            ..Default::default()
        });
        let user = users::Model {
            cash_cents: balance,
            updated_at: now,
            ..user
        };
        let position =
            store::position_after(UserId(user.id), StockId(order.stock_id), held, fill, now)?;
        self.trades.push(store::trade_row(order, fill, now));
        self.keep(user, Some(position));
        Ok(())
    }

    /// Rejects `order` (a triggered stop its owner can no longer cover) with `reason`; `user`
    /// and `held` as in [`Writes::fill`]. Returns the order as it will be.
    pub fn reject(
        &mut self,
        user: users::Model,
        held: Option<positions::Model>,
        mut order: Order,
        reason: String,
        triggered_at: Option<DateTime<Utc>>,
    ) -> Order {
        let now = self.now;
        self.orders.push(OrderChange {
            id: order.id,
            end: End::Rejected(reason.clone()),
            triggers: triggered_at != order.triggered_at,
        });
        self.keep(
            users::Model {
                updated_at: now,
                ..user
            },
            held.map(|p| positions::Model {
                updated_at: now,
                ..p
            }),
        );
        order.status = Status::Rejected;
        order.reject_reason = Some(reason);
        order.triggered_at = triggered_at;
        order.reserved_cents = 0;
        order.reserved_shares = 0;
        order.updated_at = now;
        order
    }

    /// Records that a stop-limit's stop was crossed: it works on as a limit order, holding
    /// what it held. Returns the order as it will be.
    pub fn trigger(&mut self, mut order: Order) -> Order {
        self.orders.push(OrderChange {
            id: order.id,
            end: End::Triggered,
            triggers: true,
        });
        order.triggered_at = Some(self.now);
        order.updated_at = self.now;
        order
    }

    /// Writes everything, in the caller's transaction.
    pub async fn write(self, conn: &impl ConnectionTrait) -> Result<()> {
        let backend = conn.get_database_backend();
        if !self.orders.is_empty() {
            let expected = self.orders.len() as u64;
            let (sql, values) = match backend {
                DbBackend::Postgres => orders_sql_unnest(&self.orders, self.now),
                _ => orders_sql(&self.orders, self.now),
            };
            let changed = conn
                .execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
                .rows_affected();
            if changed != expected {
                return Err(Error::internal(format!(
                    "{changed} of the batch's {expected} working orders were still open under their owners' locks"
                )));
            }
        }
        if !self.changed_users.is_empty() {
            let rows = self
                .changed_users
                .iter()
                .filter_map(|id| self.users.get(id))
                .map(|u| [u.id, u.cash_cents, u.reserved_cents]);
            conn.execute_raw(update_from(
                backend,
                "users",
                &["cash_cents", "reserved_cents"],
                rows,
                self.now,
            ))
            .await?;
        }
        let mut positions = self.positions;
        let (stored, opened): (Vec<_>, Vec<_>) = self
            .changed_positions
            .iter()
            .filter_map(|key| positions.remove(key))
            .partition(|p| p.id != 0);
        if !stored.is_empty() {
            let rows = stored.iter().map(|p| {
                [
                    p.id,
                    p.quantity,
                    p.reserved_quantity,
                    p.cost_basis_cents,
                    p.realized_pnl_cents,
                ]
            });
            conn.execute_raw(update_from(
                backend,
                "positions",
                &[
                    "quantity",
                    "reserved_quantity",
                    "cost_basis_cents",
                    "realized_pnl_cents",
                ],
                rows,
                self.now,
            ))
            .await?;
        }
        if !opened.is_empty() {
            positions::Entity::insert_many(opened.into_iter().map(|p| positions::ActiveModel {
                user_id: Set(p.user_id),
                stock_id: Set(p.stock_id),
                quantity: Set(p.quantity),
                reserved_quantity: Set(p.reserved_quantity),
                cost_basis_cents: Set(p.cost_basis_cents),
                realized_pnl_cents: Set(p.realized_pnl_cents),
                updated_at: Set(p.updated_at),
                ..Default::default()
            }))
            .exec_without_returning(conn)
            .await?;
        }
        if !self.ledger.is_empty() {
            cash_ledger::Entity::insert_many(self.ledger)
                .exec_without_returning(conn)
                .await?;
        }
        if !self.trades.is_empty() {
            trades::Entity::insert_many(self.trades)
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}

/// Bound parameters, numbered `$1, $2, …`: PostgreSQL's style, which SQLite reads too (so
/// one value may be used twice, and the order of binding needs not follow the text).
#[derive(Default)]
struct Params(Vec<Value>);

impl Params {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }
}

/// The columns of the changes' table `v`: id, new status, price, total, whether it triggers
/// now, and the reason. SQLite names a `VALUES` table's columns `column1…` and takes no others.
const VALUES_COLUMNS: [&str; 5] = ["column1", "column2", "column3", "column4", "column5"];
/// The same columns as `UNNEST(…) AS v(…)` names them on PostgreSQL.
const UNNEST_COLUMNS: [&str; 5] = ["id", "status", "price", "total", "triggers"];

/// The conditional update of the orders from the changes' table `v` in `from` (its columns
/// named by `c`, the reason given by `reason`), at `now` (a bound parameter).
fn orders_update(from: &str, c: [&str; 5], reason: &str, now: &str) -> String {
    let [id, status, price, total, triggers] = c;
    let executed = Status::Executed.as_str();
    let rejected = Status::Rejected.as_str();
    let open = Status::Open.as_str();
    format!(
        "UPDATE orders SET status = v.{status}, \
         price_cents = CASE WHEN v.{status} = '{executed}' THEN v.{price} ELSE orders.price_cents END, \
         total_cents = CASE WHEN v.{status} = '{executed}' THEN v.{total} ELSE orders.total_cents END, \
         executed_at = CASE WHEN v.{status} = '{executed}' THEN {now} ELSE orders.executed_at END, \
         triggered_at = CASE WHEN v.{triggers} = 1 THEN {now} ELSE orders.triggered_at END, \
         reject_reason = CASE WHEN v.{status} = '{rejected}' THEN {reason} ELSE orders.reject_reason END, \
         reserved_cents = CASE WHEN v.{status} = '{open}' THEN orders.reserved_cents ELSE 0 END, \
         reserved_shares = CASE WHEN v.{status} = '{open}' THEN orders.reserved_shares ELSE 0 END, \
         updated_at = {now} \
         FROM {from} WHERE orders.id = v.{id} AND orders.status = '{open}'"
    )
}

/// The batch's order changes as one conditional update. The rows go in as a `VALUES` table
/// (columns `column1…`, as both databases name them): id, new status, price, total, whether
/// it triggers now, and the reason (the one bound text). Integers and the fixed status words
/// are written into the statement.
fn orders_sql(changes: &[OrderChange], now: DateTime<Utc>) -> (String, Vec<Value>) {
    let mut params = Params::default();
    let rows: Vec<String> = changes
        .iter()
        .map(|c| {
            let (status, price, total, reason) = match &c.end {
                End::Executed { price, total } => {
                    (Status::Executed, *price, *total, "NULL".to_string())
                }
                End::Rejected(reason) => (Status::Rejected, 0, 0, params.bind(reason.clone())),
                End::Triggered => (Status::Open, 0, 0, "NULL".to_string()),
            };
            format!(
                "({}, '{}', {price}, {total}, {}, {reason})",
                c.id,
                status.as_str(),
                i32::from(c.triggers)
            )
        })
        .collect();
    let now = params.bind(now);
    let from = format!("(VALUES {}) AS v", rows.join(", "));
    let sql = orders_update(&from, VALUES_COLUMNS, "v.column6", &now);
    (sql, params.0)
}

/// [`orders_sql`] on PostgreSQL: the rows as arrays (`UNNEST`), so the statement's text is
/// the same for every batch and stays prepared (written into the text, each batch's ids made
/// a new statement to parse and plan, and pushed others out of the connection's cache).
fn orders_sql_unnest(changes: &[OrderChange], now: DateTime<Utc>) -> (String, Vec<Value>) {
    let mut ids = Vec::with_capacity(changes.len());
    let mut statuses = Vec::with_capacity(changes.len());
    let mut prices = Vec::with_capacity(changes.len());
    let mut totals = Vec::with_capacity(changes.len());
    let mut triggers = Vec::with_capacity(changes.len());
    // No reason is empty: an empty one stands for none.
    let mut reasons = Vec::with_capacity(changes.len());
    for c in changes {
        let (status, price, total, reason) = match &c.end {
            End::Executed { price, total } => (Status::Executed, *price, *total, String::new()),
            End::Rejected(reason) => (Status::Rejected, 0, 0, reason.clone()),
            End::Triggered => (Status::Open, 0, 0, String::new()),
        };
        ids.push(c.id);
        statuses.push(status.as_str().to_string());
        prices.push(price);
        totals.push(total);
        triggers.push(i64::from(c.triggers));
        reasons.push(reason);
    }
    let from = "UNNEST($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::text[]) \
                AS v(id, status, price, total, triggers, reason)";
    let sql = orders_update(from, UNNEST_COLUMNS, "NULLIF(v.reason, '')", "$7");
    let values = vec![
        Value::from(ids),
        Value::from(statuses),
        Value::from(prices),
        Value::from(totals),
        Value::from(triggers),
        Value::from(reasons),
        Value::from(now),
    ];
    (sql, values)
}

/// `UPDATE table SET columns… = the row's values, updated_at = now` for rows of integers
/// (the id first), from a `VALUES` table.
fn update_from<const N: usize>(
    backend: DbBackend,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = [i64; N]>,
    now: DateTime<Utc>,
) -> Statement {
    if backend == DbBackend::Postgres {
        return update_unnest(table, columns, rows, now);
    }
    let mut params = Params::default();
    let rows: Vec<String> = rows
        .map(|row| {
            let cells: Vec<String> = row.iter().map(i64::to_string).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = v.column{}", i + 2))
        .collect();
    let sql = format!(
        "UPDATE {table} SET {}, updated_at = {} FROM (VALUES {}) AS v WHERE {table}.id = v.column1",
        set.join(", "),
        params.bind(now),
        rows.join(", ")
    );
    Statement::from_sql_and_values(backend, sql, params.0)
}

/// [`update_from`] on PostgreSQL: one array per column (`UNNEST`), the same text for every
/// batch (see [`orders_sql_unnest`]).
fn update_unnest<const N: usize>(
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = [i64; N]>,
    now: DateTime<Utc>,
) -> Statement {
    let mut arrays: Vec<Vec<i64>> = vec![Vec::new(); N];
    for row in rows {
        for (array, cell) in arrays.iter_mut().zip(row) {
            array.push(cell);
        }
    }
    let set: Vec<String> = columns
        .iter()
        .map(|column| format!("{column} = v.{column}"))
        .collect();
    let unnest: Vec<String> = (1..=N).map(|i| format!("${i}::int8[]")).collect();
    let sql = format!(
        "UPDATE {table} SET {}, updated_at = ${} FROM UNNEST({}) AS v(id, {}) WHERE {table}.id = v.id",
        set.join(", "),
        N + 1,
        unnest.join(", "),
        columns.join(", ")
    );
    let mut values: Vec<Value> = arrays.into_iter().map(Value::from).collect();
    values.push(Value::from(now));
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}
