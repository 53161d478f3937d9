//! Deposits, withdrawals and the ledger.

use chrono::{DateTime, Utc};
use entity::{cash_ledger, users};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::{LedgerKind, Trading, lock_user, move_cash};
use crate::domain::{
    Error, Result, money,
    page::{self, Page, PageRequest},
};

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

    #[tracing::instrument(skip(self))]
    pub async fn deposit(&self, user_id: i64, amount: Decimal) -> Result<Cash> {
        let cents = self.cash_amount(amount)?;
        self.move_cash(user_id, LedgerKind::Deposit, cents).await
    }

    /// Never takes the balance below what queued buys have reserved.
    #[tracing::instrument(skip(self))]
    pub async fn withdraw(&self, user_id: i64, amount: Decimal) -> Result<Cash> {
        let cents = self.cash_amount(amount)?;
        self.move_cash(user_id, LedgerKind::Withdrawal, -cents)
            .await
    }

    async fn move_cash(&self, user_id: i64, kind: LedgerKind, cents: i64) -> Result<Cash> {
        let txn = self.db.begin().await?;
        let user = lock_user(&txn, user_id).await?;
        if cents < 0 && user.cash_cents - user.reserved_cents < -cents {
            return Err(Error::InsufficientFunds(format!(
                "available cash is {}",
                money::from_cents(user.cash_cents - user.reserved_cents)
            )));
        }
        let now = self.clock.now();
        let updated = move_cash(&txn, &user, kind, cents, user.reserved_cents, None, now).await?;
        txn.commit().await?;
        Ok(Cash::from(&updated))
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
        page::fetch(&self.db, rows, cash_ledger::Column::Id, page, |r| {
            Ok(LedgerEntry {
                id: r.id,
                kind: LedgerKind::parse(&r.kind)
                    .ok_or_else(|| Error::internal(format!("ledger kind {}", r.kind)))?,
                amount_cents: r.amount_cents,
                balance_after_cents: r.balance_after_cents,
                reference: r.reference,
                created_at: r.created_at,
            })
        })
        .await
    }
}
