//! Equity history and the leaderboard: `portfolioHistory`, `leaderboard`, `updateMe` and
//! their live feeds.

use async_graphql::{
    Context, Enum, InputObject, Object, SimpleObject, Subscription, connection::PageInfo,
};
use futures_util::{Stream, StreamExt, stream};

use super::{
    accounts::User,
    context::ContextExt,
    error::ApiResult,
    feeds::events,
    guards::RoleGuard,
    payload::{UserError, split},
    scalars::{DateTime, Decimal, money},
};
use crate::{
    bus::Event,
    domain::{
        Error,
        equity::{self, Grain, leaderboard},
        page::{self as pages, PageRequest},
    },
};

/// A window of history, ending now. New values may be added: clients must treat this enum
/// as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HistoryPeriod {
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

impl From<HistoryPeriod> for equity::Period {
    fn from(p: HistoryPeriod) -> Self {
        match p {
            HistoryPeriod::Day => equity::Period::Day,
            HistoryPeriod::Week => equity::Period::Week,
            HistoryPeriod::Month => equity::Period::Month,
            HistoryPeriod::Year => equity::Period::Year,
            HistoryPeriod::All => equity::Period::All,
        }
    }
}

/// How far apart history points are. Five-minute points are kept 8 days and hourly ones 95
/// days (so M5 serves DAY and WEEK, H1 up to MONTH); a point at each close is kept for good.
/// New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HistoryInterval {
    /// Every five minutes while the market is open, and each close.
    M5,
    /// Every hour while the market is open, and each close.
    H1,
    /// Each close.
    D1,
}

impl From<HistoryInterval> for Grain {
    fn from(i: HistoryInterval) -> Self {
        match i {
            HistoryInterval::M5 => Grain::M5,
            HistoryInterval::H1 => Grain::H1,
            HistoryInterval::D1 => Grain::D1,
        }
    }
}

impl From<Grain> for HistoryInterval {
    fn from(g: Grain) -> Self {
        match g {
            Grain::M5 => HistoryInterval::M5,
            Grain::H1 => HistoryInterval::H1,
            Grain::D1 => HistoryInterval::D1,
        }
    }
}

/// The account's value at one instant, and its profit and return since the period began.
#[derive(SimpleObject, Clone)]
pub struct PortfolioHistoryPoint {
    /// When.
    pub at: DateTime,
    /// `cash + positionsValue`.
    pub equity: Decimal,
    /// The cash balance.
    pub cash: Decimal,
    /// Shares held at that instant's prices.
    pub positions_value: Decimal,
    /// Gain since the period's start, deposits and withdrawals not counted as gain.
    pub profit_loss: Decimal,
    /// `profitLoss` as a modified Dietz return in percent (4 decimals): over the starting
    /// value plus each deposit or withdrawal weighted by the time it was invested.
    pub profit_loss_percent: Decimal,
    /// True for the live value (the last point of a history); false for a recorded one.
    pub live: bool,
}

impl From<equity::Point> for PortfolioHistoryPoint {
    fn from(p: equity::Point) -> Self {
        PortfolioHistoryPoint {
            at: p.at.into(),
            equity: money(p.equity_cents()),
            cash: money(p.cash_cents),
            positions_value: money(p.positions_value_cents),
            profit_loss: money(p.profit_loss_cents),
            profit_loss_percent: Decimal(p.profit_loss_percent),
            live: p.live,
        }
    }
}

/// The account's value over a period: the recorded points, then the live one.
#[derive(SimpleObject)]
pub struct PortfolioHistory {
    /// As asked.
    pub period: HistoryPeriod,
    /// As asked, or the period's default (DAY: M5, WEEK and MONTH: H1, YEAR and ALL: D1).
    pub interval: HistoryInterval,
    /// The value profit is measured from: the latest recorded value at or before the
    /// period's start, or 0 at the account's creation when there is none.
    pub base_value: Decimal,
    /// When `baseValue` was recorded (or the account created).
    pub base_at: DateTime,
    /// Oldest first; the last one is the live value.
    pub points: Vec<PortfolioHistoryPoint>,
}

/// One player on the leaderboard.
#[derive(SimpleObject, Clone)]
pub struct LeaderboardEntry {
    /// 1 for the best return.
    pub rank: u64,
    /// The player's leaderboard name.
    pub name: String,
    /// The return over the period in percent (modified Dietz, 4 decimals): deposits and
    /// withdrawals are not return.
    pub return_percent: Decimal,
    /// The player's value at `asOf`.
    pub equity: Decimal,
    /// True for the caller's own entry.
    pub is_viewer: bool,
}

/// One page of the leaderboard, best first.
#[derive(SimpleObject)]
pub struct Leaderboard {
    /// As asked.
    pub period: HistoryPeriod,
    /// The recorded instant the ranking is at (every five minutes while the market is open,
    /// and each close); null before the first one.
    pub as_of: Option<DateTime>,
    /// The page's entries.
    pub nodes: Vec<LeaderboardEntry>,
    /// Page on with `after: pageInfo.endCursor`.
    pub page_info: PageInfo,
    /// How many players are ranked.
    pub total_count: u64,
}

/// The fields of `updateMe`; an omitted field stays as it is.
#[derive(InputObject)]
pub struct UpdateMeInput {
    /// The name to show on the leaderboard (3–24 letters, digits, spaces, `_`, `-`, `.`,
    /// not looking like another player's); null or blank leaves the leaderboard.
    #[graphql(default)]
    pub leaderboard_name: async_graphql::MaybeUndefined<String>,
}

/// What `updateMe` did.
#[derive(SimpleObject, Default)]
pub struct UpdateMePayload {
    /// The caller as updated; null when refused.
    pub user: Option<User>,
    /// Expected failures: BAD_USER_INPUT, CONFLICT (the name, or one looking like it, is
    /// taken). Empty on success.
    pub user_errors: Vec<UserError>,
}

/// One page of `board`, the caller's entry marked; `first`/`after` as every list takes them.
fn page(
    board: leaderboard::Board,
    period: HistoryPeriod,
    viewer: Option<i64>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Leaderboard, Error> {
    let request = PageRequest::parse(first, after, None, None)?;
    let page = pages::by_position(board.entries, request);
    let page_info = PageInfo {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        start_cursor: page.items.first().map(|(c, _)| c.clone()),
        end_cursor: page.end_cursor(),
    };
    Ok(Leaderboard {
        period,
        as_of: board.as_of.map(Into::into),
        total_count: page.total_count,
        page_info,
        nodes: page
            .items
            .into_iter()
            .map(|(_, e)| LeaderboardEntry {
                rank: e.rank,
                name: e.name,
                return_percent: Decimal(e.return_percent),
                equity: money(e.equity_cents),
                is_viewer: viewer == Some(e.user_id),
            })
            .collect(),
    })
}

#[derive(Default)]
pub struct EquityQuery;

#[Object]
impl EquityQuery {
    /// The caller's value over `period`: a point at each recorded instant (every five
    /// minutes while the market is open, and each close) of `interval`, then the live value,
    /// each with profit and return since the period began. Needs a logged-in user.
    /// BAD_USER_INPUT for an interval finer than what is kept for the period.
    #[graphql(guard = "RoleGuard::user()")]
    async fn portfolio_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window, ending now.")] period: HistoryPeriod,
        #[graphql(desc = "How far apart the points are; omitted, the period's default.")]
        interval: Option<HistoryInterval>,
    ) -> ApiResult<PortfolioHistory> {
        let user_id = ctx.viewer()?.user_id;
        let history = ctx
            .services()
            .equity
            .history(user_id, period.into(), interval.map(Into::into))
            .await?;
        Ok(PortfolioHistory {
            period,
            interval: history.grain.into(),
            base_value: money(history.base.equity_cents),
            base_at: history.base.at.into(),
            points: history.points.into_iter().map(Into::into).collect(),
        })
    }

    /// The players (accounts that chose a `leaderboardName`), ranked by their return over
    /// `period` as of the latest recorded instant; ties by value. Public.
    #[graphql(complexity = "super::connection::cost(first, None, child_complexity)")]
    async fn leaderboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return over which window.")] period: HistoryPeriod,
        #[graphql(desc = "Page size, 1–100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "`pageInfo.endCursor` of the page before.")] after: Option<String>,
    ) -> ApiResult<Leaderboard> {
        let board = ctx.services().equity.leaderboard(period.into()).await?;
        let viewer = ctx.maybe_viewer().map(|v| v.user_id);
        Ok(page(board, period, viewer, first, after.as_deref())?)
    }
}

#[derive(Default)]
pub struct EquityMutation;

#[Object]
impl EquityMutation {
    /// Changes the caller's own settings: today the leaderboard name. Needs a logged-in
    /// user.
    #[graphql(guard = "RoleGuard::user()")]
    async fn update_me(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateMeInput,
    ) -> ApiResult<UpdateMePayload> {
        let user_id = ctx.viewer()?.user_id;
        let s = ctx.services();
        let name = match &input.leaderboard_name {
            async_graphql::MaybeUndefined::Undefined => None,
            async_graphql::MaybeUndefined::Null => Some(None),
            async_graphql::MaybeUndefined::Value(v) => Some(Some(v.as_str())),
        };
        if let Some(name) = name {
            let (done, mut user_errors) =
                split(s.equity.set_leaderboard_name(user_id, name).await)?;
            if done.is_none() {
                for e in &mut user_errors {
                    e.field
                        .get_or_insert_with(|| vec!["input".into(), "leaderboardName".into()]);
                }
                return Ok(UpdateMePayload {
                    user: None,
                    user_errors,
                });
            }
        }
        let user = s.auth.user(user_id).await?;
        Ok(UpdateMePayload {
            user: Some(user.into()),
            user_errors: Vec::new(),
        })
    }
}

#[derive(Default)]
pub struct EquitySubscription;

/// The state of one `leaderboard` subscription: what it last sent.
struct Top {
    feed: std::pin::Pin<Box<dyn Stream<Item = std::sync::Arc<Event>> + Send>>,
    sent: Option<Vec<(u64, String, rust_decimal::Decimal, rust_decimal::Decimal)>>,
    first: bool,
}

#[Subscription]
impl EquitySubscription {
    /// The caller's recorded value each time one of `interval` is recorded (every five
    /// minutes while the market is open for M5, every hour for H1, at each close for all),
    /// with profit and return over `period`: append to the `portfolioHistory` of the same
    /// period. Needs a logged-in user.
    #[graphql(guard = "RoleGuard::user()")]
    async fn portfolio_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "HistoryInterval::M5",
            desc = "Which recorded instants."
        )]
        interval: HistoryInterval,
        #[graphql(
            default_with = "HistoryPeriod::Day",
            desc = "The window profit and return are measured over."
        )]
        period: HistoryPeriod,
    ) -> async_graphql::Result<impl Stream<Item = PortfolioHistoryPoint> + use<>> {
        let user_id = ctx.viewer().map_err(super::error::ApiError::from)?.user_id;
        let services = ctx.services().clone();
        let wanted: Grain = interval.into();
        Ok(events(services.bus.subscribe()).filter_map(move |e| {
            let services = services.clone();
            async move {
                let Event::EquitySnapshot { at, grain } = *e else {
                    return None;
                };
                if grain < wanted {
                    return None;
                }
                match services.equity.point_at(user_id, period.into(), at).await {
                    Ok(point) => point.map(Into::into),
                    Err(e) => {
                        tracing::warn!(error = %e, "portfolio history feed");
                        None
                    }
                }
            }
        }))
    }

    /// The top 20 of the leaderboard of `period`: now, then each time a recorded instant
    /// changes it. Public.
    async fn leaderboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return over which window.")] period: HistoryPeriod,
    ) -> async_graphql::Result<impl Stream<Item = Leaderboard> + use<>> {
        let services = ctx.services().clone();
        let viewer = ctx.maybe_viewer().map(|v| v.user_id);
        // Subscribed before the first ranking is read, so no recorded instant falls between.
        let feed = events(services.bus.subscribe()).boxed();
        let state = Top {
            feed,
            sent: None,
            first: true,
        };
        Ok(stream::unfold(state, move |mut top| {
            let services = services.clone();
            async move {
                loop {
                    if !std::mem::take(&mut top.first) {
                        // Until the next recorded instant; None ends the feed (bus closed).
                        loop {
                            if matches!(*top.feed.next().await?, Event::EquitySnapshot { .. }) {
                                break;
                            }
                        }
                    }
                    let board = match services.equity.leaderboard(period.into()).await {
                        Ok(board) => board,
                        Err(e) => {
                            tracing::warn!(error = %e, "leaderboard feed");
                            continue;
                        }
                    };
                    let Ok(page) = page(board, period, viewer, None, None) else {
                        continue;
                    };
                    let key: Vec<_> = page
                        .nodes
                        .iter()
                        .map(|n| (n.rank, n.name.clone(), n.return_percent.0, n.equity.0))
                        .collect();
                    if top.sent.as_ref() != Some(&key) {
                        top.sent = Some(key);
                        return Some((page, top));
                    }
                }
            }
        }))
    }
}
