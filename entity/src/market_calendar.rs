use sea_orm::entity::prelude::*;

/// A calendar day an admin listed: `HOLIDAY` (closed all day), `EARLY_CLOSE` (closes at
/// `close_time`, local) or `OPEN` (regular hours whatever the exchange rules say). It replaces
/// the computed holiday or early close of its date, if any.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_calendar")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub date: Date,
    pub name: String,
    pub created_at: DateTimeUtc,
    pub kind: String,
    /// Set for `EARLY_CLOSE` only.
    pub close_time: Option<Time>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
