//! `node(id:)`: any object by its global id, for whoever may see it. Public objects answer
//! everyone; an account's records answer their owner and admins; admin records answer admins.
//! Everything else reads as null, exactly like an id that does not exist.

use async_graphql::Context;

use super::{
    accounts::User,
    admin::{AdminStats, AuditEntry, CandleStat, admin},
    context::ContextExt,
    error::ApiResult,
    live::LiveCounters,
    market::{Candle, Holiday, MarketDay},
    node::{Kind, Node, decode},
    trading::{Cash, CashTransaction, Order, Portfolio, Position, Trade, find_stock},
};
use crate::domain::{
    Error,
    admin::Admin,
    auth::Role,
    market::{CandleWindow, candles::Interval},
    trading::{lookup::Reader, units::UserId},
};

/// The object with global id `id`; None when it does not exist or the caller may not see it.
pub async fn node(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Node>> {
    match decode(id) {
        Some((kind, key)) => by_key(ctx, kind, &key).await,
        None => Ok(None),
    }
}

/// The `kind` object with `key`; None when it does not exist or the caller may not see it.
pub async fn by_key(ctx: &Context<'_>, kind: Kind, key: &str) -> ApiResult<Option<Node>> {
    let found = match kind {
        Kind::Stock | Kind::MarketState | Kind::MarketDay | Kind::Holiday | Kind::Candle => {
            public(ctx, kind, key).await
        }
        _ => private(ctx, kind, key).await,
    };
    // Whatever the caller may not see, or asked for with a key that is not one, is absent.
    match found {
        Err(Error::NotFound(_) | Error::BadInput { .. } | Error::Forbidden(_)) => Ok(None),
        other => Ok(other?),
    }
}

async fn public(ctx: &Context<'_>, kind: Kind, key: &str) -> Result<Option<Node>, Error> {
    let market = &ctx.services().market;
    match kind {
        Kind::Stock => Ok(find_stock(ctx, number(key)?)
            .await
            .map_err(|_| Error::internal("loading a stock"))?
            .map(Node::Stock)),
        Kind::MarketState if key == "market" => {
            Ok(Some(Node::MarketState(market.status().await?.into())))
        }
        Kind::MarketDay => {
            let day = number(key)?;
            let config = market.config().await?;
            Ok(config
                .calendar
                .week
                .get(day as usize)
                .map(|hours| Node::MarketDay(MarketDay::new(day as i32, hours))))
        }
        Kind::Holiday => {
            let id = number(key)?;
            let holidays = market.holidays().await?;
            Ok(holidays
                .into_iter()
                .find(|h| h.id == id)
                .map(|h| Node::Holiday(Holiday::from(h))))
        }
        Kind::Candle => {
            let mut parts = key.split(':');
            let (Some(stock), Some(interval), Some(bucket), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Ok(None);
            };
            let interval =
                Interval::parse(interval).ok_or_else(|| Error::NotFound("candle".into()))?;
            let bucket = chrono::DateTime::from_timestamp(number(bucket)?, 0)
                .ok_or_else(|| Error::NotFound("candle".into()))?;
            let window = CandleWindow {
                from: Some(bucket),
                to: Some(bucket + chrono::Duration::seconds(1)),
                last: Some(1),
            };
            let series = market.candles(number(stock)?, interval, window).await?;
            // Whether it is final is not known from one row; the newest bucket may be live.
            let now = ctx.services().clock.now();
            let tz = market.timezone();
            Ok(series.candles.into_iter().next().map(|c| {
                let live = c.interval.bucket_start(now, tz) == c.bucket_start;
                Node::Candle(Candle::new(c, !live))
            }))
        }
        _ => Ok(None),
    }
}

async fn private(ctx: &Context<'_>, kind: Kind, key: &str) -> Result<Option<Node>, Error> {
    let viewer = match ctx.caller() {
        super::Caller::Anonymous => return Ok(None),
        _ => ctx.viewer()?,
    };
    let proof: Option<Admin> = match viewer.role {
        Role::Admin => Some(
            admin(ctx)
                .await
                .map_err(|_| Error::Forbidden(String::new()))?,
        ),
        Role::Customer => None,
    };
    let reader = match &proof {
        Some(admin) => Reader::Admin(admin),
        None => Reader::Owner(UserId(viewer.user_id)),
    };
    let s = ctx.services();
    let trading = &s.trading;
    match kind {
        Kind::Order => Ok(trading
            .order_for(reader, number(key)?)
            .await?
            .map(|o| Node::Order(Order::from(o)))),
        Kind::Trade => Ok(trading
            .trade_for(reader, number(key)?)
            .await?
            .map(|t| Node::Trade(Trade::from(t)))),
        Kind::CashTransaction => Ok(trading
            .ledger_entry_for(reader, number(key)?)
            .await?
            .map(|e| Node::CashTransaction(CashTransaction::from(e)))),
        Kind::Cash | Kind::Portfolio | Kind::User => {
            let user_id = number(key)?;
            if !reader.sees(user_id) {
                return Ok(None);
            }
            Ok(Some(match kind {
                Kind::Cash => Node::Cash(Cash::of(user_id, trading.cash(user_id).await?)),
                Kind::Portfolio => Node::Portfolio(Portfolio::new(
                    trading.portfolio(user_id).await?,
                    s.clock.now(),
                )),
                _ => match &proof {
                    Some(admin) => Node::User(User::from(s.admin.user(admin, user_id).await?)),
                    None => Node::User(User::from(s.auth.user(user_id).await?)),
                },
            }))
        }
        Kind::Position => {
            let Some((user, stock)) = key.split_once(':') else {
                return Ok(None);
            };
            let (user_id, stock_id) = (number(user)?, number(stock)?);
            if !reader.sees(user_id) {
                return Ok(None);
            }
            let portfolio = trading.portfolio(user_id).await?;
            Ok(portfolio
                .holdings
                .iter()
                .find(|h| h.stock_id == stock_id)
                .map(|h| Node::Position(Position::of(user_id, h))))
        }
        Kind::AuditEntry | Kind::AdminStats | Kind::CandleStat => {
            let Some(admin) = &proof else {
                return Ok(None);
            };
            admin_node(ctx, admin, kind, key).await
        }
        _ => Ok(None),
    }
}

async fn admin_node(
    ctx: &Context<'_>,
    admin: &Admin,
    kind: Kind,
    key: &str,
) -> Result<Option<Node>, Error> {
    let s = ctx.services();
    match kind {
        Kind::AuditEntry => Ok(s
            .admin
            .audit_entry(admin, number(key)?)
            .await?
            .map(|e| Node::AuditEntry(AuditEntry::from(e)))),
        Kind::AdminStats if key == "dashboard" => {
            let live = ctx
                .data::<std::sync::Arc<LiveCounters>>()
                .map_err(|e| Error::internal(e.message))?;
            let stats = s.admin.stats(admin).await?;
            Ok(Some(Node::AdminStats(AdminStats::new(s, live, stats))))
        }
        Kind::CandleStat => {
            let Some((stock, interval)) = key.split_once(':') else {
                return Ok(None);
            };
            let stock_id = number(stock)?;
            let stats = s.admin.candle_stats(admin).await?;
            Ok(stats
                .into_iter()
                .find(|c| c.stock_id == stock_id && c.interval.as_str() == interval)
                .map(|c| Node::CandleStat(CandleStat::from(c))))
        }
        _ => Ok(None),
    }
}

/// A positive row id or number in a key (NOT_FOUND otherwise: such an id names nothing).
fn number(key: &str) -> Result<i64, Error> {
    key.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| Error::NotFound("object".into()))
}
