//! Market hours, holidays and the emergency override.

use chrono::{NaiveDate, NaiveTime};
use entity::{market_calendar, market_hours, market_state};
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};
use serde_json::json;

use super::{Admin, Administration, Change, audit};
use crate::{
    bus::Event,
    domain::{Error, Result, market},
};

/// New hours for one weekday.
#[derive(Debug, Clone)]
pub struct HoursInput {
    pub open: String,
    pub close: String,
    pub closed: bool,
}

/// What an admin lists a calendar day as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListedKind {
    Holiday,
    EarlyClose,
    Open,
}

/// A calendar day to list.
#[derive(Debug, Clone)]
pub struct CalendarDayInput {
    pub date: NaiveDate,
    pub name: String,
    pub kind: ListedKind,
    /// `HH:MM`, local: required for an early close, refused otherwise.
    pub close_time: Option<String>,
}

impl CalendarDayInput {
    fn kind(&self) -> Result<market::DayKind> {
        match (self.kind, self.close_time.as_deref()) {
            (ListedKind::EarlyClose, Some(raw)) => {
                Ok(market::DayKind::EarlyClose(parse_time("closeTime", raw)?))
            }
            (ListedKind::EarlyClose, None) => Err(Error::bad_input(
                "closeTime",
                "an early close needs its closeTime, e.g. 13:00",
            )),
            (_, Some(_)) => Err(Error::bad_input(
                "closeTime",
                "only an early close has a closeTime",
            )),
            (ListedKind::Holiday, None) => Ok(market::DayKind::Holiday),
            (ListedKind::Open, None) => Ok(market::DayKind::Open),
        }
    }
}

/// A listed day as the audit log shows it.
fn listing_json(row: &market_calendar::Model) -> serde_json::Value {
    json!({
        "date": row.date,
        "name": row.name,
        "kind": row.kind,
        "closeTime": row.close_time.map(|t| t.format("%H:%M").to_string()),
    })
}

fn parse_time(field: &'static str, raw: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| Error::bad_input(field, format!("{field} must be a time like 09:30")))
}

impl Administration {
    pub async fn update_market_hours(
        &self,
        admin: &Admin,
        day: i32,
        input: HoursInput,
    ) -> Result<market::DayHours> {
        if !(0..=6).contains(&day) {
            return Err(Error::bad_input(
                "day",
                "day must be 0 (Monday) to 6 (Sunday)",
            ));
        }
        let open = parse_time("open", &input.open)?;
        let close = parse_time("close", &input.close)?;
        if !input.closed && open >= close {
            return Err(Error::bad_input(
                "close",
                "close must be after open (sessions cannot cross midnight)",
            ));
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let before = market_hours::Entity::find_by_id(day).one(&txn).await?;
        let model = market_hours::ActiveModel {
            weekday: Set(day),
            open_time: Set(open),
            close_time: Set(close),
            closed: Set(input.closed),
            updated_at: Set(now),
        };
        match before {
            Some(_) => model.update(&txn).await?,
            None => model.insert(&txn).await?,
        };
        let show = |o: NaiveTime, c: NaiveTime, closed: bool| json!({ "open": o.format("%H:%M").to_string(), "close": c.format("%H:%M").to_string(), "closed": closed });
        let change = Change {
            action: "market.hours.update",
            target_type: "market_hours",
            target_id: Some(day.to_string()),
            before: before.map(|b| show(b.open_time, b.close_time, b.closed)),
            after: Some(show(open, close, input.closed)),
        };
        audit(&txn, admin, change, now).await?;
        txn.commit().await?;
        self.publish(Event::MarketConfigChanged).await;
        Ok(market::DayHours {
            open,
            close,
            closed: input.closed,
        })
    }

    /// Lists a calendar day (a holiday, an early close, or a day open as usual despite the
    /// exchange's rules); it replaces the computed day of its date, if any. CONFLICT when the
    /// date is listed already.
    pub async fn add_holiday(
        &self,
        admin: &Admin,
        input: CalendarDayInput,
    ) -> Result<market::Holiday> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::bad_input("name", "name must be 1 to 100 characters"));
        }
        let kind = input.kind()?;
        let date = input.date;
        let (kind_column, close_time) = market::kind_columns(kind);
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let row = market_calendar::ActiveModel {
            date: Set(date),
            name: Set(name.into()),
            created_at: Set(now),
            kind: Set(kind_column.into()),
            close_time: Set(close_time),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| Error::conflict_on_unique(e, format!("{date} is listed already")))?;
        let change = Change {
            action: "market.holiday.add",
            target_type: "holiday",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(listing_json(&row)),
        };
        audit(&txn, admin, change, now).await?;
        txn.commit().await?;
        self.publish(Event::MarketConfigChanged).await;
        market::Holiday::try_from(row)
    }

    /// Removes a listed day: its date follows the exchange's rules and its weekday's hours
    /// again.
    pub async fn delete_holiday(&self, admin: &Admin, id: i64) -> Result<market::Holiday> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let row = market_calendar::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound("holiday".into()))?;
        market_calendar::Entity::delete_by_id(id).exec(&txn).await?;
        let change = Change {
            action: "market.holiday.delete",
            target_type: "holiday",
            target_id: Some(id.to_string()),
            before: Some(listing_json(&row)),
            after: None,
        };
        audit(&txn, admin, change, now).await?;
        txn.commit().await?;
        self.publish(Event::MarketConfigChanged).await;
        market::Holiday::try_from(row)
    }

    /// Forces the market open (`Some(true)`) or closed (`Some(false)`), or clears the override.
    /// The one way the override changes, from GraphQL or the command line, always audited.
    pub async fn set_override(
        &self,
        admin: &Admin,
        open: Option<bool>,
        reason: Option<String>,
    ) -> Result<market::MarketStatus> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let before = market_state::Entity::find_by_id(1).one(&txn).await?;
        match open {
            Some(open) => {
                market::set_override(&txn, open, reason.clone(), admin.actor.user_id(), now).await?
            }
            None => market::clear_override(&txn, now).await?,
        }
        let change = Change {
            action: if open.is_some() {
                "market.override.set"
            } else {
                "market.override.clear"
            },
            target_type: "market",
            target_id: None,
            before: before.map(|b| json!({ "open": b.override_open, "reason": b.override_reason })),
            after: Some(json!({ "open": open, "reason": open.and(reason) })),
        };
        audit(&txn, admin, change, now).await?;
        let status = self.market_config(&txn).await?.status(now);
        txn.commit().await?;
        self.publish(Event::MarketConfigChanged).await;
        Ok(status)
    }
}
