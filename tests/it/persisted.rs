//! Persisted operations: Automatic Persisted Queries (Apollo's `persistedQuery` extension) over
//! POST, GET, WebSocket and SSE, and the trusted-documents allow-list.

use std::{path::PathBuf, process::Stdio, time::Duration};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, code, spawn_app, spawn_app_with};

const STATE: &str = "query MarketState { marketState { isOpen timezone } }";

fn sha256(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs `{query?, extensions}` and returns (status, body).
async fn post(app: &TestApp, query: Option<&str>, extensions: Value) -> (StatusCode, Value) {
    let mut body = json!({ "extensions": extensions });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    let response = app
        .http
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// GETs `/graphql` with the hash (and the document, when given).
async fn get(app: &TestApp, query: Option<&str>, hash: &str, accept: &str) -> (StatusCode, Value) {
    let extensions = persisted(hash).to_string();
    let mut params = vec![("extensions", extensions.as_str())];
    if let Some(query) = query {
        params.push(("query", query));
    }
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&params)
        .header(header::ACCEPT, accept)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_hash_is_unknown_until_sent_with_its_document_then_runs_alone() {
    let app = spawn_app().await;
    let hash = sha256(STATE);
    let (status, unknown) = post(&app, None, persisted(&hash)).await;
    assert_eq!(status, StatusCode::OK);
    // What Apollo's and urql's persisted-query links look for.
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(code(&unknown), Some("PERSISTED_QUERY_NOT_FOUND"));
    assert!(unknown.get("data").is_none() || unknown["data"].is_null());

    let (_, registered) = post(&app, Some(STATE), persisted(&hash)).await;
    assert_eq!(
        registered["data"]["marketState"]["timezone"], "America/New_York",
        "{registered}"
    );
    let (_, by_hash) = post(&app, None, persisted(&hash)).await;
    assert_eq!(by_hash["data"], registered["data"], "{by_hash}");

    // The same over GET, where Apollo sends queries when `useGETForHashedQueries` is on.
    let (status, by_get) = get(&app, None, &hash, "application/json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        by_get["data"]["marketState"]["timezone"],
        "America/New_York"
    );
}

#[tokio::test]
async fn apq_over_get_registers_too_and_never_runs_a_mutation() {
    let app = spawn_app().await;
    let query = "{ stocks { symbol } }";
    let hash = sha256(query);
    let (status, unknown) = get(&app, None, &hash, "application/graphql-response+json").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a request error under the spec media type"
    );
    assert_eq!(code(&unknown), Some("PERSISTED_QUERY_NOT_FOUND"));
    let (status, _) = get(&app, Some(query), &hash, "application/json").await;
    assert_eq!(status, StatusCode::OK);
    let (_, by_hash) = get(&app, None, &hash, "application/json").await;
    assert!(
        by_hash["data"]["stocks"][0]["symbol"].is_string(),
        "{by_hash}"
    );

    // A mutation learnt over POST is refused by hash over GET, as it is by text.
    let logout = "mutation { logout { revoked } }";
    let logout_hash = sha256(logout);
    let demo = app.demo().await;
    let learnt = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&demo.access)
        .json(&json!({ "query": logout, "extensions": persisted(&logout_hash) }))
        .send()
        .await
        .unwrap();
    let learnt: Value = learnt.json().await.unwrap();
    assert_eq!(learnt["data"]["logout"]["revoked"], true, "{learnt}");
    let again = app.demo().await;
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", persisted(&logout_hash).to_string())])
        .bearer_auth(&again.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let me = app
        .gql_as(&again.access, "{ me { email } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"]["email"], "demo@example.com",
        "still logged in"
    );
}

#[tokio::test]
async fn a_hash_that_does_not_match_its_document_is_refused_and_not_learnt() {
    let app = spawn_app().await;
    let wrong = sha256("{ somethingElse }");
    let (_, body) = post(&app, Some(STATE), persisted(&wrong)).await;
    assert_eq!(code(&body), Some("PERSISTED_QUERY_HASH_MISMATCH"), "{body}");
    assert!(body["data"].is_null());
    let (_, after) = post(&app, None, persisted(&wrong)).await;
    assert_eq!(code(&after), Some("PERSISTED_QUERY_NOT_FOUND"));

    let bad_version = json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256(STATE) } });
    let (_, body) = post(&app, Some(STATE), bad_version).await;
    assert_eq!(code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn subscriptions_by_hash_share_their_feed_over_sockets_and_streams() {
    let app = spawn_app().await;
    let feed = "subscription { marketState { isOpen } }";
    let hash = sha256(feed);
    let mut ws = app.ws_session(None).await;
    ws.send(
        json!({ "id": "a", "type": "subscribe", "payload": { "extensions": persisted(&hash) } }),
    )
    .await;
    let unknown = ws.next_for("a").await;
    assert_eq!(unknown["type"], "error", "{unknown}");
    assert_eq!(unknown["payload"][0]["message"], "PersistedQueryNotFound");

    ws.send(json!({ "id": "b", "type": "subscribe", "payload": { "query": feed, "extensions": persisted(&hash) } }))
        .await;
    assert_eq!(ws.next_for("b").await["type"], "next");
    ws.send(
        json!({ "id": "c", "type": "subscribe", "payload": { "extensions": persisted(&hash) } }),
    )
    .await;
    let by_hash = ws.next_for("c").await;
    assert!(
        by_hash["payload"]["data"]["marketState"]["isOpen"].is_boolean(),
        "{by_hash}"
    );

    let sse = app
        .http
        .post(app.url("/graphql/stream"))
        .header(header::ACCEPT, "text/event-stream")
        .json(&json!({ "extensions": persisted(&hash) }))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    assert_eq!(
        app.feeds.len(),
        1,
        "one execution for the text and the hash"
    );
}

/// A trusted-documents file: `{hash: document}` for `documents`, as GraphQL Code Generator
/// writes it.
fn manifest(documents: &[&str]) -> PathBuf {
    let map: serde_json::Map<String, Value> =
        documents.iter().map(|d| (sha256(d), json!(d))).collect();
    let path = std::env::temp_dir().join(format!("zebrat-trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, Value::Object(map).to_string()).unwrap();
    path
}

#[tokio::test]
async fn with_trusted_documents_only_they_run_whatever_the_transport() {
    let feed = "subscription { marketState { isOpen } }";
    let file = manifest(&[STATE, feed]);
    let app = spawn_app_with(&[("GRAPHQL_TRUSTED_DOCUMENTS", file.to_str().unwrap())]).await;
    let _ = std::fs::remove_file(&file);

    // Listed with its document: runs by hash from the first request on.
    let (_, by_hash) = post(&app, None, persisted(&sha256(STATE))).await;
    assert_eq!(
        by_hash["data"]["marketState"]["timezone"], "America/New_York",
        "{by_hash}"
    );
    let by_text = app.gql(STATE, json!({})).await;
    assert!(by_text["data"]["marketState"].is_object(), "{by_text}");

    // Anything else is refused before it runs, by text, by hash, or when registering.
    let other = "{ stocks { symbol } }";
    let plain = app.gql(other, json!({})).await;
    assert_eq!(code(&plain), Some("PERSISTED_QUERY_NOT_ALLOWED"), "{plain}");
    assert!(plain["data"].is_null());
    let (_, unknown) = post(&app, None, persisted(&sha256(other))).await;
    assert_eq!(code(&unknown), Some("PERSISTED_QUERY_NOT_ALLOWED"));
    let (_, registering) = post(&app, Some(other), persisted(&sha256(other))).await;
    assert_eq!(code(&registering), Some("PERSISTED_QUERY_NOT_ALLOWED"));
    let login = app
        .gql(
            "mutation { login(input: {email: \"demo@example.com\", password: \"demo123\"}) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&login), Some("PERSISTED_QUERY_NOT_ALLOWED"));

    // A listed subscription sent by hash alone shares its feed (nothing else runs yet), and
    // the same document sent as text joins that execution.
    let stream = app
        .http
        .post(app.url("/graphql/stream"))
        .header(header::ACCEPT, "text/event-stream")
        .json(&json!({ "extensions": persisted(&sha256(feed)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    app.eventually("the hash's shared execution", || async {
        app.feeds.len() == 1
    })
    .await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("ok", feed, json!({})).await;
    assert_eq!(ws.next_for("ok").await["type"], "next");
    assert_eq!(app.feeds.len(), 1);
    ws.subscribe("no", "subscription { ticks { seq } }", json!({}))
        .await;
    let refused = ws.next_for("no").await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_ALLOWED"
    );
}

#[tokio::test]
async fn a_bad_trusted_documents_file_refuses_to_start_and_names_it() {
    let file =
        std::env::temp_dir().join(format!("zebrat-bad-trusted-{}.txt", uuid::Uuid::new_v4()));
    std::fs::write(&file, "# our web app\nnot-a-hash\n").unwrap();
    let db = std::env::temp_dir().join(format!("zebrat-bad-trusted-{}.db", uuid::Uuid::new_v4()));
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_zebrat"))
        .arg("serve")
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.display()),
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", "persisted-test-secret-0123456789abcdef")
        .env("GRAPHQL_TRUSTED_DOCUMENTS", &file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("it exits at once")
        .expect("it runs");
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&db);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
}
