use sea_orm::entity::prelude::*;

/// The idempotency key of a deposit or withdrawal, with the answer its first request got.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cash_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// Unique per user.
    pub idempotency_key: String,
    /// `DEPOSIT` or `WITHDRAWAL`.
    pub kind: String,
    /// Unsigned, as requested.
    pub amount_cents: i64,
    pub balance_cents: i64,
    pub reserved_cents: i64,
    /// The `cash_ledger` entry the first request wrote; null for requests recorded before
    /// the link existed.
    pub ledger_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
