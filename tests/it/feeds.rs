//! Live feeds over WebSocket: tick batches, market state, candles, shared executions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use zebrat::graphql::node::{Kind, global_id};

use crate::helpers::{TestApp, WsClient, spawn_app, spawn_app_at, spawn_app_with};

const TICKS: &str = "subscription($ids: [ID!]) { ticks(stockIds: $ids) { at ticks { stockId symbol price change changePercent } } }";

/// The global id of the stock with `symbol`, as a response gives it.
async fn stock_id(app: &TestApp, symbol: &str) -> Value {
    let body = app
        .gql(
            "query($s: String!) { stock(by: {symbol: $s}) { id } }",
            json!({ "s": symbol }),
        )
        .await;
    let id = body["data"]["stock"]["id"].clone();
    assert!(id.is_string(), "{symbol}: {body}");
    id
}

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
    let aapl = stock_id(&app, "AAPL").await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("one", TICKS, json!({ "ids": [aapl] })).await;
    let msg = app.tick_until_message(&mut ws, "one").await;
    let ticks = msg["payload"]["data"]["ticks"]["ticks"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ticks.len(), 1);
    assert_eq!(ticks[0]["symbol"], "AAPL");
    assert_eq!(ticks[0]["stockId"], aapl);

    // A well-formed stock id that names no stock.
    let unknown = global_id(Kind::Stock, 999_999).to_string();
    ws.subscribe("bad", TICKS, json!({ "ids": [aapl, unknown] }))
        .await;
    let err = ws.next_for("bad").await;
    assert_eq!(err["type"], "next", "{err}");
    assert_eq!(
        err["payload"]["errors"][0]["extensions"]["code"],
        "NOT_FOUND"
    );
    assert_eq!(ws.next_for("bad").await["type"], "complete");
}

/// `stockIds` takes `Stock` global ids only: a row number, another object's id or garbage is
/// BAD_USER_INPUT, and the subscription ends.
#[tokio::test]
async fn tick_filters_refuse_ids_that_are_not_stock_ids() {
    let app = spawn_app().await;
    let aapl = stock_id(&app, "AAPL").await;
    let row = app
        .gql(
            "{ stock(by: {symbol: \"AAPL\"}) { databaseId } }",
            json!({}),
        )
        .await["data"]["stock"]["databaseId"]
        .to_string();
    let state =
        app.gql("{ marketState { id } }", json!({})).await["data"]["marketState"]["id"].clone();
    let mut ws = app.ws_session(None).await;
    for (i, bad) in [json!(row), state, json!("not an id"), json!("")]
        .into_iter()
        .enumerate()
    {
        let id = format!("bad{i}");
        ws.subscribe(&id, TICKS, json!({ "ids": [aapl, bad] }))
            .await;
        let err = ws.next_for(&id).await;
        assert_eq!(err["type"], "next", "{bad}: {err}");
        assert_eq!(
            err["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{bad}: {err}"
        );
        assert_eq!(ws.next_for(&id).await["type"], "complete", "{bad}");
    }
}

#[tokio::test]
async fn ticks_can_be_asked_for_by_symbol() {
    let app = spawn_app().await;
    let aapl = stock_id(&app, "AAPL").await;
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
            json!({ "s": ["AAPL"], "ids": [aapl] }),
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

/// Every field of `Stock` a tick round can change, and what names it.
const STOCK_FIELDS: &str = "id databaseId symbol name active price change changePercent open high low previousClose updatedAt";

/// `TickBatch.stocks` is the moved stocks as `Stock`: exactly what `stock(by:)` reads after
/// the round, so a normalized cache updates every view of them.
#[tokio::test]
async fn tick_batches_carry_the_moved_stocks_as_stock_objects() {
    let app = spawn_app().await;
    let (aapl, msft) = (stock_id(&app, "AAPL").await, stock_id(&app, "MSFT").await);
    let mut ws = app.ws_session(None).await;
    let q = format!(
        "subscription($ids: [ID!]) {{ ticks(stockIds: $ids) {{ seq at ticks {{ stockId symbol price change changePercent }} stocks {{ {STOCK_FIELDS} }} }} }}"
    );
    ws.subscribe("t", &q, json!({ "ids": [aapl, msft] })).await;
    let msg = app.tick_until_message(&mut ws, "t").await;
    // Read the stocks after the round (the clock stands still: no other round runs).
    let mut batch = msg["payload"]["data"]["ticks"].clone();
    let read = format!("query($id: ID!) {{ stock(by: {{id: $id}}) {{ {STOCK_FIELDS} }} }}");
    let stored = loop {
        let mut stored = Vec::new();
        for id in [&aapl, &msft] {
            stored.push(app.gql(&read, json!({ "id": id })).await["data"]["stock"].clone());
        }
        if stored[0]["updatedAt"] == batch["at"] {
            break stored;
        }
        // A round was still in flight: compare with the newest.
        if let Some(msg) = ws.next_within(Duration::from_millis(500)).await {
            batch = msg["payload"]["data"]["ticks"].clone();
        }
    };
    let mut stocks = batch["stocks"].as_array().unwrap().clone();
    stocks.sort_by_key(|s| s["id"] != aapl);
    assert_eq!(stocks, stored, "{batch}");
    assert_eq!(stocks[0]["updatedAt"], batch["at"]);
    // The light shape says the same.
    for quote in batch["ticks"].as_array().unwrap() {
        let stock = stocks.iter().find(|s| s["id"] == quote["stockId"]).unwrap();
        for field in ["symbol", "price", "change", "changePercent"] {
            assert_eq!(quote[field], stock[field], "{field}: {batch}");
        }
    }
}

/// A tick of a round as this release publishes it: with the stock's name and day.
fn tick(stock: &Value, price_cents: i64, name: &str) -> Value {
    json!({
        "stock_id": stock["databaseId"], "symbol": stock["symbol"], "price_cents": price_cents,
        "prev_close_cents": 100,
        "day": { "name": name, "open_cents": 150, "high_cents": 250, "low_cents": 140 }
    })
}

/// `TickBatch.stocks` is built from the round, with no database read. A round published by
/// the previous release has no `day` on its ticks: it still decodes, and `stocks` then takes
/// the rest of those stocks from the quote board, which the round moved.
#[tokio::test]
async fn tick_batches_take_stocks_from_the_round_or_else_the_quote_board() {
    let app = spawn_app().await;
    let read = format!("query($s: String!) {{ stock(by: {{symbol: $s}}) {{ {STOCK_FIELDS} }} }}");
    let aapl = app.gql(&read, json!({ "s": "AAPL" })).await["data"]["stock"].clone();
    let msft = app.gql(&read, json!({ "s": "MSFT" })).await["data"]["stock"].clone();
    let mut ws = app.ws_session(None).await;
    let q = format!(
        "subscription {{ ticks(symbols: [\"AAPL\", \"MSFT\"]) {{ seq ticks {{ stockId price }} stocks {{ {STOCK_FIELDS} }} }} }}"
    );
    ws.subscribe("t", &q, json!({})).await;
    app.eventually("feed registered", || async { app.feeds.len() == 1 })
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Publishes `ticks` as round `seq` and returns what the subscriber got of it.
    let mut publish = async |seq: u64, ticks: Value| {
        let round = json!({
            "type": "tick_round", "at": "2026-03-02T15:00:00Z", "seq": seq, "ticks": ticks,
            "candles": []
        });
        let event: zebrat::bus::Event = serde_json::from_value(round).expect("the round decodes");
        app.services.bus.publish(event).await.unwrap();
        loop {
            let msg = ws.next_for("t").await;
            if msg["payload"]["data"]["ticks"]["seq"] == seq || msg["payload"]["errors"].is_array()
            {
                return msg["payload"].clone();
            }
        }
    };
    let stock_in = |payload: &Value, id: &Value| {
        payload["data"]["ticks"]["stocks"]
            .as_array()
            .and_then(|s| s.iter().find(|s| &s["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {payload}"))
    };
    // The stock as a round with `day` left it.
    let from_round = |stock: &Value, name: &str| {
        let mut moved = stock.clone();
        for (field, value) in [
            ("name", name),
            ("price", "2.00"),
            ("change", "1.00"),
            ("changePercent", "100.00"),
            ("open", "1.50"),
            ("high", "2.50"),
            ("low", "1.40"),
            ("previousClose", "1.00"),
            ("updatedAt", "2026-03-02T15:00:00Z"),
        ] {
            moved[field] = json!(value);
        }
        moved
    };

    // AAPL as the previous release wrote it, MSFT as this one does.
    let old_aapl = json!({ "stock_id": aapl["databaseId"], "symbol": "AAPL", "price_cents": 100,
                           "prev_close_cents": 99 });
    let mixed = publish(
        9_000_001,
        json!([old_aapl, tick(&msft, 200, "Microsoft (the round)")]),
    )
    .await;
    assert!(mixed["errors"].is_null(), "{mixed}");
    // Without `day`: the stock as this instance knew it, moved to the round's price (its
    // day's range widened to include it).
    let old = stock_in(&mixed, &aapl["id"]);
    assert_eq!(old["name"], aapl["name"], "{old}");
    assert_eq!(old["price"], "1.00", "{old}");
    assert_eq!(old["previousClose"], "0.99", "{old}");
    assert_eq!(old["low"], "1.00", "{old}");
    assert_eq!(old["high"], aapl["high"], "{old}");
    assert_eq!(old["updatedAt"], "2026-03-02T15:00:00Z", "{old}");
    assert_eq!(mixed["data"]["ticks"]["ticks"][0]["price"], "1.00");
    // With `day`: the stock as the round left it.
    assert_eq!(
        stock_in(&mixed, &msft["id"]),
        from_round(&msft, "Microsoft (the round)")
    );

    // No database at all: rounds with `day` are still served whole.
    app.db.clone().close().await.unwrap();
    let current = publish(
        9_000_002,
        json!([
            tick(&aapl, 200, "Apple (the round)"),
            tick(&msft, 200, "MSFT")
        ]),
    )
    .await;
    assert!(current["errors"].is_null(), "{current}");
    assert_eq!(
        stock_in(&current, &aapl["id"]),
        from_round(&aapl, "Apple (the round)")
    );
    assert_eq!(stock_in(&current, &msft["id"]), from_round(&msft, "MSFT"));
    // And so are rounds without it: the rest of the stock comes from the quote board.
    let old = publish(9_000_003, json!([old_aapl])).await;
    assert!(old["errors"].is_null(), "{old}");
    assert_eq!(stock_in(&old, &aapl["id"])["price"], "1.00", "{old}");
}

/// The market state has one constant id: every query, `node` and the subscription give it.
#[tokio::test]
async fn the_market_state_has_one_id_everywhere() {
    let app = spawn_app().await;
    let q = "{ marketState { id isOpen } }";
    let id = app.gql(q, json!({})).await["data"]["marketState"]["id"].clone();
    assert!(id.is_string());
    let mut ws = app.ws_session(None).await;
    ws.subscribe("m", "subscription { marketState { id isOpen } }", json!({}))
        .await;
    let now = ws.next_for("m").await;
    assert_eq!(now["payload"]["data"]["marketState"]["id"], id, "{now}");
    app.override_market(Some(false), Some("halt")).await;
    let mut changed = ws.next_for("m").await;
    while changed["payload"]["data"]["marketState"]["isOpen"] != false {
        changed = ws.next_for("m").await;
    }
    assert_eq!(changed["payload"]["data"]["marketState"]["id"], id);
    let again = app.gql(q, json!({})).await;
    assert_eq!(
        again["data"]["marketState"],
        json!({ "id": id, "isOpen": false })
    );
    let demo = app.demo().await;
    let as_user = app.gql_as(&demo.access, q, json!({})).await;
    assert_eq!(as_user["data"]["marketState"]["id"], id);
    let node = app
        .gql(
            "query($id: ID!) { node(id: $id) { id ... on MarketState { isOpen } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["data"]["node"], json!({ "id": id, "isOpen": false }));
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

const LIVE_CANDLE: &str = "subscription($stocks: [StockRef!]!) {
    liveCandle(stocks: $stocks, interval: H1) {
        id stockId interval bucketStart open high low close tickCount isFinal
    }
}";

/// The H1 candles of a stock in its history, oldest first (the newest `last`).
async fn h1_history(app: &TestApp, stock: &Value, last: i64) -> Vec<Value> {
    let q = "query($id: ID!, $last: Int) {
        candles(stock: {id: $id}, interval: H1, last: $last) {
            candles { id stockId interval bucketStart open high low close tickCount isFinal }
        }
    }";
    let body = app.gql(q, json!({ "id": stock, "last": last })).await;
    body["data"]["candles"]["candles"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

/// The next candle of `liveCandle` subscription `id`.
async fn next_candle(ws: &mut WsClient, id: &str) -> Value {
    let msg = ws.next_for(id).await;
    assert_eq!(msg["type"], "next", "{msg}");
    msg["payload"]["data"]["liveCandle"].clone()
}

/// The next candle of `liveCandle` subscription `id`, moving the clock one tick at a time
/// while none comes: a move that lands while the engine finishes a round starts no round.
async fn tick_until_candle(app: &TestApp, ws: &mut WsClient, id: &str) -> Value {
    for _ in 0..50 {
        if let Some(msg) = ws.next_within(Duration::from_millis(500)).await {
            assert_eq!(
                (msg["id"].as_str(), msg["type"].as_str()),
                (Some(id), Some("next")),
                "{msg}"
            );
            return msg["payload"]["data"]["liveCandle"].clone();
        }
        app.tick();
    }
    panic!("no candle for {id}");
}

/// The last candle in `sent` of `stock`.
fn last_of(sent: &[Value], stock: &Value) -> Value {
    sent.iter()
        .rev()
        .find(|c| &c["stockId"] == stock)
        .cloned()
        .unwrap_or_else(|| panic!("no candle of {stock} in {sent:?}"))
}

/// Reads `ws` until the last candle sent of each of `stocks` is the history's newest (the
/// clock stands still, so no new round starts meanwhile).
async fn settle_candles(
    app: &TestApp,
    ws: &mut WsClient,
    sent: &mut Vec<Value>,
    stocks: &[&Value],
) {
    for _ in 0..50 {
        let mut agree = true;
        for stock in stocks {
            agree &= h1_history(app, stock, 1).await[0] == last_of(sent, stock);
        }
        if agree {
            return;
        }
        if let Some(msg) = ws.next_within(Duration::from_millis(200)).await {
            sent.push(msg["payload"]["data"]["liveCandle"].clone());
        }
    }
    panic!("the live candles never matched the history: {sent:?}");
}

/// `liveCandle` follows several stocks; its candles are the history's (same id, same
/// figures), and a bucket that ends is sent once more, final, before the next one starts.
#[tokio::test]
async fn live_candles_of_several_stocks_close_their_buckets() {
    // 10:58 EST: the H1 bucket of 15:00Z ends in two minutes.
    let app = spawn_app_at(
        "2026-11-25T15:58:00Z".parse::<DateTime<Utc>>().unwrap(),
        &[],
    )
    .await;
    let (aapl, msft) = (stock_id(&app, "AAPL").await, stock_id(&app, "MSFT").await);
    let both = [&aapl, &msft];
    let mut ws = app.ws_session(None).await;
    // One by symbol, one by id.
    let stocks = json!([{ "symbol": "AAPL" }, { "id": msft }]);
    ws.subscribe("c", LIVE_CANDLE, json!({ "stocks": stocks }))
        .await;
    let first = app.tick_until_message(&mut ws, "c").await;
    let mut sent = vec![first["payload"]["data"]["liveCandle"].clone()];
    sent.push(next_candle(&mut ws, "c").await);
    let mut firsts: Vec<Value> = sent.iter().map(|c| c["stockId"].clone()).collect();
    firsts.sort_by_key(|id| id != &aapl);
    assert_eq!(
        firsts,
        [aapl.clone(), msft.clone()],
        "one per stock and round: {sent:?}"
    );
    for c in &sent {
        assert_eq!(c["interval"], "H1");
        assert_eq!(c["bucketStart"], "2026-11-25T15:00:00Z");
        assert_eq!(c["isFinal"], false, "{c}");
    }
    // Same id and figures as the bucket in the history.
    settle_candles(&app, &mut ws, &mut sent, &both).await;

    // Two more rounds in the same bucket, then the clock crosses into 11:00 EST.
    for _ in 0..2 {
        app.tick();
        sent.push(tick_until_candle(&app, &mut ws, "c").await);
        sent.push(next_candle(&mut ws, "c").await);
    }
    settle_candles(&app, &mut ws, &mut sent, &both).await;
    let closing: Vec<Value> = both.iter().map(|s| last_of(&sent, s)).collect();
    app.clock.set("2026-11-25T16:00:00Z".parse().unwrap());
    let mut crossing = vec![tick_until_candle(&app, &mut ws, "c").await];
    while both.iter().any(|s| {
        !crossing
            .iter()
            .any(|c: &Value| &c["stockId"] == *s && c["bucketStart"] == "2026-11-25T16:00:00Z")
    }) {
        crossing.push(next_candle(&mut ws, "c").await);
    }
    for (stock, last_sent) in both.iter().zip(&closing) {
        let mine: Vec<&Value> = crossing
            .iter()
            .filter(|c| &c["stockId"] == *stock)
            .collect();
        assert_eq!(mine.len(), 2, "{stock}: {crossing:?}");
        // The old bucket once more, final and otherwise as last sent; then the new one.
        let mut closed = last_sent.clone();
        closed["isFinal"] = json!(true);
        assert_eq!(mine[0], &closed, "{stock}");
        assert_eq!(mine[1]["bucketStart"], "2026-11-25T16:00:00Z");
        assert_eq!(mine[1]["isFinal"], false);
        assert_eq!(mine[1]["tickCount"], 1);
        assert_ne!(mine[1]["id"], mine[0]["id"]);
        // The history agrees: the old bucket final with the same id, the new one live.
        let stored = h1_history(&app, stock, 2).await;
        assert_eq!(stored[0], closed, "{stock}");
        assert_eq!(
            (&stored[1]["id"], &stored[1]["isFinal"]),
            (&mine[1]["id"], &json!(false)),
            "{stock}"
        );
    }

    // The closed bucket is sent once: the next round has only the new one.
    app.tick();
    for c in [
        tick_until_candle(&app, &mut ws, "c").await,
        next_candle(&mut ws, "c").await,
    ] {
        assert_eq!(c["bucketStart"], "2026-11-25T16:00:00Z", "{c}");
        assert_eq!(c["isFinal"], false, "{c}");
        assert!(c["tickCount"].as_i64() >= Some(2), "{c}");
    }

    // Unknown stocks, too many or none are refused.
    let unknown = json!([{ "id": aapl }, { "symbol": "NOPE" }]);
    let too_many: Vec<Value> = (0..51).map(|_| json!({ "symbol": "AAPL" })).collect();
    for (id, stocks, code) in [
        ("unknown", unknown, "NOT_FOUND"),
        ("many", json!(too_many), "BAD_USER_INPUT"),
        ("none", json!([]), "BAD_USER_INPUT"),
    ] {
        ws.subscribe(id, LIVE_CANDLE, json!({ "stocks": stocks }))
            .await;
        let err = ws.next_for(id).await;
        assert_eq!(
            err["payload"]["errors"][0]["extensions"]["code"], code,
            "{id}: {err}"
        );
    }
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
        let deposit = "mutation { deposit(input: {amount: \"1000\"}) { cash { balance } userErrors { code } } }";
        let deposited = app.gql_as(&s.access, deposit, json!({})).await;
        assert_eq!(
            deposited["data"]["deposit"]["cash"]["balance"], "1000.00",
            "{deposited}"
        );
        let buy = "mutation($s: ID!) { placeOrder(input: { stock: {id: $s}, side: BUY, quantity: 1 }) { order { status } userErrors { code } } }";
        let placed = app.gql_as(&s.access, buy, json!({ "s": aapl })).await;
        assert_eq!(
            placed["data"]["placeOrder"]["order"]["status"], "EXECUTED",
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
