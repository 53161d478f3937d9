//! The axum router: GraphQL over HTTP and WebSocket, GraphiQL, health, metrics.

pub mod client_addr;
pub mod graphql;
mod health;
pub mod metrics;
mod state;
pub mod ws;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{ConnectInfo, DefaultBodyLimit},
    http::{HeaderName, HeaderValue, Method, Request, Response, header},
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
use tracing::Span;

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
    let routes =
        security_headers(routes, &config).layer(PropagateRequestIdLayer::new(request_id.clone()));
    // The id is set outermost, so the access log's span and every layer inside see it.
    with_access_log(routes, &config)
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// One `request` span per HTTP request, holding its id (every line logged while serving it
/// carries it), and one access line at `info` when the response is ready. The GraphQL layer
/// fills in the operation and the user when it learns them.
fn with_access_log<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    config: &Config,
) -> Router<S> {
    let trusted: Arc<[ipnet::IpNet]> = config.trusted_proxies.clone().into();
    let layer = TraceLayer::new_for_http()
        .make_span_with(move |req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            let client = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|peer| client_addr::client_ip(peer.0.ip(), req.headers(), &trusted));
            tracing::info_span!(
                "request",
                request_id = %id,
                method = %req.method(),
                path = %req.uri().path(),
                client = client.map(tracing::field::display),
                operation = tracing::field::Empty,
                operation_type = tracing::field::Empty,
                user_id = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(|res: &Response<_>, latency: Duration, _span: &Span| {
            tracing::info!(
                status = res.status().as_u16(),
                duration_ms = latency.as_secs_f64() * 1000.0,
                "request served"
            );
        });
    routes.layer(layer)
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
