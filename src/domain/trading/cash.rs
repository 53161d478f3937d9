//! Deposits, withdrawals and the ledger.

use chrono::{DateTime, Utc};
use entity::{cash_ledger, cash_requests, users};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::{LedgerKind, Trading, lock_user, move_cash, units::Cents};
use crate::domain::{
    Error, Result, money,
    page::{self, Page, PageRequest},
};

/// 1–64 printable characters, like `clientOrderId`.
fn parse_key(key: String) -> Result<String> {
    if key.is_empty() || key.len() > 64 || key.chars().any(char::is_control) {
        return Err(Error::bad_input(
            "idempotencyKey",
            "idempotencyKey must be 1 to 64 printable characters",
        ));
    }
    Ok(key)
}

/// The answer a request with this key already got; CONFLICT when the key was used for a
/// different movement (another kind or amount).
async fn first_answer(
    conn: &impl ConnectionTrait,
    user_id: i64,
    key: &str,
    kind: LedgerKind,
    cents: i64,
) -> Result<Option<CashMovement>> {
    let Some(first) = cash_requests::Entity::find()
        .filter(cash_requests::Column::UserId.eq(user_id))
        .filter(cash_requests::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if first.kind != kind.as_str() || first.amount_cents != cents.abs() {
        return Err(Error::Conflict(
            "idempotencyKey was already used for a different deposit or withdrawal".into(),
        ));
    }
    // Written in the request's own transaction: a link without its entry is a broken store.
    let entry = match first.ledger_id {
        None => None,
        Some(id) => Some(
            cash_ledger::Entity::find_by_id(id)
                .one(conn)
                .await?
                .ok_or_else(|| Error::internal(format!("cash request {} lost its entry", first.id)))
                .and_then(LedgerEntry::try_from)?,
        ),
    };
    Ok(Some(CashMovement {
        cash: Cash {
            balance_cents: first.balance_cents,
            reserved_cents: first.reserved_cents,
        },
        entry,
    }))
}

/// What a deposit or withdrawal did: the cash right after it, and the ledger entry it wrote.
#[derive(Debug, Clone)]
pub struct CashMovement {
    pub cash: Cash,
    /// None only for a retry of a keyed request recorded before requests were linked to
    /// their entries.
    pub entry: Option<LedgerEntry>,
}

/// A user's cash (cents). `available = balance - reserved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cash {
    pub balance_cents: i64,
    pub reserved_cents: i64,
}

impl Cash {
    pub fn available_cents(&self) -> i64 {
        self.balance_cents - self.reserved_cents
    }
}

impl From<&users::Model> for Cash {
    fn from(u: &users::Model) -> Self {
        Cash {
            balance_cents: u.cash_cents,
            reserved_cents: u.reserved_cents,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub id: i64,
    pub user_id: i64,
    pub kind: LedgerKind,
    pub amount_cents: i64,
    pub balance_after_cents: i64,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Trading {
    pub async fn cash(&self, user_id: i64) -> Result<Cash> {
        users::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .map(|u| Cash::from(&u))
            .ok_or_else(|| Error::NotFound("user".into()))
    }

    /// Adds money. A repeated `idempotency_key` returns the first answer (its entry included)
    /// and moves nothing.
    #[tracing::instrument(skip(self))]
    pub async fn deposit(
        &self,
        user_id: i64,
        amount: Decimal,
        idempotency_key: Option<String>,
    ) -> Result<CashMovement> {
        let cents = self.cash_amount(amount)?;
        self.move_cash(user_id, LedgerKind::Deposit, cents, idempotency_key)
            .await
    }

    /// Never takes the balance below what queued buys have reserved. A repeated
    /// `idempotency_key` returns the first answer and moves nothing.
    #[tracing::instrument(skip(self))]
    pub async fn withdraw(
        &self,
        user_id: i64,
        amount: Decimal,
        idempotency_key: Option<String>,
    ) -> Result<CashMovement> {
        let cents = self.cash_amount(amount)?;
        self.move_cash(user_id, LedgerKind::Withdrawal, -cents, idempotency_key)
            .await
    }

    async fn move_cash(
        &self,
        user_id: i64,
        kind: LedgerKind,
        cents: i64,
        idempotency_key: Option<String>,
    ) -> Result<CashMovement> {
        let key = idempotency_key.map(parse_key).transpose()?;
        let txn = self.db.begin().await?;
        let user = lock_user(&txn, user_id).await?;
        // Under the user's lock, so concurrent retries of one key see each other.
        if let Some(key) = &key
            && let Some(first) = first_answer(&txn, user_id, key, kind, cents).await?
        {
            return Ok(first);
        }
        if cents < 0 && user.cash_cents - user.reserved_cents < -cents {
            return Err(Error::InsufficientFunds(format!(
                "available cash is {}",
                money::from_cents(user.cash_cents - user.reserved_cents)
            )));
        }
        let now = self.clock.now();
        let (updated, entry) = move_cash(
            &txn,
            &user,
            kind,
            Cents(cents),
            Cents(user.reserved_cents),
            None,
            now,
        )
        .await?;
        let cash = Cash::from(&updated);
        if let Some(key) = key {
            cash_requests::Entity::insert(cash_requests::ActiveModel {
                user_id: Set(user_id),
                idempotency_key: Set(key),
                kind: Set(kind.as_str().into()),
                amount_cents: Set(cents.abs()),
                balance_cents: Set(cash.balance_cents),
                reserved_cents: Set(cash.reserved_cents),
                ledger_id: Set(Some(entry.id)),
                created_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await
            .map_err(|e| Error::conflict_on_unique(e, "idempotencyKey is already in use"))?;
        }
        txn.commit().await?;
        self.publish(crate::domain::events::Event::PortfolioChanged { user_id })
            .await;
        Ok(CashMovement {
            cash,
            entry: Some(entry),
        })
    }

    fn cash_amount(&self, amount: Decimal) -> Result<i64> {
        let cents = money::to_cents(amount, "amount")?;
        if cents <= 0 {
            return Err(Error::bad_input("amount", "amount must be positive"));
        }
        if cents > self.limits.max_cash_operation_cents {
            return Err(Error::bad_input(
                "amount",
                format!(
                    "amount must be at most {} per operation",
                    money::from_cents(self.limits.max_cash_operation_cents)
                ),
            ));
        }
        Ok(cents)
    }

    /// The ledger, newest first.
    pub async fn cash_transactions(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>> {
        let rows = cash_ledger::Entity::find().filter(cash_ledger::Column::UserId.eq(user_id));
        page::fetch(
            &self.db,
            rows,
            cash_ledger::Column::Id,
            page,
            LedgerEntry::try_from,
        )
        .await
    }
}

impl TryFrom<cash_ledger::Model> for LedgerEntry {
    type Error = Error;
    fn try_from(r: cash_ledger::Model) -> Result<Self> {
        Ok(LedgerEntry {
            id: r.id,
            user_id: r.user_id,
            kind: LedgerKind::parse(&r.kind)
                .ok_or_else(|| Error::internal(format!("ledger kind {}", r.kind)))?,
            amount_cents: r.amount_cents,
            balance_after_cents: r.balance_after_cents,
            reference: r.reference,
            created_at: r.created_at,
        })
    }
}
