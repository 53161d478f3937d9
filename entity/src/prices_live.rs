use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "prices_live")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub stock_id: i64,
    pub last_cents: i64,
    pub open_cents: i64,
    pub high_cents: i64,
    pub low_cents: i64,
    pub prev_close_cents: i64,
    /// `last - prev_close`, kept so lists sort and read without arithmetic.
    pub change_cents: i64,
    /// Trading day (market time zone) that `open`, `high` and `low` belong to.
    pub session_date: Date,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
