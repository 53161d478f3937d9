//! `node(id:)` and `nodes(ids:)`: objects by global id, for whoever may see them. Public
//! objects answer everyone; an account's records answer their owner and admins; admin records
//! answer admins. Everything else reads as null, exactly like an id that names nothing, so no
//! answer tells a caller that someone else's object exists.
//!
//! Costs: the stocks among `nodes(ids:)` are read in one query (the StockLoader); every other
//! id is one lookup, in order. The caller's access is settled once per call.

use std::collections::HashMap;

use async_graphql::{Context, dataloader::DataLoader};
use chrono::{DateTime, Utc};

use super::{
    Caller,
    accounts::User,
    admin::{AdminStats, AuditEntry, CandleStat},
    context::ContextExt,
    error::ApiResult,
    live::LiveCounters,
    market::{Candle, Holiday, MarketDay, Stock},
    node::{Kind, Node, decode},
    trading::{Cash, CashTransaction, Order, Portfolio, Position, StockLoader, Trade},
};
use crate::domain::{
    Error,
    admin::Admin,
    auth::Role,
    market::{CandleWindow, candles::Interval, stocks::Quote},
    trading::{lookup::Reader, units::UserId},
};

/// The objects with global ids `ids`, in the order asked; None where an id names nothing the
/// caller may see.
pub async fn nodes(ctx: &Context<'_>, ids: &[&str]) -> ApiResult<Vec<Option<Node>>> {
    let keys: Vec<Option<(Kind, Key)>> = ids
        .iter()
        .map(|id| decode(id).and_then(|(kind, key)| Some((kind, Key::parse(kind, &key)?))))
        .collect();
    let mut lookup = Lookup::new(ctx);
    lookup.load_stocks(keys.iter().flatten()).await?;
    let mut found = Vec::with_capacity(keys.len());
    for key in &keys {
        found.push(match key {
            Some((kind, key)) => lookup.get(*kind, key).await?,
            None => None,
        });
    }
    Ok(found)
}

/// The object with global id `id`; None when it names nothing the caller may see.
pub async fn node(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Node>> {
    Ok(nodes(ctx, &[id]).await?.pop().flatten())
}

/// The `kind` object with `key` (the part of a global id after the type); None when it names
/// nothing the caller may see.
pub async fn by_key(ctx: &Context<'_>, kind: Kind, key: &str) -> ApiResult<Option<Node>> {
    match Key::parse(kind, key) {
        Some(key) => Lookup::new(ctx).get(kind, &key).await,
        None => Ok(None),
    }
}

/// What a global id's key names, parsed. Pure and total: a key that no object of its kind can
/// have parses to None.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    /// A row id; a weekday (MarketDay); the owner's id (Cash, Portfolio, User).
    Number(i64),
    /// A Position: the owner and the stock.
    Holding { user: i64, stock: i64 },
    /// A CandleStat: the stock and the interval.
    Series { stock: i64, interval: Interval },
    /// A Candle: the stock, the interval and the bucket's start.
    Bucket {
        stock: i64,
        interval: Interval,
        start: DateTime<Utc>,
    },
    /// The one object of its kind (MarketState, AdminStats).
    Single,
}

impl Key {
    fn parse(kind: Kind, key: &str) -> Option<Key> {
        let parts: Vec<&str> = key.split(':').collect();
        match (kind, parts.as_slice()) {
            (Kind::MarketState, ["market"]) | (Kind::AdminStats, ["dashboard"]) => {
                Some(Key::Single)
            }
            (Kind::Position, [user, stock]) => Some(Key::Holding {
                user: number(user)?,
                stock: number(stock)?,
            }),
            (Kind::CandleStat, [stock, interval]) => Some(Key::Series {
                stock: number(stock)?,
                interval: Interval::parse(interval)?,
            }),
            (Kind::Candle, [stock, interval, start]) => Some(Key::Bucket {
                stock: number(stock)?,
                interval: Interval::parse(interval)?,
                start: DateTime::from_timestamp(number(start)?, 0)?,
            }),
            (
                Kind::MarketState
                | Kind::AdminStats
                | Kind::Position
                | Kind::CandleStat
                | Kind::Candle,
                _,
            ) => None,
            (_, [n]) => Some(Key::Number(number(n)?)),
            _ => None,
        }
    }
}

/// A number as the server writes it into keys (digits only, no sign, no leading zero), so
/// that each object has exactly one id.
fn number(s: &str) -> Option<i64> {
    let n = s.parse::<i64>().ok().filter(|n| *n >= 0)?;
    (n.to_string() == s).then_some(n)
}

/// Who asks, settled at the first private object.
enum Access {
    Anonymous,
    Owner(i64),
    Admin(Admin),
}

impl Access {
    /// The caller as the database sees them now. An invalid token is UNAUTHENTICATED (the
    /// client should refresh), as everywhere; an admin demoted since the token was issued
    /// reads as the customer they now are.
    async fn of(ctx: &Context<'_>) -> Result<Access, Error> {
        if matches!(ctx.caller(), Caller::Anonymous) {
            return Ok(Access::Anonymous);
        }
        let viewer = ctx.viewer()?;
        if viewer.role == Role::Customer {
            return Ok(Access::Owner(viewer.user_id));
        }
        match ctx.services().admin.verify(viewer, ctx.client_addr()).await {
            Ok(admin) => Ok(Access::Admin(admin)),
            Err(Error::Forbidden(_)) => Ok(Access::Owner(viewer.user_id)),
            Err(e) => Err(e),
        }
    }

    fn reader(&self) -> Option<Reader<'_>> {
        match self {
            Access::Anonymous => None,
            Access::Owner(id) => Some(Reader::Owner(UserId(*id))),
            Access::Admin(admin) => Some(Reader::Admin(admin)),
        }
    }
}

/// One `node`/`nodes` call's lookups.
struct Lookup<'c, 'r> {
    ctx: &'c Context<'r>,
    /// Settled at the first private object (public ones need no caller).
    access: Option<Access>,
    /// Stocks read ahead, in one query, for `nodes`.
    stocks: HashMap<i64, Quote>,
}

impl<'c, 'r> Lookup<'c, 'r> {
    fn new(ctx: &'c Context<'r>) -> Self {
        Lookup {
            ctx,
            access: None,
            stocks: HashMap::new(),
        }
    }

    /// Reads every stock among `keys` at once.
    async fn load_stocks<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k (Kind, Key)>,
    ) -> ApiResult<()> {
        let ids: Vec<i64> = keys
            .filter_map(|(kind, key)| match (kind, key) {
                (Kind::Stock, Key::Number(id)) => Some(*id),
                _ => None,
            })
            .collect();
        if ids.len() > 1 {
            self.stocks = self
                .stock_loader()?
                .load_many(ids)
                .await
                .map_err(Error::internal)?;
        }
        Ok(())
    }

    fn stock_loader(&self) -> ApiResult<&'c DataLoader<StockLoader>> {
        Ok(self.ctx.data::<DataLoader<StockLoader>>()?)
    }

    /// The `kind` object with `key`, if the caller may see it.
    async fn get(&mut self, kind: Kind, key: &Key) -> ApiResult<Option<Node>> {
        let found = match kind {
            Kind::Stock | Kind::MarketState | Kind::MarketDay | Kind::Holiday | Kind::Candle => {
                self.public(kind, key).await
            }
            _ => self.private(kind, key).await,
        };
        // An object that does not exist, or that the caller may not see, is absent; the
        // domain says so with these errors (an unknown user's cash is NOT_FOUND, say).
        match found {
            Err(Error::NotFound(_) | Error::BadInput { .. } | Error::Forbidden(_)) => Ok(None),
            other => Ok(other?),
        }
    }

    async fn public(&self, kind: Kind, key: &Key) -> Result<Option<Node>, Error> {
        let s = self.ctx.services();
        let market = &s.market;
        Ok(match (kind, key) {
            (Kind::Stock, Key::Number(id)) => {
                let quote = match self.stocks.get(id) {
                    Some(quote) => Some(quote.clone()),
                    None => self
                        .stock_loader()
                        .map_err(|_| Error::internal("the stock loader is missing"))?
                        .load_one(*id)
                        .await
                        .map_err(Error::internal)?,
                };
                quote.map(|q| Node::Stock(Stock::from(q)))
            }
            (Kind::MarketState, Key::Single) => {
                Some(Node::MarketState(market.status().await?.into()))
            }
            (Kind::MarketDay, Key::Number(day)) => {
                let config = market.config().await?;
                let hours = usize::try_from(*day)
                    .ok()
                    .and_then(|d| config.calendar.week.get(d));
                match (hours, i32::try_from(*day)) {
                    (Some(hours), Ok(day)) => Some(Node::MarketDay(MarketDay::new(day, hours))),
                    _ => None,
                }
            }
            (Kind::Holiday, Key::Number(id)) => market
                .holidays()
                .await?
                .into_iter()
                .find(|h| h.id == *id)
                .map(|h| Node::Holiday(Holiday::from(h))),
            (
                Kind::Candle,
                Key::Bucket {
                    stock,
                    interval,
                    start,
                },
            ) => {
                // One second wide: buckets start on whole hours, so this is the bucket or
                // nothing. (At the very end of time there is no such window.)
                let Some(to) = start.checked_add_signed(chrono::Duration::seconds(1)) else {
                    return Ok(None);
                };
                let window = CandleWindow {
                    from: Some(*start),
                    to: Some(to),
                    last: Some(1),
                };
                let series = market.candles(*stock, *interval, window).await?;
                // Only the newest bucket may still change: it is live while now is in it.
                let now = s.clock.now();
                let tz = market.timezone();
                series
                    .candles
                    .into_iter()
                    .find(|c| c.bucket_start == *start)
                    .map(|c| {
                        let ended = c.has_ended(now, tz);
                        Node::Candle(Candle::new(c, ended))
                    })
            }
            _ => None,
        })
    }

    async fn private(&mut self, kind: Kind, key: &Key) -> Result<Option<Node>, Error> {
        let ctx = self.ctx;
        if self.access.is_none() {
            self.access = Some(Access::of(ctx).await?);
        }
        let Some(access) = &self.access else {
            return Ok(None);
        };
        let Some(reader) = access.reader() else {
            return Ok(None);
        };
        let s = ctx.services();
        let trading = &s.trading;
        Ok(match (kind, key) {
            (Kind::Order, Key::Number(id)) => trading
                .order_for(reader, *id)
                .await?
                .map(|o| Node::Order(Order::from(o))),
            (Kind::Trade, Key::Number(id)) => trading
                .trade_for(reader, *id)
                .await?
                .map(|t| Node::Trade(Trade::from(t))),
            (Kind::CashTransaction, Key::Number(id)) => trading
                .ledger_entry_for(reader, *id)
                .await?
                .map(|e| Node::CashTransaction(CashTransaction::from(e))),
            // Owner-scoped objects: decided by the owner in the key, before any read.
            (Kind::Cash | Kind::Portfolio | Kind::User, Key::Number(user))
            | (Kind::Position, Key::Holding { user, .. })
                if !reader.sees(*user) =>
            {
                None
            }
            (Kind::Cash, Key::Number(user)) => {
                Some(Node::Cash(Cash::of(*user, trading.cash(*user).await?)))
            }
            (Kind::Portfolio, Key::Number(user)) => Some(Node::Portfolio(Portfolio::new(
                trading.portfolio(*user).await?,
                s.clock.now(),
            ))),
            (Kind::User, Key::Number(user)) => Some(Node::User(match access {
                Access::Admin(admin) => User::from(s.admin.user(admin, *user).await?),
                _ => User::from(s.auth.user(*user).await?),
            })),
            (Kind::Position, Key::Holding { user, stock }) => trading
                .portfolio(*user)
                .await?
                .holdings
                .iter()
                .find(|h| h.stock_id == *stock)
                .map(|h| Node::Position(Position::of(*user, h))),
            (Kind::AuditEntry | Kind::AdminStats | Kind::CandleStat, _) => match access {
                Access::Admin(admin) => admin_node(ctx, admin, kind, key).await?,
                _ => None,
            },
            _ => None,
        })
    }
}

async fn admin_node(
    ctx: &Context<'_>,
    admin: &Admin,
    kind: Kind,
    key: &Key,
) -> Result<Option<Node>, Error> {
    let s = ctx.services();
    Ok(match (kind, key) {
        (Kind::AuditEntry, Key::Number(id)) => s
            .admin
            .audit_entry(admin, *id)
            .await?
            .map(|e| Node::AuditEntry(AuditEntry::from(e))),
        (Kind::AdminStats, Key::Single) => {
            let live = ctx
                .data::<std::sync::Arc<LiveCounters>>()
                .map_err(|e| Error::internal(e.message))?;
            let stats = s.admin.stats(admin).await?;
            Some(Node::AdminStats(AdminStats::new(s, live, stats)))
        }
        (Kind::CandleStat, Key::Series { stock, interval }) => s
            .admin
            .candle_stats(admin)
            .await?
            .into_iter()
            .find(|c| c.stock_id == *stock && c.interval == *interval)
            .map(|c| Node::CandleStat(CandleStat::from(c))),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_the_server_writes_them() {
        assert_eq!(Key::parse(Kind::Order, "42"), Some(Key::Number(42)));
        assert_eq!(Key::parse(Kind::MarketDay, "0"), Some(Key::Number(0)));
        assert_eq!(Key::parse(Kind::MarketState, "market"), Some(Key::Single));
        assert_eq!(Key::parse(Kind::AdminStats, "dashboard"), Some(Key::Single));
        assert_eq!(
            Key::parse(Kind::Position, "3:7"),
            Some(Key::Holding { user: 3, stock: 7 })
        );
        assert_eq!(
            Key::parse(Kind::CandleStat, "7:H4"),
            Some(Key::Series {
                stock: 7,
                interval: Interval::H4
            })
        );
        assert_eq!(
            Key::parse(Kind::Candle, "7:D1:1764046800"),
            Some(Key::Bucket {
                stock: 7,
                interval: Interval::D1,
                start: DateTime::from_timestamp(1_764_046_800, 0).unwrap_or_default(),
            })
        );
    }

    #[test]
    fn any_other_key_is_none_and_never_panics() {
        let too_big = format!("{}0", i64::MAX);
        let junk = [
            "",
            ":",
            "-1",
            "+1",
            "01",
            " 1",
            "1.0",
            "x",
            too_big.as_str(),
            "1:2:3:4",
        ];
        for kind in [
            Kind::Stock,
            Kind::Order,
            Kind::User,
            Kind::MarketDay,
            Kind::Position,
            Kind::Candle,
            Kind::CandleStat,
            Kind::MarketState,
            Kind::AdminStats,
        ] {
            for key in junk {
                assert_eq!(Key::parse(kind, key), None, "{kind:?} {key:?}");
            }
        }
        let beyond_time = format!("1:H1:{}", i64::MAX);
        for key in [
            "1:2",
            "1:H1",
            "1:X1:0",
            "1:H1:-5",
            "1:H1:x",
            beyond_time.as_str(),
        ] {
            assert_eq!(Key::parse(Kind::Candle, key), None, "{key}");
        }
        assert_eq!(Key::parse(Kind::MarketState, "other"), None);
        assert_eq!(Key::parse(Kind::Position, "3"), None);
        assert_eq!(Key::parse(Kind::Order, "3:7"), None);
        // The last instant there is parses; the lookup then finds no window after it
        // rather than overflowing.
        let last = DateTime::<Utc>::MAX_UTC.timestamp();
        assert!(matches!(
            Key::parse(Kind::Candle, &format!("1:H1:{last}")),
            Some(Key::Bucket { start, .. })
                if start.checked_add_signed(chrono::Duration::seconds(1)).is_none()
        ));
    }
}
