//! Plain JSON (and CSV) market data: `/market/prices` and `/market/stocks/{symbol}/candles`,
//! checked against what GraphQL answers, with their errors and cache validators.

use chrono::{Duration, Utc};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).send().await.unwrap()
}

/// Waits until the stock's daily history is backfilled (the engine does it at start).
async fn history(app: &TestApp) {
    app.eventually("a backfilled history", || async {
        let body: Value = get(app, "/market/stocks/AAPL/candles?interval=1D&last=3")
            .await
            .json()
            .await
            .unwrap_or_default();
        body["candles"].as_array().is_some_and(|c| c.len() == 3)
    })
    .await;
}

#[tokio::test]
async fn prices_list_every_active_stock_as_graphql_does() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let stocks = app
        .gql(
            "{ stocks { id symbol name price change changePercent } }",
            json!({}),
        )
        .await;
    let stocks = stocks["data"]["stocks"].as_array().unwrap().clone();
    let halted = stocks.last().unwrap().clone();
    let out = app
        .gql_as(
            &admin.access,
            "mutation($i: UpdateStockInput!) { updateStock(input: $i) { stock { active } userErrors { code } } }",
            json!({ "i": { "id": halted["id"], "active": false } }),
        )
        .await;
    assert_eq!(
        out["data"]["updateStock"]["stock"]["active"], false,
        "{out}"
    );

    let response = get(&app, "/market/prices").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()[header::CACHE_CONTROL].to_str().unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    assert!(response.headers().contains_key(header::LAST_MODIFIED));
    let body: Value = response.json().await.unwrap();
    let prices = body["prices"].as_array().unwrap();
    assert_eq!(
        prices.len(),
        stocks.len() - 1,
        "the halted stock is left out"
    );
    assert!(prices.iter().all(|p| p["symbol"] != halted["symbol"]));
    for (price, stock) in prices.iter().zip(&stocks) {
        assert_eq!(price["symbol"], stock["symbol"]);
        assert_eq!(price["name"], stock["name"]);
        assert_eq!(price["price"], stock["price"], "money as the same string");
        assert_eq!(price["change"], stock["change"]);
        assert_eq!(price["changePercent"], stock["changePercent"]);
        let at = price["updatedAt"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }
}

#[tokio::test]
async fn candles_come_as_json_or_csv_from_the_same_service() {
    let app = spawn_app().await;
    history(&app).await;
    let response = get(&app, "/market/stocks/aapl/candles?interval=1H&last=5").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["symbol"].as_str(), body["interval"].as_str()),
        (Some("AAPL"), Some("1H"))
    );
    let candles = body["candles"].as_array().unwrap();
    assert_eq!(candles.len(), 5);
    assert_eq!(body["truncated"], true);

    let graphql = app
        .gql(
            "{ candles(stock: {symbol: \"AAPL\"}, interval: H1, last: 5) { candles { bucketStart open high low close tickCount } } }",
            json!({}),
        )
        .await;
    let expected = graphql["data"]["candles"]["candles"].as_array().unwrap();
    for (got, want) in candles.iter().zip(expected) {
        for field in ["bucketStart", "open", "high", "low", "close", "tickCount"] {
            assert_eq!(got[field], want[field], "{field}: {got} vs {want}");
        }
    }

    let csv = get(
        &app,
        "/market/stocks/AAPL/candles?interval=4h&last=3&format=csv",
    )
    .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "bucketStart,open,high,low,close,tickCount,isFinal"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[1].split(',').count(), 7);

    // A window: `from` inclusive, `to` exclusive, dates are midnights in the market zone.
    // Up to yesterday (UTC): a midnight in New York that has passed whatever the hour.
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let week_before = (yesterday - Duration::days(7)).format("%Y-%m-%d");
    let path = format!("/market/stocks/AAPL/candles?interval=1D&from={week_before}&to={yesterday}");
    let window: Value = get(&app, &path).await.json().await.unwrap();
    let days = window["candles"].as_array().unwrap();
    assert!(!days.is_empty() && days.len() <= 7, "{window}");
    assert!(days.iter().all(|d| d["isFinal"] == true));
}

#[tokio::test]
async fn bad_requests_answer_400_and_unknown_symbols_404_with_a_code() {
    let app = spawn_app().await;
    for (query, field) in [
        ("interval=2H", "interval"),
        ("interval=1H&from=yesterday", "from"),
        ("interval=1H&to=2026-13-45", "to"),
        ("interval=1H&last=0", "last"),
        ("interval=1H&last=2001", "last"),
        ("interval=1H&last=ten", "last"),
        ("interval=1H&from=2026-03-02&to=2026-03-01", "from"),
        ("format=xml", "format"),
    ] {
        let response = get(&app, &format!("/market/stocks/AAPL/candles?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{query}: {message}");
    }
    let response = get(&app, "/market/stocks/NOPE/candles?interval=1H").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert!(body["error"]["message"].as_str().unwrap().contains("NOPE"));
}

#[tokio::test]
async fn final_candles_carry_validators_and_answer_304() {
    let app = spawn_app().await;
    history(&app).await;
    // Up to yesterday (UTC): a midnight in New York that has passed whatever the hour.
    let yesterday = (Utc::now().date_naive() - Duration::days(1)).format("%Y-%m-%d");
    let path = format!("/market/stocks/AAPL/candles?interval=1D&to={yesterday}&last=10");
    let first = get(&app, &path).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_string();
    let modified = first.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first.headers()[header::CACHE_CONTROL],
        "public, max-age=86400"
    );

    let revalidate = |name: header::HeaderName, value: String| {
        app.http.get(app.url(&path)).header(name, value).send()
    };
    let by_tag = revalidate(header::IF_NONE_MATCH, etag.clone())
        .await
        .unwrap();
    assert_eq!(by_tag.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(by_tag.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(by_tag.bytes().await.unwrap().is_empty());
    let by_date = revalidate(header::IF_MODIFIED_SINCE, modified)
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);
    let stale = revalidate(header::IF_NONE_MATCH, "\"other\"".into())
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    let csv = get(&app, &format!("{path}&format=csv")).await;
    assert_ne!(
        csv.headers()[header::ETAG].to_str().unwrap(),
        etag,
        "each representation has its own tag"
    );

    // With the market open and ticking, the newest hourly candle is live: no validators.
    app.override_market(Some(true), Some("market data test"))
        .await;
    app.wait_market(true).await;
    let live_path = "/market/stocks/AAPL/candles?interval=1H&last=2";
    let mut live = None;
    for _ in 0..50 {
        app.tick();
        let response = get(&app, live_path).await;
        let has_tag = response.headers().contains_key(header::ETAG);
        let body: Value = response.json().await.unwrap();
        if body["candles"][1]["isFinal"] == false {
            live = Some(has_tag);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(live, Some(false), "a live candle is never validated");
}
