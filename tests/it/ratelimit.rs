//! Visible rate limits: the `RateLimit-*` fields of HTTP answers, `Retry-After` on refusals, and
//! the `rateLimit` query agreeing with them.

use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app, spawn_app_with};

/// One POST to `/graphql`: status, headers and body.
async fn post(
    app: &TestApp,
    token: Option<&str>,
    accept: &str,
    query: &str,
    variables: Value,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = app
        .http
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.expect("JSON body"))
}

const JSON: &str = "application/json";
const SPEC: &str = "application/graphql-response+json";

/// A `RateLimit-*` or `Retry-After` field as a number (`None` when absent).
fn field(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().parse().expect("a number of seconds"))
}

fn limit_remaining_reset(headers: &HeaderMap) -> (u64, u64, u64) {
    let get = |name| field(headers, name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
    (
        get("ratelimit-limit"),
        get("ratelimit-remaining"),
        get("ratelimit-reset"),
    )
}

fn policy(headers: &HeaderMap) -> &str {
    headers["ratelimit-policy"].to_str().unwrap()
}

const RATE_LIMIT: &str = "{ rateLimit {
  cost { policy limit remaining resetAfter resetAt window }
  login { policy limit remaining resetAfter resetAt window }
  orders { policy limit remaining resetAfter resetAt window }
  deposits { policy limit remaining resetAfter resetAt window } } }";

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";

#[tokio::test]
async fn login_attempts_count_down_then_say_when_to_retry() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_LOGIN", "3/60"),
        ("RATE_LIMIT_LOGIN_GLOBAL", "1000/60"),
    ])
    .await;
    let wrong = json!({ "i": { "email": "demo@example.com", "password": "not it at all" } });
    for left in [2, 1, 0] {
        let (status, headers, body) = post(&app, None, JSON, LOGIN, wrong.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(code(&body), Some("UNAUTHENTICATED"), "{body}");
        let (limit, remaining, reset) = limit_remaining_reset(&headers);
        assert_eq!((limit, remaining), (3, left), "{headers:?}");
        assert!((1..=60).contains(&reset), "{reset}");
        assert!(headers.get("retry-after").is_none(), "not refused yet");
        // Not the service-wide login limit: everyone's logins are not the caller's to know.
        assert_eq!(policy(&headers), r#"3;w=60;name="login""#);
    }
    // The fourth is refused, even with the right password: the limit, and when to retry.
    let right = json!({ "i": { "email": "demo@example.com", "password": "demo123" } });
    let (status, headers, body) = post(&app, None, JSON, LOGIN, right).await;
    assert_eq!(status, StatusCode::OK, "a field error: the operation ran");
    assert_eq!(code(&body), Some("RATE_LIMITED"), "{body}");
    let retry_after = field(&headers, "retry-after").expect("Retry-After");
    assert_eq!(
        Some(retry_after),
        body["errors"][0]["extensions"]["retryAfter"].as_u64(),
        "{body}"
    );
    let (limit, remaining, reset) = limit_remaining_reset(&headers);
    assert_eq!((limit, remaining), (3, 0));
    assert!(
        (1..=60).contains(&reset) && reset == retry_after,
        "{headers:?}"
    );

    // The rateLimit query says the same, and reading it counts nothing. Anonymous: no orders
    // or deposits; the cost budget and the order limit are off here.
    for _ in 0..2 {
        let (_, headers, body) = post(&app, None, JSON, RATE_LIMIT, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
        assert!(
            headers.get("ratelimit-limit").is_none(),
            "counted against nothing"
        );
        let status = &body["data"]["rateLimit"];
        let login = &status["login"];
        assert_eq!(login["policy"], "login");
        assert_eq!(login["limit"], 3);
        assert_eq!(login["remaining"], 0);
        assert_eq!(login["window"], 60);
        let reset_after = login["resetAfter"].as_u64().unwrap();
        assert!(
            reset_after <= reset && reset_after + 2 >= reset,
            "{login} vs {reset}"
        );
        assert!(login["resetAt"].is_string(), "{login}");
        for off in ["cost", "orders", "deposits"] {
            assert!(status[off].is_null(), "{off}: {status}");
        }
    }
}

#[tokio::test]
async fn queries_spend_the_cost_budget_and_the_fields_follow_it() {
    let app = spawn_app_with(&[
        ("GRAPHQL_COST_BUDGET", "5000,1"),
        ("GRAPHQL_COST_BUDGET_ANONYMOUS", "300,1"),
    ])
    .await;
    let demo = app.demo().await;
    let query = "{ stocks { id symbol price } }";
    let mut last = u64::MAX;
    for _ in 0..3 {
        let (status, headers, body) = post(&app, Some(&demo.access), JSON, query, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (limit, remaining, reset) = limit_remaining_reset(&headers);
        let budget = &body["extensions"]["cost"]["budget"];
        assert_eq!(limit, 5000);
        assert_eq!(Some(remaining), budget["remaining"].as_u64(), "{body}");
        assert!(
            remaining < last,
            "each query spends: {remaining} after {last}"
        );
        // Refills 1 a second: full again after as many seconds as points are missing.
        assert!(
            reset.abs_diff(5000 - remaining) <= 1,
            "{reset} for {remaining}"
        );
        assert!(headers.get("retry-after").is_none());
        assert_eq!(policy(&headers), r#"5000;w=5000;name="graphql_cost""#);
        last = remaining;
    }
    // The rateLimit query reports the budget as its own answer's fields do.
    let (_, headers, body) = post(&app, Some(&demo.access), JSON, RATE_LIMIT, json!({})).await;
    let (limit, remaining, reset) = limit_remaining_reset(&headers);
    let cost = &body["data"]["rateLimit"]["cost"];
    assert_eq!(cost["policy"], "graphql_cost", "{body}");
    assert_eq!(cost["limit"].as_u64(), Some(limit));
    assert_eq!(cost["remaining"].as_u64(), Some(remaining));
    assert_eq!(cost["resetAfter"].as_u64(), Some(reset));
    assert!(remaining < last);
    // Limits that are off are null, logged in or not.
    assert!(body["data"]["rateLimit"]["orders"].is_null(), "{body}");

    // Anonymous callers spend their address's smaller budget.
    let (_, headers, body) = post(&app, None, JSON, RATE_LIMIT, json!({})).await;
    let (limit, remaining, _) = limit_remaining_reset(&headers);
    assert_eq!(limit, 300);
    let cost = &body["data"]["rateLimit"]["cost"];
    assert_eq!(cost["policy"], "graphql_cost_anonymous", "{body}");
    assert_eq!(cost["remaining"].as_u64(), Some(remaining));
    // Drained: refused before it runs, 429 with the spec media type, and when to retry.
    let page = "{ stocks { id } }"; // 101 points: three drain it
    let mut refused = None;
    for _ in 0..50 {
        let (status, headers, body) = post(&app, None, SPEC, page, json!({})).await;
        if code(&body) == Some("RATE_LIMITED") {
            refused = Some((status, headers, body));
            break;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, headers, body) = refused.expect("the anonymous budget runs out");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after = field(&headers, "retry-after").expect("Retry-After");
    assert!(retry_after >= 1);
    assert_eq!(
        Some(retry_after),
        body["errors"][0]["extensions"]["retryAfter"].as_u64()
    );
    let (limit, remaining, _) = limit_remaining_reset(&headers);
    assert_eq!(limit, 300);
    let requested = body["extensions"]["cost"]["requested"].as_u64().unwrap();
    assert!(remaining < requested, "{remaining} left, {requested} asked");
}

#[tokio::test]
async fn a_document_the_budget_can_never_hold_gets_no_retry_after() {
    let app = spawn_app_with(&[("GRAPHQL_COST_BUDGET_ANONYMOUS", "20,1")]).await;
    // 22 points for a bucket of 20: waiting would not help.
    let wide: String = (0..11)
        .map(|i| format!("m{i}: marketState {{ isOpen }} "))
        .collect();
    let (status, headers, body) = post(&app, None, SPEC, &format!("{{ {wide}}}"), json!({})).await;
    assert_eq!(code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get("retry-after").is_none(), "{headers:?}");
    let (limit, remaining, _) = limit_remaining_reset(&headers);
    assert_eq!((limit, remaining), (20, 20), "nothing was spent");
}

#[tokio::test]
async fn orders_report_the_order_limit_and_a_retry_does_not_count() {
    let app = spawn_app_with(&[
        ("RATE_LIMIT_ORDERS", "3/60"),
        ("GRAPHQL_COST_BUDGET", "10000,500"),
    ])
    .await;
    app.wait_market(true).await;
    let demo = app.demo().await;
    let place = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } userErrors { code } } }";
    let order = |key: &str| json!({ "i": { "stock": { "symbol": "AAPL" }, "side": "BUY", "quantity": 1, "clientOrderId": key } });
    for (n, left) in [(1, 2), (2, 1), (3, 0)] {
        let (_, headers, body) = post(
            &app,
            Some(&demo.access),
            JSON,
            place,
            order(&format!("k{n}")),
        )
        .await;
        assert_eq!(
            body["data"]["placeOrder"]["order"]["status"], "EXECUTED",
            "{body}"
        );
        // The order limit is closer to exhaustion than the cost budget: it is the one shown,
        // and the policy lists both.
        let (limit, remaining, reset) = limit_remaining_reset(&headers);
        assert_eq!((limit, remaining), (3, left), "{headers:?}");
        assert!((1..=60).contains(&reset));
        let policy = policy(&headers);
        assert!(
            policy.starts_with(r#"3;w=60;name="orders", "#) && policy.contains("graphql_cost"),
            "{policy}"
        );
    }
    let (status, headers, body) = post(&app, Some(&demo.access), JSON, place, order("k4")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code(&body), Some("RATE_LIMITED"), "{body}");
    let retry_after = field(&headers, "retry-after").expect("Retry-After");
    assert_eq!(
        Some(retry_after),
        body["errors"][0]["extensions"]["retryAfter"].as_u64()
    );
    let (_, remaining, reset) = limit_remaining_reset(&headers);
    assert_eq!((remaining, reset), (0, retry_after));

    // A retried clientOrderId is answered without counting: only the cost budget is shown.
    let (_, headers, body) = post(&app, Some(&demo.access), JSON, place, order("k1")).await;
    assert_eq!(body["data"]["placeOrder"]["order"]["status"], "EXECUTED");
    assert!(headers.get("retry-after").is_none());
    assert_eq!(field(&headers, "ratelimit-limit"), Some(10000));
    assert!(!policy(&headers).contains("orders"));

    // rateLimit agrees: no order left, reset when the refusal said; the login limit is off.
    let (_, headers, body) = post(&app, Some(&demo.access), JSON, RATE_LIMIT, json!({})).await;
    let status = &body["data"]["rateLimit"];
    let orders = &status["orders"];
    assert_eq!(orders["policy"], "orders", "{body}");
    assert_eq!(
        (orders["limit"].as_u64(), orders["remaining"].as_u64()),
        (Some(3), Some(0))
    );
    assert!(orders["resetAfter"].as_u64().unwrap() <= retry_after);
    assert_eq!(orders["window"], 60);
    assert!(
        status["login"].is_null() && status["deposits"].is_null(),
        "{status}"
    );
    assert_eq!(
        status["cost"]["remaining"].as_u64(),
        field(&headers, "ratelimit-remaining"),
        "this answer's fields are the cost budget's: {headers:?}"
    );
}

#[tokio::test]
async fn answers_that_count_against_nothing_carry_no_fields() {
    // The harness turns every limit off.
    let app = spawn_app().await;
    let (_, headers, body) = post(&app, None, JSON, RATE_LIMIT, json!({})).await;
    assert!(headers.get("ratelimit-limit").is_none(), "{headers:?}");
    assert!(headers.get("ratelimit-policy").is_none());
    let status = &body["data"]["rateLimit"];
    for off in ["cost", "login", "orders", "deposits"] {
        assert!(status[off].is_null(), "{status}");
    }
}

#[tokio::test]
async fn browsers_may_read_the_fields() {
    let app = spawn_app_with(&[("GRAPHQL_COST_BUDGET_ANONYMOUS", "300,1")]).await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("origin", "https://app.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("ratelimit-remaining").is_some());
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
        "retry-after",
    ] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
}
