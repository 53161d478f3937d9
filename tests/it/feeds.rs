//! Live feeds over WebSocket: tick batches, market state, candles, shared executions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_at, spawn_app_with};

const TICKS: &str = "subscription($ids: [ID!]) { ticks(stockIds: $ids) { at ticks { stockId symbol price change changePercent } } }";

#[tokio::test]
async fn a_client_receives_one_batch_per_tick_round() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("all", TICKS, json!({})).await;
    let msg = app.tick_until_message(&mut ws, "all").await;
    assert_eq!(msg["type"], "next", "{msg}");
    let batch = &msg["payload"]["data"]["ticks"];
    let ticks = batch["ticks"].as_array().unwrap();
    assert!(ticks.len() >= 10, "all active stocks in one batch: {batch}");
    assert!(ticks.iter().any(|t| t["symbol"] == "AAPL"));
    assert!(ticks[0]["price"].is_string(), "prices are Decimal strings");
    assert!(batch["at"].is_string());
}

#[tokio::test]
async fn a_filtered_subscription_gets_only_its_stocks() {
    let app = spawn_app().await;
    let aapl = app
        .gql("{ stock(symbol: \"AAPL\") { id } }", json!({}))
        .await["data"]["stock"]["id"]
        .clone();
    let mut ws = app.ws_session(None).await;
    ws.subscribe("one", TICKS, json!({ "ids": [aapl] })).await;
    let msg = app.tick_until_message(&mut ws, "one").await;
    let ticks = msg["payload"]["data"]["ticks"]["ticks"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ticks.len(), 1);
    assert_eq!(ticks[0]["symbol"], "AAPL");

    ws.subscribe("bad", TICKS, json!({ "ids": ["999999"] }))
        .await;
    let err = ws.next_for("bad").await;
    assert_eq!(err["type"], "next", "{err}");
    assert_eq!(
        err["payload"]["errors"][0]["extensions"]["code"],
        "NOT_FOUND"
    );
    assert_eq!(ws.next_for("bad").await["type"], "complete");
}

#[tokio::test]
async fn ticks_can_be_asked_for_by_symbol() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    let by_symbol = "subscription($s: [String!]) { ticks(symbols: $s) { ticks { symbol } } }";
    ws.subscribe("two", by_symbol, json!({ "s": ["aapl", " MSFT "] }))
        .await;
    let msg = app.tick_until_message(&mut ws, "two").await;
    let mut symbols: Vec<String> = msg["payload"]["data"]["ticks"]["ticks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["symbol"].as_str().unwrap().to_string())
        .collect();
    symbols.sort();
    assert_eq!(symbols, ["AAPL", "MSFT"]);

    let cases = [
        (
            "unknown",
            json!({ "s": ["AAPL", "NOPE"] }),
            by_symbol,
            "NOT_FOUND",
        ),
        (
            "both",
            json!({ "s": ["AAPL"], "ids": ["1"] }),
            "subscription($s: [String!], $ids: [ID!]) { ticks(symbols: $s, stockIds: $ids) { at } }",
            "BAD_USER_INPUT",
        ),
    ];
    for (id, vars, query, code) in cases {
        ws.subscribe(id, query, vars).await;
        let err = ws.next_for(id).await;
        assert_eq!(
            err["payload"]["errors"][0]["extensions"]["code"], code,
            "{id}: {err}"
        );
    }
}

#[tokio::test]
async fn identical_subscriptions_share_one_execution() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut ws = app.ws_session(None).await;
        ws.subscribe("t", TICKS, json!({})).await;
        clients.push(ws);
    }
    let mut other = app.ws_session(None).await;
    other
        .subscribe("m", "subscription { marketState { isOpen } }", json!({}))
        .await;
    app.eventually("feeds registered", || async { app.feeds.len() == 2 })
        .await;

    // Every client gets the same round, byte for byte apart from the id.
    let first = app.tick_until_message(&mut clients[0], "t").await;
    for ws in &mut clients[1..] {
        let mut msg = ws.next_for("t").await;
        while msg["payload"]["data"]["ticks"]["at"] != first["payload"]["data"]["ticks"]["at"] {
            msg = ws.next_for("t").await;
        }
        assert_eq!(msg["payload"], first["payload"]);
    }
    // When everyone leaves, the shared execution stops (at its next event).
    for ws in &mut clients {
        ws.complete("t").await;
    }
    drop(clients);
    app.eventually("tick feed retired", || async {
        app.tick();
        app.feeds.len() == 1
    })
    .await;
}

#[tokio::test]
async fn market_state_changes_reach_subscribers() {
    let app = spawn_app_at(
        "2026-11-25T15:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        &[],
    )
    .await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe(
        "m",
        "subscription { marketState { isOpen emergency reason } }",
        json!({}),
    )
    .await;
    app.eventually("feed registered", || async { app.feeds.len() == 1 })
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    app.override_market(Some(false), Some("halt")).await;
    // With Redis the engine's first announcement may still be on its way: skip it.
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["reason"] != "halt" {
        msg = ws.next_for("m").await;
    }
    assert_eq!(
        msg["payload"]["data"]["marketState"],
        json!({ "isOpen": false, "emergency": true, "reason": "halt" })
    );

    app.override_market(None, None).await;
    let msg = ws.next_for("m").await;
    assert_eq!(msg["payload"]["data"]["marketState"]["isOpen"], true);
    assert_eq!(msg["payload"]["data"]["marketState"]["emergency"], false);

    // The scheduled close at 16:00 EST arrives as an event too.
    app.clock.set("2026-11-25T21:00:00Z".parse().unwrap());
    let msg = ws.next_for("m").await;
    assert_eq!(msg["payload"]["data"]["marketState"]["isOpen"], false);
}

#[tokio::test]
async fn live_candles_stream_for_one_stock_and_interval() {
    let app = spawn_app().await;
    let aapl = app
        .gql("{ stock(symbol: \"AAPL\") { id } }", json!({}))
        .await["data"]["stock"]["id"]
        .clone();
    let mut ws = app.ws_session(None).await;
    ws.subscribe(
        "c",
        "subscription($id: ID!) { candles(stockId: $id, interval: H1) { stockId interval bucketStart open high low close tickCount } }",
        json!({ "id": aapl }),
    )
    .await;
    let msg = app.tick_until_message(&mut ws, "c").await;
    let candle = &msg["payload"]["data"]["candles"];
    assert_eq!(candle["stockId"], aapl);
    assert_eq!(candle["interval"], "H1");
    assert!(candle["tickCount"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn legacy_clients_get_ticks_too() {
    let app = spawn_app().await;
    let mut ws = app.ws("graphql-ws").await;
    assert_eq!(ws.init(json!({})).await["type"], "connection_ack");
    ws.subscribe("1", TICKS, json!({})).await;
    let msg = app.tick_until_message(&mut ws, "1").await;
    assert_eq!(msg["type"], "data", "{msg}");
    assert!(msg["payload"]["data"]["ticks"]["ticks"].is_array());
    ws.complete("1").await;
    assert_eq!(ws.next_for("1").await["type"], "complete");
}

#[tokio::test]
async fn protocol_violations_close_the_socket() {
    let app = spawn_app().await;
    // Subscribing before connection_init.
    let mut ws = app.ws("graphql-transport-ws").await;
    ws.subscribe("1", TICKS, json!({})).await;
    assert_eq!(ws.closed_with().await, Some(4401));
    // The same id twice.
    let mut ws = app.ws_session(None).await;
    ws.subscribe("1", TICKS, json!({})).await;
    ws.subscribe("1", TICKS, json!({})).await;
    assert_eq!(ws.closed_with().await, Some(4409));
    // Garbage.
    let mut ws = app.ws_session(None).await;
    ws.send(json!({ "type": "nonsense" })).await;
    assert_eq!(ws.closed_with().await, Some(4400));
    // A second init.
    let mut ws = app.ws_session(None).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed_with().await, Some(4429));
    // Ping is answered.
    let mut ws = app.ws_session(None).await;
    ws.send(json!({ "type": "ping" })).await;
    let pong = ws.next_within_raw().await;
    assert_eq!(pong["type"], "pong");
}

#[tokio::test]
async fn invalid_subscriptions_get_an_error_message() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("x", "subscription { nope }", json!({})).await;
    let msg = ws.next_for("x").await;
    assert_eq!(msg["type"], "error", "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // The connection stays usable.
    ws.subscribe("y", "{ __typename }", json!({})).await;
    assert_eq!(
        ws.next_for("y").await["payload"]["data"]["__typename"],
        "Query"
    );
}

/// The portfolio feed revalues held positions from the round's prices: the database work of a
/// tick round does not grow with the number of account-feed subscribers.
#[tokio::test]
async fn portfolio_subscribers_cost_no_queries_per_round() {
    const SUBSCRIBERS: usize = 12;
    const ROUNDS: usize = 3;
    let app = spawn_app_with(&[("RATE_LIMIT_REGISTER", "off")]).await;
    let symbols = app.gql("{ stocks { id } }", json!({})).await;
    let aapl = symbols["data"]["stocks"][0]["id"].clone();
    let mut ticks = app.ws_session(None).await;
    ticks
        .subscribe("t", "subscription { ticks { at } }", json!({}))
        .await;
    // Tick `ROUNDS` rounds, each seen through the public feed and given time to fan out;
    // returns the statements the server ran meanwhile.
    let measure = async |ticks: &mut crate::helpers::WsClient| {
        let before = app.statements.count();
        for _ in 0..ROUNDS {
            app.tick_until_message(ticks, "t").await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        app.statements.count() - before
    };
    let mut sockets = Vec::new();
    for i in 0..SUBSCRIBERS {
        let s = app
            .register(&format!("feed{i}@example.com"), "correct horse 1", "Feed")
            .await;
        let deposit = "mutation { deposit(amount: \"1000\") { balance } }";
        app.gql_as(&s.access, deposit, json!({})).await;
        let buy = "mutation($s: ID!) { placeOrder(input: { stockId: $s, side: BUY, quantity: 1 }) { status } }";
        let placed = app.gql_as(&s.access, buy, json!({ "s": aapl })).await;
        assert_eq!(
            placed["data"]["placeOrder"]["status"], "EXECUTED",
            "{placed}"
        );
        sockets.push(s);
    }
    let alone = measure(&mut ticks).await;
    let mut feeds = Vec::new();
    for s in &sockets {
        let mut ws = app.ws_session(Some(&s.access)).await;
        ws.subscribe("p", "subscription { portfolio { totalValue } }", json!({}))
            .await;
        let first = ws.next_for("p").await;
        assert!(
            first["payload"]["data"]["portfolio"]["totalValue"].is_string(),
            "{first}"
        );
        feeds.push(ws);
    }
    let watched = measure(&mut ticks).await;
    // Reading every subscriber's account each round would add SUBSCRIBERS × ROUNDS × 4.
    assert!(
        watched <= alone + SUBSCRIBERS as u64,
        "{ROUNDS} rounds cost {alone} statements alone and {watched} with {SUBSCRIBERS} portfolio feeds"
    );
    // And the feeds still move: some subscriber got a revalued portfolio from a round.
    let mut moved = false;
    for ws in &mut feeds {
        while let Some(msg) = ws.next_within(Duration::from_millis(50)).await {
            moved |= msg["id"] == "p" && msg["type"] == "next";
        }
    }
    assert!(moved, "tick rounds revalue the portfolios");
}

const NUMBERED_TICKS: &str = "subscription { ticks { seq at } }";

/// The round number of a `ticks` message.
fn seq(msg: &serde_json::Value) -> u64 {
    msg["payload"]["data"]["ticks"]["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("a numbered tick batch: {msg}"))
}

#[tokio::test]
async fn tick_rounds_are_numbered_consecutively_across_restarts() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", NUMBERED_TICKS, json!({})).await;
    let first = seq(&app.tick_until_message(&mut ws, "t").await);
    assert!(first >= 1, "the first round is number 1 or later: {first}");
    let mut last = first;
    for _ in 0..3 {
        let next = seq(&app.tick_until_message(&mut ws, "t").await);
        assert_eq!(next, last + 1, "one more per round");
        last = next;
    }
    drop(ws);
    app.stopped().await;
    let stored = entity::market_state::Entity::find_by_id(1)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .round_seq;
    assert_eq!(
        stored,
        i64::try_from(last).unwrap(),
        "the last number is stored"
    );

    // The same database, a new process: numbering continues where it stopped.
    let again = app.spawn_peer(&[]).await;
    let mut ws = again.ws_session(None).await;
    ws.subscribe("t", NUMBERED_TICKS, json!({})).await;
    let resumed = seq(&again.tick_until_message(&mut ws, "t").await);
    assert!(
        resumed > last,
        "numbering restarted: {resumed} after {last}"
    );
    let next = seq(&again.tick_until_message(&mut ws, "t").await);
    assert_eq!(next, resumed + 1);
    again.stopped().await;
}
