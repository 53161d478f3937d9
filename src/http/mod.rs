//! The axum router: GraphQL over HTTP, WebSocket and Server-Sent Events, plain JSON market
//! data, the web app and GraphiQL, health, metrics.

pub mod client_addr;
mod edge;
pub mod graphql;
mod health;
pub mod live;
mod market_data;
pub mod metrics;
mod per_client;
mod persisted;
mod query_string;
pub mod rate_limit_fields;
pub mod serve;
pub mod sse;
mod state;
pub mod web;
pub mod ws;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, header},
    middleware,
    routing::{any, get},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    timeout::TimeoutLayer,
};

pub use state::AppState;

use crate::config::Config;

/// Largest request body accepted on `/graphql`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The routes of this instance's role: everything, or only `/health` on an engine-only one.
pub fn router(state: AppState) -> Router {
    let config = state.services.config.clone();
    let mut routes = Router::new().route("/health", get(health::health));
    if config.role.serves_api() {
        // A persisted-query hash sent by GET is expanded before the handler checks for a
        // mutation; a request that asks for an event stream is served as one.
        let graphql = get(graphql::get)
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                persisted::expand_get,
            ))
            .post(graphql::post)
            .route_layer(middleware::from_fn_with_state(state.clone(), sse::divert));
        routes = routes
            .route("/graphql", graphql)
            .route("/graphql/ws", get(ws::upgrade))
            .route("/graphql/stream", any(sse::stream))
            .route("/market/prices", get(market_data::prices))
            .route("/market/stocks/{symbol}/candles", get(market_data::candles))
            // The product's UI: served in every profile.
            .merge(web::app_routes());
        if config.graphiql {
            routes = routes.merge(web::graphiql_routes());
        }
    }
    if config.metrics_addr.is_none() {
        routes = routes.merge(metrics::routes());
    }
    let routes = routes
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(cors(&config));
    edge::harden(routes, &config).with_state(state)
}

/// CORS from `CORS_ALLOWED_ORIGINS` (any origin when unset locally). Tokens travel in the
/// `Authorization` header, never in cookies, so credentials are not allowed.
fn cors(config: &Config) -> CorsLayer {
    let origins = match &config.cors_origins {
        None => AllowOrigin::any(),
        Some(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    CorsLayer::new()
        .allow_origin(origins)
        // PUT and DELETE, and the stream token: the single-connection mode of GraphQL over SSE.
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-graphql-event-stream-token"),
        ])
        .expose_headers(
            [HeaderName::from_static("x-request-id"), header::ETAG]
                .into_iter()
                .chain(rate_limit_fields::ALL)
                .collect::<Vec<_>>(),
        )
        .max_age(Duration::from_secs(3600))
}
