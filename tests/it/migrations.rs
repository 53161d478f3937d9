use sea_orm::{ConnectionTrait, Statement};
use zebrat::infra::db;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn migrations_run_down_and_up_again() {
    // The app migrated its fresh database on start; roll everything back and forward.
    let app = spawn_app_with(&[("SEED_DEMO_DATA", "false")]).await;
    let conn = &app.db;
    let status = db::migration_status(conn).await.unwrap();
    assert!(
        status.len() >= 4 && status.iter().all(|(_, applied)| *applied),
        "{status:?}"
    );

    // Reference rows would block dropping nothing, but seed data must not survive a reset.
    db::migrate_down(conn, Some(status.len() as u32))
        .await
        .unwrap();
    assert!(
        db::migration_status(conn)
            .await
            .unwrap()
            .iter()
            .all(|(_, applied)| !applied)
    );
    let users = conn
        .execute_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT 1 FROM users",
        ))
        .await;
    assert!(users.is_err(), "users table survived the rollback");

    db::migrate_up(conn).await.unwrap();
    assert!(
        db::migration_status(conn)
            .await
            .unwrap()
            .iter()
            .all(|(_, applied)| *applied)
    );
}

#[tokio::test]
async fn money_columns_are_exact() {
    use entity::users;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = spawn_app_with(&[]).await;
    let conn = &app.db;
    // Largest balance a client could plausibly reach, and an awkward cent value.
    for cents in [9_007_199_254_740_993_i64, 100_000_000_000_001, 1] {
        let user = users::Entity::find().one(conn).await.unwrap().unwrap();
        users::ActiveModel {
            id: Set(user.id),
            cash_cents: Set(cents),
            ..Default::default()
        }
        .update(conn)
        .await
        .unwrap();
        let back = users::Entity::find_by_id(user.id)
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back.cash_cents, cents);
        assert_eq!(
            zebrat::domain::money::from_cents(back.cash_cents).to_string(),
            format!("{}.{:02}", cents / 100, cents % 100)
        );
    }
}

/// Calendar day kinds: the rows the old seed wrote (the three fixed holidays on their observed
/// dates) go, as the calendar computes them now; what admins listed stays, as holidays.
#[tokio::test]
async fn the_calendar_migration_drops_the_seeded_holidays_and_keeps_the_listed_ones() {
    use entity::market_calendar;
    use sea_orm::{EntityTrait, QueryOrder};

    let app = spawn_app_with(&[("SEED_DEMO_DATA", "false")]).await;
    let conn = &app.db;
    // Back to before the calendar migration (the working orders', the email skeletons', the
    // equity history's and the trailing stops' came after it).
    db::migrate_down(conn, Some(5)).await.unwrap();
    let backend = conn.get_database_backend();
    for (date, name) in [
        ("2026-01-01", "New Year's Day"),
        ("2026-07-03", "Independence Day"),
        ("2026-12-25", "Christmas Day"),
        ("2027-07-05", "Independence Day"),
        ("2027-12-24", "Christmas Day"),
        // The old seed's Saturday New Year's Day of 2028, moved back into 2027.
        ("2027-12-31", "New Year's Day"),
        // Listed by admins: another date for a seeded name, and a day of their own.
        ("2026-07-06", "Independence Day"),
        ("2026-12-28", "Company holiday"),
    ] {
        conn.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO market_calendar (date, name, created_at) VALUES ('{date}', '{}', '2026-01-01T00:00:00Z')",
                name.replace('\'', "''")
            ),
        ))
        .await
        .unwrap();
    }
    db::migrate_up(conn).await.unwrap();
    let left: Vec<(String, String, String, Option<chrono::NaiveTime>)> =
        market_calendar::Entity::find()
            .order_by_asc(market_calendar::Column::Date)
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.date.to_string(), r.name, r.kind, r.close_time))
            .collect();
    assert_eq!(
        left,
        [
            (
                "2026-07-06".into(),
                "Independence Day".into(),
                "HOLIDAY".into(),
                None
            ),
            (
                "2026-12-28".into(),
                "Company holiday".into(),
                "HOLIDAY".into(),
                None
            ),
        ]
    );
}
