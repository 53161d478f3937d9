use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub stock_id: i64,
    /// `BUY` or `SELL`.
    pub side: String,
    pub quantity: i64,
    /// `QUEUED`, `EXECUTED`, `CANCELED` or `REJECTED`.
    pub status: String,
    /// Execution price; set once executed.
    pub price_cents: Option<i64>,
    pub total_cents: Option<i64>,
    /// Cash held for a queued buy (shares for a queued sell are held on the position).
    pub reserved_cents: i64,
    /// Client-chosen idempotency key, unique per user.
    pub client_order_id: Option<String>,
    pub reject_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub executed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
