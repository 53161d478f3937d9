//! Live figures for the admin dashboard.

use chrono::Duration;
use entity::{orders, trades, users};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use super::{Admin, Administration};
use crate::domain::{Result, market::candles::Interval, trading::orders::Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub total_users: u64,
    /// Seen (login, refresh or socket) in the last 15 minutes.
    pub active_users: u64,
    /// Orders placed since the start of today's trading day.
    pub orders_today: u64,
    pub traded_value_today_cents: i64,
    pub queued_orders: u64,
}

impl Administration {
    pub async fn stats(&self, _admin: &Admin) -> Result<Stats> {
        let now = self.clock.now();
        let day_start = Interval::D1.bucket_start(now, self.tz);
        let db = &self.db;
        let traded: Option<i64> = trades::Entity::find()
            .select_only()
            .column_as(
                Expr::cust("COALESCE(CAST(SUM(total_cents) AS BIGINT), 0)"),
                "traded",
            )
            .filter(trades::Column::ExecutedAt.gte(day_start))
            .into_tuple()
            .one(db)
            .await?;
        Ok(Stats {
            total_users: users::Entity::find().count(db).await?,
            active_users: users::Entity::find()
                .filter(users::Column::LastSeenAt.gte(now - Duration::minutes(15)))
                .count(db)
                .await?,
            orders_today: orders::Entity::find()
                .filter(orders::Column::CreatedAt.gte(day_start))
                .count(db)
                .await?,
            traded_value_today_cents: traded.unwrap_or(0),
            queued_orders: orders::Entity::find()
                .filter(orders::Column::Status.eq(Status::Queued.as_str()))
                .count(db)
                .await?,
        })
    }
}
