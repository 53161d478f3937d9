use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub password_hash: String,
    /// `CUSTOMER` or `ADMIN`.
    pub role: String,
    pub active: bool,
    /// Cash balance; always equals the sum of the user's `cash_ledger` amounts.
    pub cash_cents: i64,
    /// Part of the balance held by queued buy orders.
    pub reserved_cents: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_seen_at: Option<DateTimeUtc>,
    /// Access tokens carry the epoch they were issued in; bumping it ends every session.
    pub session_epoch: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
