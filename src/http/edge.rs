//! What every answer goes through at the edge, whatever the route: request ids, the access log,
//! security headers, and a panic caught and answered instead of a dropped connection.

use std::{any::Any, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderName, HeaderValue, Request, Response, StatusCode, header},
    middleware::{self, Next},
    response::IntoResponse,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use tracing::Span;

use super::client_addr;
use crate::config::Config;

/// Wraps `routes` in the edge layers (outermost first): a request id, tracing, the security
/// headers, the header limits, then panic catching, so a 431 or a 500 from a panic carries the
/// id and the headers too.
pub fn harden<S: Clone + Send + Sync + 'static>(routes: Router<S>, config: &Config) -> Router<S> {
    let request_id = HeaderName::from_static("x-request-id");
    let routes = routes
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(header_limits));
    let routes =
        security_headers(routes, config).layer(PropagateRequestIdLayer::new(request_id.clone()));
    // The id is set outermost, so the access log's span and every layer inside see it.
    with_access_log(routes, config).layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Most request headers, and their total size, answered normally. Past them the answer is 431
/// from here, with the security headers; hyper's own limit (`serve::HYPER_MAX_HEADERS`, and
/// its ~400 KiB read buffer) is set higher, as a backstop, because hyper's 431 carries none.
const MAX_HEADERS: usize = 100;
const MAX_HEADER_BYTES: usize = 32 * 1024;

async fn header_limits(request: Request<Body>, next: Next) -> Response<Body> {
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("at most {MAX_HEADERS} request headers, {MAX_HEADER_BYTES} bytes in all"),
        )
            .into_response();
    }
    next.run(request).await
}

/// The answer to a request whose handler panicked: 500 with a GraphQL `INTERNAL` error and no
/// detail (the panic is logged inside the request's span, which names the request id; the
/// client finds the same id in `x-request-id`).
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    tracing::error!(panic = panic_message(panic.as_ref()), "a request panicked");
    let mut response = Response::new(Body::from(
        r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#,
    ));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// The message a panic was raised with, when it has one.
pub fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// API answers may not be framed, sniffed or given a referrer; the web app's and GraphiQL's
/// pages set their own Content-Security-Policy (`web::page_csp`), which this layer leaves alone.
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    #[tokio::test]
    async fn a_panic_is_answered_500_internal_with_the_request_id_and_headers() {
        let config = Config::from_lookup(|_| None).unwrap();
        let app = harden(Router::new().route("/boom", get(boom)), &config);
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    }
}
