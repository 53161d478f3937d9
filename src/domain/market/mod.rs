//! The market: calendar and override, stocks and their live prices, candles.

pub mod backfill;
pub mod board;
pub mod calendar;
pub mod candles;
pub mod charts;
pub mod gbm;
pub mod interval;
pub mod nyse;
pub mod service;
mod steps;
pub mod stocks;
pub mod tick;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use entity::{market_calendar, market_hours, market_state};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};

pub use self::calendar::{Calendar, DayHours, DayKind, MarketCalendar, SpecialDay};
pub use self::service::{CandleSeries, CandleWindow, Finality, MAX_CANDLES, Market};
pub use self::steps::Applied;
use super::{Error, Result};
pub use crate::domain::events::MarketStatus;

/// The emergency override, when one is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub open: bool,
    pub reason: Option<String>,
}

/// A calendar day an admin listed: a holiday, an early close, or a day open as usual despite
/// the exchange's rules.
#[derive(Debug, Clone)]
pub struct Holiday {
    pub id: i64,
    pub date: NaiveDate,
    pub name: String,
    pub kind: DayKind,
}

impl TryFrom<market_calendar::Model> for Holiday {
    type Error = Error;
    fn try_from(row: market_calendar::Model) -> Result<Self> {
        let kind = match (row.kind.as_str(), row.close_time) {
            (HOLIDAY, None) => DayKind::Holiday,
            (EARLY_CLOSE, Some(at)) => DayKind::EarlyClose(at),
            (OPEN, None) => DayKind::Open,
            (kind, close) => {
                return Err(Error::internal(format!(
                    "calendar day {} has kind `{kind}` and close time {close:?}",
                    row.id
                )));
            }
        };
        Ok(Holiday {
            id: row.id,
            date: row.date,
            name: row.name,
            kind,
        })
    }
}

impl From<Holiday> for SpecialDay {
    fn from(h: Holiday) -> Self {
        SpecialDay {
            date: h.date,
            kind: h.kind,
            name: h.name,
            listed: Some(h.id),
        }
    }
}

const HOLIDAY: &str = "HOLIDAY";
const EARLY_CLOSE: &str = "EARLY_CLOSE";
const OPEN: &str = "OPEN";

/// How a calendar day's kind is stored: the `kind` and `close_time` columns.
pub(in crate::domain) fn kind_columns(kind: DayKind) -> (&'static str, Option<NaiveTime>) {
    match kind {
        DayKind::Holiday => (HOLIDAY, None),
        DayKind::EarlyClose(at) => (EARLY_CLOSE, Some(at)),
        DayKind::Open => (OPEN, None),
    }
}

/// Everything that decides whether the market is open.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    pub calendar: Calendar,
    pub override_: Option<Override>,
    /// What the scheduler last applied (the persisted state).
    pub applied_open: bool,
}

impl MarketConfig {
    /// The state at `now` as clients see it.
    pub fn status(&self, now: DateTime<Utc>) -> MarketStatus {
        let cal = &self.calendar;
        let timezone = cal.tz.name().to_string();
        if let Some(o) = &self.override_ {
            return MarketStatus {
                is_open: o.open,
                emergency: true,
                reason: Some(o.reason.clone().unwrap_or_else(|| {
                    format!("emergency {}", if o.open { "opening" } else { "closure" })
                })),
                next_open: None,
                next_close: None,
                timezone,
            };
        }
        let is_open = cal.is_open_at(now);
        let date = cal.local_date(now);
        let special = cal.special_day(date);
        let reason = match special.map(|d| (d.kind, d.name)) {
            _ if cal.hours(date).closed => "closed: no trading on this weekday".to_string(),
            Some((DayKind::Holiday, name)) => format!("closed: holiday ({name})"),
            Some((DayKind::EarlyClose(at), name)) if is_open => {
                format!("open: early close at {} ({name})", at.format("%H:%M"))
            }
            _ if is_open => "open: regular trading hours".to_string(),
            _ => "closed: outside trading hours".to_string(),
        };
        MarketStatus {
            is_open,
            emergency: false,
            reason: Some(reason),
            next_open: cal.next_open(now),
            next_close: cal.next_close(now),
            timezone,
        }
    }

    /// When the state next changes by itself (never while an override holds).
    pub fn next_transition(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.override_ {
            Some(_) => None,
            None => self.calendar.next_transition(now).map(|(t, _)| t),
        }
    }
}

/// Whether the market is open at `now`, and when that changes, as `conn` sees it.
pub async fn status(
    conn: &impl ConnectionTrait,
    tz: Tz,
    rules: MarketCalendar,
    now: DateTime<Utc>,
) -> Result<MarketStatus> {
    Ok(load_config(conn, tz, rules).await?.status(now))
}

/// Reads hours, listed calendar days and the override; `rules` says which holidays and early
/// closes are computed besides.
pub async fn load_config(
    conn: &impl ConnectionTrait,
    tz: Tz,
    rules: MarketCalendar,
) -> Result<MarketConfig> {
    let hours = market_hours::Entity::find().all(conn).await?;
    let holidays = market_calendar::Entity::find().all(conn).await?;
    let state = market_state::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| Error::internal("market_state row is missing"))?;
    let closed = DayHours {
        open: chrono::NaiveTime::MIN,
        close: chrono::NaiveTime::MIN,
        closed: true,
    };
    let mut week = [closed; 7];
    for h in hours {
        if let Some(day) = usize::try_from(h.weekday)
            .ok()
            .and_then(|i| week.get_mut(i))
        {
            *day = DayHours {
                open: h.open_time,
                close: h.close_time,
                closed: h.closed,
            };
        }
    }
    Ok(MarketConfig {
        calendar: Calendar {
            tz,
            week,
            rules,
            listed: holidays
                .into_iter()
                .map(|row| Ok((row.date, SpecialDay::from(Holiday::try_from(row)?))))
                .collect::<Result<_>>()?,
        },
        override_: state.override_open.map(|open| Override {
            open,
            reason: state.override_reason,
        }),
        applied_open: state.is_open,
    })
}

/// Forces the market open or closed until cleared. Unaudited: changes go through
/// `Administration::set_override`, which audits them.
pub(in crate::domain) async fn set_override(
    conn: &impl ConnectionTrait,
    open: bool,
    reason: Option<String>,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(r) = &reason
        && r.chars().count() > 200
    {
        return Err(Error::bad_input(
            "reason",
            "reason must be at most 200 characters",
        ));
    }
    market_state::ActiveModel {
        id: Set(1),
        override_open: Set(Some(open)),
        override_reason: Set(reason.filter(|r| !r.trim().is_empty())),
        override_by: Set(by),
        override_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Returns the market to its schedule.
pub(in crate::domain) async fn clear_override(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<()> {
    market_state::ActiveModel {
        id: Set(1),
        override_open: Set(None),
        override_reason: Set(None),
        override_by: Set(None),
        override_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Records the state the scheduler applied; a close also records when it happened (DAY
/// orders placed before it have expired).
pub async fn record_applied(
    conn: &impl ConnectionTrait,
    open: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut state = market_state::ActiveModel {
        id: Set(1),
        is_open: Set(open),
        updated_at: Set(now),
        ..Default::default()
    };
    if !open {
        state.last_close_at = Set(Some(now));
    }
    state.update(conn).await?;
    Ok(())
}

/// Numbers the next tick round: increments the stored sequence in `conn`'s transaction (one
/// atomic update, so the row stays locked until it commits) and returns the new value.
pub(in crate::domain) async fn next_round_seq(conn: &impl ConnectionTrait) -> Result<u64> {
    let updated = market_state::Entity::update_many()
        .col_expr(
            market_state::Column::RoundSeq,
            Expr::col(market_state::Column::RoundSeq).add(1),
        )
        .filter(market_state::Column::Id.eq(1))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(Error::internal("the market state row is missing"));
    }
    let seq = market_state::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map(|m| m.round_seq)
        .ok_or_else(|| Error::internal("the market state row is missing"))?;
    u64::try_from(seq).map_err(Error::internal)
}

/// The days admins listed, oldest first.
pub async fn holidays(conn: &impl ConnectionTrait) -> Result<Vec<Holiday>> {
    market_calendar::Entity::find()
        .order_by_asc(market_calendar::Column::Date)
        .all(conn)
        .await?
        .into_iter()
        .map(Holiday::try_from)
        .collect()
}
