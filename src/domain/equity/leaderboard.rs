//! The leaderboard: players (accounts that chose a leaderboard name) ranked by their return
//! over a period, as of the latest recorded instant.
//!
//! The ranking of every account is computed once per period and recorded instant, then
//! kept in memory until the next instant: a request reads the latest instant and the
//! players (two indexed reads) and filters the cached ranking. Ties rank by equity, then by
//! account age.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use entity::{equity_snapshots, users};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};

use super::{
    Equity, Period,
    returns::{self, Base},
};
use crate::domain::{Error, Result, text};

/// One player's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1 for the best return.
    pub rank: u64,
    pub user_id: i64,
    pub name: String,
    pub return_percent: Decimal,
    pub equity_cents: i64,
}

/// The leaderboard of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub period: Period,
    /// The recorded instant it ranks at; None before the first one.
    pub as_of: Option<DateTime<Utc>>,
    pub entries: Vec<Entry>,
}

/// Every account ranked at one instant: (account, return, equity), best first.
struct Ranking {
    as_of: DateTime<Utc>,
    ranked: Vec<(i64, Decimal, i64)>,
}

/// The rankings computed on this instance, by period (replaced when a newer instant is
/// recorded).
#[derive(Default)]
pub struct Boards(Mutex<HashMap<Period, Arc<Ranking>>>);

impl Boards {
    fn get(&self, period: Period, as_of: DateTime<Utc>) -> Option<Arc<Ranking>> {
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cached.get(&period).filter(|r| r.as_of == as_of).cloned()
    }

    fn put(&self, period: Period, ranking: Arc<Ranking>) {
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cached.insert(period, ranking);
    }
}

/// Longest leaderboard name, in characters.
pub const MAX_NAME: usize = 24;
const MIN_NAME: usize = 3;

impl Equity {
    /// The leaderboard of `period`, as of the latest recorded instant.
    pub async fn leaderboard(&self, period: Period) -> Result<Board> {
        let Some(as_of) = self.latest_instant().await? else {
            return Ok(Board {
                period,
                as_of: None,
                entries: Vec::new(),
            });
        };
        let ranking = match self.boards.get(period, as_of) {
            Some(r) => r,
            None => {
                let r = Arc::new(self.rank(period, as_of).await?);
                self.boards.put(period, r.clone());
                r
            }
        };
        let players: HashMap<i64, String> = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::LeaderboardName])
            .filter(users::Column::LeaderboardName.is_not_null())
            .filter(users::Column::Active.eq(true))
            .into_tuple::<(i64, Option<String>)>()
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|(id, name)| Some((id, name?)))
            .collect();
        let entries = ranking
            .ranked
            .iter()
            .filter_map(|(id, pct, equity)| Some((*id, players.get(id)?, *pct, *equity)))
            .enumerate()
            .map(|(i, (user_id, name, return_percent, equity_cents))| Entry {
                rank: i as u64 + 1,
                user_id,
                name: name.clone(),
                return_percent,
                equity_cents,
            })
            .collect();
        Ok(Board {
            period,
            as_of: Some(as_of),
            entries,
        })
    }

    /// Sets (or, with None or blank, clears) the caller's leaderboard name: 3–24 letters,
    /// digits, spaces, `_`, `-` or `.`, not looking like another player's. Returns it.
    pub async fn set_leaderboard_name(
        &self,
        user_id: i64,
        raw: Option<&str>,
    ) -> Result<Option<String>> {
        const FIELD: &str = "leaderboardName";
        let name = match raw.map(|r| text::name(r, FIELD)).transpose()? {
            Some(n) if !n.is_empty() => Some(n),
            _ => None,
        };
        if let Some(n) = &name {
            let len = n.chars().count();
            if !(MIN_NAME..=MAX_NAME).contains(&len) {
                return Err(Error::bad_input(
                    FIELD,
                    format!("a leaderboard name has {MIN_NAME} to {MAX_NAME} characters"),
                ));
            }
            if let Some(c) = n
                .chars()
                .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
            {
                return Err(Error::bad_input(
                    FIELD,
                    format!(
                        "a leaderboard name has letters, digits, spaces, '_', '-' and '.' \
                         only (found {c:?})"
                    ),
                ));
            }
        }
        let skeleton = name.as_deref().map(|n| text::skeleton(&n.to_lowercase()));
        let updated = users::Entity::update_many()
            .col_expr(users::Column::LeaderboardName, Expr::value(name.clone()))
            .col_expr(users::Column::LeaderboardSkeleton, Expr::value(skeleton))
            .filter(users::Column::Id.eq(user_id))
            .filter(users::Column::Active.eq(true))
            .exec(&self.db)
            .await
            .map_err(|e| {
                Error::conflict_on_unique(
                    e,
                    "that leaderboard name is taken, or looks like one that is",
                )
            })?;
        if updated.rows_affected == 0 {
            return Err(Error::Unauthenticated("account not found".into()));
        }
        Ok(name)
    }

    /// The latest recorded instant.
    pub(super) async fn latest_instant(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(equity_snapshots::Entity::find()
            .select_only()
            .column(equity_snapshots::Column::At)
            .order_by_desc(equity_snapshots::Column::At)
            .into_tuple::<DateTime<Utc>>()
            .one(&self.db)
            .await?)
    }

    /// Ranks every account recorded at `as_of` by its return over `period` ending there.
    async fn rank(&self, period: Period, as_of: DateTime<Utc>) -> Result<Ranking> {
        let start = match period.length() {
            Some(length) => {
                equity_snapshots::Entity::find()
                    .select_only()
                    .column(equity_snapshots::Column::At)
                    .filter(equity_snapshots::Column::At.lte(as_of - length))
                    .order_by_desc(equity_snapshots::Column::At)
                    .into_tuple::<DateTime<Utc>>()
                    .one(&self.db)
                    .await?
            }
            None => None,
        };
        let values_at = |at: DateTime<Utc>| {
            equity_snapshots::Entity::find()
                .select_only()
                .columns([
                    equity_snapshots::Column::UserId,
                    equity_snapshots::Column::CashCents,
                    equity_snapshots::Column::PositionsValueCents,
                ])
                .filter(equity_snapshots::Column::At.eq(at))
                .into_tuple::<(i64, i64, i64)>()
                .all(&self.db)
        };
        let end = values_at(as_of).await?;
        let begin: HashMap<i64, i64> = match start {
            Some(at) => values_at(at)
                .await?
                .into_iter()
                .map(|(id, cash, positions)| (id, cash + positions))
                .collect(),
            None => HashMap::new(),
        };
        let ids: HashSet<i64> = end.iter().map(|(id, ..)| *id).collect();
        let created: HashMap<i64, DateTime<Utc>> = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::CreatedAt])
            .into_tuple::<(i64, DateTime<Utc>)>()
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|(id, _)| ids.contains(id))
            .collect();
        let mut flows: HashMap<i64, Vec<returns::Flow>> = HashMap::new();
        for (user_id, flow) in super::flows_after(&self.db, start, None).await? {
            if flow.at <= as_of && ids.contains(&user_id) {
                flows.entry(user_id).or_default().push(flow);
            }
        }
        let mut ranked: Vec<(i64, Decimal, i64)> = end
            .into_iter()
            .filter_map(|(id, cash, positions)| {
                let base = match (start, begin.get(&id)) {
                    (Some(at), Some(&equity)) => Base::recorded(at, equity),
                    _ => Base::created(*created.get(&id)?),
                };
                let equity = cash + positions;
                let flows = flows.get(&id).map(Vec::as_slice).unwrap_or(&[]);
                let (_, pct) = returns::performance(base, flows, as_of, equity);
                Some((id, pct, equity))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        Ok(Ranking { as_of, ranked })
    }
}
