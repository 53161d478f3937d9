//! What an operation costs, made visible (issue #18): every executed query and mutation answers
//! `extensions.cost { requested, limit }`, and a document refused for its depth says which
//! limit it hit. (QUERY_TOO_COMPLEX and weighted costs are unit-tested in `graphql::limits`
//! until the schema weights its lists; every refusal's code is in `security.rs`.)

use serde_json::{Value, json};

use crate::helpers::{code, spawn_app_with};

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
    let small = app.gql("{ stocks { id } }", json!({})).await;
    let large = app
        .gql("{ stocks { id symbol name price change } }", json!({}))
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
        .json(&json!([{ "query": "{ stocks { id } }" }, { "query": "{ __typename }" }]))
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
    ws.subscribe("q", "{ stocks { id } }", json!({})).await;
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
    let deep = app
        .gql(
            "{ orders(first: 1) { edges { node { stock { symbol } } } } }",
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
