//! Reference data every instance needs, and demo data for a first local start.

use chrono::NaiveTime;
use chrono_tz::Tz;
use entity::{cash_ledger, market_hours, market_state, users};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set,
    TransactionTrait,
};

use super::{Error, Result, auth, money};
use crate::clock::Clock;

/// Demo logins printed in the README.
pub const DEMO_ADMIN: (&str, &str) = ("admin@example.com", "admin123");
pub const DEMO_CUSTOMER: (&str, &str) = ("demo@example.com", "demo123");
/// Starting cash of the demo customer, in cents ($100,000).
pub const DEMO_CASH_CENTS: i64 = 10_000_000;

/// (symbol, name, opening price)
const DEMO_STOCKS: &[(&str, &str, &str)] = &[
    ("AAPL", "Apple Inc.", "189.50"),
    ("MSFT", "Microsoft Corporation", "415.20"),
    ("GOOGL", "Alphabet Inc. Class A", "172.30"),
    ("AMZN", "Amazon.com, Inc.", "185.60"),
    ("NVDA", "NVIDIA Corporation", "124.80"),
    ("TSLA", "Tesla, Inc.", "248.90"),
    ("META", "Meta Platforms, Inc.", "505.40"),
    ("JPM", "JPMorgan Chase & Co.", "198.70"),
    ("V", "Visa Inc.", "276.30"),
    ("KO", "The Coca-Cola Company", "62.45"),
    ("DIS", "The Walt Disney Company", "101.20"),
    ("BRK.B", "Berkshire Hathaway Inc. Class B", "412.75"),
];

/// Inserts market hours and the market-state row where missing. Holidays need no rows: the
/// exchange's are computed (`market::nyse`).
pub async fn reference_data(db: &DatabaseConnection, clock: &dyn Clock) -> Result<()> {
    let txn = db.begin().await?;
    let now = clock.now();
    if market_hours::Entity::find().count(&txn).await? == 0 {
        let (open, close) = (time(9, 30), time(16, 0));
        for weekday in 0..7 {
            market_hours::ActiveModel {
                weekday: Set(weekday),
                open_time: Set(open),
                close_time: Set(close),
                closed: Set(weekday >= 5),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    if market_state::Entity::find_by_id(1)
        .one(&txn)
        .await?
        .is_none()
    {
        market_state::ActiveModel {
            id: Set(1),
            is_open: Set(false),
            override_open: Set(None),
            override_reason: Set(None),
            override_by: Set(None),
            override_at: Set(None),
            updated_at: Set(now),
            round_seq: Set(0),
            last_close_at: Set(None),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Seeds demo users and stocks into an empty database; returns false when users already exist.
pub async fn demo_data(db: &DatabaseConnection, clock: &dyn Clock, tz: Tz) -> Result<bool> {
    let txn = db.begin().await?;
    if users::Entity::find().count(&txn).await? > 0 {
        return Ok(false);
    }
    let now = clock.now();
    let admin = insert_user(&txn, DEMO_ADMIN, "Ada Admin", auth::Role::Admin, now).await?;
    let demo = insert_user(&txn, DEMO_CUSTOMER, "Dana Demo", auth::Role::Customer, now).await?;
    tracing::debug!(admin.id, "seeded admin");
    users::ActiveModel {
        id: Set(demo.id),
        cash_cents: Set(DEMO_CASH_CENTS),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    cash_ledger::ActiveModel {
        user_id: Set(demo.id),
        kind: Set("DEPOSIT".into()),
        amount_cents: Set(DEMO_CASH_CENTS),
        balance_after_cents: Set(DEMO_CASH_CENTS),
        reference: Set(Some("seed".into())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let session_date = now.with_timezone(&tz).date_naive();
    for &(symbol, name, price) in DEMO_STOCKS {
        let cents = money::to_cents(price.parse().map_err(Error::internal)?, "price")?;
        super::market::stocks::create(&txn, symbol, name, 0.0001, 0.02, cents, session_date, now)
            .await?;
    }
    // A newcomer should see prices move at any hour: demo mode keeps the market open until an
    // admin returns it to the schedule (clearMarketOverride, or `zebrat market auto`).
    super::market::set_override(&txn, true, Some(DEMO_OVERRIDE_REASON.into()), None, now).await?;
    // Nothing is queued yet, so the market counts as opened already: orders placed before the
    // scheduler's first pass execute at once.
    super::market::record_applied(&txn, true, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Why a freshly seeded market is open around the clock.
pub const DEMO_OVERRIDE_REASON: &str =
    "demo mode: open around the clock; clear the override to follow the trading schedule";

async fn insert_user(
    conn: &impl ConnectionTrait,
    (email, password): (&str, &str),
    name: &str,
    role: auth::Role,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<users::Model> {
    let email = auth::Email::parse(email)?;
    Ok(users::ActiveModel {
        email: Set(email.as_str().into()),
        email_skeleton: Set(Some(email.skeleton())),
        name: Set(name.into()),
        password_hash: Set(auth::hash_password(password.into()).await?),
        role: Set(role.as_str().into()),
        active: Set(true),
        cash_cents: Set(0),
        reserved_cents: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        last_seen_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}
