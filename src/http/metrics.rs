//! `GET /metrics`: the Prometheus text format, on the main port or on `METRICS_ADDR`.
//!
//! Most families are recorded where things happen; the ones that describe this instance's
//! state now (pool, queue, leader, Redis, shared feeds) are read here, just before rendering,
//! so they cost nothing between scrapes.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::AppState;
use crate::{bus::BusHealth, infra};

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route alone, for the main router or a listener of its own.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// A router serving only `/metrics` (for `METRICS_ADDR`).
pub fn router(state: AppState) -> Router {
    routes().with_state(state)
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.services.config.metrics_token
        && !authorized(&headers, token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "send `Authorization: Bearer <METRICS_TOKEN>`",
        )
            .into_response();
    }
    refresh(&state).await;
    match infra::metrics::render() {
        Some(text) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            text,
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics are not recorded").into_response(),
    }
}

/// Sets the gauges read on scrape.
async fn refresh(state: &AppState) {
    let (in_use, idle) = infra::db::pool_connections(&state.database);
    metrics::gauge!("zebrat_db_pool_connections", "state" => "in_use").set(in_use);
    metrics::gauge!("zebrat_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("zebrat_shared_feeds_running").set(state.feeds.len() as f64);
    metrics::gauge!("zebrat_engine_leader").set(u8::from(*state.leader.borrow()));
    match state.services.bus.health().await {
        BusHealth::InProcess => {}
        BusHealth::Ok => metrics::gauge!("zebrat_redis_connected").set(1.0),
        BusHealth::Degraded => metrics::gauge!("zebrat_redis_connected").set(0.0),
    }
    // A count on the status index; a failure leaves the last value and is logged, the
    // scrape still answers.
    match state.services.trading.queued_waiting().await {
        Ok(queued) => metrics::gauge!("zebrat_orders_queued_waiting").set(queued as f64),
        Err(e) => tracing::warn!(error = %e, "counting queued orders for /metrics"),
    }
}

/// `Authorization: Bearer <token>`, compared in constant time.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (given, token) = (given.trim().as_bytes(), token.as_bytes());
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_passes() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(authorized(&with("Bearer s3cret"), "s3cret"));
        assert!(!authorized(&with("Bearer s3cre"), "s3cret"));
        assert!(!authorized(&with("Bearer s3cret!"), "s3cret"));
        assert!(!authorized(&with("s3cret"), "s3cret"));
        assert!(!authorized(&HeaderMap::new(), "s3cret"));
    }
}
