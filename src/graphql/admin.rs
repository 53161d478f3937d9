//! The admin API: stocks, users, market hours and holidays, the override, the audit log.
//! Every field needs the ADMIN role (anonymous: UNAUTHENTICATED, customers: FORBIDDEN).

mod inputs;
mod orders;
pub use inputs::{
    CancelUserOrderInput, CreateStockInput, DeleteHolidayInput, HolidayInput, MarketHoursInput,
    MarketOverrideInput, ResetUserPasswordInput, UpdateStockInput, UpdateUserInput,
};
pub use orders::{AdminOrderMutation, CancelUserOrderPayload};

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Json, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};

use super::{
    accounts::{Role, User},
    connection::{Conn, PageArgs, UNCAPPED_LIST, connection, list_cost},
    context::ContextExt,
    error::ApiResult,
    guards::RoleGuard,
    live::LiveCounters,
    market::{CalendarDayKind, CandleInterval, Holiday, MarketDay, MarketState, Stock},
    node::{Kind, Node, global_id, row_id},
    payload::{UserError, split},
    scalars::{DateTime, Decimal, money},
    trading::load_stock,
};
use crate::{
    domain::{
        Error,
        admin::{
            Actor, Admin, AuditEntry as DomainAuditEntry,
            market::{CalendarDayInput, HoursInput, ListedKind},
            stats::{CandleCoverage, Stats},
            stocks::{NewStock, StockChanges},
            users::{UserChanges, UserFilter},
        },
        market::candles::Interval,
    },
    services::Services,
};

/// An admin action recorded in the audit log. New values may be added: clients must treat
/// this enum as open (see `AuditEntry.actionName`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AuditAction {
    /// `createStock`.
    StockCreate,
    /// `updateStock`.
    StockUpdate,
    /// `updateUser`.
    UserUpdate,
    /// `resetUserPassword`.
    UserResetPassword,
    /// `updateMarketHours`.
    MarketHoursUpdate,
    /// `addHoliday`.
    MarketHolidayAdd,
    /// `deleteHoliday`.
    MarketHolidayDelete,
    /// `setMarketOverride`.
    MarketOverrideSet,
    /// `clearMarketOverride`.
    MarketOverrideClear,
    /// `cancelUserOrder`.
    OrderCancel,
}

impl AuditAction {
    const ALL: [(AuditAction, &'static str); 10] = [
        (AuditAction::StockCreate, "stock.create"),
        (AuditAction::StockUpdate, "stock.update"),
        (AuditAction::UserUpdate, "user.update"),
        (AuditAction::UserResetPassword, "user.reset_password"),
        (AuditAction::MarketHoursUpdate, "market.hours.update"),
        (AuditAction::MarketHolidayAdd, "market.holiday.add"),
        (AuditAction::MarketHolidayDelete, "market.holiday.delete"),
        (AuditAction::MarketOverrideSet, "market.override.set"),
        (AuditAction::MarketOverrideClear, "market.override.clear"),
        (AuditAction::OrderCancel, "order.cancel"),
    ];

    /// The name stored in the log.
    fn stored(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .map_or("", |(_, name)| name)
    }

    fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == stored)
            .map(|(a, _)| *a)
    }
}

/// One audited admin action. `before` and `after` are JSON snapshots of what changed.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AuditEntry {
    /// Global id.
    pub id: ID,
    /// The entry's row number.
    pub database_id: i64,
    /// The action; null for one this server version does not know (see `actionName`).
    pub action: Option<AuditAction>,
    /// The action as stored, e.g. `"stock.update"`.
    pub action_name: String,
    /// Who acted: a user's database id, or `cli` for the server's command line. See `actor`.
    pub actor_id: String,
    /// What kind of object changed: `stock`, `user`, `order`, `holiday`, `market_hours` or
    /// `market`.
    pub target_type: String,
    /// The changed object's key within `targetType` (a row id or weekday); see `target`.
    pub target_id: Option<String>,
    /// The changed fields before the action; null when it created something.
    pub before: Option<Json<serde_json::Value>>,
    /// The changed fields after the action; null when it deleted something.
    pub after: Option<Json<serde_json::Value>>,
    /// The admin's address as the server saw it.
    pub client_addr: Option<String>,
    /// When it happened.
    pub created_at: DateTime,
    #[graphql(skip)]
    pub actor: Actor,
}

impl From<DomainAuditEntry> for AuditEntry {
    fn from(e: DomainAuditEntry) -> Self {
        AuditEntry {
            id: global_id(Kind::AuditEntry, e.id),
            database_id: e.id,
            action: AuditAction::parse(&e.action),
            action_name: e.action,
            actor_id: e.actor_id.to_string(),
            target_type: e.target_type,
            target_id: e.target_id,
            before: e.before.map(Json),
            after: e.after.map(Json),
            client_addr: e.client_addr,
            created_at: e.created_at.into(),
            actor: e.actor_id,
        }
    }
}

#[ComplexObject]
impl AuditEntry {
    /// The admin who acted; null for the server's command line (or a deleted account).
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Actor::User(id) = self.actor else {
            return Ok(None);
        };
        let admin = admin(ctx).await?;
        match ctx.services().admin.user(&admin, id).await {
            Ok(record) => Ok(Some(record.into())),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The object changed as it is now; null when it no longer exists.
    async fn target(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        let (kind, key) = match (self.target_type.as_str(), self.target_id.as_deref()) {
            ("market", _) => (Kind::MarketState, "market"),
            ("stock", Some(key)) => (Kind::Stock, key),
            ("user", Some(key)) => (Kind::User, key),
            ("holiday", Some(key)) => (Kind::Holiday, key),
            ("order", Some(key)) => (Kind::Order, key),
            ("market_hours", Some(key)) => (Kind::MarketDay, key),
            _ => return Ok(None),
        };
        super::resolve::by_key(ctx, kind, key).await
    }
}

/// What `updateUser` did.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The account after the change; null when refused.
    pub user: Option<User>,
    /// Expected failures: BAD_USER_INPUT, NOT_FOUND, CONFLICT (email taken, last admin).
    pub user_errors: Vec<UserError>,
}

/// A password reset. `temporaryPassword` is shown once, when the server generated it.
#[derive(SimpleObject, Default)]
pub struct ResetPasswordPayload {
    /// The account; null when refused.
    pub user: Option<User>,
    /// The generated password, shown only here; null when `newPassword` was given.
    pub temporary_password: Option<String>,
    /// Expected failures: BAD_USER_INPUT, NOT_FOUND.
    pub user_errors: Vec<UserError>,
}

/// What `createStock` or `updateStock` did.
#[derive(SimpleObject)]
pub struct StockPayload {
    /// The stock after the change; null when refused.
    pub stock: Option<Stock>,
    /// Expected failures: BAD_USER_INPUT, NOT_FOUND, CONFLICT (symbol taken).
    pub user_errors: Vec<UserError>,
}

/// What `updateMarketHours` did.
#[derive(SimpleObject)]
pub struct MarketHoursPayload {
    /// The weekday's hours after the change; null when refused.
    pub market_day: Option<MarketDay>,
    /// The market state the change leads to.
    pub market_state: Option<MarketState>,
    /// Expected failures: BAD_USER_INPUT.
    pub user_errors: Vec<UserError>,
}

/// What `addHoliday` or `deleteHoliday` did.
#[derive(SimpleObject)]
pub struct HolidayPayload {
    /// The listed day added or deleted; null when refused.
    pub holiday: Option<Holiday>,
    /// The market state the change leads to (a holiday today closes the market at once).
    pub market_state: Option<MarketState>,
    /// Expected failures: BAD_USER_INPUT (e.g. `closeTime` missing for an early close, or
    /// given for another kind), NOT_FOUND, CONFLICT (the date is listed already).
    pub user_errors: Vec<UserError>,
}

/// What `setMarketOverride` or `clearMarketOverride` did.
#[derive(SimpleObject)]
pub struct MarketStatePayload {
    /// The market state now; null when refused.
    pub market_state: Option<MarketState>,
    /// Expected failures: BAD_USER_INPUT.
    pub user_errors: Vec<UserError>,
}

/// Live figures for the dashboard. Its id is constant: the query and the subscription update
/// one cache record.
#[derive(SimpleObject, Clone)]
pub struct AdminStats {
    /// Global id (constant).
    pub id: ID,
    /// Every account, deactivated ones included.
    pub total_users: u64,
    /// Users seen (login, token refresh, socket) in the last 15 minutes.
    pub active_users: u64,
    /// Open subscriptions on the instance that answers: over WebSocket and over Server-Sent
    /// Events (each operation of an event stream).
    pub open_subscriptions: u64,
    /// Open connections for live feeds on the instance that answers: WebSockets and GraphQL
    /// event streams (Server-Sent Events).
    pub open_connections: u64,
    /// Orders placed since the start of today's trading day (market time zone).
    pub orders_today: u64,
    /// Value of today's executed orders.
    pub traded_value_today: Decimal,
    /// Orders waiting for the open.
    pub queued_orders: u64,
    /// When these figures were read.
    pub at: DateTime,
}

impl AdminStats {
    pub fn new(s: &Services, live: &LiveCounters, stats: Stats) -> Self {
        let (connections, subscriptions) = live.snapshot();
        AdminStats {
            id: global_id(Kind::AdminStats, "dashboard"),
            total_users: stats.total_users,
            active_users: stats.active_users,
            open_subscriptions: subscriptions as u64,
            open_connections: connections as u64,
            orders_today: stats.orders_today,
            traded_value_today: money(stats.traded_value_today_cents),
            queued_orders: stats.queued_orders,
            at: s.clock.now().into(),
        }
    }
}

/// How complete one stock's candles are in one interval.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CandleStat {
    /// Global id (one per stock and interval).
    pub id: ID,
    /// The candle length.
    pub interval: CandleInterval,
    /// Candles stored.
    pub count: u64,
    /// Oldest bucket stored; null when none.
    pub first_bucket: Option<DateTime>,
    /// Newest bucket stored; null when none.
    pub last_bucket: Option<DateTime>,
    /// Buckets the trading calendar (as configured now) expects between the first and the
    /// last that have no candle.
    pub gaps: u64,
    #[graphql(skip)]
    pub stock_id: i64,
}

impl From<CandleCoverage> for CandleStat {
    fn from(c: CandleCoverage) -> Self {
        CandleStat {
            id: global_id(
                Kind::CandleStat,
                format!("{}:{}", c.stock_id, c.interval.as_str()),
            ),
            interval: c.interval.into(),
            count: c.count,
            first_bucket: c.first.map(Into::into),
            last_bucket: c.last.map(Into::into),
            gaps: c.gaps,
            stock_id: c.stock_id,
        }
    }
}

#[ComplexObject]
impl CandleStat {
    /// The stock.
    async fn stock(&self, ctx: &Context<'_>) -> ApiResult<Stock> {
        load_stock(ctx, self.stock_id).await
    }
}

/// How often the `adminStats` subscription pushes.
const STATS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Default)]
pub struct AdminSubscription;

#[Subscription]
impl AdminSubscription {
    /// The dashboard figures now, then every 5 seconds. ADMIN only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn admin_stats(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = AdminStats> + use<>> {
        let admin = admin(ctx).await?;
        let services = ctx.services().clone();
        let live = ctx.data_unchecked::<Arc<LiveCounters>>().clone();
        let ticks = tokio_stream_interval(STATS_EVERY);
        Ok(ticks.filter_map(move |_| {
            let (services, live, admin) = (services.clone(), live.clone(), admin.clone());
            async move {
                match services.admin.stats(&admin).await {
                    Ok(stats) => Some(AdminStats::new(&services, &live, stats)),
                    Err(e) => {
                        tracing::warn!(error = %e, "admin stats feed");
                        None
                    }
                }
            }
        }))
    }
}

/// Fires at once, then every `every`.
fn tokio_stream_interval(every: std::time::Duration) -> impl Stream<Item = ()> {
    futures_util::stream::unfold(tokio::time::interval(every), |mut interval| async move {
        interval.tick().await;
        Some(((), interval))
    })
}

/// The caller's admin proof, checked against the database.
pub async fn admin(ctx: &Context<'_>) -> ApiResult<Admin> {
    let s = ctx.services();
    Ok(s.admin.verify(ctx.viewer()?, ctx.client_addr()).await?)
}

/// The market state now, for a payload (null, and logged, when it cannot be read: the change
/// itself is committed).
async fn state_now(ctx: &Context<'_>) -> Option<MarketState> {
    match ctx.services().market.status().await {
        Ok(status) => Some(status.into()),
        Err(e) => {
            tracing::warn!(error = %e, "reading the market state for a payload");
            None
        }
    }
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every stock, halted ones included. ADMIN only.
    #[graphql(
        guard = "RoleGuard::admin()",
        complexity = "list_cost(UNCAPPED_LIST, child_complexity)"
    )]
    async fn admin_stocks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stock>> {
        let admin = admin(ctx).await?;
        let stocks = ctx.services().admin.stocks(&admin).await?;
        Ok(stocks.into_iter().map(Stock::from).collect())
    }

    /// Accounts, newest first, filtered by a search on email or name, role and active flag.
    /// ADMIN only.
    #[graphql(
        guard = "RoleGuard::admin()",
        complexity = "super::connection::cost(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Accounts after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Accounts before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
        #[graphql(desc = "Part of the email or name, any case.")] search: Option<String>,
        #[graphql(desc = "Only accounts with this role.")] role: Option<Role>,
        #[graphql(desc = "Only active (true) or deactivated (false) accounts.")] active: Option<
            bool,
        >,
    ) -> ApiResult<Conn<User>> {
        let admin = admin(ctx).await?;
        let page = PageArgs::new(first, after, last, before).request()?;
        let filter = UserFilter {
            search,
            role: role.map(Into::into),
            active,
        };
        let rows = ctx.services().admin.users(&admin, filter, page).await?;
        Ok(connection(rows, User::from))
    }

    /// One account; null when there is none with this id. ADMIN only (customers read
    /// themselves through `viewer`).
    #[graphql(guard = "RoleGuard::admin()")]
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's global id.")] id: ID,
    ) -> ApiResult<Option<User>> {
        let admin = admin(ctx).await?;
        let id = row_id(&id, Kind::User, "id")?;
        match ctx.services().admin.user(&admin, id).await {
            Ok(record) => Ok(Some(record.into())),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Dashboard figures. ADMIN only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn admin_stats(&self, ctx: &Context<'_>) -> ApiResult<AdminStats> {
        let admin = admin(ctx).await?;
        let s = ctx.services();
        let live = ctx.data_unchecked::<Arc<LiveCounters>>();
        Ok(AdminStats::new(s, live, s.admin.stats(&admin).await?))
    }

    /// Candle coverage per stock and interval: counts, first and last bucket, gaps. ADMIN
    /// only.
    #[graphql(
        guard = "RoleGuard::admin()",
        complexity = "list_cost(Interval::ALL.len() * UNCAPPED_LIST, child_complexity)"
    )]
    async fn candle_stats(&self, ctx: &Context<'_>) -> ApiResult<Vec<CandleStat>> {
        let admin = admin(ctx).await?;
        let rows = ctx.services().admin.candle_stats(&admin).await?;
        Ok(rows.into_iter().map(CandleStat::from).collect())
    }

    /// Admin actions, newest first. ADMIN only.
    #[graphql(
        guard = "RoleGuard::admin()",
        complexity = "super::connection::cost(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Entries after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Entries before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
        #[graphql(desc = "Only this action.")] action: Option<AuditAction>,
        #[graphql(desc = "Only actions of this admin (a `User` global id).")] actor_id: Option<ID>,
    ) -> ApiResult<Conn<AuditEntry>> {
        let admin = admin(ctx).await?;
        let page = PageArgs::new(first, after, last, before).request()?;
        let actor = actor_id
            .as_ref()
            .map(|id| row_id(id, Kind::User, "actorId"))
            .transpose()?;
        let rows = ctx
            .services()
            .admin
            .audit_log(&admin, action.map(AuditAction::stored), actor, page)
            .await?;
        Ok(connection(rows, AuditEntry::from))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Edits an account. The last active admin can be neither demoted nor deactivated.
    /// ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The account (its global id) and the changes; null fields stay as they are."
        )]
        input: UpdateUserInput,
    ) -> ApiResult<UserPayload> {
        let admin = admin(ctx).await?;
        let result = async {
            let id = row_id(&input.id, Kind::User, "id")?;
            let changes = UserChanges {
                name: input.name,
                email: input.email,
                role: input.role.map(Into::into),
                active: input.active,
            };
            ctx.services().admin.update_user(&admin, id, changes).await
        }
        .await;
        let (user, user_errors) = split(result)?;
        Ok(UserPayload {
            user: user.map(User::from),
            user_errors,
        })
    }

    /// Sets `newPassword`, or generates a temporary one (returned once). Ends the user's
    /// sessions either way. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn reset_user_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account (its global id) and, optionally, the new password.")]
        input: ResetUserPasswordInput,
    ) -> ApiResult<ResetPasswordPayload> {
        let admin = admin(ctx).await?;
        let s = ctx.services();
        let result = async {
            let id = row_id(&input.id, Kind::User, "id")?;
            let temporary = s
                .admin
                .reset_password(&admin, id, input.new_password)
                .await?;
            Ok((s.admin.user(&admin, id).await?, temporary))
        }
        .await;
        let (done, user_errors) = split(result)?;
        Ok(match done {
            Some((user, temporary_password)) => ResetPasswordPayload {
                user: Some(user.into()),
                temporary_password,
                user_errors,
            },
            None => ResetPasswordPayload {
                user_errors,
                ..Default::default()
            },
        })
    }

    /// Lists a new stock; its candle history is backfilled before this returns. ADMIN only;
    /// audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn create_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stock to list.")] input: CreateStockInput,
    ) -> ApiResult<StockPayload> {
        let admin = admin(ctx).await?;
        let input = NewStock {
            symbol: input.symbol,
            name: input.name,
            initial_price: input.initial_price.0,
            drift: input.drift,
            volatility: input.volatility,
        };
        let result = ctx.services().admin.create_stock(&admin, input).await;
        stock_payload(result)
    }

    /// Changes a stock's name, drift, volatility or active flag. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn update_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The stock (its global id) and the changes; null fields stay as they are."
        )]
        input: UpdateStockInput,
    ) -> ApiResult<StockPayload> {
        let admin = admin(ctx).await?;
        let result = async {
            let id = row_id(&input.id, Kind::Stock, "id")?;
            let changes = StockChanges {
                name: input.name,
                drift: input.drift,
                volatility: input.volatility,
                active: input.active,
            };
            ctx.services().admin.update_stock(&admin, id, changes).await
        }
        .await;
        stock_payload(result)
    }

    /// Sets the trading hours of one weekday. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn update_market_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The weekday and its new hours.")] input: MarketHoursInput,
    ) -> ApiResult<MarketHoursPayload> {
        let admin = admin(ctx).await?;
        let hours = HoursInput {
            open: input.open,
            close: input.close,
            closed: input.closed,
        };
        let day = input.day;
        let result = ctx
            .services()
            .admin
            .update_market_hours(&admin, day, hours)
            .await;
        let (hours, user_errors) = split(result)?;
        Ok(MarketHoursPayload {
            market_state: match hours {
                Some(_) => state_now(ctx).await,
                None => None,
            },
            market_day: hours.map(|h| MarketDay::new(day, &h)),
            user_errors,
        })
    }

    /// Lists a calendar day: closes the market all day on `date`, closes it early, or keeps
    /// it open on a day the exchange's rules would close; takes effect at once. ADMIN only;
    /// audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn add_holiday(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day, its name and what it does to the hours.")] input: HolidayInput,
    ) -> ApiResult<HolidayPayload> {
        let admin = admin(ctx).await?;
        let day = CalendarDayInput {
            date: input.date.0,
            name: input.name,
            kind: match input.kind {
                CalendarDayKind::Holiday => ListedKind::Holiday,
                CalendarDayKind::EarlyClose => ListedKind::EarlyClose,
                CalendarDayKind::Open => ListedKind::Open,
            },
            close_time: input.close_time,
        };
        let result = ctx.services().admin.add_holiday(&admin, day).await;
        holiday_payload(ctx, result).await
    }

    /// Removes a listed day: its date follows the exchange's rules and its weekday's hours
    /// again. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn delete_holiday(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The holiday (its global id).")] input: DeleteHolidayInput,
    ) -> ApiResult<HolidayPayload> {
        let admin = admin(ctx).await?;
        let result = async {
            let id = row_id(&input.id, Kind::Holiday, "id")?;
            ctx.services().admin.delete_holiday(&admin, id).await
        }
        .await;
        holiday_payload(ctx, result).await
    }

    /// Emergency override: forces the market open or closed, regardless of the schedule, until
    /// `clearMarketOverride`. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn set_market_override(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Open or closed, and why.")] input: MarketOverrideInput,
    ) -> ApiResult<MarketStatePayload> {
        let admin = admin(ctx).await?;
        let result = ctx
            .services()
            .admin
            .set_override(&admin, Some(input.open), input.reason)
            .await;
        let (state, user_errors) = split(result)?;
        Ok(MarketStatePayload {
            market_state: state.map(MarketState::from),
            user_errors,
        })
    }

    /// Returns the market to its schedule. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn clear_market_override(&self, ctx: &Context<'_>) -> ApiResult<MarketStatePayload> {
        let admin = admin(ctx).await?;
        let result = ctx.services().admin.set_override(&admin, None, None).await;
        let (state, user_errors) = split(result)?;
        Ok(MarketStatePayload {
            market_state: state.map(MarketState::from),
            user_errors,
        })
    }
}

fn stock_payload(
    result: Result<crate::domain::market::stocks::Quote, Error>,
) -> ApiResult<StockPayload> {
    let (stock, user_errors) = split(result)?;
    Ok(StockPayload {
        stock: stock.map(Stock::from),
        user_errors,
    })
}

async fn holiday_payload(
    ctx: &Context<'_>,
    result: Result<crate::domain::market::Holiday, Error>,
) -> ApiResult<HolidayPayload> {
    let (holiday, user_errors) = split(result)?;
    let market_state = match holiday {
        Some(_) => state_now(ctx).await,
        None => None,
    };
    Ok(HolidayPayload {
        holiday: holiday.map(Holiday::from),
        market_state,
        user_errors,
    })
}
