//! The admin API: stocks, market hours and holidays, the override, the audit log.
//! Every field needs the ADMIN role (anonymous: UNAUTHENTICATED, customers: FORBIDDEN).

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, ID, InputObject, Json, Object, SimpleObject, Subscription,
    connection::Connection,
};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{Stream, StreamExt};
use rust_decimal::Decimal;

use super::{
    accounts::Role,
    context::ContextExt,
    error::{ApiResult, parse_id},
    guards::RoleGuard,
    live::LiveCounters,
    market::{CandleInterval, Holiday, MarketDay, MarketState, Stock},
    trading::{
        Cash, Order, OrderStatus, Portfolio, Trade, connection, load_stock, orders_of, trades_of,
    },
};
use crate::{
    domain::{
        admin::{
            Admin, AuditEntry as DomainAuditEntry,
            market::HoursInput,
            stats::Stats,
            stocks::{NewStock, StockChanges},
            users::{UserChanges, UserFilter, UserRecord},
        },
        money::from_cents,
        page::PageRequest,
    },
    services::Services,
};

#[derive(InputObject)]
pub struct CreateStockInput {
    /// 1–10 letters, digits or dots; stored upper-case.
    pub symbol: String,
    pub name: String,
    pub initial_price: Decimal,
    /// Expected log return per trading day (default `DEFAULT_DRIFT`).
    pub drift: Option<f64>,
    /// Standard deviation of log returns per trading day (default `DEFAULT_VOLATILITY`).
    pub volatility: Option<f64>,
}

#[derive(InputObject)]
pub struct UpdateStockInput {
    pub name: Option<String>,
    pub drift: Option<f64>,
    pub volatility: Option<f64>,
    /// `false` halts the stock: no ticks, no new orders, its queued orders are rejected.
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct MarketHoursInput {
    /// `HH:MM` in the market time zone.
    pub open: String,
    /// `HH:MM`, after `open`.
    pub close: String,
    /// No trading at all on this weekday.
    pub closed: bool,
}

#[derive(InputObject)]
pub struct HolidayInput {
    pub date: NaiveDate,
    pub name: String,
}

/// One audited admin action. `before` and `after` are JSON snapshots of what changed.
#[derive(SimpleObject)]
pub struct AuditEntry {
    pub id: ID,
    pub actor_id: ID,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<Json<serde_json::Value>>,
    pub after: Option<Json<serde_json::Value>>,
    pub client_addr: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<DomainAuditEntry> for AuditEntry {
    fn from(e: DomainAuditEntry) -> Self {
        AuditEntry {
            id: ID(e.id.to_string()),
            actor_id: ID(e.actor_id.to_string()),
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            before: e.before.map(Json),
            after: e.after.map(Json),
            client_addr: e.client_addr,
            created_at: e.created_at,
        }
    }
}

/// An account as admins see it, with its money and activity.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AdminUser {
    pub id: ID,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Last login, token refresh or WebSocket connection.
    pub last_seen_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub user_id: i64,
}

impl From<UserRecord> for AdminUser {
    fn from(r: UserRecord) -> Self {
        AdminUser {
            id: ID(r.user.id.to_string()),
            email: r.user.email,
            name: r.user.name,
            role: r.user.role.into(),
            active: r.user.active,
            created_at: r.user.created_at,
            last_seen_at: r.last_seen_at,
            user_id: r.user.id,
        }
    }
}

#[ComplexObject]
impl AdminUser {
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Cash> {
        Ok(ctx.services().trading.cash(self.user_id).await?.into())
    }

    async fn portfolio(&self, ctx: &Context<'_>) -> ApiResult<Portfolio> {
        let s = ctx.services();
        Ok(Portfolio::new(
            s.trading.portfolio(self.user_id).await?,
            s.clock.now(),
        ))
    }

    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Order>> {
        orders_of(ctx, self.user_id, status, first, after).await
    }

    async fn trades(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Trade>> {
        trades_of(ctx, self.user_id, first, after).await
    }
}

#[derive(InputObject)]
pub struct UpdateUserInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates: no login, refresh tokens revoked, open sockets closed.
    pub active: Option<bool>,
}

/// A password reset. `temporaryPassword` is shown once, when the server generated it.
#[derive(SimpleObject)]
pub struct ResetPasswordPayload {
    pub user: AdminUser,
    pub temporary_password: Option<String>,
}

/// Live figures for the dashboard.
#[derive(SimpleObject, Clone)]
pub struct AdminStats {
    pub total_users: u64,
    /// Users seen (login, token refresh, socket) in the last 15 minutes.
    pub active_users: u64,
    /// Open WebSocket subscriptions on the instance that answers.
    pub open_subscriptions: u64,
    /// Open WebSocket connections on the instance that answers.
    pub open_connections: u64,
    /// Orders placed since the start of today's trading day (market time zone).
    pub orders_today: u64,
    pub traded_value_today: Decimal,
    pub queued_orders: u64,
    pub at: DateTime<Utc>,
}

impl AdminStats {
    fn new(s: &Services, live: &LiveCounters, stats: Stats) -> Self {
        let (connections, subscriptions) = live.snapshot();
        AdminStats {
            total_users: stats.total_users,
            active_users: stats.active_users,
            open_subscriptions: subscriptions as u64,
            open_connections: connections as u64,
            orders_today: stats.orders_today,
            traded_value_today: from_cents(stats.traded_value_today_cents),
            queued_orders: stats.queued_orders,
            at: s.clock.now(),
        }
    }
}

/// How complete one stock's candles are in one interval.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CandleStat {
    pub interval: CandleInterval,
    pub count: u64,
    pub first_bucket: Option<DateTime<Utc>>,
    pub last_bucket: Option<DateTime<Utc>>,
    /// Buckets the trading calendar (as configured now) expects between the first and the
    /// last that have no candle.
    pub gaps: u64,
    #[graphql(skip)]
    pub stock_id: i64,
}

#[ComplexObject]
impl CandleStat {
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
    /// The dashboard figures now, then every 5 seconds.
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
async fn admin(ctx: &Context<'_>) -> ApiResult<Admin> {
    let s = ctx.services();
    Ok(s.admin.verify(ctx.viewer()?, ctx.client_addr()).await?)
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every stock, halted ones included.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn admin_stocks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stock>> {
        let admin = admin(ctx).await?;
        let stocks = ctx.services().admin.stocks(&admin).await?;
        Ok(stocks.into_iter().map(Stock::from).collect())
    }

    /// Accounts, newest first, filtered by a search on email or name, role and active flag.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
        role: Option<Role>,
        active: Option<bool>,
    ) -> ApiResult<Connection<String, AdminUser>> {
        let admin = admin(ctx).await?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let filter = UserFilter {
            search,
            role: role.map(Into::into),
            active,
        };
        let rows = ctx.services().admin.users(&admin, filter, page).await?;
        Ok(connection(rows, AdminUser::from))
    }

    /// One account, with its cash, portfolio, orders and trades.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<AdminUser> {
        let admin = admin(ctx).await?;
        let id = parse_id(&id, "id")?;
        Ok(ctx.services().admin.user(&admin, id).await?.into())
    }

    /// Dashboard figures.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn admin_stats(&self, ctx: &Context<'_>) -> ApiResult<AdminStats> {
        let admin = admin(ctx).await?;
        let s = ctx.services();
        let live = ctx.data_unchecked::<Arc<LiveCounters>>();
        Ok(AdminStats::new(s, live, s.admin.stats(&admin).await?))
    }

    /// Candle coverage per stock and interval: counts, first and last bucket, gaps.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn candle_stats(&self, ctx: &Context<'_>) -> ApiResult<Vec<CandleStat>> {
        let admin = admin(ctx).await?;
        let rows = ctx.services().admin.candle_stats(&admin).await?;
        Ok(rows
            .into_iter()
            .map(|c| CandleStat {
                interval: c.interval.into(),
                count: c.count,
                first_bucket: c.first,
                last_bucket: c.last,
                gaps: c.gaps,
                stock_id: c.stock_id,
            })
            .collect())
    }

    /// Admin actions, newest first.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        action: Option<String>,
        actor_id: Option<ID>,
    ) -> ApiResult<Connection<String, AuditEntry>> {
        let admin = admin(ctx).await?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let actor = actor_id
            .as_ref()
            .map(|id| parse_id(id, "actorId"))
            .transpose()?;
        let rows = ctx
            .services()
            .admin
            .audit_log(&admin, action.as_deref(), actor, page)
            .await?;
        Ok(connection(rows, AuditEntry::from))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Edits an account. The last active admin can be neither demoted nor deactivated.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> ApiResult<AdminUser> {
        let admin = admin(ctx).await?;
        let id = parse_id(&id, "id")?;
        let changes = UserChanges {
            name: input.name,
            email: input.email,
            role: input.role.map(Into::into),
            active: input.active,
        };
        Ok(ctx
            .services()
            .admin
            .update_user(&admin, id, changes)
            .await?
            .into())
    }

    /// Sets `newPassword`, or generates a temporary one (returned once). Ends the user's
    /// sessions either way.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn reset_user_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        new_password: Option<String>,
    ) -> ApiResult<ResetPasswordPayload> {
        let admin = admin(ctx).await?;
        let id = parse_id(&id, "id")?;
        let s = ctx.services();
        let temporary_password = s.admin.reset_password(&admin, id, new_password).await?;
        let user = s.admin.user(&admin, id).await?.into();
        Ok(ResetPasswordPayload {
            user,
            temporary_password,
        })
    }

    /// Lists a new stock; its candle history is backfilled before this returns.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn create_stock(&self, ctx: &Context<'_>, input: CreateStockInput) -> ApiResult<Stock> {
        let admin = admin(ctx).await?;
        let input = NewStock {
            symbol: input.symbol,
            name: input.name,
            initial_price: input.initial_price,
            drift: input.drift,
            volatility: input.volatility,
        };
        Ok(ctx
            .services()
            .admin
            .create_stock(&admin, input)
            .await?
            .into())
    }

    /// Changes a stock's name, drift, volatility or active flag.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn update_stock(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateStockInput,
    ) -> ApiResult<Stock> {
        let admin = admin(ctx).await?;
        let id = parse_id(&id, "id")?;
        let changes = StockChanges {
            name: input.name,
            drift: input.drift,
            volatility: input.volatility,
            active: input.active,
        };
        Ok(ctx
            .services()
            .admin
            .update_stock(&admin, id, changes)
            .await?
            .into())
    }

    /// Sets the trading hours of one weekday (Monday = 0 … Sunday = 6).
    #[graphql(guard = "RoleGuard::admin()")]
    async fn update_market_hours(
        &self,
        ctx: &Context<'_>,
        day: i32,
        input: MarketHoursInput,
    ) -> ApiResult<MarketDay> {
        let admin = admin(ctx).await?;
        let hours = HoursInput {
            open: input.open,
            close: input.close,
            closed: input.closed,
        };
        let d = ctx
            .services()
            .admin
            .update_market_hours(&admin, day, hours)
            .await?;
        Ok(MarketDay {
            day,
            open: d.open.format("%H:%M").to_string(),
            close: d.close.format("%H:%M").to_string(),
            closed: d.closed,
        })
    }

    /// Closes the market all day on `date`; takes effect at once.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn add_holiday(&self, ctx: &Context<'_>, input: HolidayInput) -> ApiResult<Holiday> {
        let admin = admin(ctx).await?;
        Ok(ctx
            .services()
            .admin
            .add_holiday(&admin, input.date, &input.name)
            .await?
            .into())
    }

    #[graphql(guard = "RoleGuard::admin()")]
    async fn delete_holiday(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Holiday> {
        let admin = admin(ctx).await?;
        let id = parse_id(&id, "id")?;
        Ok(ctx
            .services()
            .admin
            .delete_holiday(&admin, id)
            .await?
            .into())
    }

    /// Emergency override: forces the market open or closed, regardless of the schedule, until
    /// `clearMarketOverride`.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn set_market_override(
        &self,
        ctx: &Context<'_>,
        open: bool,
        reason: Option<String>,
    ) -> ApiResult<MarketState> {
        let admin = admin(ctx).await?;
        Ok(ctx
            .services()
            .admin
            .set_override(&admin, Some(open), reason)
            .await?
            .into())
    }

    /// Returns the market to its schedule.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn clear_market_override(&self, ctx: &Context<'_>) -> ApiResult<MarketState> {
        let admin = admin(ctx).await?;
        Ok(ctx
            .services()
            .admin
            .set_override(&admin, None, None)
            .await?
            .into())
    }
}
