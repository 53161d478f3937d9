use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn transport_ws_carries_the_token_from_connection_init() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe("1", "{ me { email } }", json!({})).await;
    let next = ws.next().await.unwrap();
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["id"], "1");
    assert_eq!(next["payload"]["data"]["me"]["email"], "demo@example.com");
    assert_eq!(ws.next().await.unwrap()["type"], "complete");
}

#[tokio::test]
async fn anonymous_sockets_get_unauthenticated_errors() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("a", "{ me { email } }", json!({})).await;
    let next = ws.next().await.unwrap();
    assert_eq!(
        next["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{next}"
    );
}

#[tokio::test]
async fn a_bad_token_closes_the_connection() {
    let app = spawn_app().await;
    let mut ws = app.ws("graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer forged" } }))
        .await;
    assert_eq!(ws.closed_with().await, Some(4403));
}

#[tokio::test]
async fn legacy_graphql_ws_protocol_works_too() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    let mut ws = app.ws("graphql-ws").await;
    let ack = ws
        .init(json!({ "authorization": format!("Bearer {}", demo.access) }))
        .await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.subscribe("1", "{ me { role } }", json!({})).await;
    let data = ws.next().await.unwrap();
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["payload"]["data"]["me"]["role"], "CUSTOMER");
}

#[tokio::test]
async fn sockets_must_ask_for_a_graphql_subprotocol() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/graphql/ws"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "chat")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn open_sockets_close_cleanly_when_the_server_stops() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", "subscription { marketState { isOpen } }", json!({}))
        .await;
    assert_eq!(ws.next_for("t").await["type"], "next");
    app.stop();
    assert_eq!(ws.closed_with().await, Some(1001));
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL_SECS", "60")]).await;
    let demo = app.demo().await;
    let mut mine = app.ws_session(Some(&demo.access)).await;
    mine.subscribe(
        "o",
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    let mut anonymous = app.ws_session(None).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // Before expiry the socket serves.
    app.clock.advance(chrono::Duration::seconds(50));
    mine.send(json!({ "type": "ping" })).await;
    assert_eq!(mine.next_within_raw().await["type"], "pong");

    app.clock.advance(chrono::Duration::seconds(11));
    assert_eq!(mine.closed_with().await, Some(4401), "token expired");
    // Sockets without a token have nothing to expire.
    anonymous.send(json!({ "type": "ping" })).await;
    assert_eq!(anonymous.next_within_raw().await["type"], "pong");
    // A fresh token (what graphql-ws `connectionParams` returns on reconnect) is accepted.
    let fresh = app.demo().await;
    let mut again = app.ws_session(Some(&fresh.access)).await;
    again.send(json!({ "type": "ping" })).await;
    assert_eq!(again.next_within_raw().await["type"], "pong");
}
