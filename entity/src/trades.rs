use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trades")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Exactly one trade per executed order.
    #[sea_orm(unique)]
    pub order_id: i64,
    pub user_id: i64,
    pub stock_id: i64,
    pub side: String,
    /// Signed share change: positive for buys, negative for sells.
    pub quantity: i64,
    pub price_cents: i64,
    pub total_cents: i64,
    /// P&L realized by a sell against the average cost; 0 for buys.
    pub realized_pnl_cents: i64,
    pub executed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
