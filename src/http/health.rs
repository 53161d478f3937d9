use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::AppState;
use crate::bus::BusHealth;

/// `GET /health`: 200 when the database answers, 503 when it does not.
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = state.database.ping().await.is_ok();
    let redis = match state.services.bus.health().await {
        BusHealth::InProcess => "disabled",
        BusHealth::Ok => "ok",
        BusHealth::Degraded => "degraded",
    };
    let status = match (db_ok, redis) {
        (false, _) => "unavailable",
        (true, "degraded") => "degraded",
        _ => "ok",
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "database": { "status": if db_ok { "ok" } else { "unavailable" }, "backend": state.database.get_database_backend().as_str() },
        "redis": { "status": redis },
        "engine": {
            "role": state.services.config.role,
            "leader": *state.leader.borrow(),
        },
    });
    (code, Json(body))
}
