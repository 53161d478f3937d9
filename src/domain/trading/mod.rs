//! Cash, orders and portfolio: the invariants of DESIGN.md live here.
//!
//! Every command runs in ONE transaction that first locks the user's row (`FOR UPDATE` on
//! PostgreSQL; SQLite runs one transaction at a time). All reads that decide a debit happen
//! under that lock, so concurrent orders and withdrawals of one user are serialized and can
//! never overspend or oversell. Events are published after commit.
//!
//! An order command follows that contract in this order: lock the owner, one joined read
//! (`context`), a pure decision (`plan`: the one "can this be covered" rule and the fill),
//! the writes (`store`), commit, publish. `orders` holds the reads, `placement` placing,
//! replacing and canceling, `queue` the market orders placed while the market is closed and
//! their run at the open, `placements` the market orders that execute at once, placed
//! together in one transaction per batch, `evaluate` the engine's pass over working orders after each tick
//! round and at the close (`terms` and `working` hold their pure rules), `cancel` the
//! administrators' cancels.

mod batch;
pub(crate) mod cancel;
pub mod cash;
mod context;
pub mod evaluate;
pub mod lookup;
pub mod order;
pub mod orders;
pub mod placement;
mod placements;
pub mod plan;
pub mod portfolio;
pub(crate) mod queue;
mod store;
pub mod terms;
pub mod units;
pub mod working;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{cash_ledger, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::Expr,
};

use self::units::Cents;
use super::{Error, Result};
use crate::{bus::SharedBus, clock::SharedClock};

/// Limits on what one request may move.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest deposit or withdrawal, in cents.
    pub max_cash_operation_cents: i64,
    /// Largest order, in shares.
    pub max_order_quantity: i64,
    /// The largest move of one tick round (`MAX_TICK_PCT`) in basis points: what a stop buy
    /// reserves above its stop.
    pub max_round_move_bps: i64,
}

/// The trading services. Cheap to clone.
#[derive(Clone)]
pub struct Trading {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: SharedClock,
    pub(crate) bus: SharedBus,
    pub(crate) limits: Arc<Limits>,
    /// The market's time zone and calendar: when a DAY order's session closes.
    pub(crate) tz: chrono_tz::Tz,
    pub(crate) calendar: super::market::MarketCalendar,
    /// Market orders waiting to be placed together (`placements`).
    placements: Arc<placements::Placements>,
}

impl Trading {
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        bus: SharedBus,
        limits: Limits,
        tz: chrono_tz::Tz,
        calendar: super::market::MarketCalendar,
    ) -> Self {
        Trading {
            db,
            clock,
            bus,
            limits: Arc::new(limits),
            tz,
            calendar,
            placements: Arc::default(),
        }
    }

    /// Publishes after a commit; a bus failure must not undo what was written.
    async fn publish(&self, event: crate::bus::Event) {
        if let Err(e) = self.bus.publish(event).await {
            tracing::warn!(error = %e, "publishing an account event");
        }
    }
}

/// Locks and returns an active user's row for the rest of the transaction.
pub(crate) async fn lock_user(conn: &impl ConnectionTrait, user_id: i64) -> Result<users::Model> {
    let user = users::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| Error::Unauthenticated("account not found".into()))?;
    if !user.active {
        return Err(Error::Unauthenticated("account is deactivated".into()));
    }
    Ok(user)
}

/// Kinds of cash movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    Deposit,
    Withdrawal,
    Buy,
    Sell,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "DEPOSIT",
            LedgerKind::Withdrawal => "WITHDRAWAL",
            LedgerKind::Buy => "BUY",
            LedgerKind::Sell => "SELL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Deposit, Self::Withdrawal, Self::Buy, Self::Sell]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The user's cash balance after moving it by `amount` (signed); never below zero.
pub(crate) fn balance_after(user: &users::Model, amount: Cents) -> Result<i64> {
    user.cash_cents
        .checked_add(amount.0)
        .filter(|b| *b >= 0)
        .ok_or_else(|| Error::InsufficientFunds("not enough cash".into()))
}

/// Moves a locked user's cash by `amount` (signed) and writes the ledger row for it. Returns
/// the user's row as written and the ledger entry.
pub(crate) async fn move_cash(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    kind: LedgerKind,
    amount: Cents,
    reserved: Cents,
    reference: Option<String>,
    now: DateTime<Utc>,
) -> Result<(users::Model, cash::LedgerEntry)> {
    let (amount_cents, reserved_cents) = (amount.0, reserved.0);
    let balance = balance_after(user, amount)?;
    users::Entity::update_many()
        .col_expr(users::Column::CashCents, Expr::value(balance))
        .col_expr(users::Column::ReservedCents, Expr::value(reserved_cents))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(conn)
        .await?;
    let id = cash_ledger::Entity::insert(cash_ledger::ActiveModel {
        user_id: Set(user.id),
        kind: Set(kind.as_str().into()),
        amount_cents: Set(amount_cents),
        balance_after_cents: Set(balance),
        reference: Set(reference.clone()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(conn)
    .await?
    .last_insert_id;
    let entry = cash::LedgerEntry {
        id,
        user_id: user.id,
        kind,
        amount_cents,
        balance_after_cents: balance,
        reference,
        created_at: now,
    };
    // The row as written (the user is locked: nothing else changed it).
    let user = users::Model {
        cash_cents: balance,
        reserved_cents,
        updated_at: now,
        ..user.clone()
    };
    Ok((user, entry))
}
