//! `/metrics`: the Prometheus text format, parsed strictly, with values that move under
//! traffic; the token and the separate listener.
//!
//! The recorder is process-wide and the tests run many apps in one process: values here are
//! compared before and after this test's own traffic, as increases, never as exact counts.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app, spawn_app_with};

/// One sample: its full name (with `_bucket`, `_sum`, `_count` for histograms), its labels
/// and its value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// A family: its `# TYPE` and its samples.
#[derive(Debug, Default)]
struct Family {
    kind: String,
    samples: Vec<Sample>,
}

/// A strict reader of the text exposition format (0.0.4): every sample belongs to a family
/// declared by `# TYPE` before it, with a suffix its type allows; names and labels are well
/// formed; values parse; histograms have `le` buckets ending at `+Inf` equal to `_count`.
fn parse(text: &str) -> HashMap<String, Family> {
    let mut families: HashMap<String, Family> = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (keyword, name) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            assert!(valid_name(name), "bad family name in `{line}`");
            match keyword {
                "HELP" => {}
                "TYPE" => {
                    let kind = parts.next().unwrap_or("");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "bad type in `{line}`"
                    );
                    let family = families.entry(name.into()).or_default();
                    assert!(family.kind.is_empty(), "{name} declared twice");
                    family.kind = kind.into();
                }
                _ => panic!("unknown comment `{line}`"),
            }
            continue;
        }
        let sample = parse_sample(line);
        let family = families
            .iter_mut()
            .filter(|(name, f)| {
                let suffixes: &[&str] = match f.kind.as_str() {
                    "histogram" => &["_bucket", "_sum", "_count"],
                    "summary" => &["", "_sum", "_count"],
                    _ => &[""],
                };
                suffixes.iter().any(|s| sample.name == format!("{name}{s}"))
            })
            .map(|(_, f)| f)
            .next();
        let Some(family) = family else {
            panic!("sample without a declared family: `{line}`");
        };
        family.samples.push(sample);
    }
    for (name, family) in &families {
        if family.kind == "counter" {
            assert!(
                name.ends_with("_total"),
                "counter {name} must end in _total"
            );
            assert!(family.samples.iter().all(|s| s.value >= 0.0), "{name}");
        }
        if family.kind == "histogram" {
            check_histogram(name, family);
        }
    }
    families
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{a="x",b="y"} value [timestamp]`.
fn parse_sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    assert!(valid_name(name), "bad sample name in `{line}`");
    let mut rest = &line[name_end..];
    let mut labels = HashMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut pos = 0;
        loop {
            if after[pos..].starts_with('}') {
                rest = &after[pos + 1..];
                break;
            }
            let eq = pos + after[pos..].find('=').expect("label without value");
            let key = &after[pos..eq];
            assert!(
                valid_name(key) && !key.contains(':'),
                "bad label `{key}` in `{line}`"
            );
            assert!(
                after[eq + 1..].starts_with('"'),
                "unquoted value in `{line}`"
            );
            let (mut value, mut end, mut escaped) = (String::new(), None, false);
            for (i, c) in after[eq + 2..].char_indices() {
                match (escaped, c) {
                    (true, 'n') => value.push('\n'),
                    (true, '\\' | '"') => value.push(c),
                    (true, _) => panic!("bad escape in `{line}`"),
                    (false, '\\') => {}
                    (false, '"') => {
                        end = Some(eq + 2 + i);
                        break;
                    }
                    (false, c) => value.push(c),
                }
                escaped = !escaped && c == '\\';
            }
            let end = end.unwrap_or_else(|| panic!("unterminated label value in `{line}`"));
            assert!(
                labels.insert(key.to_string(), value).is_none(),
                "repeated label"
            );
            pos = end + 1;
            if after[pos..].starts_with(',') {
                pos += 1;
            } else {
                assert!(
                    after[pos..].starts_with('}'),
                    "expected `,` or `}}` in `{line}`"
                );
            }
        }
    }
    let mut fields = rest.split_whitespace();
    let raw = fields.next().expect("sample without value");
    let value = match raw {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        raw => raw
            .parse()
            .unwrap_or_else(|_| panic!("bad value in `{line}`")),
    };
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().expect("bad timestamp");
    }
    assert!(fields.next().is_none(), "trailing text in `{line}`");
    Sample {
        name: name.into(),
        labels,
        value,
    }
}

/// Per label set: buckets rise, the `+Inf` bucket equals `_count`, and `_sum` is there.
fn check_histogram(name: &str, family: &Family) {
    let series = |s: &Sample| {
        let mut labels: Vec<_> = s.labels.iter().filter(|(k, _)| *k != "le").collect();
        labels.sort();
        format!("{labels:?}")
    };
    let mut by_series: HashMap<String, Vec<&Sample>> = HashMap::new();
    for s in &family.samples {
        by_series.entry(series(s)).or_default().push(s);
    }
    for samples in by_series.values() {
        let buckets: Vec<_> = samples
            .iter()
            .filter(|s| s.name.ends_with("_bucket"))
            .collect();
        assert!(!buckets.is_empty(), "{name} has no buckets");
        assert!(
            buckets.windows(2).all(|w| w[0].value <= w[1].value),
            "{name}"
        );
        let last = buckets.last().unwrap();
        assert_eq!(
            last.labels.get("le").map(String::as_str),
            Some("+Inf"),
            "{name}"
        );
        let count = samples.iter().find(|s| s.name.ends_with("_count"));
        assert_eq!(count.map(|c| c.value), Some(last.value), "{name}");
        assert!(samples.iter().any(|s| s.name.ends_with("_sum")), "{name}");
    }
}

/// The sum of a family's samples whose labels include `labels` (for histograms: `_count`).
fn total(families: &HashMap<String, Family>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let Some(family) = families.get(name) else {
        return 0.0;
    };
    family
        .samples
        .iter()
        .filter(|s| family.kind != "histogram" || s.name.ends_with("_count"))
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(http: &reqwest::Client, url: String) -> HashMap<String, Family> {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text().await.unwrap())
}

#[tokio::test]
async fn traffic_moves_every_family() {
    let app = spawn_app_with(&[("RATE_LIMIT_ORDERS", "1/60")]).await;
    app.wait_market(true).await;
    let before = scrape(&app.http, app.url("/metrics")).await;

    let stocks = app.gql("query Stocks { stocks { id } }", json!({})).await;
    let stock_id = stocks["data"]["stocks"][0]["id"].clone();
    let demo = app.demo().await;
    let place = "mutation Buy($i: PlaceOrderInput!) { placeOrder(input: $i) { order { status } } }";
    let input = json!({ "i": { "stock": { "id": stock_id }, "side": "BUY", "quantity": 1 } });
    let placed = app.gql_as(&demo.access, place, input.clone()).await;
    assert_eq!(
        placed["data"]["placeOrder"]["order"]["status"], "EXECUTED",
        "{placed}"
    );
    let limited = app.gql_as(&demo.access, place, input).await;
    assert_eq!(code(&limited), Some("RATE_LIMITED"), "{limited}");

    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe("t", "subscription Ticks { ticks { at } }", json!({}))
        .await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    app.tick_until_message(&mut ws, "t").await;
    // An event stream (GraphQL over SSE), open while the metrics are scraped.
    let mut stream = app
        .http
        .post(app.url("/graphql/stream"))
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .json(&json!({ "query": "subscription { marketState { isOpen } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut seen = String::new();
    while !seen.contains("event: next") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect("the stream's first event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    let after = scrape(&app.http, app.url("/metrics")).await;
    let kinds = [
        ("zebrat_graphql_requests_total", "counter"),
        ("zebrat_graphql_request_duration_seconds", "histogram"),
        ("zebrat_websocket_connections", "gauge"),
        ("zebrat_sse_streams", "gauge"),
        ("zebrat_subscriptions_active", "gauge"),
        ("zebrat_shared_feeds_started_total", "counter"),
        ("zebrat_shared_feeds_running", "gauge"),
        ("zebrat_events_published_total", "counter"),
        ("zebrat_events_delivered_total", "counter"),
        ("zebrat_tick_round_duration_seconds", "histogram"),
        ("zebrat_tick_round_stocks", "histogram"),
        ("zebrat_orders_placed_total", "counter"),
        ("zebrat_orders_executed_total", "counter"),
        ("zebrat_order_duration_seconds", "histogram"),
        ("zebrat_orders_queued_waiting", "gauge"),
        ("zebrat_rate_limit_refusals_total", "counter"),
        ("zebrat_db_pool_connections", "gauge"),
        ("zebrat_db_query_duration_seconds", "histogram"),
        ("zebrat_engine_leader", "gauge"),
        ("zebrat_engine_lease_changes_total", "counter"),
    ];
    for (name, kind) in kinds {
        let family = after.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(family.kind, kind, "{name}");
    }
    let grew = |name: &str, labels: &[(&str, &str)]| {
        let (was, is) = (total(&before, name, labels), total(&after, name, labels));
        assert!(is > was, "{name} {labels:?} did not grow: {was} -> {is}");
    };
    let query = [
        ("type", "query"),
        ("operation", "Stocks"),
        ("outcome", "ok"),
    ];
    grew("zebrat_graphql_requests_total", &query);
    grew("zebrat_graphql_request_duration_seconds", &query[..2]);
    let limited = [("operation", "Buy"), ("outcome", "RATE_LIMITED")];
    grew("zebrat_graphql_requests_total", &limited);
    grew("zebrat_graphql_requests_total", &[("type", "subscription")]);
    grew("zebrat_shared_feeds_started_total", &[]);
    grew("zebrat_events_published_total", &[("kind", "TickRound")]);
    grew("zebrat_events_published_total", &[("kind", "OrderUpdated")]);
    grew("zebrat_events_delivered_total", &[("kind", "TickRound")]);
    grew("zebrat_tick_round_duration_seconds", &[]);
    grew("zebrat_tick_round_stocks", &[]);
    grew("zebrat_orders_placed_total", &[("side", "BUY")]);
    grew("zebrat_orders_executed_total", &[("when", "at_placement")]);
    grew("zebrat_order_duration_seconds", &[("result", "executed")]);
    grew("zebrat_rate_limit_refusals_total", &[("rule", "orders")]);
    grew("zebrat_db_query_duration_seconds", &[]);
    // Gauges of what is open now: this test's socket and stream hold one of each.
    assert!(total(&after, "zebrat_websocket_connections", &[]) >= 1.0);
    assert!(total(&after, "zebrat_sse_streams", &[]) >= 1.0);
    for field in ["ticks", "orderUpdates", "marketState"] {
        assert!(total(&after, "zebrat_subscriptions_active", &[("field", field)]) >= 1.0);
    }
    assert!(total(&after, "zebrat_shared_feeds_running", &[]) >= 1.0);
    assert_eq!(total(&after, "zebrat_engine_leader", &[]), 1.0);
    // Acquired before the first scrape (the engine opened the market): counted, not grown.
    let acquired = [("change", "acquired")];
    assert!(total(&after, "zebrat_engine_lease_changes_total", &acquired) >= 1.0);
    let pool = total(&after, "zebrat_db_pool_connections", &[]);
    assert!(pool >= 1.0, "the pool has connections: {pool}");
    if std::env::var("TEST_REDIS_URL").is_ok() {
        assert_eq!(total(&after, "zebrat_redis_connected", &[]), 1.0);
    }
    // No label carries a user id or a document.
    for family in after.values() {
        for sample in &family.samples {
            for value in sample.labels.values() {
                assert!(value.len() <= 64 && !value.contains('{'), "{sample:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_token_guards_the_metrics() {
    let app = spawn_app_with(&[("METRICS_TOKEN", "scrape-secret")]).await;
    let get = |auth: Option<&str>| {
        let mut request = app.http.get(app.url("/metrics"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    assert_eq!(get(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let wrong = get(Some("Bearer scrape-secreT")).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = get(Some("Bearer scrape-secret")).await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    parse(&right.text().await.unwrap());
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let app = spawn_app_with(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let on_main = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(on_main.status(), StatusCode::NOT_FOUND);
    let addr = app.metrics_addr.expect("a metrics listener");
    let families = scrape(&app.http, format!("http://{addr}/metrics")).await;
    assert!(families.contains_key("zebrat_db_pool_connections"));
}

#[tokio::test]
async fn the_main_port_serves_metrics_by_default() {
    let app = spawn_app().await;
    assert!(app.metrics_addr.is_none());
    let families = scrape(&app.http, app.url("/metrics")).await;
    assert!(families.contains_key("zebrat_engine_leader"));
}

#[test]
fn the_parser_is_strict() {
    let ok = "# TYPE a_total counter\na_total{x=\"1\\\"2\",y=\"\"} 3\n\
              # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
    let families = parse(ok);
    assert_eq!(families["a_total"].samples[0].labels["x"], "1\"2");
    assert_eq!(total(&families, "h", &[]), 2.0);
    for bad in [
        "a_total 1\n",                                                       // no TYPE
        "# TYPE a counter\na 1\n", // counter without _total
        "# TYPE a_total counter\na_total{x=1} 1\n", // unquoted
        "# TYPE a_total counter\na_total one\n", // bad value
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\nh_sum 1\n", // count mismatch
    ] {
        let outcome = std::panic::catch_unwind(|| parse(bad));
        assert!(outcome.is_err(), "accepted: {bad}");
    }
}
