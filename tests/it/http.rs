use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn content_negotiation_follows_graphql_over_http() {
    let app = spawn_app().await;
    let post = |accept: Option<&'static str>, query: &'static str| {
        let mut req = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }));
        if let Some(accept) = accept {
            req = req.header(header::ACCEPT, accept);
        }
        req.send()
    };

    let legacy = post(None, "{ __typename }").await.unwrap();
    assert_eq!(legacy.status(), StatusCode::OK);
    assert!(
        legacy.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    let modern = post(Some("application/graphql-response+json"), "{ __typename }")
        .await
        .unwrap();
    assert_eq!(modern.status(), StatusCode::OK);
    assert!(
        modern.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/graphql-response+json")
    );
    assert_eq!(
        modern.json::<Value>().await.unwrap()["data"]["__typename"],
        "Query"
    );

    // A document that does not validate: 400 with the spec media type, 200 with the legacy one;
    // either way `data` is absent and the error has a code.
    let invalid = post(Some("application/graphql-response+json"), "{ nope }")
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    let body: Value = invalid.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let invalid = post(Some("application/json"), "{ nope").await.unwrap();
    assert_eq!(invalid.status(), StatusCode::OK);

    // A field error still executed: 200 even with the spec media type.
    let field_error = post(Some("application/graphql-response+json"), "{ me { id } }")
        .await
        .unwrap();
    assert_eq!(field_error.status(), StatusCode::OK);

    let unacceptable = post(Some("text/html"), "{ __typename }").await.unwrap();
    assert_eq!(unacceptable.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn post_needs_a_json_graphql_body() {
    let app = spawn_app().await;
    let wrong_type = app
        .http
        .post(app.url("/graphql"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body("{ __typename }")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let not_json = app
        .http
        .post(app.url("/graphql"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{{{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let too_big = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": format!("{{ __typename }} #{}", "x".repeat(1024 * 1024)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = spawn_app().await;
    let query = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query Q($t: String!) { __type(name: $t) { name } }",
            ),
            ("variables", r#"{"t": "User"}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::OK);
    assert_eq!(
        query.json::<Value>().await.unwrap()["data"]["__type"]["name"],
        "User"
    );

    let mutation = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { logout }")])
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mutation.headers()[header::ALLOW], "POST");

    // A named mutation, alone in its document, without `operationName`: still a mutation.
    let named = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation Out { logout }")])
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn get_runs_the_operation_named_by_operation_name() {
    let app = spawn_app().await;
    let get = |params: Vec<(&'static str, &'static str)>| {
        app.http.get(app.url("/graphql")).query(&params).send()
    };
    let two = "query A { __typename } query B { marketState { isOpen } }";
    for (name, field) in [("A", "__typename"), ("B", "marketState")] {
        let response = get(vec![("query", two), ("operationName", name)])
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"].is_null(), "{body}");
        let data = body["data"].as_object().unwrap();
        assert_eq!(data.len(), 1, "only operation {name} ran: {body}");
        assert!(data.contains_key(field), "{body}");
    }
    // Without the name, a document of two operations cannot run.
    let unnamed: Value = get(vec![("query", two)])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unnamed["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // The name decides whether GET may run it: the mutation is refused, the query runs.
    let mixed = "query Q { __typename } mutation M { logout { revoked } }";
    let mutation = get(vec![("query", mixed), ("operationName", "M")])
        .await
        .unwrap();
    assert_eq!(mutation.status(), StatusCode::METHOD_NOT_ALLOWED);
    let query: Value = get(vec![("query", mixed), ("operationName", "Q")])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["data"]["__typename"], "Query", "{query}");
    // Variables that are not JSON: not a GraphQL request at all.
    let bad = get(vec![("query", two), ("variables", "{nope")])
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn batches_run_each_operation() {
    let app = spawn_app().await;
    let body: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ me { id } }" }]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body[0]["data"]["__typename"], "Query");
    assert_eq!(
        body[1]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn graphiql_and_health_are_served() {
    let app = spawn_app().await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("graphiql") && html.contains("/graphql/ws"),
        "{html}"
    );

    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let redis = if std::env::var("TEST_REDIS_URL").is_ok() {
        "ok"
    } else {
        "disabled"
    };
    assert_eq!(body["redis"]["status"], redis);
}

#[tokio::test]
async fn health_is_503_without_the_database() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["database"]["status"], "unavailable");
}

#[tokio::test]
async fn internal_errors_do_not_leak_detail() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    app.db.clone().close().await.unwrap();
    let body = app.gql_as(&demo.access, "{ me { id } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    assert_eq!(body["errors"][0]["message"], "internal error");

    // The request id, the client's or a generated one, lets an operator find the log lines.
    let with_id = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&demo.access)
        .header("x-request-id", "support-ticket-42")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(with_id.headers()["x-request-id"], "support-ticket-42");
    let body: Value = with_id.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        "support-ticket-42"
    );
    let generated = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&demo.access)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = generated.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["requestId"], id.as_str());
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[test]
fn checked_in_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .expect("schema/schema.graphql exists");
    assert!(
        committed == zebrat::graphql::sdl(),
        "schema/schema.graphql is stale: run `cargo run -- export-schema -o schema/schema.graphql`"
    );
}
