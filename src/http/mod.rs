//! The axum router: GraphQL over HTTP and WebSocket, GraphiQL, health.

pub mod client_addr;
pub mod graphql;
mod health;
mod state;
pub mod ws;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, Request, header},
    response::{Html, IntoResponse},
    routing::get,
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

pub use state::AppState;

use crate::config::Config;

/// Largest request body accepted on `/graphql`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The routes of this instance's role: everything, or only `/health` on an engine-only one.
pub fn router(state: AppState) -> Router {
    let config = state.services.config.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let mut routes = Router::new().route("/health", get(health::health));
    if config.role.serves_api() {
        routes = routes
            .route("/graphql", get(graphql::get).post(graphql::post))
            .route("/graphql/ws", get(ws::upgrade));
        if config.graphiql {
            routes = routes.route("/", get(graphiql));
        }
    }
    let routes = routes
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(cors(&config));
    security_headers(routes, &config)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
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
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(3600))
}

/// API answers may not be framed, sniffed or given a referrer; the GraphiQL page sets its own
/// (looser) Content-Security-Policy, which this layer leaves alone.
fn security_headers<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    config: &Config,
) -> Router<S> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let routes = routes
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(header::CONTENT_SECURITY_POLICY, API_CSP));
    if config.hsts {
        routes.layer(set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        routes
    }
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// GraphiQL loads its scripts and styles from unpkg and runs one inline script.
const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
     style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https:; \
     font-src 'self' data: https://unpkg.com; connect-src 'self' ws: wss:; frame-ancestors 'none'";

async fn graphiql() -> impl IntoResponse {
    let page = Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Zebrat GraphiQL")
            .finish(),
    );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(GRAPHIQL_CSP),
        )],
        page,
    )
}
