//! The GraphQL layer: per-area objects merged into one schema. Resolvers only translate.

pub mod account_feeds;
pub mod accounts;
pub mod admin;
pub mod connection;
pub mod context;
pub mod cost;
pub mod equity;
pub mod error;
pub mod feeds;
pub mod guards;
pub mod limits;
pub mod live;
pub mod market;
pub mod metrics;
pub mod node;
pub mod payload;
pub mod persisted;
pub mod rate_limits;
mod resolve;
pub mod scalars;
pub mod trading;

use async_graphql::{
    MergedObject, MergedSubscription, SDLExportOptions, Schema, dataloader::DataLoader,
};

pub use context::{Caller, ClientAddr};

use std::sync::Arc;

use crate::services::Services;

/// Everything a client can read. Public: the market, stocks and candles. Logged in: the
/// caller's own account (`viewer`, `cash`, `portfolio`, `orders`, …). ADMIN: every account,
/// the audit log, statistics.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    accounts::AccountQuery,
    market::MarketQuery,
    trading::TradingQuery,
    equity::EquityQuery,
    admin::AdminQuery,
    rate_limits::RateLimitQuery,
);

/// Everything a client can change. Each mutation takes one `input` and answers a payload with
/// what it changed and `userErrors` for the expected failures.
#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutation,
    trading::TradingMutation,
    equity::EquityMutation,
    admin::AdminMutation,
    admin::AdminOrderMutation,
);

/// Live feeds over WebSocket (`/graphql/ws`, graphql-transport-ws). Public: `ticks`,
/// `marketState`, `liveCandle`, `leaderboard`. Logged in: `orderUpdates`, `portfolio`,
/// `portfolioHistory`. ADMIN: `adminStats`.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    feeds::FeedSubscription,
    account_feeds::AccountFeedSubscription,
    equity::EquitySubscription,
    admin::AdminSubscription,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema without services: enough for SDL export.
fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

/// The executable schema. `persisted` expands and checks persisted operations before anything
/// else reads a document (the transports share it, so they can expand one first).
pub fn build_schema(
    services: Services,
    live: Arc<live::LiveCounters>,
    persisted: persisted::PersistedQueries,
) -> AppSchema {
    let config = &services.config;
    let limits = config.graphql;
    let mut builder = builder()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .extension(persisted::PersistedQueryCheck(persisted))
        .extension(metrics::OperationMetrics)
        .extension(limits::DocumentLimits {
            limits,
            introspection: config.introspection,
        });
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
        .data(DataLoader::new(
            market::TrendLoader(services.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            trading::StockLoader(services.clone()),
            tokio::spawn,
        ))
        .data(services)
        .data(live)
        .finish()
}

/// The SDL as checked in at `schema/schema.graphql` (needs no database).
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items()
            .include_specified_by(),
    )
}
