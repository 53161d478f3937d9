//! Live figures for the admin dashboard.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use entity::{candle_data, orders, trades, users};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use super::{Admin, Administration};
use crate::domain::{
    Result,
    market::{Calendar, candles::Interval, stocks},
    trading::orders::Status,
};

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

/// Coverage of one stock's candles in one interval.
#[derive(Debug, Clone)]
pub struct CandleCoverage {
    pub stock_id: i64,
    pub interval: Interval,
    pub count: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// Buckets the trading calendar (as configured now) expects between `first` and `last`
    /// that have no candle.
    pub gaps: u64,
}

impl Administration {
    pub async fn candle_stats(&self, _admin: &Admin) -> Result<Vec<CandleCoverage>> {
        let calendar = self.market_config(&self.db).await?.calendar;
        let mut out = Vec::new();
        for stock in stocks::list(&self.db, stocks::Listing::All).await? {
            for interval in Interval::ALL {
                let buckets: BTreeSet<DateTime<Utc>> = candle_data::Entity::find()
                    .select_only()
                    .column(candle_data::Column::BucketStart)
                    .filter(candle_data::Column::StockId.eq(stock.id))
                    .filter(candle_data::Column::Interval.eq(interval.as_str()))
                    .into_tuple()
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .collect();
                let (first, last) = (buckets.first().copied(), buckets.last().copied());
                let gaps = match (first, last) {
                    (Some(first), Some(last)) => expected_buckets(&calendar, interval, first, last)
                        .difference(&buckets)
                        .count() as u64,
                    _ => 0,
                };
                out.push(CandleCoverage {
                    stock_id: stock.id,
                    interval,
                    count: buckets.len() as u64,
                    first,
                    last,
                    gaps,
                });
            }
        }
        Ok(out)
    }
}

/// Every bucket a trading session between `first` and `last` touches.
fn expected_buckets(
    cal: &Calendar,
    interval: Interval,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> BTreeSet<DateTime<Utc>> {
    let mut expected = BTreeSet::new();
    for day in cal.trading_days(cal.local_date(first), cal.local_date(last)) {
        let Some((open, close)) = cal.session(day) else {
            continue;
        };
        let mut t = open;
        while t < close {
            let bucket = interval.bucket_start(t, cal.tz);
            if bucket >= first && bucket <= last {
                expected.insert(bucket);
            }
            t += Duration::minutes(5);
        }
    }
    expected
}
