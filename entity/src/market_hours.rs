use sea_orm::entity::prelude::*;

/// Trading hours for one weekday (Monday = 0 … Sunday = 6) in the market time zone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_hours")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub weekday: i32,
    pub open_time: Time,
    pub close_time: Time,
    pub closed: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
