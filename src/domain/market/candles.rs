//! OHLC candles: bucketing in the market time zone, aggregation, storage.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{candle_data, price_ticks};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement, Value, sea_query::OnConflict,
};

pub use super::interval::Interval;
use crate::domain::{
    Result,
    events::{CandleUpdate, Tick},
};

/// Rows per statement when storing a round's ticks on SQLite (3 columns each): far below its
/// bind-parameter limit. PostgreSQL takes a round's ticks in one statement.
const TICK_ROWS_PER_STATEMENT: usize = 1_000;

/// One candle (prices in cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    pub stock_id: i64,
    pub interval: Interval,
    pub bucket_start: DateTime<Utc>,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub tick_count: i64,
}

impl Candle {
    pub fn first(
        stock_id: i64,
        interval: Interval,
        bucket_start: DateTime<Utc>,
        price: i64,
    ) -> Self {
        Candle {
            stock_id,
            interval,
            bucket_start,
            open: price,
            high: price,
            low: price,
            close: price,
            tick_count: 1,
        }
    }

    /// Whether the candle's bucket is over at `now` (market time zone `tz`): it no longer
    /// changes. Only the bucket holding `now` is still live.
    pub fn has_ended(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        self.bucket_start < self.interval.bucket_start(now, tz)
    }

    /// Adds a later price.
    pub fn push(&mut self, price: i64) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.close = price;
        self.tick_count += 1;
    }

    /// Adds a later candle (rolling H1 candles up into H4 and D1).
    pub fn merge(&mut self, later: &Candle) {
        self.high = self.high.max(later.high);
        self.low = self.low.min(later.low);
        self.close = later.close;
        self.tick_count += later.tick_count;
    }

    /// The candle a tick round's update carries.
    pub fn from_update(u: &CandleUpdate) -> Self {
        Candle {
            stock_id: u.stock_id,
            interval: u.interval,
            bucket_start: u.bucket_start,
            open: u.open_cents,
            high: u.high_cents,
            low: u.low_cents,
            close: u.close_cents,
            tick_count: u.tick_count,
        }
    }

    pub fn to_update(self) -> CandleUpdate {
        CandleUpdate {
            stock_id: self.stock_id,
            interval: self.interval,
            bucket_start: self.bucket_start,
            open_cents: self.open,
            high_cents: self.high,
            low_cents: self.low,
            close_cents: self.close,
            tick_count: self.tick_count,
        }
    }

    fn from_model(m: candle_data::Model) -> Option<Self> {
        Some(Candle {
            stock_id: m.stock_id,
            interval: Interval::parse(&m.interval)?,
            bucket_start: m.bucket_start,
            open: m.open_cents,
            high: m.high_cents,
            low: m.low_cents,
            close: m.close_cents,
            tick_count: m.tick_count,
        })
    }
}

/// Candles of one stock from time-ordered prices.
pub fn aggregate(
    stock_id: i64,
    interval: Interval,
    tz: Tz,
    points: impl IntoIterator<Item = (DateTime<Utc>, i64)>,
) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    for (at, price) in points {
        let start = interval.bucket_start(at, tz);
        match out.last_mut() {
            Some(c) if c.bucket_start == start => c.push(price),
            _ => out.push(Candle::first(stock_id, interval, start, price)),
        }
    }
    out
}

/// Rolls time-ordered H1 candles up into a longer interval.
pub fn roll_up(interval: Interval, tz: Tz, hourly: &[Candle]) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    for h in hourly {
        let start = interval.bucket_start(h.bucket_start, tz);
        match out.last_mut() {
            Some(c) if c.bucket_start == start && c.stock_id == h.stock_id => c.merge(h),
            _ => out.push(Candle {
                interval,
                bucket_start: start,
                ..*h
            }),
        }
    }
    out
}

/// Inserts or replaces candles (idempotent: same input, same rows).
pub async fn upsert(
    conn: &impl ConnectionTrait,
    candles: &[Candle],
    now: DateTime<Utc>,
) -> Result<()> {
    if candles.is_empty() {
        return Ok(());
    }
    if conn.get_database_backend() == DbBackend::Postgres {
        return upsert_unnest(conn, candles, now).await;
    }
    // Stay well under SQLite's bind-parameter limit.
    for chunk in candles.chunks(500) {
        let models = chunk.iter().map(|c| candle_data::ActiveModel {
            stock_id: Set(c.stock_id),
            interval: Set(c.interval.as_str().to_string()),
            bucket_start: Set(c.bucket_start),
            open_cents: Set(c.open),
            high_cents: Set(c.high),
            low_cents: Set(c.low),
            close_cents: Set(c.close),
            tick_count: Set(c.tick_count),
            updated_at: Set(now),
            ..Default::default()
        });
        candle_data::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    candle_data::Column::StockId,
                    candle_data::Column::Interval,
                    candle_data::Column::BucketStart,
                ])
                .update_columns([
                    candle_data::Column::OpenCents,
                    candle_data::Column::HighCents,
                    candle_data::Column::LowCents,
                    candle_data::Column::CloseCents,
                    candle_data::Column::TickCount,
                    candle_data::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// [`upsert`] on PostgreSQL: one statement, the columns as arrays (`UNNEST`), so a round of
/// 10,000 stocks (30,000 live candles) binds nine parameters instead of 270,000 in sixty
/// statements.
async fn upsert_unnest(
    conn: &impl ConnectionTrait,
    candles: &[Candle],
    now: DateTime<Utc>,
) -> Result<()> {
    let column = |f: fn(&Candle) -> i64| Value::from(candles.iter().map(f).collect::<Vec<i64>>());
    let values = vec![
        column(|c| c.stock_id),
        Value::from(
            candles
                .iter()
                .map(|c| c.interval.as_str().to_string())
                .collect::<Vec<String>>(),
        ),
        Value::from(
            candles
                .iter()
                .map(|c| c.bucket_start)
                .collect::<Vec<DateTime<Utc>>>(),
        ),
        column(|c| c.open),
        column(|c| c.high),
        column(|c| c.low),
        column(|c| c.close),
        column(|c| c.tick_count),
        Value::from(now),
    ];
    let sql = "INSERT INTO candle_data (stock_id, \"interval\", bucket_start, open_cents, high_cents, \
               low_cents, close_cents, tick_count, updated_at) \
               SELECT r.*, $9 FROM UNNEST($1::int8[], $2::varchar[], $3::timestamptz[], \
               $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[]) \
               AS r(stock_id, \"interval\", bucket_start, open_cents, high_cents, low_cents, \
               close_cents, tick_count) \
               ON CONFLICT (stock_id, \"interval\", bucket_start) DO UPDATE SET \
               open_cents = EXCLUDED.open_cents, high_cents = EXCLUDED.high_cents, \
               low_cents = EXCLUDED.low_cents, close_cents = EXCLUDED.close_cents, \
               tick_count = EXCLUDED.tick_count, updated_at = EXCLUDED.updated_at";
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// Stored candles of several stocks for one bucket start each interval (the live buckets).
pub async fn current(
    conn: &impl ConnectionTrait,
    stock_ids: &[i64],
    starts: &[(Interval, DateTime<Utc>)],
) -> Result<HashMap<(i64, Interval), Candle>> {
    let mut out = HashMap::new();
    let postgres = conn.get_database_backend() == DbBackend::Postgres;
    for &(interval, start) in starts {
        let rows = if postgres {
            // One array parameter rather than one per stock.
            let sql = "SELECT * FROM candle_data WHERE stock_id = ANY($1) AND \"interval\" = $2 \
                       AND bucket_start = $3";
            let values = vec![
                Value::from(stock_ids.to_vec()),
                Value::from(interval.as_str()),
                Value::from(start),
            ];
            candle_data::Entity::find()
                .from_raw_sql(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    values,
                ))
                .all(conn)
                .await?
        } else {
            candle_data::Entity::find()
                .filter(candle_data::Column::StockId.is_in(stock_ids.iter().copied()))
                .filter(candle_data::Column::Interval.eq(interval.as_str()))
                .filter(candle_data::Column::BucketStart.eq(start))
                .all(conn)
                .await?
        };
        for c in rows.into_iter().filter_map(Candle::from_model) {
            out.insert((c.stock_id, c.interval), c);
        }
    }
    Ok(out)
}

/// A window of candles, oldest first. `last` keeps only the newest `last` of the window.
pub async fn query(
    conn: &impl ConnectionTrait,
    stock_id: i64,
    interval: Interval,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    last: Option<u64>,
) -> Result<Vec<Candle>> {
    let mut q = candle_data::Entity::find()
        .filter(candle_data::Column::StockId.eq(stock_id))
        .filter(candle_data::Column::Interval.eq(interval.as_str()));
    if let Some(from) = from {
        q = q.filter(candle_data::Column::BucketStart.gte(from));
    }
    if let Some(to) = to {
        q = q.filter(candle_data::Column::BucketStart.lt(to));
    }
    let mut rows: Vec<Candle> = match last {
        Some(n) => q
            .order_by_desc(candle_data::Column::BucketStart)
            .limit(n)
            .all(conn)
            .await?
            .into_iter()
            .rev()
            .filter_map(Candle::from_model)
            .collect(),
        None => q
            .order_by_asc(candle_data::Column::BucketStart)
            .all(conn)
            .await?
            .into_iter()
            .filter_map(Candle::from_model)
            .collect(),
    };
    rows.sort_by_key(|c| c.bucket_start);
    Ok(rows)
}

/// Rebuilds one stock's candles touching `[since, now]` from its stored ticks: hours from the
/// ticks, longer buckets as sums of their hours.
pub async fn rebuild(
    conn: &impl ConnectionTrait,
    stock_id: i64,
    tz: Tz,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let ticks = price_ticks::Entity::find()
        .filter(price_ticks::Column::StockId.eq(stock_id))
        .filter(price_ticks::Column::At.gte(Interval::H1.bucket_start(since, tz)))
        .order_by_asc(price_ticks::Column::At)
        .order_by_asc(price_ticks::Column::Id)
        .all(conn)
        .await?;
    if ticks.is_empty() {
        return Ok(());
    }
    let hourly = aggregate(
        stock_id,
        Interval::H1,
        tz,
        ticks.iter().map(|t| (t.at, t.price_cents)),
    );
    upsert(conn, &hourly, now).await?;
    let day_start = Interval::D1.bucket_start(since, tz);
    let day_hours = query(conn, stock_id, Interval::H1, Some(day_start), None, None).await?;
    let mut rolled = roll_up(Interval::H4, tz, &day_hours);
    rolled.retain(|c| c.bucket_start >= Interval::H4.bucket_start(since, tz));
    rolled.extend(roll_up(Interval::D1, tz, &day_hours));
    upsert(conn, &rolled, now).await
}

/// Stores a round's ticks, the raw history candles are rebuilt from.
pub async fn record_ticks(
    conn: &impl ConnectionTrait,
    ticks: &[Tick],
    at: DateTime<Utc>,
) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        // One statement, the columns as arrays: see `upsert_unnest`.
        let sql = "INSERT INTO price_ticks (stock_id, price_cents, at) \
                   SELECT t.stock_id, t.price_cents, $3 \
                   FROM UNNEST($1::int8[], $2::int8[]) AS t(stock_id, price_cents)";
        let values = vec![
            Value::from(ticks.iter().map(|t| t.stock_id).collect::<Vec<i64>>()),
            Value::from(ticks.iter().map(|t| t.price_cents).collect::<Vec<i64>>()),
            Value::from(at),
        ];
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
        return Ok(());
    }
    for chunk in ticks.chunks(TICK_ROWS_PER_STATEMENT) {
        price_ticks::Entity::insert_many(chunk.iter().map(|t| price_ticks::ActiveModel {
            stock_id: Set(t.stock_id),
            price_cents: Set(t.price_cents),
            at: Set(at),
            ..Default::default()
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Deletes ticks older than `before`; returns how many.
pub async fn prune_ticks(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    let deleted = price_ticks::Entity::delete_many()
        .filter(price_ticks::Column::At.lt(before))
        .exec(conn)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn only_the_bucket_holding_now_is_live() {
        let now = utc("2026-11-25T15:45:00Z"); // 10:45 EST
        let hour = Candle::first(1, Interval::H1, utc("2026-11-25T15:00:00Z"), 100);
        assert!(!hour.has_ended(now, New_York));
        assert!(hour.has_ended(utc("2026-11-25T16:00:00Z"), New_York));
        let earlier = Candle::first(1, Interval::H1, utc("2026-11-25T14:00:00Z"), 100);
        assert!(earlier.has_ended(now, New_York));
        // Today's day candle lives until New York midnight, past the UTC date change.
        let day = Candle::first(1, Interval::D1, utc("2026-11-25T05:00:00Z"), 100);
        assert!(!day.has_ended(utc("2026-11-26T04:59:59Z"), New_York));
        assert!(day.has_ended(utc("2026-11-26T05:00:00Z"), New_York));
    }

    #[test]
    fn buckets_follow_the_market_time_zone() {
        let t = utc("2026-11-25T15:45:00Z"); // 10:45 EST
        assert_eq!(
            Interval::H1.bucket_start(t, New_York),
            utc("2026-11-25T15:00:00Z")
        );
        assert_eq!(
            Interval::H4.bucket_start(t, New_York),
            utc("2026-11-25T13:00:00Z")
        ); // 08:00 EST
        assert_eq!(
            Interval::D1.bucket_start(t, New_York),
            utc("2026-11-25T05:00:00Z")
        ); // midnight EST
        // 23:30 EST on the 25th is 04:30Z on the 26th, but still the 25th's trading day.
        let late = utc("2026-11-26T04:30:00Z");
        assert_eq!(
            Interval::D1.bucket_start(late, New_York),
            utc("2026-11-25T05:00:00Z")
        );
        // In summer (EDT) midnight is 04:00Z.
        assert_eq!(
            Interval::D1.bucket_start(utc("2026-07-01T15:00:00Z"), New_York),
            utc("2026-07-01T04:00:00Z")
        );
    }

    #[test]
    fn aggregates_ohlc_and_counts() {
        let pts = [
            (utc("2026-11-25T14:30:00Z"), 100),
            (utc("2026-11-25T14:40:00Z"), 105),
            (utc("2026-11-25T14:50:00Z"), 98),
            (utc("2026-11-25T15:10:00Z"), 101),
        ];
        let h1 = aggregate(1, Interval::H1, New_York, pts);
        assert_eq!(h1.len(), 2);
        assert_eq!(
            (
                h1[0].open,
                h1[0].high,
                h1[0].low,
                h1[0].close,
                h1[0].tick_count
            ),
            (100, 105, 98, 98, 3)
        );
        assert_eq!((h1[1].open, h1[1].close, h1[1].tick_count), (101, 101, 1));
        let d1 = roll_up(Interval::D1, New_York, &h1);
        assert_eq!(d1.len(), 1);
        assert_eq!(
            (
                d1[0].open,
                d1[0].high,
                d1[0].low,
                d1[0].close,
                d1[0].tick_count
            ),
            (100, 105, 98, 101, 4)
        );
        assert_eq!(d1[0], aggregate(1, Interval::D1, New_York, pts)[0]);
    }
}
