//! Global object identification (the Relay spec): every object a screen shows has an opaque,
//! globally unique `id`, and `node(id:)` fetches any of them again. Normalized client caches
//! (Apollo, urql Graphcache, Relay) key their records by `__typename` and this id.
//!
//! An id is base64 of `Type:key`. Clients must treat it as opaque; the encoding is the
//! common convention so that a person debugging can still read one.

use std::fmt::Display;

use async_graphql::{Context, ID, Interface, Object};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{
    accounts::User,
    admin::{AdminStats, AuditEntry, CandleStat},
    error::ApiResult,
    market::{Candle, Holiday, MarketDay, MarketState, Stock},
    trading::{Cash, CashTransaction, Order, Portfolio, Position, Trade},
};
use crate::domain::Error;

/// The kinds of object with a global id; each name is its GraphQL type's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stock,
    Order,
    Trade,
    CashTransaction,
    User,
    Holiday,
    AuditEntry,
    Cash,
    Portfolio,
    Position,
    MarketState,
    AdminStats,
    MarketDay,
    Candle,
    CandleStat,
}

impl Kind {
    const ALL: [Kind; 15] = [
        Kind::Stock,
        Kind::Order,
        Kind::Trade,
        Kind::CashTransaction,
        Kind::User,
        Kind::Holiday,
        Kind::AuditEntry,
        Kind::Cash,
        Kind::Portfolio,
        Kind::Position,
        Kind::MarketState,
        Kind::AdminStats,
        Kind::MarketDay,
        Kind::Candle,
        Kind::CandleStat,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Stock => "Stock",
            Kind::Order => "Order",
            Kind::Trade => "Trade",
            Kind::CashTransaction => "CashTransaction",
            Kind::User => "User",
            Kind::Holiday => "Holiday",
            Kind::AuditEntry => "AuditEntry",
            Kind::Cash => "Cash",
            Kind::Portfolio => "Portfolio",
            Kind::Position => "Position",
            Kind::MarketState => "MarketState",
            Kind::AdminStats => "AdminStats",
            Kind::MarketDay => "MarketDay",
            Kind::Candle => "Candle",
            Kind::CandleStat => "CandleStat",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The global id of the `kind` object with `key`.
pub fn global_id(kind: Kind, key: impl Display) -> ID {
    ID(STANDARD.encode(format!("{}:{key}", kind.name())))
}

/// The kind and key of a global id; None when it is not one of ours.
pub fn decode(id: &str) -> Option<(Kind, String)> {
    let raw = STANDARD.decode(id.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (kind, key) = text.split_once(':')?;
    Some((Kind::parse(kind)?, key.to_string()))
}

/// The database row id inside a global id of `kind`; BAD_USER_INPUT naming `field` when `id`
/// is not such an id.
pub fn row_id(id: &ID, kind: Kind, field: &'static str) -> Result<i64, Error> {
    decode(id)
        .filter(|(k, _)| *k == kind)
        .and_then(|(_, key)| key.parse::<i64>().ok().filter(|n| n.to_string() == key))
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Error::bad_input(field, format!("{field} is not the id of a {}", kind.name()))
        })
}

/// An object with a global id. Fetch any of them again with `node(id:)`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "&ID",
    desc = "Opaque and globally unique: the key of this object in a client cache. Never \
            build one; take it from a response."
))]
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Stock(Stock),
    Order(Order),
    Trade(Trade),
    CashTransaction(CashTransaction),
    User(User),
    Holiday(Holiday),
    AuditEntry(AuditEntry),
    Cash(Cash),
    Portfolio(Portfolio),
    Position(Position),
    MarketState(MarketState),
    AdminStats(AdminStats),
    MarketDay(MarketDay),
    Candle(Candle),
    CandleStat(CandleStat),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global `id`. Null when no such object exists or the caller may not
    /// see it (another user's order, say): the two are deliberately indistinguishable.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id taken from a response, e.g. `Stock.id`.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        super::resolve::node(ctx, &id).await
    }

    /// Several objects by their global ids, in the order asked (at most 100). Each entry is
    /// null where `node(id:)` would be.
    #[graphql(
        complexity = "super::connection::list_cost(if ids.len() <= MAX_NODES { ids.len() } else { 1 }, child_complexity)"
    )]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids taken from responses; at most 100.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(Error::bad_input("ids", format!("at most {MAX_NODES} ids")).into());
        }
        let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
        super::resolve::nodes(ctx, &ids).await
    }
}

/// Most ids one `nodes` call takes.
const MAX_NODES: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_typed() {
        let id = global_id(Kind::Stock, 7);
        assert_eq!(id.as_str(), "U3RvY2s6Nw==");
        assert_eq!(decode(&id), Some((Kind::Stock, "7".to_string())));
        assert_eq!(row_id(&id, Kind::Stock, "id").ok(), Some(7));
        assert!(row_id(&id, Kind::Order, "id").is_err());
        let composite = global_id(Kind::Position, "3:7");
        assert_eq!(
            decode(&composite),
            Some((Kind::Position, "3:7".to_string()))
        );
    }

    #[test]
    fn foreign_ids_are_refused() {
        for raw in ["7", "", "not base64!", "VW5rbm93bjox" /* Unknown:1 */] {
            assert!(decode(raw).is_none(), "{raw}");
            assert!(row_id(&ID(raw.into()), Kind::Stock, "id").is_err(), "{raw}");
        }
        let zero = global_id(Kind::Stock, 0);
        assert!(row_id(&zero, Kind::Stock, "id").is_err());
        // One id per object: no sign, no leading zeros.
        for key in ["+7", "07", " 7"] {
            let id = global_id(Kind::Stock, key);
            assert!(row_id(&id, Kind::Stock, "id").is_err(), "{key}");
        }
    }
}
