//! Hostile input: thousands of generated malformed, oversized and ill-typed requests. The
//! server must answer every one without a 5xx or a panic, stay responsive, and store nothing.

use std::time::Duration;

use entity::{cash_ledger, orders, positions, trades, users};
use futures_util::future::join_all;
use rand::{Rng, RngExt, SeedableRng, rngs::StdRng};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, spawn_app};

/// What one generated request is.
enum Attack {
    /// A raw body with `Content-Type: application/json`.
    Body(Vec<u8>),
    /// A well-formed GraphQL-over-HTTP envelope with hostile content.
    Request(Value),
    /// A GET with a raw query string.
    Get(String),
}

const FIELDS: [&str; 8] = [
    "stocks",
    "me",
    "cash",
    "portfolio",
    "marketState",
    "orders",
    "stock",
    "__typename",
];

fn random_text(rng: &mut StdRng, max: usize) -> String {
    let len = rng.random_range(0..max);
    (0..len)
        .map(|_| match rng.random_range(0..4) {
            0 => rng.random_range(0x20u8..0x7f) as char,
            1 => [
                '{', '}', '(', ')', '[', ']', ':', '$', '!', '@', '"', '\\', '.', '#',
            ][rng.random_range(0..14)],
            2 => char::from_u32(rng.random_range(0..0x11_0000)).unwrap_or('\u{fffd}'),
            _ => ' ',
        })
        .collect()
}

/// A malformed amount, quantity or id.
fn bad_scalar(rng: &mut StdRng) -> Value {
    let choices = [
        json!(-1),
        json!(0),
        json!("-5.00"),
        json!("0"),
        json!("1.001"),
        json!("1e400"),
        json!("NaN"),
        json!("Infinity"),
        json!("99999999999999999999999999999999"),
        json!(1.005),
        json!(true),
        json!(null),
        json!([1, 2, 3]),
        json!({ "$gt": "" }),
        json!("'; DROP TABLE users; --"),
        json!("\u{0000}"),
        json!("x".repeat(10_000)),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
    ];
    choices[rng.random_range(0..choices.len())].clone()
}

fn attack(rng: &mut StdRng, n: usize) -> Attack {
    match n % 14 {
        0 => {
            let len = rng.random_range(0..4096);
            let mut bytes = vec![0u8; len];
            rng.fill_bytes(&mut bytes);
            Attack::Body(bytes)
        }
        1 => Attack::Request(json!({ "query": random_text(rng, 600) })),
        2 => {
            // Deep selection nesting (valid syntax, invalid fields at depth).
            let depth = rng.random_range(10..3000);
            let field = FIELDS[rng.random_range(0..FIELDS.len())];
            let query = format!(
                "{}{}",
                format!("{{ {field} ").repeat(depth),
                "}".repeat(depth)
            );
            Attack::Request(json!({ "query": query }))
        }
        3 => {
            // Deeply nested variables.
            let depth = rng.random_range(100..20_000);
            let vars = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let body = format!(
                r#"{{"query":"query($x: [ID!]) {{ stocks {{ id }} }}","variables":{{"x":{vars}}}}}"#
            );
            Attack::Body(body.into_bytes())
        }
        4 => {
            // A huge list where a few ids are expected.
            let ids: Vec<Value> = (0..rng.random_range(1_000..30_000))
                .map(|i| json!(i.to_string()))
                .collect();
            Attack::Request(json!({
                "query": "query($ids: [ID!]!) { a: stock(id: $ids) { id } }",
                "variables": { "ids": ids }
            }))
        }
        5 => {
            // Alias floods.
            let n = rng.random_range(50..3000);
            let body: String = (0..n).map(|i| format!("a{i}: stocks {{ id }} ")).collect();
            Attack::Request(json!({ "query": format!("{{ {body} }}") }))
        }
        6 => Attack::Request(json!({
            "query": "mutation($a: Decimal!) { deposit(amount: $a) { balance } }",
            "variables": { "a": bad_scalar(rng) }
        })),
        7 => {
            let side = ["BUY", "SELL", "SHORT", "", "buy"][rng.random_range(0..5)];
            Attack::Request(json!({
                "query": "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
                "variables": { "i": {
                    "stockId": bad_scalar(rng),
                    "side": side,
                    "quantity": bad_scalar(rng),
                } }
            }))
        }
        8 => Attack::Request(json!({
            "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            "variables": { "i": {
                // Never a valid email: no `@`.
                "email": random_text(rng, 300).replace('@', ""),
                "password": random_text(rng, 300),
                "name": random_text(rng, 300),
            } }
        })),
        9 => {
            // Fragment bombs: each level spreads the next many times.
            let mut doc = String::from("query { ...F0 }");
            let levels = rng.random_range(3..12);
            for level in 0..levels {
                let spreads = format!("...F{} ", level + 1).repeat(rng.random_range(2..30));
                doc.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
            }
            // The last level: real fields, an unknown fragment, or a cycle back to the top.
            let leaf = ["stocks { id }", "...Nope", "...F0 ...F0"][rng.random_range(0..3)];
            doc.push_str(&format!(" fragment F{levels} on Query {{ {leaf} }}"));
            Attack::Request(json!({ "query": doc }))
        }
        10 => {
            // Batches of junk, some too long.
            let n = rng.random_range(1..40);
            let ops: Vec<Value> = (0..n)
                .map(|_| json!({ "query": random_text(rng, 80), "variables": bad_scalar(rng) }))
                .collect();
            Attack::Request(Value::Array(ops))
        }
        11 => Attack::Get(format!(
            "query={}&variables={}",
            urlencode(&random_text(rng, 300)),
            urlencode(&random_text(rng, 100))
        )),
        12 => Attack::Request(json!({
            "query": random_text(rng, 200),
            "variables": random_text(rng, 200),
            "operationName": bad_scalar(rng),
            "extensions": bad_scalar(rng),
        })),
        _ => {
            // Oversized documents.
            let size = rng.random_range(20_000..300_000);
            Attack::Request(json!({ "query": format!("{{ __typename }} #{}", "x".repeat(size)) }))
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn send(app: &TestApp, token: &str, attack: Attack) -> Result<u16, String> {
    let url = app.url("/graphql");
    let request = match attack {
        Attack::Body(bytes) => app
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(bytes),
        Attack::Request(body) => app.http.post(&url).json(&body),
        Attack::Get(query) => app.http.get(format!("{url}?{query}")),
    };
    let response = request
        .bearer_auth(token)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    // The body must be readable (not a connection cut by a panic).
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if let Ok(json) = serde_json::from_slice::<Value>(&body) {
        check_codes(&json)?;
    }
    Ok(status)
}

/// The codes README lists: a refusal a program cannot tell apart is no use to it.
const DOCUMENTED_CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "RATE_LIMITED",
    "INSUFFICIENT_FUNDS",
    "INSUFFICIENT_SHARES",
    "INTERNAL",
    "DOCUMENT_TOO_LARGE",
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_DEEP",
];

/// Every error of a response (or of each response of a batch) has a documented code.
fn check_codes(body: &Value) -> Result<(), String> {
    if let Some(batch) = body.as_array() {
        return batch.iter().try_for_each(check_codes);
    }
    let errors = body["errors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for error in errors {
        let code = error["extensions"]["code"].as_str();
        if !code.is_some_and(|c| DOCUMENTED_CODES.contains(&c)) {
            return Err(format!("an error without a documented code: {error}"));
        }
    }
    Ok(())
}

async fn stored_rows(app: &TestApp) -> [u64; 5] {
    let db = &app.db;
    [
        users::Entity::find().count(db).await.unwrap(),
        orders::Entity::find().count(db).await.unwrap(),
        trades::Entity::find().count(db).await.unwrap(),
        positions::Entity::find().count(db).await.unwrap(),
        cash_ledger::Entity::find().count(db).await.unwrap(),
    ]
}

#[tokio::test]
async fn thousands_of_hostile_requests_get_answers_not_crashes_and_store_nothing() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    let before = stored_rows(&app).await;
    let cash_before = app
        .gql_as(&demo.access, "{ cash { balance } }", json!({}))
        .await;
    let mut rng = StdRng::seed_from_u64(0x2EB7A7);
    const TOTAL: usize = 3_000;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for chunk in 0..TOTAL / 50 {
        let attacks: Vec<Attack> = (0..50).map(|i| attack(&mut rng, chunk * 50 + i)).collect();
        let results = join_all(attacks.into_iter().map(|a| send(&app, &demo.access, a))).await;
        for result in results {
            let status = result.unwrap_or_else(|e| panic!("a request got no proper answer: {e}"));
            assert!(status < 500, "a hostile request got {status}");
            *statuses.entry(status).or_default() += 1;
        }
        // Still answering ordinary clients between waves.
        let ok = app.gql("{ marketState { isOpen } }", json!({})).await;
        assert!(ok["errors"].is_null(), "{ok}");
    }
    eprintln!("hostile requests by status: {statuses:?}");

    // Garbage over the WebSocket: the socket is closed, the server carries on.
    for n in 0..50 {
        let mut ws = app.ws("graphql-transport-ws").await;
        let mut bytes = vec![0u8; rng.random_range(1..2048)];
        rng.fill_bytes(&mut bytes);
        let frame = if n % 2 == 0 {
            Message::Binary(bytes.into())
        } else {
            Message::text(random_text(&mut rng, 500))
        };
        ws.send_raw(frame).await;
        assert!(ws.closed_with().await.is_some_and(|c| c >= 4000));
    }

    assert_eq!(stored_rows(&app).await, before, "nothing was stored");
    let cash_after = app
        .gql_as(&demo.access, "{ cash { balance } }", json!({}))
        .await;
    assert_eq!(cash_before, cash_after);
    app.login("demo@example.com", "demo123").await;
}
