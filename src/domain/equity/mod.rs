//! Equity history and the leaderboard.
//!
//! The engine records every active account's value (cash plus shares at the prices of the
//! moment) every five minutes while the market is open and at each scheduled close, one row
//! per account and instant (`equity_snapshots`, unique: a failover or a retry records the
//! same instant once). History is those rows plus the live value; the leaderboard ranks the
//! players who chose a name by their return over a period, as of the latest recorded
//! instant. Returns are net of deposits and withdrawals: modified Dietz (`returns`).

pub mod leaderboard;
pub mod returns;

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use entity::{cash_ledger, equity_snapshots, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait, sea_query::OnConflict,
};

use self::returns::{Base, Flow};
use super::{
    Error, Result, market,
    trading::{LedgerKind, Trading},
};
use crate::{bus::SharedBus, clock::SharedClock, infra::lease::Fence};

/// Which history intervals a snapshot serves (stored as `grain`): an hourly snapshot is also
/// a five-minute one, a close is all three.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Grain {
    M5 = 0,
    H1 = 1,
    D1 = 2,
}

impl Grain {
    pub fn of(at: DateTime<Utc>) -> Grain {
        use chrono::Timelike;
        if at.minute() == 0 {
            Grain::H1
        } else {
            Grain::M5
        }
    }

    fn stored(self) -> i16 {
        self as i16
    }

    /// How long its rows are kept (closes: always).
    pub fn kept_for(self) -> Option<Duration> {
        match self {
            Grain::M5 => Some(Duration::days(8)),
            Grain::H1 => Some(Duration::days(95)),
            Grain::D1 => None,
        }
    }
}

/// Five minutes: the finest history interval, and how often the engine records while open.
pub const SNAPSHOT_EVERY: Duration = Duration::minutes(5);

/// The next five-minute boundary strictly after `t`.
pub fn next_boundary(t: DateTime<Utc>) -> DateTime<Utc> {
    let step = SNAPSHOT_EVERY.num_seconds();
    let next = (t.timestamp().div_euclid(step) + 1) * step;
    DateTime::from_timestamp(next, 0).unwrap_or(t + SNAPSHOT_EVERY)
}

/// A history window, ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
    /// The last 365 days.
    Year,
    /// Since the account was created.
    All,
}

impl Period {
    pub fn length(self) -> Option<Duration> {
        match self {
            Period::Day => Some(Duration::days(1)),
            Period::Week => Some(Duration::days(7)),
            Period::Month => Some(Duration::days(30)),
            Period::Year => Some(Duration::days(365)),
            Period::All => None,
        }
    }

    /// The interval a history of this period uses when none is asked for.
    pub fn default_grain(self) -> Grain {
        match self {
            Period::Day => Grain::M5,
            Period::Week | Period::Month => Grain::H1,
            Period::Year | Period::All => Grain::D1,
        }
    }

    /// Refuses an interval finer than what is kept for the whole period.
    pub fn check(self, grain: Grain) -> Result<()> {
        match (grain.kept_for(), self.length()) {
            (None, _) => Ok(()),
            (Some(kept), Some(length)) if length <= kept => Ok(()),
            _ => Err(too_fine(self, grain)),
        }
    }
}

fn too_fine(period: Period, grain: Grain) -> Error {
    let days = grain.kept_for().map_or(0, |d| d.num_days());
    Error::bad_input(
        "interval",
        format!(
            "{grain:?} points are kept for {days} days: too fine for {period:?}; use a \
             coarser interval (H1 up to a month, D1 for any period)"
        ),
    )
}

/// One point of an account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub cash_cents: i64,
    pub positions_value_cents: i64,
    pub profit_loss_cents: i64,
    pub profit_loss_percent: rust_decimal::Decimal,
    /// The live value, not a recorded one.
    pub live: bool,
}

impl Point {
    pub fn equity_cents(&self) -> i64 {
        self.cash_cents + self.positions_value_cents
    }
}

/// An account's history over a period.
#[derive(Debug, Clone)]
pub struct History {
    pub period: Period,
    pub grain: Grain,
    /// What profit and return are measured from.
    pub base: Base,
    pub points: Vec<Point>,
}

/// The equity services. Cheap to clone.
#[derive(Clone)]
pub struct Equity {
    db: DatabaseConnection,
    clock: SharedClock,
    bus: SharedBus,
    trading: Trading,
    tz: chrono_tz::Tz,
    rules: market::MarketCalendar,
    boards: Arc<leaderboard::Boards>,
}

/// Rows written per statement (six binds each: well under both databases' limits).
const CHUNK: usize = 500;

impl Equity {
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        bus: SharedBus,
        trading: Trading,
        tz: chrono_tz::Tz,
        rules: market::MarketCalendar,
    ) -> Self {
        Equity {
            db,
            clock,
            bus,
            trading,
            tz,
            rules,
            boards: Arc::default(),
        }
    }

    /// Records every active account's value at `at` (as of now, minus the deposits and
    /// withdrawals made after `at`), fenced; an instant already recorded stays as it was.
    /// Publishes the instant after commit. Returns the rows written.
    pub async fn record(&self, fence: &Fence, at: DateTime<Utc>, grain: Grain) -> Result<u64> {
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        let backend = txn.get_database_backend();
        // One statement: a consistent view of cash, shares and prices on both databases.
        let values = Valuation::find_by_statement(Statement::from_string(
            backend,
            "SELECT u.id AS user_id, u.cash_cents AS cash_cents, u.created_at AS created_at, \
             CAST(COALESCE(SUM(p.quantity * l.last_cents), 0) AS BIGINT) AS positions_value_cents \
             FROM users u \
             LEFT JOIN positions p ON p.user_id = u.id AND p.quantity > 0 \
             LEFT JOIN prices_live l ON l.stock_id = p.stock_id \
             WHERE u.active = TRUE \
             GROUP BY u.id, u.cash_cents, u.created_at",
        ))
        .all(&txn)
        .await?;
        // A value recorded at `at` holds the flows up to and including `at`.
        let mut later: HashMap<i64, i64> = HashMap::new();
        for (user_id, flow) in flows_after(&txn, Some(at), None).await? {
            if flow.at > at {
                *later.entry(user_id).or_default() += flow.cents;
            }
        }
        let rows: Vec<equity_snapshots::ActiveModel> = values
            .into_iter()
            .filter(|v| v.created_at <= at)
            .map(|v| equity_snapshots::ActiveModel {
                user_id: Set(v.user_id),
                at: Set(at),
                grain: Set(grain.stored()),
                cash_cents: Set(v.cash_cents - later.get(&v.user_id).copied().unwrap_or(0)),
                positions_value_cents: Set(v.positions_value_cents),
                ..Default::default()
            })
            .collect();
        let mut written = 0;
        for chunk in rows.chunks(CHUNK) {
            let insert = equity_snapshots::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        equity_snapshots::Column::UserId,
                        equity_snapshots::Column::At,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await;
            match insert {
                Ok(n) => written += n,
                Err(DbErr::RecordNotInserted) => {}
                Err(e) => return Err(e.into()),
            }
        }
        txn.commit().await?;
        let event = crate::bus::Event::EquitySnapshot { at, grain };
        if let Err(e) = self.bus.publish(event).await {
            tracing::warn!(error = %e, "publishing an equity snapshot");
        }
        Ok(written)
    }

    /// Records the last scheduled close (at or before now), unless it is recorded already:
    /// the scheduler calls it at each close and when a leadership starts with the market
    /// closed, so a close the engine was down for is still recorded (at its prices: nothing
    /// trades while closed). None when the calendar has no close yet.
    pub async fn record_last_close(&self, fence: &Fence) -> Result<Option<DateTime<Utc>>> {
        let now = self.clock.now();
        let config = market::load_config(&self.db, self.tz, self.rules).await?;
        let Some(close) = config.calendar.last_close(now) else {
            return Ok(None);
        };
        let recorded = equity_snapshots::Entity::find()
            .filter(equity_snapshots::Column::At.eq(close))
            .one(&self.db)
            .await?
            .is_some();
        if !recorded {
            self.record(fence, close, Grain::D1).await?;
        }
        Ok(Some(close))
    }

    /// Deletes five-minute and hourly rows past their keeping; returns how many.
    pub async fn prune(&self, fence: &Fence) -> Result<u64> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        fence.check(&txn).await?;
        let mut deleted = 0;
        for grain in [Grain::M5, Grain::H1] {
            let Some(kept) = grain.kept_for() else {
                continue;
            };
            deleted += equity_snapshots::Entity::delete_many()
                .filter(equity_snapshots::Column::Grain.eq(grain.stored()))
                .filter(equity_snapshots::Column::At.lt(now - kept))
                .exec(&txn)
                .await?
                .rows_affected;
        }
        txn.commit().await?;
        Ok(deleted)
    }

    /// The account's history over `period` at `grain` (the period's default when None):
    /// the recorded points after the period's start, then the live value.
    pub async fn history(
        &self,
        user_id: i64,
        period: Period,
        grain: Option<Grain>,
    ) -> Result<History> {
        let grain = grain.unwrap_or(period.default_grain());
        period.check(grain)?;
        let now = self.clock.now();
        let base = self.base(user_id, period, now).await?;
        let rows = equity_snapshots::Entity::find()
            .filter(equity_snapshots::Column::UserId.eq(user_id))
            .filter(equity_snapshots::Column::At.gt(base.at))
            .filter(equity_snapshots::Column::Grain.gte(grain.stored()))
            .order_by_asc(equity_snapshots::Column::At)
            .all(&self.db)
            .await?;
        let flows = user_flows(&self.db, user_id, base.at).await?;
        let mut points: Vec<Point> = rows
            .into_iter()
            .map(|r| {
                point(
                    base,
                    &flows,
                    r.at,
                    r.cash_cents,
                    r.positions_value_cents,
                    false,
                )
            })
            .collect();
        let live = self.trading.portfolio(user_id).await?;
        points.push(point(
            base,
            &flows,
            now,
            live.cash.balance_cents,
            live.positions_value_cents(),
            true,
        ));
        Ok(History {
            period,
            grain,
            base,
            points,
        })
    }

    /// The recorded point of the account at `at` over `period` (what a history subscription
    /// pushes when an instant is recorded); None when the account has no row there.
    pub async fn point_at(
        &self,
        user_id: i64,
        period: Period,
        at: DateTime<Utc>,
    ) -> Result<Option<Point>> {
        let Some(row) = equity_snapshots::Entity::find()
            .filter(equity_snapshots::Column::UserId.eq(user_id))
            .filter(equity_snapshots::Column::At.eq(at))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let base = self.base(user_id, period, at).await?;
        let flows = user_flows(&self.db, user_id, base.at).await?;
        Ok(Some(point(
            base,
            &flows,
            row.at,
            row.cash_cents,
            row.positions_value_cents,
            false,
        )))
    }

    /// Where `period` ending at `end` starts for the account: its latest recorded value at
    /// or before the period's start; else (a younger account, or history younger than the
    /// period) nothing at the account's creation.
    async fn base(&self, user_id: i64, period: Period, end: DateTime<Utc>) -> Result<Base> {
        let user = users::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound("account".into()))?;
        let created = Base::created(user.created_at);
        let Some(length) = period.length() else {
            return Ok(created);
        };
        let start = end - length;
        let row = equity_snapshots::Entity::find()
            .filter(equity_snapshots::Column::UserId.eq(user_id))
            .filter(equity_snapshots::Column::At.lte(start))
            .order_by_desc(equity_snapshots::Column::At)
            .one(&self.db)
            .await?;
        Ok(match row {
            Some(r) => Base::recorded(r.at, r.cash_cents + r.positions_value_cents),
            None => created,
        })
    }
}

fn point(
    base: Base,
    flows: &[Flow],
    at: DateTime<Utc>,
    cash_cents: i64,
    positions_value_cents: i64,
    live: bool,
) -> Point {
    let (profit_loss_cents, profit_loss_percent) =
        returns::performance(base, flows, at, cash_cents + positions_value_cents);
    Point {
        at,
        cash_cents,
        positions_value_cents,
        profit_loss_cents,
        profit_loss_percent,
        live,
    }
}

#[derive(FromQueryResult)]
struct Valuation {
    user_id: i64,
    cash_cents: i64,
    created_at: DateTime<Utc>,
    positions_value_cents: i64,
}

/// Deposits and withdrawals of one account after `after`, in time order.
async fn user_flows(
    conn: &impl ConnectionTrait,
    user_id: i64,
    after: DateTime<Utc>,
) -> Result<Vec<Flow>> {
    Ok(flows_after(conn, Some(after), Some(user_id))
        .await?
        .into_iter()
        .map(|(_, f)| f)
        .collect())
}

/// Deposits and withdrawals at or after `after` (all when None), of one account or of all, in
/// ledger order, with their account.
pub(super) async fn flows_after(
    conn: &impl ConnectionTrait,
    after: Option<DateTime<Utc>>,
    user_id: Option<i64>,
) -> Result<Vec<(i64, Flow)>> {
    let kinds = [
        LedgerKind::Deposit.as_str(),
        LedgerKind::Withdrawal.as_str(),
    ];
    let mut q = cash_ledger::Entity::find()
        .select_only()
        .columns([
            cash_ledger::Column::UserId,
            cash_ledger::Column::CreatedAt,
            cash_ledger::Column::AmountCents,
        ])
        .filter(cash_ledger::Column::Kind.is_in(kinds))
        .order_by_asc(cash_ledger::Column::Id);
    if let Some(after) = after {
        q = q.filter(cash_ledger::Column::CreatedAt.gte(after));
    }
    if let Some(user_id) = user_id {
        q = q.filter(cash_ledger::Column::UserId.eq(user_id));
    }
    let rows: Vec<(i64, DateTime<Utc>, i64)> = q.into_tuple().all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, at, cents)| (user_id, Flow { at, cents }))
        .collect())
}
