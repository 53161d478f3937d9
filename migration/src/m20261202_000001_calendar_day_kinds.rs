//! `market_calendar` rows gain a kind: `HOLIDAY` (what every row was), `EARLY_CLOSE` with a
//! local `close_time`, or `OPEN` (regular hours despite a computed holiday or early close).
//!
//! The exchange's holidays are computed now, not seeded: the rows the old seed wrote (New
//! Year's Day, Independence Day and Christmas Day on their observed dates, by those names) are
//! deleted, so that `holidays` lists what admins listed and deleting a row does what it says.
//! The old seed also closed Friday December 31 for a Saturday New Year's Day, which the
//! exchange does not; that row goes too. Rolling back drops the columns and keeps the
//! remaining rows as holidays; the deleted seed rows are not restored (the computed calendar
//! has those days anyway).

use chrono::{Datelike, NaiveDate, Weekday};
use sea_orm_migration::{prelude::*, schema::*, sea_orm::QueryResult};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The old seed's holidays: (month, day, name).
const SEEDED: [(u32, u32, &str); 3] = [
    (1, 1, "New Year's Day"),
    (7, 4, "Independence Day"),
    (12, 25, "Christmas Day"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(MarketCalendar::Table)
                    .add_column(string_len(MarketCalendar::Kind, 16).default("HOLIDAY"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MarketCalendar::Table)
                    .add_column(time_null(MarketCalendar::CloseTime))
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let rows = db
            .query_all(
                Query::select()
                    .columns([
                        MarketCalendar::Id,
                        MarketCalendar::Date,
                        MarketCalendar::Name,
                    ])
                    .from(MarketCalendar::Table)
                    .and_where(
                        Expr::col(MarketCalendar::Name).is_in(SEEDED.map(|(_, _, name)| name)),
                    ),
            )
            .await?;
        let mut seeded = Vec::new();
        for row in rows {
            if was_seeded(&row)? {
                seeded.push(row.try_get::<i64>("", "id")?);
            }
        }
        if !seeded.is_empty() {
            db.execute(
                Query::delete()
                    .from_table(MarketCalendar::Table)
                    .and_where(Expr::col(MarketCalendar::Id).is_in(seeded)),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [MarketCalendar::CloseTime, MarketCalendar::Kind] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MarketCalendar::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Whether a row is one the old seed wrote: its name on the date the seed observed it, for the
/// row's year or (a Saturday New Year's Day moved back to December 31) the next.
fn was_seeded(row: &QueryResult) -> Result<bool, DbErr> {
    let date: NaiveDate = row.try_get("", "date")?;
    let name: String = row.try_get("", "name")?;
    Ok([date.year(), date.year() + 1].into_iter().any(|year| {
        SEEDED.iter().any(|&(month, day, seeded)| {
            seeded == name && old_observed(year, month, day) == Some(date)
        })
    }))
}

/// The old seed's observed date: Saturday → the Friday before, Sunday → the Monday after.
fn old_observed(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketCalendar {
    Table,
    Id,
    Date,
    Name,
    Kind,
    CloseTime,
}
