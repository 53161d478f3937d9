//! The browser side served by the binary: `/app` (the web app, every profile) and GraphiQL at
//! `/` (its own rule), both from files embedded at build time, under a policy that lets the
//! pages load nothing from another host. The browser tests are in client-examples/web.

use reqwest::{StatusCode, header};

use crate::helpers::{spawn_app, spawn_app_with};

/// The script and style files the page names (`/app/assets/…`).
fn assets_named_in(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|part| part.starts_with("/app/assets/"))
        .map(str::to_string)
        .collect()
}

fn csp(response: &reqwest::Response) -> String {
    response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string()
}

/// Every source the policy allows is this server, inline data, or its WebSocket endpoint.
fn assert_self_only(policy: &str, host: &str) {
    for directive in policy.split(';') {
        let mut words = directive.split_whitespace();
        let name = words.next().unwrap_or_default();
        for source in words {
            let allowed = ["'self'", "'none'", "data:"].contains(&source)
                || (name == "style-src" && source.starts_with("'nonce-"))
                || source == format!("ws://{host}/graphql/ws")
                || source == format!("wss://{host}/graphql/ws");
            assert!(allowed, "{name} allows {source}: {policy}");
        }
    }
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        policy.contains(&format!("connect-src 'self' ws://{host}/graphql/ws")),
        "{policy}"
    );
}

#[tokio::test]
async fn the_app_page_its_files_and_their_cache_headers_are_served() {
    let app = spawn_app().await;
    let host = app.addr.to_string();
    for path in ["/app", "/app/"] {
        let page = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(page.headers().contains_key(header::ETAG));
        assert_self_only(&csp(&page), &host);
        assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
    }

    let html = app
        .http
        .get(app.url("/app"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<div id=\"app\">"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page names no other host: {html}"
    );
    let assets = assets_named_in(&html);
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "{assets:?}"
    );
    for asset in &assets {
        let r = app.http.get(app.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        let expected = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(r.headers()[header::CONTENT_TYPE], expected, "{asset}");
        assert_eq!(
            r.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{asset}: hashed names are cached for good"
        );
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!r.bytes().await.unwrap().is_empty(), "{asset}");
    }

    // A revalidation with the current ETag costs no body.
    let page = app.http.get(app.url("/app")).send().await.unwrap();
    let etag = page.headers()[header::ETAG].clone();
    let again = app
        .http
        .get(app.url("/app"))
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG], etag);
    assert!(again.bytes().await.unwrap().is_empty());

    let icon = app
        .http
        .get(app.url("/app/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(icon.headers()[header::CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn paths_the_app_routes_get_its_page_and_missing_files_get_404() {
    let app = spawn_app().await;
    let index = app
        .http
        .get(app.url("/app"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for path in [
        "/app/stocks/AAPL",
        "/app/orders",
        "/app/admin/users/VXNlcjox",
    ] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        assert_eq!(r.text().await.unwrap(), index, "{path}: the app's page");
    }
    for path in [
        "/app/assets/index-00000000.js",
        "/app/assets/whatever",
        "/app/logo.png",
        "/app/graphiql.html",
        "/app/index.html",
        "/app/../Cargo.toml",
    ] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("<html"), "{path}: a missing file is no page");
    }
    // Only reads.
    let r = app.http.post(app.url("/app")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn graphiql_is_built_in_and_loads_nothing_from_another_host() {
    let app = spawn_app().await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    let policy = csp(&page);
    assert_self_only(&policy, &app.addr.to_string());
    // Its one inline <style> (GraphiQL's scroll lock) needs the nonce the page carries.
    let nonce = policy
        .split_whitespace()
        .find_map(|s| s.strip_prefix("'nonce-"))
        .and_then(|s| s.strip_suffix("';").or_else(|| s.strip_suffix('\'')))
        .expect("a style nonce")
        .to_string();
    assert!(nonce.len() >= 22, "{nonce}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("data-style-nonce=\"{nonce}\"")),
        "{html}"
    );
    let again = app.http.get(app.url("/")).send().await.unwrap();
    assert!(!csp(&again).contains(&nonce), "a fresh nonce per page");
    assert!(html.contains("id=\"graphiql\""), "{html}");
    assert!(
        !html.contains("unpkg") && !html.contains("https://"),
        "{html}"
    );
    let scripts: Vec<_> = assets_named_in(&html)
        .into_iter()
        .filter(|a| a.ends_with(".js"))
        .collect();
    assert!(!scripts.is_empty(), "{html}");
    for script in scripts {
        let r = app.http.get(app.url(&script)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{script}");
    }
    // The app's page is not GraphiQL's.
    let app_page = app
        .http
        .get(app.url("/app"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(app_page, html);
}

#[tokio::test]
async fn a_forged_host_header_adds_nothing_to_the_policy() {
    let app = spawn_app().await;
    let page = app
        .http
        .get(app.url("/app"))
        .header(header::HOST, "evil.example; script-src *")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = csp(&page);
    assert!(
        !policy.contains("evil") && !policy.contains('*'),
        "{policy}"
    );
    assert!(policy.contains("connect-src 'self';"), "{policy}");
}

#[tokio::test]
async fn production_serves_the_app_and_graphiql_follows_its_setting() {
    let prod = spawn_app_with(&[("ZEBRAT_PROFILE", "production")]).await;
    let app = prod.http.get(prod.url("/app")).send().await.unwrap();
    assert_eq!(app.status(), StatusCode::OK);
    assert_self_only(&csp(&app), &prod.addr.to_string());
    assert_eq!(
        prod.http
            .get(prod.url("/app/stocks/AAPL"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        prod.http.get(prod.url("/")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "GraphiQL is off in production unless enabled"
    );

    let opted_in = spawn_app_with(&[("ZEBRAT_PROFILE", "production"), ("GRAPHIQL", "true")]).await;
    let page = opted_in.http.get(opted_in.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("id=\"graphiql\""));

    let local_off = spawn_app_with(&[("GRAPHIQL", "false")]).await;
    assert_eq!(
        local_off
            .http
            .get(local_off.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        local_off
            .http
            .get(local_off.url("/app"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "the app does not depend on GraphiQL"
    );
}
