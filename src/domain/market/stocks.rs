//! Stocks and their live prices.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{prices_live, stocks};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement, Value, sea_query::OnConflict,
};

use crate::domain::{Error, Result};

/// Rows per statement when writing many live prices on SQLite: 9 columns each stays far below
/// its bind-parameter limit (32,766). PostgreSQL takes them all in one (`save_live_unnest`).
const LIVE_ROWS_PER_STATEMENT: usize = 1_000;

/// A stock with its live price (cents).
#[derive(Debug, Clone)]
pub struct Quote {
    pub id: i64,
    pub symbol: String,
    pub name: String,
    pub active: bool,
    pub drift: f64,
    pub volatility: f64,
    pub last_cents: i64,
    pub open_cents: i64,
    pub high_cents: i64,
    pub low_cents: i64,
    pub prev_close_cents: i64,
    /// Trading day that `open`, `high` and `low` belong to.
    pub session_date: NaiveDate,
    pub updated_at: DateTime<Utc>,
}

impl Quote {
    fn new(s: stocks::Model, p: prices_live::Model) -> Self {
        Quote {
            id: s.id,
            symbol: s.symbol,
            name: s.name,
            active: s.active,
            drift: s.drift,
            volatility: s.volatility,
            last_cents: p.last_cents,
            open_cents: p.open_cents,
            high_cents: p.high_cents,
            low_cents: p.low_cents,
            prev_close_cents: p.prev_close_cents,
            session_date: p.session_date,
            updated_at: p.updated_at,
        }
    }
}

/// A stock's live price row (cents) as a round leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivePrice {
    pub stock_id: i64,
    pub last: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub prev_close: i64,
    /// `last - prev_close`.
    pub change: i64,
    /// Trading day (market time zone) that `open`, `high` and `low` belong to.
    pub session_date: NaiveDate,
}

/// Which stocks to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Active,
    All,
}

pub async fn list(conn: &impl ConnectionTrait, listing: Listing) -> Result<Vec<Quote>> {
    let mut query = stocks::Entity::find().order_by_asc(stocks::Column::Symbol);
    if listing == Listing::Active {
        query = query.filter(stocks::Column::Active.eq(true));
    }
    with_prices(conn, query.all(conn).await?).await
}

/// Quotes by id (any order, unknown ids left out): what DataLoaders call.
pub async fn by_ids(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, Quote>> {
    let stocks = stocks::Entity::find()
        .filter(stocks::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(with_prices(conn, stocks)
        .await?
        .into_iter()
        .map(|q| (q.id, q))
        .collect())
}

pub async fn by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Quote> {
    by_ids(conn, &[id])
        .await?
        .remove(&id)
        .ok_or_else(|| Error::NotFound("stock".into()))
}

/// Stock ids by symbol (normalized: trimmed, upper case); unknown symbols are absent.
pub async fn ids_by_symbols(
    conn: &impl ConnectionTrait,
    symbols: &[String],
) -> Result<HashMap<String, i64>> {
    let wanted: Vec<String> = symbols.iter().map(|s| s.trim().to_uppercase()).collect();
    Ok(stocks::Entity::find()
        .filter(stocks::Column::Symbol.is_in(wanted))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.symbol, s.id))
        .collect())
}

pub async fn by_symbol(conn: &impl ConnectionTrait, symbol: &str) -> Result<Quote> {
    let stock = stocks::Entity::find()
        .filter(stocks::Column::Symbol.eq(symbol.trim().to_uppercase()))
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("stock".into()))?;
    with_prices(conn, vec![stock])
        .await?
        .pop()
        .ok_or_else(|| Error::NotFound("stock".into()))
}

async fn with_prices(
    conn: &impl ConnectionTrait,
    stocks: Vec<stocks::Model>,
) -> Result<Vec<Quote>> {
    let mut prices: HashMap<i64, prices_live::Model> = prices_live::Entity::find()
        .filter(prices_live::Column::StockId.is_in(stocks.iter().map(|s| s.id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.stock_id, p))
        .collect();
    // A stock without a price row is half-created; leave it out rather than invent a price.
    Ok(stocks
        .into_iter()
        .filter_map(|s| prices.remove(&s.id).map(|p| Quote::new(s, p)))
        .collect())
}

/// Lists a new stock with `price_cents` as its live price (open, high, low and previous close
/// too). Returns the database error untouched so callers can map a taken symbol.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    conn: &impl ConnectionTrait,
    symbol: &str,
    name: &str,
    drift: f64,
    volatility: f64,
    price_cents: i64,
    session_date: NaiveDate,
    now: DateTime<Utc>,
) -> std::result::Result<stocks::Model, sea_orm::DbErr> {
    let stock = stocks::ActiveModel {
        symbol: Set(symbol.into()),
        name: Set(name.into()),
        drift: Set(drift),
        volatility: Set(volatility),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    prices_live::ActiveModel {
        stock_id: Set(stock.id),
        last_cents: Set(price_cents),
        open_cents: Set(price_cents),
        high_cents: Set(price_cents),
        low_cents: Set(price_cents),
        prev_close_cents: Set(price_cents),
        change_cents: Set(0),
        session_date: Set(session_date),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(stock)
}

/// Writes the live price rows of a tick round: one multi-row upsert per
/// `LIVE_ROWS_PER_STATEMENT` rows instead of one UPDATE per stock.
pub async fn save_live(
    conn: &impl ConnectionTrait,
    prices: &[LivePrice],
    now: DateTime<Utc>,
) -> Result<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        return save_live_unnest(conn, prices, now).await;
    }
    for chunk in prices.chunks(LIVE_ROWS_PER_STATEMENT) {
        let rows = chunk.iter().map(|p| prices_live::ActiveModel {
            stock_id: Set(p.stock_id),
            last_cents: Set(p.last),
            open_cents: Set(p.open),
            high_cents: Set(p.high),
            low_cents: Set(p.low),
            prev_close_cents: Set(p.prev_close),
            change_cents: Set(p.change),
            session_date: Set(p.session_date),
            updated_at: Set(now),
        });
        prices_live::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(prices_live::Column::StockId)
                    .update_columns([
                        prices_live::Column::LastCents,
                        prices_live::Column::OpenCents,
                        prices_live::Column::HighCents,
                        prices_live::Column::LowCents,
                        prices_live::Column::PrevCloseCents,
                        prices_live::Column::ChangeCents,
                        prices_live::Column::SessionDate,
                        prices_live::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// [`save_live`] on PostgreSQL: one statement whatever the number of stocks, the columns as
/// arrays (`UNNEST`), so its text never changes (prepared once) and 10,000 stocks bind nine
/// parameters instead of 90,000.
async fn save_live_unnest(
    conn: &impl ConnectionTrait,
    prices: &[LivePrice],
    now: DateTime<Utc>,
) -> Result<()> {
    let column = |f: fn(&LivePrice) -> i64| Value::from(prices.iter().map(f).collect::<Vec<i64>>());
    let values = vec![
        column(|p| p.stock_id),
        column(|p| p.last),
        column(|p| p.open),
        column(|p| p.high),
        column(|p| p.low),
        column(|p| p.prev_close),
        column(|p| p.change),
        Value::from(
            prices
                .iter()
                .map(|p| p.session_date)
                .collect::<Vec<NaiveDate>>(),
        ),
        Value::from(now),
    ];
    let sql = "INSERT INTO prices_live (stock_id, last_cents, open_cents, high_cents, low_cents, \
               prev_close_cents, change_cents, session_date, updated_at) \
               SELECT r.*, $9 FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], \
               $5::int8[], $6::int8[], $7::int8[], $8::date[]) \
               AS r(stock_id, last_cents, open_cents, high_cents, low_cents, prev_close_cents, \
               change_cents, session_date) \
               ON CONFLICT (stock_id) DO UPDATE SET last_cents = EXCLUDED.last_cents, \
               open_cents = EXCLUDED.open_cents, high_cents = EXCLUDED.high_cents, \
               low_cents = EXCLUDED.low_cents, prev_close_cents = EXCLUDED.prev_close_cents, \
               change_cents = EXCLUDED.change_cents, session_date = EXCLUDED.session_date, \
               updated_at = EXCLUDED.updated_at";
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}
