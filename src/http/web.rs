//! The browser side, built from `client-examples/web` and embedded in the binary (no CDN, no
//! Node at run time): the web app at `/app` (any path below it that is not a file gets the
//! app's page, which routes in the browser) and GraphiQL at `/` when `GRAPHIQL` allows it.
//!
//! Both pages load only files of this server and talk only to `/graphql` and `/graphql/ws`,
//! so their Content-Security-Policy allows `'self'` and the WebSocket endpoint, nothing else.
//! GraphiQL's menus add one `<style>` element at run time (scroll locking, sized to the
//! scrollbar): its page gets a fresh nonce for that, never `'unsafe-inline'`.
//! File names under `assets/` carry a content hash (Vite): they are cached for a year; the
//! pages are revalidated on every load (`no-cache` with an ETag).

use base64::{Engine, engine::general_purpose::STANDARD};

use axum::{
    Router,
    body::Body,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// One embedded file.
pub struct Asset {
    /// Path below `dist/`, with `/` separators.
    pub path: &'static str,
    pub body: &'static [u8],
    /// Quoted content hash.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The app's page, served for `/app` and for every path below it that is not a file.
const APP_PAGE: &str = "index.html";
/// GraphiQL's page, served at `/` only (never below `/app`, so `GRAPHIQL=false` hides it).
const GRAPHIQL_PAGE: &str = "graphiql.html";

/// `/app` and the files below it.
pub fn app_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/app", get(app_page))
        .route("/app/", get(app_page))
        .route("/app/{*path}", get(app_file))
}

/// GraphiQL at `/`.
pub fn graphiql_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(graphiql_page))
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|asset| asset.path.cmp(path))
        .ok()
        .and_then(|i| ASSETS.get(i))
}

async fn app_page(headers: HeaderMap) -> Response {
    page(APP_PAGE, &headers)
}

/// Where graphiql.html takes its style nonce (`data-style-nonce`), which its script hands to
/// the library that adds the `<style>` element.
const NONCE_PLACEHOLDER: &str = "{{STYLE_NONCE}}";

async fn graphiql_page(headers: HeaderMap) -> Response {
    let Some(asset) = find(GRAPHIQL_PAGE) else {
        return not_built();
    };
    let nonce = STANDARD.encode(rand::random::<[u8; 16]>());
    let html = String::from_utf8_lossy(asset.body).replace(NONCE_PLACEHOLDER, &nonce);
    let mut response = Response::new(Body::from(html));
    let headers_out = response.headers_mut();
    headers_out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(GRAPHIQL_PAGE)),
    );
    // A new nonce each time: never reuse a stored copy.
    headers_out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(csp) = HeaderValue::from_str(&page_csp(&headers, Some(&nonce))) {
        headers_out.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

async fn app_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path.ends_with(".html") {
        // The pages have their own routes (and GraphiQL's its own rule).
        return not_found();
    }
    if let Some(asset) = find(&path) {
        return file(asset, &headers);
    }
    // A path the browser-side router owns (`/app/stocks/AAPL`) gets the app's page; a
    // missing file (`/app/assets/old-1234.js`, `/app/logo.png`) is a plain 404, so a stale
    // script tag fails loudly instead of receiving HTML.
    let last = path.rsplit('/').next().unwrap_or_default();
    if path.starts_with("assets/") || last.contains('.') {
        return not_found();
    }
    page(APP_PAGE, &headers)
}

fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the web app was not built into this binary (client-examples/web/dist is missing)",
    )
        .into_response()
}

fn page(name: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = find(name) else {
        return not_built();
    };
    let mut response = file(asset, headers);
    if let Ok(csp) = HeaderValue::from_str(&page_csp(headers, None)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

fn file(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let cache = if asset.path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (header::ETAG, HeaderValue::from_static(asset.etag)),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(asset.path)),
        )],
        asset.body,
    )
        .into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The media type of a built file, by extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The pages' policy: files from this server only, requests to it and to its WebSocket
/// endpoint (named in full: `'self'` covers `ws:` only in CSP level 3 browsers). No inline
/// script runs; an inline `<style>` element only with `style_nonce`. Fonts and images may be
/// `data:` URLs (GraphiQL's stylesheet embeds its fonts).
pub fn page_csp(headers: &HeaderMap, style_nonce: Option<&str>) -> String {
    let socket = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|host| is_plain_host(host))
        .map(|host| format!(" ws://{host}/graphql/ws wss://{host}/graphql/ws"))
        .unwrap_or_default();
    let nonce = style_nonce
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'{nonce}; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'{socket}; worker-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// `host[:port]` made of the characters a host name, an IPv4 or a bracketed IPv6 address
/// uses, so a forged `Host` header cannot add directives to the policy.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_sorted_and_the_pages_are_embedded() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
        assert!(
            find(APP_PAGE).is_some(),
            "client-examples/web/dist/index.html"
        );
        assert!(find(GRAPHIQL_PAGE).is_some());
    }

    #[test]
    fn the_policy_names_the_socket_of_a_plain_host_only() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("localhost:8000"));
        assert!(
            page_csp(&headers, None).contains("connect-src 'self' ws://localhost:8000/graphql/ws")
        );
        headers.insert(header::HOST, HeaderValue::from_static("evil; script-src *"));
        let csp = page_csp(&headers, None);
        assert!(csp.contains("connect-src 'self'; "), "{csp}");
        assert!(!csp.contains("evil"), "{csp}");
    }
}
