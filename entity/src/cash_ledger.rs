use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cash_ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `DEPOSIT`, `WITHDRAWAL`, `BUY` or `SELL`.
    pub kind: String,
    /// Signed: credits positive, debits negative.
    pub amount_cents: i64,
    pub balance_after_cents: i64,
    /// What caused the entry, e.g. `order:42`.
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
