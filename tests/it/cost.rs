//! What an operation costs, made visible (issue #18): every executed query and mutation answers
//! `extensions.cost { requested, limit }`, and a document refused for its depth says which
//! limit it hit. And what it may cost (issue #19): lists weighted by their sizes, a budget per
//! client that refills, a timeout, a cap on the response. (Every refusal's code is in
//! `security.rs`.)

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app_with};

const LIMITS: [(&str, &str); 2] = [("GRAPHQL_MAX_COMPLEXITY", "60"), ("GRAPHQL_MAX_DEPTH", "4")];

fn cost(body: &Value) -> (u64, u64) {
    let cost = &body["extensions"]["cost"];
    let requested = cost["requested"].as_u64();
    let limit = cost["limit"].as_u64();
    match (requested, limit) {
        (Some(requested), Some(limit)) => (requested, limit),
        _ => panic!("no extensions.cost {{ requested, limit }}: {body}"),
    }
}

#[tokio::test]
async fn every_query_and_mutation_answers_its_cost_and_the_limit() {
    let app = spawn_app_with(&LIMITS).await;
    let small = app.gql("{ marketState { id } }", json!({})).await;
    let large = app
        .gql(
            "{ marketState { id isOpen reason timezone nextOpen } }",
            json!({}),
        )
        .await;
    let (small_cost, limit) = cost(&small);
    let (large_cost, _) = cost(&large);
    assert_eq!(limit, 60, "the configured limit: {small}");
    assert!(small_cost > 0, "{small}");
    assert!(
        large_cost > small_cost,
        "more fields cost more: {small} {large}"
    );

    let login = app
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": "demo@example.com", "password": "demo123" } }),
        )
        .await;
    assert!(login["errors"].is_null(), "{login}");
    assert!(cost(&login).0 > 0, "{login}");

    // A field error still executed: it has a cost too.
    let denied = app.gql("{ me { id } }", json!({})).await;
    assert_eq!(code(&denied), Some("UNAUTHENTICATED"), "{denied}");
    cost(&denied);

    // Each operation of a batch answers its own.
    let batch: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ marketState { id } }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cost(&batch[0]).0, small_cost, "{batch}");
    assert!(cost(&batch[1]).0 < small_cost, "{batch}");
}

#[tokio::test]
async fn queries_over_a_socket_answer_their_cost_but_subscription_events_do_not() {
    let app = spawn_app_with(&LIMITS).await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("q", "{ marketState { id } }", json!({})).await;
    let answer = ws.next_for("q").await;
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(cost(&answer["payload"]).1, 60, "{answer}");

    // Checked once when subscribing; a feed's every frame does not repeat it.
    ws.subscribe("s", "subscription { marketState { isOpen } }", json!({}))
        .await;
    let event = ws.next_for("s").await;
    assert_eq!(event["type"], "next", "{event}");
    assert!(event["payload"].get("extensions").is_none(), "{event}");
}

#[tokio::test]
async fn a_refused_document_says_which_limit_it_hit() {
    let app = spawn_app_with(&LIMITS).await;
    // Five levels of a few fields, whose lists are not weighted (a connection would be too
    // complex before it is too deep).
    let deep = app
        .gql(
            "{ __schema { queryType { fields { type { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&deep), Some("QUERY_TOO_DEEP"), "{deep}");
    assert_eq!(deep["errors"][0]["extensions"]["limit"], 4, "{deep}");
    assert!(deep["data"].is_null(), "nothing ran: {deep}");

    // More selections than the complexity limit allows: refused before validation.
    let fields = "id symbol name price change changePercent previousClose";
    let aliases: String = (0..8)
        .map(|i| format!("s{i}: stocks {{ {fields} }} "))
        .collect();
    let wide = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code(&wide), Some("DOCUMENT_TOO_LARGE"), "{wide}");
    assert!(
        wide["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("64 selections")
    );
}

// Issue #19, finding 1: lists count by their sizes, a per-client budget that refills, a
// timeout, a response cap.

#[tokio::test]
async fn lists_cost_their_size_times_their_items() {
    let app = spawn_app_with(&[]).await;
    let requested = |query: &'static str| {
        let app = &app;
        async move {
            let r = app.gql(query, json!({})).await;
            assert!(r["errors"].is_null(), "{r}");
            cost(&r).0
        }
    };
    // Stocks are not capped: a nominal hundred of them.
    assert_eq!(requested("{ stocks { id } }").await, 1 + 100);
    // A trend is 24 closes.
    assert_eq!(
        requested("{ stocks { id trend } }").await,
        1 + 100 * (1 + 25)
    );
    // A candle window is `last` candles, else the 2000 it may hold.
    let last_10 =
        "{ candles(stock: {symbol: \"AAPL\"}, interval: D1, last: 10) { candles { close } } }";
    assert_eq!(requested(last_10).await, 1 + 10 * (1 + 1));
    let window =
        "{ stock(by: {symbol: \"AAPL\"}) { candles(interval: H1) { candles { open close } } } }";
    assert_eq!(requested(window).await, 1 + 1 + 2000 * (1 + 2));
    assert_eq!(requested("{ marketHours { day } }").await, 1 + 7);
    // A page: its size, else the default 20.
    let admin = app.admin().await;
    let users = app
        .gql_as(
            &admin.access,
            "{ users(first: 50) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(cost(&users).0, 1 + 50 * (1 + 1), "{users}");

    // The amplifier: a million points an alias, refused before it runs.
    let amplifier = app
        .gql(
            "{ stocks { candles(interval: H1) { candles { open high low close } } trend } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&amplifier), Some("QUERY_TOO_COMPLEX"), "{amplifier}");
    assert_eq!(amplifier["errors"][0]["extensions"]["limit"], 25000);
    assert!(amplifier["data"].is_null(), "{amplifier}");
}

/// A small anonymous budget: ten operations of cost 2 (`{ marketState { isOpen } }`), one
/// point back a second.
const SMALL_BUDGETS: [(&str, &str); 2] = [
    ("GRAPHQL_COST_BUDGET", "300,100"),
    ("GRAPHQL_COST_BUDGET_ANONYMOUS", "20,1"),
];

const CHEAP: &str = "{ marketState { isOpen } }";

fn budget(body: &Value) -> (u64, u64, u64) {
    let b = &body["extensions"]["cost"]["budget"];
    match (
        b["remaining"].as_u64(),
        b["capacity"].as_u64(),
        b["refillPerSecond"].as_u64(),
    ) {
        (Some(r), Some(c), Some(f)) => (r, c, f),
        _ => panic!("no extensions.cost.budget {{ remaining, capacity, refillPerSecond }}: {body}"),
    }
}

async fn post(app: &TestApp, body: Value, accept: &str) -> reqwest::Response {
    app.http
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn operations_spend_a_budget_per_client_that_refills() {
    let app = spawn_app_with(&SMALL_BUDGETS).await;
    // Logged in first: the login is an anonymous operation too.
    let demo = app.demo().await;
    let first = app.gql(CHEAP, json!({})).await;
    let (requested, _) = cost(&first);
    let (remaining, capacity, refill) = budget(&first);
    assert_eq!((capacity, refill), (20, 1), "{first}");
    assert!(remaining <= capacity - requested, "{first}");
    let mut refused = None;
    for _ in 0..20 {
        let r = app.gql(CHEAP, json!({})).await;
        if code(&r).is_some() {
            refused = Some(r);
            break;
        }
        assert!(budget(&r).0 < capacity, "{r}");
    }
    let refused = refused.expect("the budget runs out");
    assert_eq!(code(&refused), Some("RATE_LIMITED"), "{refused}");
    let retry_after = refused["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter");
    assert!((1..=2).contains(&retry_after), "{refused}");
    assert!(budget(&refused).0 < requested, "{refused}");
    assert!(refused.get("data").is_none(), "nothing ran: {refused}");
    // The spec media type answers 429 with Retry-After (the bucket may have refilled by one
    // operation meanwhile on a slow machine: the next one is refused).
    let mut status = Vec::new();
    for _ in 0..3 {
        let r = post(
            &app,
            json!({ "query": CHEAP }),
            "application/graphql-response+json",
        )
        .await;
        status.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            break;
        }
    }
    assert_eq!(status.last(), Some(&429), "{status:?}");

    // A logged-in user spends from their own, larger budget, whatever their address.
    let mine = app.gql_as(&demo.access, CHEAP, json!({})).await;
    assert!(mine["errors"].is_null(), "{mine}");
    assert_eq!(budget(&mine).1, 300, "{mine}");

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let again = app.gql(CHEAP, json!({})).await;
    assert!(again["errors"].is_null(), "refilled: {again}");
}

#[tokio::test]
async fn a_batch_spends_the_sum_and_an_operation_over_the_capacity_never_runs() {
    let app = spawn_app_with(&SMALL_BUDGETS).await;
    let four = json!({ "query": "{ a: marketState { isOpen } b: marketState { isOpen } }" });
    let batch = Value::Array(vec![four; 7]);
    let answers: Value = post(&app, batch, "application/json")
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<Option<&str>> = answers.as_array().unwrap().iter().map(code).collect();
    // 20 points: five operations of 4, then refusals.
    assert_eq!(
        codes,
        [
            None,
            None,
            None,
            None,
            None,
            Some("RATE_LIMITED"),
            Some("RATE_LIMITED")
        ],
        "{answers}"
    );
    assert_eq!(cost(&answers[0]).0, 4, "{answers}");
    assert!(budget(&answers[4]).0 < 4, "{answers}");

    // 22 points can never fit a bucket of 20: too complex for this caller, not "wait".
    let wide: String = (0..11)
        .map(|i| format!("m{i}: marketState {{ isOpen }} "))
        .collect();
    let r = app.gql(&format!("{{ {wide}}}"), json!({})).await;
    assert_eq!(code(&r), Some("QUERY_TOO_COMPLEX"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["limit"], 20, "{r}");
}

/// Every stock's last 20 hourly candles, twice: within the complexity limit (20202 points)
/// and longer than a millisecond to run.
const HEAVY: &str = "{ a: stocks { candles(interval: H1, last: 20) { candles { open high low close } } } \
    b: stocks { candles(interval: H1, last: 20) { candles { open high low close } } } }";

#[tokio::test]
async fn an_operation_over_the_timeout_is_cancelled_with_timeout() {
    let app = spawn_app_with(&[("GRAPHQL_TIMEOUT_SECS", "0.001")]).await;
    let r = post(
        &app,
        json!({ "query": HEAVY }),
        "application/graphql-response+json",
    )
    .await;
    assert_eq!(r.status(), 200, "it ran: not a request error");
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), Some("TIMEOUT"), "{body}");
    assert!(
        body["data"].is_null() && body.get("data").is_some(),
        "{body}"
    );
    cost(&body);
}

/// Every stock's name and price, five times over: about 5 KB, from the seeded stocks alone.
const LARGE: &str = "{ a: stocks { id symbol name price } b: stocks { id symbol name price } \
    c: stocks { id symbol name price } d: stocks { id symbol name price } \
    e: stocks { id symbol name price } }";

#[tokio::test]
async fn a_response_over_the_limit_is_replaced_by_an_error_never_cut() {
    let app = spawn_app_with(&[("GRAPHQL_MAX_RESPONSE_BYTES", "2000")]).await;
    let r = app.gql(LARGE, json!({})).await;
    assert_eq!(code(&r), Some("RESPONSE_TOO_LARGE"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["limit"], 2000, "{r}");
    assert!(r["data"].is_null(), "{r}");
    assert!(app.gql(CHEAP, json!({})).await["errors"].is_null());

    // The body holds at most the limit: in a batch, the operation that does not fit in what
    // is left is replaced (each fits on its own: this is the exact check on the JSON).
    let medium = "{ stocks { id symbol name } }";
    let alone = app.gql(medium, json!({})).await;
    assert!(alone["errors"].is_null(), "{alone}");
    let size = alone.to_string().len();
    assert!(
        (700..1900).contains(&size),
        "{size} bytes: pick another query"
    );
    let batch = Value::Array(vec![json!({ "query": medium }); 3]);
    let r = post(&app, batch, "application/json").await;
    let text = r.text().await.unwrap();
    let answers: Value = serde_json::from_str(&text).expect("whole JSON");
    let codes: Vec<Option<&str>> = answers.as_array().unwrap().iter().map(code).collect();
    assert_eq!(codes[0], None, "{text}");
    assert!(codes.contains(&Some("RESPONSE_TOO_LARGE")), "{text}");
    assert!(text.len() < 2000 + 3 * 400, "{} bytes", text.len());
}

#[tokio::test]
async fn socket_messages_over_the_limit_are_replaced_and_the_socket_goes_on() {
    let app = spawn_app_with(&[("GRAPHQL_MAX_RESPONSE_BYTES", "30")]).await;
    let mut ws = app.ws_session(None).await;
    // An event of 41 bytes: replaced by an error on that subscription.
    ws.subscribe("s", "subscription { marketState { isOpen } }", json!({}))
        .await;
    let event = ws.next_for("s").await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(
        event["payload"]["errors"][0]["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{event}"
    );
    // A query's answer too; the socket still answers.
    ws.subscribe("q", LARGE, json!({})).await;
    let answer = ws.next_for("q").await;
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{answer}"
    );
    ws.send(json!({ "type": "ping" })).await;
    loop {
        let msg = ws.next_within_raw().await;
        if msg["type"] == "pong" {
            break;
        }
    }
}
