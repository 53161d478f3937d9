use sea_orm::entity::prelude::*;

/// One account's value at one recorded instant (unique per user and instant).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "equity_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub at: DateTimeUtc,
    /// Which history intervals the row serves: 0 five-minute, 1 hourly, 2 a day's close.
    pub grain: i16,
    /// The cash balance at `at`.
    pub cash_cents: i64,
    /// Shares held at `at` valued at the prices of `at`.
    pub positions_value_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
