//! The admin API: stocks, market hours and holidays, the override, the audit log.
//! Every field needs the ADMIN role (anonymous: UNAUTHENTICATED, customers: FORBIDDEN).

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{
    context::ContextExt,
    error::{ApiResult, parse_id},
    guards::RoleGuard,
    market::{Holiday, MarketDay, MarketState, Stock},
    trading::connection,
};
use crate::domain::{
    admin::{
        Admin, AuditEntry as DomainAuditEntry,
        market::HoursInput,
        stocks::{NewStock, StockChanges},
    },
    trading::page::PageRequest,
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

/// The caller's admin proof, checked against the database.
async fn admin(ctx: &Context<'_>) -> ApiResult<Admin> {
    let s = ctx.services();
    Ok(Admin::verify(&s.db, ctx.viewer()?, ctx.client_addr()).await?)
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
