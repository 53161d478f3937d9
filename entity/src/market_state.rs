use sea_orm::entity::prelude::*;

/// A single row (id 1): the emergency override and the last state the scheduler applied.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub is_open: bool,
    /// `Some(true)` forces open, `Some(false)` forces closed, `None` follows the schedule.
    pub override_open: Option<bool>,
    pub override_reason: Option<String>,
    pub override_by: Option<i64>,
    pub override_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The number of the last tick round (0 before the first).
    pub round_seq: i64,
    /// When the scheduler last closed the market: DAY orders placed before it have expired.
    pub last_close_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
