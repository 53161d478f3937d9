use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "positions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub stock_id: i64,
    /// Shares held; always equals the sum of the user's trades in this stock.
    pub quantity: i64,
    /// Shares held by queued sell orders.
    pub reserved_quantity: i64,
    /// Total cost of the shares held; average cost = cost_basis / quantity.
    pub cost_basis_cents: i64,
    pub realized_pnl_cents: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
