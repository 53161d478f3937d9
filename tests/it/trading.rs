//! Cash, orders, queue and portfolio, including the invariants under concurrency.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use entity::{cash_ledger, cash_requests, positions, prices_live, stocks, trades, users};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};

use zebrat::infra::lease::Fence;

use crate::helpers::{Session, TestApp, code, spawn_app, user_error};

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { id databaseId status side quantity price total clientOrderId rejectReason executedAt stock { symbol } } \
     userErrors { code field message } } }";
/// `placeOrder` with everything it changed.
const PLACE_FULL: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { id status price total } \
     trade { id quantity price total order { id } } \
     cash { id balance reserved available } \
     position { id quantity reservedQuantity } \
     userErrors { code field message } } }";
const CANCEL: &str = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { \
     order { id status } \
     cash { id balance reserved available } \
     position { id quantity reservedQuantity } \
     userErrors { code field message } } }";
const DEPOSIT: &str = "mutation($i: CashInput!) { deposit(input: $i) { \
     cash { id balance reserved available } \
     transaction { id databaseId type amount balanceAfter reference order { id } } \
     userErrors { code field message } } }";
const WITHDRAW: &str = "mutation($i: CashInput!) { withdraw(input: $i) { \
     cash { id balance reserved available } \
     transaction { id databaseId type amount balanceAfter reference order { id } } \
     userErrors { code field message } } }";
const CASH: &str = "{ cash { id balance reserved available } }";
const QUOTE: &str = "query($i: QuoteInput!) { quote(input: $i) { \
     price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode } }";

pub(crate) fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal: {v}"))
        .parse()
        .unwrap()
}

/// A new customer with `cash` deposited.
pub(crate) async fn customer(app: &TestApp, name: &str, cash: &str) -> Session {
    let s = app
        .register(&format!("{name}@example.com"), "long enough pw", name)
        .await;
    let r = app
        .gql_as(&s.access, DEPOSIT, json!({ "i": { "amount": cash } }))
        .await;
    assert_eq!(r["data"]["deposit"]["cash"]["balance"], cash, "{r}");
    s
}

/// A stock's global id and row id.
pub(crate) async fn stock(app: &TestApp, symbol: &str) -> (String, i64) {
    let r = app
        .gql(
            "query($s: String!) { stock(by: { symbol: $s }) { id databaseId } }",
            json!({ "s": symbol }),
        )
        .await;
    let stock = &r["data"]["stock"];
    (
        stock["id"].as_str().unwrap_or_else(|| panic!("{r}")).into(),
        stock["databaseId"].as_i64().unwrap(),
    )
}

/// Pins a stock's price (the engine is halted or the market closed while it matters).
pub(crate) async fn set_price(app: &TestApp, stock_row: i64, price: &str) {
    let cents = zebrat::domain::money::to_cents(price.parse().unwrap(), "price").unwrap();
    prices_live::ActiveModel {
        stock_id: Set(stock_row),
        last_cents: Set(cents),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
}

pub(crate) async fn set_market(app: &TestApp, open: bool) {
    app.override_market(Some(open), Some("test")).await;
    app.eventually("market state applied", || async {
        entity::market_state::Entity::find_by_id(1)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .is_open
            == open
    })
    .await;
}

pub(crate) async fn cash(app: &TestApp, s: &Session) -> Value {
    app.gql_as(&s.access, CASH, json!({})).await["data"]["cash"].clone()
}

/// Places a market order for the stock with global id `stock_id`; the whole response.
async fn place(app: &TestApp, s: &Session, stock_id: &str, side: &str, quantity: i64) -> Value {
    app.gql_as(
        &s.access,
        PLACE,
        json!({ "i": { "stock": { "id": stock_id }, "side": side, "quantity": quantity } }),
    )
    .await
}

/// The order a `placeOrder` response carries (null when refused).
fn placed(r: &Value) -> Value {
    r["data"]["placeOrder"]["order"].clone()
}

/// The userErrors code of the payload at `data.<mutation>`, checking that a refused payload
/// carries no `object`.
fn refused<'a>(r: &'a Value, mutation: &str, object: &str) -> Option<&'a str> {
    let code = user_error(r, mutation);
    if code.is_some() {
        assert!(
            r["data"][mutation][object].is_null(),
            "refused yet {object}: {r}"
        );
    }
    code
}

/// The userErrors code of a refused order (whose payload then carries no order).
fn order_refusal(r: &Value) -> Option<&str> {
    refused(r, "placeOrder", "order")
}

async fn cancel(app: &TestApp, s: &Session, order_id: &Value) -> Value {
    app.gql_as(&s.access, CANCEL, json!({ "i": { "orderId": order_id } }))
        .await
}

/// A global id of `kind` for a row that does not exist: only to test refusals.
fn unknown_id(kind: &str) -> String {
    STANDARD.encode(format!("{kind}:999999"))
}

/// Every balance equals its ledger sum and is never negative; every position equals the sum
/// of its trades and is never negative; every executed order has exactly one trade; every
/// reservation (cash on the user, shares on the position) equals the sum of what their queued
/// and working orders hold, and ended orders hold nothing.
pub async fn assert_invariants(app: &TestApp) {
    let db = &app.db;
    let mut ledger: HashMap<i64, i64> = HashMap::new();
    for e in cash_ledger::Entity::find().all(db).await.unwrap() {
        *ledger.entry(e.user_id).or_default() += e.amount_cents;
    }
    for u in users::Entity::find().all(db).await.unwrap() {
        assert_eq!(
            u.cash_cents,
            ledger.get(&u.id).copied().unwrap_or(0),
            "user {} balance vs ledger",
            u.id
        );
        assert!(
            u.cash_cents >= 0 && u.reserved_cents >= 0 && u.reserved_cents <= u.cash_cents,
            "user {u:?}"
        );
    }
    let mut held: HashMap<(i64, i64), i64> = HashMap::new();
    let all_trades = trades::Entity::find().all(db).await.unwrap();
    for t in &all_trades {
        *held.entry((t.user_id, t.stock_id)).or_default() += t.quantity;
    }
    for p in positions::Entity::find().all(db).await.unwrap() {
        assert_eq!(
            p.quantity,
            held.get(&(p.user_id, p.stock_id)).copied().unwrap_or(0),
            "position {p:?}"
        );
        assert!(
            p.quantity >= 0 && p.reserved_quantity >= 0 && p.reserved_quantity <= p.quantity,
            "{p:?}"
        );
    }
    let all_orders = entity::orders::Entity::find().all(db).await.unwrap();
    let executed = all_orders.iter().filter(|o| o.status == "EXECUTED").count();
    assert_eq!(executed, all_trades.len(), "one trade per executed order");
    // Reservations are the sum over queued and working orders; ended orders hold nothing.
    let mut cash_held: HashMap<i64, i64> = HashMap::new();
    let mut shares_held: HashMap<(i64, i64), i64> = HashMap::new();
    for o in &all_orders {
        assert!(
            o.reserved_cents >= 0 && o.reserved_shares >= 0,
            "order reserves a negative amount: {o:?}"
        );
        if o.status == "QUEUED" || o.status == "OPEN" {
            *cash_held.entry(o.user_id).or_default() += o.reserved_cents;
            *shares_held.entry((o.user_id, o.stock_id)).or_default() += o.reserved_shares;
        } else {
            assert_eq!(
                (o.reserved_cents, o.reserved_shares),
                (0, 0),
                "an ended order still holds: {o:?}"
            );
        }
    }
    for u in users::Entity::find().all(db).await.unwrap() {
        assert_eq!(
            u.reserved_cents,
            cash_held.get(&u.id).copied().unwrap_or(0),
            "user {} reserved cash vs their live orders",
            u.id
        );
    }
    for p in positions::Entity::find().all(db).await.unwrap() {
        assert_eq!(
            p.reserved_quantity,
            shares_held
                .get(&(p.user_id, p.stock_id))
                .copied()
                .unwrap_or(0),
            "position {p:?} reserved shares vs its live orders"
        );
    }
}

#[tokio::test]
async fn deposits_and_withdrawals_keep_a_ledger() {
    let app = spawn_app().await;
    let s = customer(&app, "ann", "1000.50").await;
    let w = app
        .gql_as(&s.access, WITHDRAW, json!({ "i": { "amount": "0.50" } }))
        .await;
    let payload = &w["data"]["withdraw"];
    assert_eq!(payload["userErrors"], json!([]), "{w}");
    assert_eq!(payload["cash"]["balance"], "1000.00");
    assert_eq!(payload["cash"]["reserved"], "0.00");
    assert_eq!(payload["cash"]["available"], "1000.00");
    assert_eq!(payload["cash"]["id"], cash(&app, &s).await["id"]);

    for amount in ["-5", "0", "1.005", "1000000.01"] {
        let r = app
            .gql_as(&s.access, DEPOSIT, json!({ "i": { "amount": amount } }))
            .await;
        assert_eq!(
            refused(&r, "deposit", "cash"),
            Some("BAD_USER_INPUT"),
            "{amount}: {r}"
        );
        assert_eq!(r["data"]["deposit"]["transaction"], Value::Null);
        assert_eq!(
            r["data"]["deposit"]["userErrors"][0]["field"],
            json!(["input", "amount"])
        );
    }
    let r = app
        .gql_as(&s.access, WITHDRAW, json!({ "i": { "amount": "1000.01" } }))
        .await;
    assert_eq!(
        refused(&r, "withdraw", "cash"),
        Some("INSUFFICIENT_FUNDS"),
        "{r}"
    );
    assert_eq!(r["data"]["withdraw"]["transaction"], Value::Null);
    // Not a decimal at all: the document is refused before anything runs.
    let r = app
        .gql_as(&s.access, DEPOSIT, json!({ "i": { "amount": "abc" } }))
        .await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    assert_eq!(
        code(&app.gql(CASH, json!({})).await),
        Some("UNAUTHENTICATED")
    );

    // Newest first, with cursors.
    let q = "query($f: Int, $a: String) { cashTransactions(first: $f, after: $a) { totalCount edges { cursor node { type amount balanceAfter reference order { id } } } pageInfo { hasNextPage endCursor } } }";
    let p1 = app.gql_as(&s.access, q, json!({ "f": 1 })).await["data"]["cashTransactions"].clone();
    assert_eq!(
        p1["edges"][0]["node"],
        json!({ "type": "WITHDRAWAL", "amount": "-0.50", "balanceAfter": "1000.00", "reference": null, "order": null })
    );
    assert_eq!(p1["pageInfo"]["hasNextPage"], true);
    assert_eq!(p1["totalCount"], 2);
    let p2 = app
        .gql_as(
            &s.access,
            q,
            json!({ "f": 5, "a": p1["pageInfo"]["endCursor"] }),
        )
        .await["data"]["cashTransactions"]
        .clone();
    assert_eq!(p2["edges"].as_array().unwrap().len(), 1);
    assert_eq!(p2["edges"][0]["node"]["type"], "DEPOSIT");
    assert_eq!(p2["pageInfo"]["hasNextPage"], false);
    for (f, a) in [
        (json!(0), json!(null)),
        (json!(101), json!(null)),
        (json!(5), json!("garbage")),
    ] {
        assert_eq!(
            code(&app.gql_as(&s.access, q, json!({ "f": f, "a": a })).await),
            Some("BAD_USER_INPUT")
        );
    }
    assert_invariants(&app).await;
}

/// A deposit or withdrawal returns the ledger entry it wrote; a retry with its key returns the
/// same entry and moves no money. A key recorded before entries were linked (no `ledger_id`)
/// still answers, with a null `transaction`.
#[tokio::test]
async fn a_cash_movement_returns_its_entry_and_a_retry_the_same_one() {
    let app = spawn_app().await;
    let s = customer(&app, "ole", "100.00").await;
    let ledger_rows = || async { cash_ledger::Entity::find().count(&app.db).await.unwrap() };

    let input = json!({ "i": { "amount": "25.00", "idempotencyKey": "dep-1" } });
    let first = app.gql_as(&s.access, DEPOSIT, input.clone()).await;
    let paid = &first["data"]["deposit"];
    assert_eq!(paid["userErrors"], json!([]), "{first}");
    assert_eq!(paid["cash"]["balance"], "125.00");
    let entry = &paid["transaction"];
    assert_eq!(entry["type"], "DEPOSIT", "{first}");
    assert_eq!(entry["amount"], "25.00");
    assert_eq!(entry["balanceAfter"], paid["cash"]["balance"]);
    assert_eq!(entry["reference"], Value::Null);
    assert_eq!(entry["order"], Value::Null);
    // The entry is the ledger's newest, by global id.
    let newest = app
        .gql_as(
            &s.access,
            "{ cashTransactions(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        newest["data"]["cashTransactions"]["edges"][0]["node"]["id"],
        entry["id"]
    );

    let rows = ledger_rows().await;
    for _ in 0..3 {
        let retry = app.gql_as(&s.access, DEPOSIT, input.clone()).await;
        assert_eq!(
            retry["data"]["deposit"]["transaction"]["id"], entry["id"],
            "{retry}"
        );
        assert_eq!(retry["data"], first["data"], "the first answer, whole");
    }
    assert_eq!(ledger_rows().await, rows, "a retry writes no entry");
    assert_eq!(cash(&app, &s).await["balance"], "125.00", "nor moves money");

    let input = json!({ "i": { "amount": "5.00", "idempotencyKey": "wd-1" } });
    let out = app.gql_as(&s.access, WITHDRAW, input.clone()).await;
    let taken = &out["data"]["withdraw"]["transaction"];
    assert_eq!(taken["type"], "WITHDRAWAL", "{out}");
    assert_eq!(taken["amount"], "-5.00");
    assert_eq!(taken["balanceAfter"], "120.00");
    assert_ne!(taken["id"], entry["id"]);
    let retry = app.gql_as(&s.access, WITHDRAW, input).await;
    assert_eq!(retry["data"]["withdraw"]["transaction"]["id"], taken["id"]);
    assert_eq!(cash(&app, &s).await["balance"], "120.00");

    // A request recorded by a release that did not link entries yet.
    cash_requests::ActiveModel {
        user_id: Set(s.db_id),
        idempotency_key: Set("old-1".into()),
        kind: Set("DEPOSIT".into()),
        amount_cents: Set(700),
        balance_cents: Set(10_700),
        reserved_cents: Set(0),
        ledger_id: Set(None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let old = app
        .gql_as(
            &s.access,
            DEPOSIT,
            json!({ "i": { "amount": "7.00", "idempotencyKey": "old-1" } }),
        )
        .await;
    let answer = &old["data"]["deposit"];
    assert_eq!(answer["userErrors"], json!([]), "{old}");
    assert_eq!(answer["cash"]["balance"], "107.00", "the first answer");
    assert_eq!(answer["transaction"], Value::Null, "no entry was linked");
    assert_eq!(cash(&app, &s).await["balance"], "120.00", "no money moved");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn market_orders_execute_at_once_while_open() {
    let app = spawn_app().await;
    set_market(&app, false).await; // no ticks while we pin prices
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    set_price(&app, aapl_row, "100.00").await;
    set_market(&app, true).await;
    let s = customer(&app, "bo", "1000.00").await;

    // Preview first: nothing is written.
    let q = app.gql_as(&s.access, "query($i: QuoteInput!) { quote(input: $i) { price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode stock { symbol } } }",
        json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": 3 } })).await;
    let quote = &q["data"]["quote"];
    assert!(quote["price"].is_string(), "{q}");
    assert_eq!(quote["executesNow"], true);
    assert_eq!(quote["problemCode"], Value::Null);
    assert_eq!(quote["stock"]["symbol"], "AAPL");

    let buy = placed(&place(&app, &s, &aapl, "BUY", 3).await);
    assert_eq!(buy["status"], "EXECUTED", "{buy}");
    let price = dec(&buy["price"]);
    assert_eq!(dec(&buy["total"]), price * Decimal::from(3));
    assert_eq!(
        dec(&cash(&app, &s).await["balance"]),
        Decimal::from(1000) - price * Decimal::from(3)
    );

    // By symbol as well as by id.
    let sell = app
        .gql_as(
            &s.access,
            PLACE,
            json!({ "i": { "stock": { "symbol": "aapl" }, "side": "SELL", "quantity": 2 } }),
        )
        .await;
    assert_eq!(placed(&sell)["status"], "EXECUTED", "{sell}");
    assert_eq!(placed(&sell)["stock"]["symbol"], "AAPL");
    let too_many = place(&app, &s, &aapl, "SELL", 2).await;
    assert_eq!(
        order_refusal(&too_many),
        Some("INSUFFICIENT_SHARES"),
        "{too_many}"
    );
    let too_dear = place(&app, &s, &aapl, "BUY", 1_000).await;
    assert_eq!(order_refusal(&too_dear), Some("INSUFFICIENT_FUNDS"));
    assert_eq!(
        order_refusal(&place(&app, &s, &unknown_id("Stock"), "BUY", 1).await),
        Some("NOT_FOUND")
    );
    let zero = place(&app, &s, &aapl, "BUY", 0).await;
    assert_eq!(order_refusal(&zero), Some("BAD_USER_INPUT"));
    assert_eq!(
        zero["data"]["placeOrder"]["userErrors"][0]["field"],
        json!(["input", "quantity"])
    );
    // Not an enum value: the document is refused before anything runs.
    assert_eq!(
        code(&place(&app, &s, &aapl, "HOLD", 1).await),
        Some("BAD_USER_INPUT")
    );
    // Not a stock's id (a row number, another type's id): the field is named.
    for not_a_stock in ["x", "1", s.user_id.as_str()] {
        let r = place(&app, &s, not_a_stock, "BUY", 1).await;
        assert_eq!(
            order_refusal(&r),
            Some("BAD_USER_INPUT"),
            "{not_a_stock}: {r}"
        );
        assert_eq!(
            r["data"]["placeOrder"]["userErrors"][0]["field"],
            json!(["input", "stock"])
        );
    }

    let orders = app.gql_as(&s.access, "{ orders { edges { node { side status stock { symbol } } } } trades { edges { node { side quantity price realizedPnl stock { symbol } } } } }", json!({})).await;
    let o = orders["data"]["orders"]["edges"].as_array().unwrap();
    assert_eq!(o.len(), 2, "failed attempts store nothing: {orders}");
    assert_eq!(o[0]["node"]["side"], "SELL");
    let t = orders["data"]["trades"]["edges"].as_array().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[1]["node"]["realizedPnl"], "0.00");

    let p = app.gql_as(&s.access, "{ portfolio { totalValue positionsValue unrealizedPnl realizedPnl cash { balance } positions { quantity averageCost currentPrice marketValue stock { symbol } } } }", json!({})).await;
    let pf = &p["data"]["portfolio"];
    assert_eq!(pf["positions"][0]["quantity"], 1, "{p}");
    assert_eq!(pf["positions"][0]["stock"]["symbol"], "AAPL");
    assert_eq!(
        dec(&pf["totalValue"]),
        dec(&pf["cash"]["balance"]) + dec(&pf["positionsValue"])
    );
    assert_eq!(dec(&pf["positions"][0]["averageCost"]), price);
    assert_invariants(&app).await;
}

/// A quote shows the after-trade amounts and the problem even when the order cannot be
/// covered, and counts reserved cash like placement does.
#[tokio::test]
async fn a_quote_reports_what_an_order_that_cannot_be_covered_would_do() {
    let app = spawn_app().await;
    set_market(&app, false).await;
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    set_price(&app, aapl_row, "100.00").await;
    let s = customer(&app, "nia", "250.00").await;
    let quote = |side: &'static str, quantity: i64| {
        let (app, s, aapl) = (&app, &s, &aapl);
        async move {
            let r = app
                .gql_as(
                    &s.access,
                    QUOTE,
                    json!({ "i": { "stock": { "id": aapl }, "side": side, "quantity": quantity } }),
                )
                .await;
            r["data"]["quote"].clone()
        }
    };
    assert_eq!(
        quote("BUY", 3).await,
        json!({ "price": "100.00", "estimatedTotal": "300.00", "cashAfter": "-50.00", "sharesAfter": 3,
                "marketOpen": false, "executesNow": false, "problem": "insufficient funds",
                "problemCode": "INSUFFICIENT_FUNDS" })
    );
    assert_eq!(
        quote("SELL", 1).await,
        json!({ "price": "100.00", "estimatedTotal": "100.00", "cashAfter": "350.00", "sharesAfter": -1,
                "marketOpen": false, "executesNow": false, "problem": "insufficient shares",
                "problemCode": "INSUFFICIENT_SHARES" })
    );
    // Exactly enough: no problem; it would queue because the market is closed.
    let enough = quote("BUY", 2).await;
    assert_eq!(enough["problem"], Value::Null);
    assert_eq!(
        enough["problemCode"],
        Value::Null,
        "a closed market is no problem"
    );
    assert_eq!(enough["executesNow"], false, "it would queue");
    // A queued buy reserves 200.00: what is left covers no second one.
    assert_eq!(
        placed(&place(&app, &s, &aapl, "BUY", 2).await)["status"],
        "QUEUED"
    );
    let after = quote("BUY", 1).await;
    assert_eq!(
        after["cashAfter"], "150.00",
        "the balance after, reservations aside"
    );
    assert_eq!(
        after["problemCode"], "INSUFFICIENT_FUNDS",
        "only 50.00 is available"
    );
}

#[tokio::test]
async fn sells_realize_pnl_against_the_average_cost() {
    let app = spawn_app().await;
    set_market(&app, false).await;
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    let s = customer(&app, "cy", "10000.00").await;
    // Buy 1 @ 100 and 3 @ 120 (average 115), sell 2 @ 130: realized 2 × 15 = 30.
    for (price, side, qty) in [
        ("100.00", "BUY", 1),
        ("120.00", "BUY", 3),
        ("130.00", "SELL", 2),
    ] {
        set_price(&app, aapl_row, price).await;
        set_market(&app, true).await;
        let o = place(&app, &s, &aapl, side, qty).await;
        set_market(&app, false).await;
        assert_eq!(placed(&o)["price"], price, "{o}");
    }
    let p = app.gql_as(&s.access, "{ portfolio { realizedPnl unrealizedPnl positions { quantity averageCost realizedPnl unrealizedPnl unrealizedPnlPercent } } }", json!({})).await;
    let pf = &p["data"]["portfolio"];
    assert_eq!(pf["realizedPnl"], "30.00", "{p}");
    assert_eq!(pf["positions"][0]["quantity"], 2);
    assert_eq!(pf["positions"][0]["averageCost"], "115.0000");
    // Marked at 130: 2 × (130 − 115) = 30, i.e. 13.04 % of 230.
    assert_eq!(pf["positions"][0]["unrealizedPnl"], "30.00");
    assert_eq!(pf["positions"][0]["unrealizedPnlPercent"], "13.04");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn client_order_ids_make_placement_idempotent() {
    let app = spawn_app().await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "dee", "10000.00").await;
    let input = json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": 2, "clientOrderId": "abc-1" } });
    let results = join_all((0..10).map(|_| app.gql_as(&s.access, PLACE, input.clone()))).await;
    let ids: Vec<Value> = results.iter().map(|r| placed(r)["id"].clone()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0] && id.is_string()),
        "{results:?}"
    );
    let count = app
        .gql_as(&s.access, "{ trades { totalCount } }", json!({}))
        .await;
    assert_eq!(count["data"]["trades"]["totalCount"], 1, "executed once");
    let other = json!({ "i": { "stock": { "id": aapl }, "side": "SELL", "quantity": 2, "clientOrderId": "abc-1" } });
    assert_eq!(
        order_refusal(&app.gql_as(&s.access, PLACE, other).await),
        Some("CONFLICT")
    );
    // Keys are per user.
    let t = customer(&app, "eve", "10000.00").await;
    let theirs = app.gql_as(&t.access, PLACE, input).await;
    assert!(placed(&theirs)["id"].is_string(), "{theirs}");
    assert_ne!(placed(&theirs)["id"], ids[0]);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn fifty_simultaneous_buys_never_overspend() {
    let app = spawn_app().await;
    set_market(&app, false).await;
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    set_price(&app, aapl_row, "100.00").await;
    set_market(&app, true).await;
    // Cash for exactly 17 orders of one share, if the price did not move; it may tick.
    let s = customer(&app, "fay", "1750.00").await;
    let results = join_all((0..50).map(|_| place(&app, &s, &aapl, "BUY", 1))).await;
    let executed: Vec<Decimal> = results
        .iter()
        .filter(|r| placed(r)["status"] == "EXECUTED")
        .map(|r| dec(&placed(r)["total"]))
        .collect();
    let refused = results
        .iter()
        .filter(|r| order_refusal(r) == Some("INSUFFICIENT_FUNDS"))
        .count();
    assert_eq!(executed.len() + refused, 50, "{results:?}");
    let spent: Decimal = executed.iter().sum();
    let cash = dec(&cash(&app, &s).await["balance"]);
    assert_eq!(cash, Decimal::from(1750) - spent);
    assert!(cash >= Decimal::ZERO);
    // Exactly the affordable ones: what is left buys no further share.
    assert!(executed.len() >= 15, "{}", executed.len());
    assert!(cash < Decimal::from(110), "{cash}");
    assert_invariants(&app).await;
}

/// Market orders that arrive together are placed together: one transaction for the batch
/// instead of about nine statements each, every order still decided on its own (a customer
/// who cannot pay is refused, the others execute), and the books agree to the cent.
#[tokio::test]
async fn market_orders_arriving_together_are_placed_in_one_batch() {
    let app = spawn_app().await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let mut buyers = Vec::new();
    for k in 0..24 {
        buyers.push(customer(&app, &format!("batch{k}"), "100000.00").await);
    }
    let poor = customer(&app, "pauper", "1.00").await;
    let before = app.statements.count();
    let orders = buyers
        .iter()
        .chain(std::iter::once(&poor))
        .map(|s| place(&app, s, &aapl, "BUY", 3));
    let results = join_all(orders).await;
    let statements = app.statements.count() - before;
    for r in &results[..buyers.len()] {
        assert_eq!(placed(r)["status"], "EXECUTED", "{r}");
        assert_eq!(placed(r)["quantity"], 3, "{r}");
    }
    assert_eq!(
        order_refusal(&results[buyers.len()]),
        Some("INSUFFICIENT_FUNDS"),
        "{:?}",
        results[buyers.len()]
    );
    // Every order got its own id.
    let mut ids: Vec<String> = results[..buyers.len()]
        .iter()
        .map(|r| placed(r)["id"].to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), buyers.len());
    // Each buyer paid exactly their order's total.
    for (s, r) in buyers.iter().zip(&results) {
        let paid = Decimal::from(100000) - dec(&cash(&app, s).await["balance"]);
        assert_eq!(paid, dec(&placed(r)["total"]), "{r}");
    }
    // Alone, 25 orders cost about 225 statements; a batch costs about ten, and the first
    // order to arrive may go alone before the rest queue behind it.
    assert!(
        statements < 4 * results.len() as u64,
        "{statements} statements for {} orders: they were not placed together",
        results.len()
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn simultaneous_sells_never_oversell_and_withdrawals_never_overdraw() {
    let app = spawn_app().await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "gus", "100000.00").await;
    assert_eq!(
        placed(&place(&app, &s, &aapl, "BUY", 10).await)["status"],
        "EXECUTED"
    );
    let sells = join_all((0..25).map(|_| place(&app, &s, &aapl, "SELL", 1))).await;
    let sold = sells
        .iter()
        .filter(|r| placed(r)["status"] == "EXECUTED")
        .count();
    assert_eq!(sold, 10);
    for r in sells.iter().filter(|r| placed(r).is_null()) {
        assert_eq!(order_refusal(r), Some("INSUFFICIENT_SHARES"), "{r}");
    }

    // Withdrawals racing buys: the balance never goes below zero.
    let balance = dec(&cash(&app, &s).await["balance"]);
    let half = (balance / Decimal::from(2)).round_dp(2).to_string();
    let mut work = Vec::new();
    for i in 0..20 {
        let app = &app;
        let s = &s;
        let aapl = &aapl;
        let half = half.clone();
        work.push(async move {
            if i % 2 == 0 {
                let r = app
                    .gql_as(&s.access, WITHDRAW, json!({ "i": { "amount": half } }))
                    .await;
                (r, "withdraw", "cash")
            } else {
                (place(app, s, aapl, "BUY", 50).await, "placeOrder", "order")
            }
        });
    }
    let results = join_all(work).await;
    let mut done = 0;
    for (r, mutation, object) in &results {
        assert!(r["errors"].is_null(), "{r}");
        match refused(r, mutation, object) {
            None => {
                assert!(r["data"][mutation][object].is_object(), "{r}");
                done += 1;
            }
            Some(code) => assert_eq!(code, "INSUFFICIENT_FUNDS", "{r}"),
        }
    }
    assert!(done >= 1, "something went through: {results:?}");
    assert!(dec(&cash(&app, &s).await["balance"]) >= Decimal::ZERO);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn closed_market_queues_orders_and_the_open_runs_them() {
    let app = spawn_app().await;
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    let (ko, ko_row) = stock(&app, "KO").await;
    let s = customer(&app, "hal", "2000.00").await;
    assert_eq!(
        placed(&place(&app, &s, &ko, "BUY", 5).await)["status"],
        "EXECUTED"
    );
    set_market(&app, false).await;
    set_price(&app, aapl_row, "100.00").await;
    set_price(&app, ko_row, "50.00").await;

    let mut ws = app.ws_session(Some(&s.access)).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id status rejectReason rejectCode price } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let before = cash(&app, &s).await;
    // A buy reserves its estimate; a sell reserves shares; a third is canceled.
    let buy = placed(&place(&app, &s, &aapl, "BUY", 10).await);
    assert_eq!(buy["status"], "QUEUED", "{buy}");
    assert_eq!(buy["price"], Value::Null);
    let sell = placed(&place(&app, &s, &ko, "SELL", 5).await);
    assert_eq!(sell["status"], "QUEUED");
    let doomed = placed(&place(&app, &s, &aapl, "BUY", 1).await);
    let after = cash(&app, &s).await;
    assert_eq!(
        dec(&after["reserved"]),
        dec(&before["reserved"]) + Decimal::from(1100)
    );
    assert_eq!(
        order_refusal(&place(&app, &s, &ko, "SELL", 1).await),
        Some("INSUFFICIENT_SHARES"),
        "shares are reserved"
    );
    let w = app
        .gql_as(
            &s.access,
            WITHDRAW,
            json!({ "i": { "amount": after["balance"] } }),
        )
        .await;
    assert_eq!(
        refused(&w, "withdraw", "cash"),
        Some("INSUFFICIENT_FUNDS"),
        "reserved cash cannot be withdrawn"
    );

    let c = cancel(&app, &s, &doomed["id"]).await;
    assert_eq!(
        c["data"]["cancelOrder"]["order"]["status"], "CANCELED",
        "{c}"
    );
    assert_eq!(
        refused(
            &cancel(&app, &s, &doomed["id"]).await,
            "cancelOrder",
            "order"
        ),
        Some("CONFLICT")
    );
    let stranger = customer(&app, "ida", "10.00").await;
    assert_eq!(
        refused(
            &cancel(&app, &stranger, &buy["id"]).await,
            "cancelOrder",
            "order"
        ),
        Some("NOT_FOUND")
    );
    assert_eq!(
        dec(&cash(&app, &s).await["reserved"]),
        dec(&before["reserved"]) + Decimal::from(1000)
    );

    // The price jumps overnight: the buy can no longer be covered; the sell still runs.
    set_price(&app, aapl_row, "250.00").await;
    set_market(&app, true).await;
    let buy_id = buy["id"].as_str().unwrap().to_string();
    let sell_id = sell["id"].as_str().unwrap().to_string();
    let mut seen = HashMap::new();
    let done = |seen: &HashMap<(String, String), Value>| {
        seen.contains_key(&(buy_id.clone(), "REJECTED".to_string()))
            && seen.contains_key(&(sell_id.clone(), "EXECUTED".to_string()))
    };
    for _ in 0..20 {
        if done(&seen) {
            break;
        }
        let msg = ws.next_for("o").await;
        let o = msg["payload"]["data"]["orderUpdates"]["order"].clone();
        seen.insert(
            (
                o["id"].as_str().unwrap().to_string(),
                o["status"].as_str().unwrap().to_string(),
            ),
            o,
        );
    }
    let rejected = &seen[&(buy_id.clone(), "REJECTED".to_string())];
    assert!(
        rejected["rejectReason"]
            .as_str()
            .unwrap()
            .contains("rejected at the open"),
        "{rejected}"
    );
    assert_eq!(rejected["rejectCode"], "INSUFFICIENT_FUNDS", "{rejected}");
    assert_eq!(
        seen[&(sell_id.clone(), "EXECUTED".to_string())]["price"],
        "50.00"
    );
    assert!(seen.contains_key(&(
        doomed["id"].as_str().unwrap().to_string(),
        "CANCELED".to_string()
    )));

    assert!(orders_with_status(&app, &s, "QUEUED").await.is_empty());
    assert_eq!(cash(&app, &s).await["reserved"], "0.00");
    assert_invariants(&app).await;
}

/// The caller's orders of one status, newest first (reads no price: no stock is loaded).
async fn orders_with_status(app: &TestApp, s: &Session, status: &str) -> Vec<Value> {
    let r = app
        .gql_as(
            &s.access,
            "query($st: OrderStatus) { orders(status: $st) { edges { node { id status price rejectReason rejectCode } } } }",
            json!({ "st": status }),
        )
        .await;
    r["data"]["orders"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn rename_table(app: &TestApp, from: &str, to: &str) {
    app.db
        .execute_unprepared(&format!("ALTER TABLE {from} RENAME TO {to}"))
        .await
        .unwrap();
}

/// A stock lookup that FAILS at the open (a lock timeout, a dropped connection) is not a halt:
/// the pass reports the error, the order stays queued with its reservation, and the next pass
/// fills it. The failure is injected by hiding the live prices, which the lookup reads.
#[tokio::test]
async fn a_failed_stock_lookup_at_the_open_leaves_the_order_queued() {
    let app = spawn_app().await;
    set_market(&app, false).await;
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    set_price(&app, aapl_row, "100.00").await;
    let s = customer(&app, "lou", "1000.00").await;
    let queued = placed(&place(&app, &s, &aapl, "BUY", 2).await);
    assert_eq!(queued["status"], "QUEUED", "{queued}");

    rename_table(&app, "prices_live", "prices_live_hidden").await;
    // The open runs the queue once by itself (and fails the same way); this pass is ours.
    set_market(&app, true).await;
    let pass = app.services.trading.execute_queued(&Fence::Solo).await;
    assert!(
        pass.is_err(),
        "the failure is reported, not hidden: {pass:?}"
    );
    let still = orders_with_status(&app, &s, "QUEUED").await;
    assert_eq!(
        still.len(),
        1,
        "not rejected: {:?}",
        orders_with_status(&app, &s, "REJECTED").await
    );
    assert_eq!(still[0]["id"], queued["id"]);
    assert_eq!(
        cash(&app, &s).await["reserved"],
        "200.00",
        "reservation kept"
    );

    rename_table(&app, "prices_live_hidden", "prices_live").await;
    let pass = app.services.trading.execute_queued(&Fence::Solo).await;
    assert!(pass.is_ok(), "{pass:?}");
    let done = orders_with_status(&app, &s, "EXECUTED").await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["price"], "100.00");
    assert_eq!(cash(&app, &s).await["reserved"], "0.00");
    assert_invariants(&app).await;
}

/// A stock that really is inactive at the open (halted without the admin path that rejects
/// its queue) rejects the order and releases what it reserved.
#[tokio::test]
async fn a_halted_stock_rejects_its_queued_orders_at_the_open() {
    let app = spawn_app().await;
    set_market(&app, false).await;
    let (aapl, aapl_row) = stock(&app, "AAPL").await;
    set_price(&app, aapl_row, "100.00").await;
    let s = customer(&app, "max", "1000.00").await;
    let queued = placed(&place(&app, &s, &aapl, "BUY", 2).await);
    assert_eq!(queued["status"], "QUEUED", "{queued}");
    stocks::ActiveModel {
        id: Set(aapl_row),
        active: Set(false),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();

    set_market(&app, true).await;
    app.services
        .trading
        .execute_queued(&Fence::Solo)
        .await
        .unwrap();
    let rejected = orders_with_status(&app, &s, "REJECTED").await;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["rejectReason"], "the stock is halted");
    assert_eq!(rejected[0]["rejectCode"], "STOCK_HALTED");
    assert_eq!(cash(&app, &s).await["reserved"], "0.00");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_day_of_random_orders_keeps_every_invariant() {
    use rand::{RngExt, SeedableRng, rngs::StdRng};
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for symbol in ["AAPL", "KO", "DIS", "V"] {
        ids.push(stock(&app, symbol).await.0);
    }
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(customer(&app, &format!("trader{i}"), "20000.00").await);
    }
    let mut rng = StdRng::seed_from_u64(99);
    let (mut filled, mut canceled) = (0, 0);
    for round in 0..6 {
        // Alternate open and closed sessions so queued orders and the open run too.
        set_market(&app, round % 2 == 0).await;
        let mut batch = Vec::new();
        for _ in 0..40 {
            let s = &users[rng.random_range(0..users.len())];
            let stock = ids[rng.random_range(0..ids.len())].clone();
            let side = if rng.random_bool(0.6) { "BUY" } else { "SELL" };
            let qty = rng.random_range(1..20);
            let cancel_it = rng.random_bool(0.1);
            let app = &app;
            batch.push(async move {
                let r = place(app, s, &stock, side, qty).await;
                let order = placed(&r);
                let mut canceled = None;
                if cancel_it && order["status"] == "QUEUED" {
                    let c = cancel(app, s, &order["id"]).await;
                    // The open may have taken it out of the queue first.
                    let outcome = c["data"]["cancelOrder"]["order"]["status"].clone();
                    assert!(
                        outcome == "CANCELED" || user_error(&c, "cancelOrder") == Some("CONFLICT"),
                        "{c}"
                    );
                    canceled = Some(outcome == "CANCELED");
                }
                (r, canceled)
            });
        }
        for (r, was_canceled) in join_all(batch).await {
            let ok = placed(&r).is_object();
            assert!(
                ok || matches!(
                    order_refusal(&r),
                    Some("INSUFFICIENT_FUNDS" | "INSUFFICIENT_SHARES")
                ),
                "{r}"
            );
            filled += usize::from(ok);
            canceled += usize::from(was_canceled == Some(true));
        }
        app.tick();
    }
    assert!(
        filled >= 40 && canceled > 0,
        "{filled} placed, {canceled} canceled"
    );
    set_market(&app, true).await;
    app.eventually("queue drained", || async {
        entity::orders::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .all(|o| o.status != "QUEUED")
    })
    .await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn the_portfolio_feed_pushes_after_trades_and_ticks() {
    let app = spawn_app().await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "jo", "5000.00").await;
    let mut ws = app.ws_session(Some(&s.access)).await;
    ws.subscribe("p", "subscription { portfolio { totalValue cash { balance } positions { quantity stock { symbol } } } }", json!({})).await;
    let first = ws.next_for("p").await;
    assert_eq!(
        first["payload"]["data"]["portfolio"]["cash"]["balance"], "5000.00",
        "{first}"
    );
    assert_eq!(
        placed(&place(&app, &s, &aapl, "BUY", 2).await)["status"],
        "EXECUTED"
    );
    let mut msg = ws.next_for("p").await;
    while msg["payload"]["data"]["portfolio"]["positions"]
        .as_array()
        .is_none_or(|p| p.is_empty())
    {
        msg = ws.next_for("p").await;
    }
    assert_eq!(
        msg["payload"]["data"]["portfolio"]["positions"][0]["quantity"],
        2
    );
    // A tick round that moves AAPL pushes a fresh valuation.
    app.tick();
    let mut got = false;
    for _ in 0..50 {
        if ws
            .next_within(std::time::Duration::from_millis(200))
            .await
            .is_some_and(|m| m["id"] == "p")
        {
            got = true;
            break;
        }
        app.tick();
    }
    assert!(got, "no push after a tick round");
    // Another user's feed never carries this account.
    let other = customer(&app, "kim", "1.00").await;
    let mut theirs = app.ws_session(Some(&other.access)).await;
    theirs
        .subscribe(
            "o",
            "subscription { orderUpdates { order { id } } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(placed(&place(&app, &s, &aapl, "BUY", 1).await).is_object());
    assert!(
        theirs
            .next_within(std::time::Duration::from_millis(500))
            .await
            .is_none()
    );
}

/// Deposits and withdrawals change the valuation too: the feed pushes after each, for an
/// account with no positions (so no tick round can be what pushed).
#[tokio::test]
async fn the_portfolio_feed_pushes_after_deposits_and_withdrawals() {
    let app = spawn_app().await;
    let s = customer(&app, "liv", "100.00").await;
    let mut ws = app.ws_session(Some(&s.access)).await;
    ws.subscribe(
        "p",
        "subscription { portfolio { id totalValue cash { balance } } }",
        json!({}),
    )
    .await;
    let first = ws.next_for("p").await;
    assert_eq!(
        first["payload"]["data"]["portfolio"]["cash"]["balance"], "100.00",
        "{first}"
    );
    let r = app
        .gql_as(&s.access, DEPOSIT, json!({ "i": { "amount": "50.00" } }))
        .await;
    assert_eq!(r["data"]["deposit"]["userErrors"], json!([]), "{r}");
    let pushed = ws.next_for("p").await;
    assert_eq!(
        pushed["payload"]["data"]["portfolio"]["cash"]["balance"], "150.00",
        "the next push is the deposit's: {pushed}"
    );
    assert_eq!(
        pushed["payload"]["data"]["portfolio"]["totalValue"],
        "150.00"
    );
    let r = app
        .gql_as(&s.access, WITHDRAW, json!({ "i": { "amount": "30.00" } }))
        .await;
    assert_eq!(r["data"]["withdraw"]["userErrors"], json!([]), "{r}");
    let pushed = ws.next_for("p").await;
    assert_eq!(
        pushed["payload"]["data"]["portfolio"]["cash"]["balance"], "120.00",
        "the next push is the withdrawal's: {pushed}"
    );
    assert_eq!(
        pushed["payload"]["data"]["portfolio"]["id"], first["payload"]["data"]["portfolio"]["id"],
        "one cache record"
    );
}

#[tokio::test]
async fn account_feeds_need_a_login() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    let msg = ws.next_for("o").await;
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{msg}"
    );
}

/// `placeOrder` answers with everything the order changed, under the ids the rest of the
/// schema uses for the same records, so a client cache updates without a refetch.
#[tokio::test]
async fn a_placed_order_returns_what_it_changed_under_the_same_ids() {
    let app = spawn_app().await;
    set_market(&app, true).await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "pia", "5000.00").await;
    let cash_id = cash(&app, &s).await["id"].clone();
    assert!(cash_id.is_string());
    let full = |side: &str, quantity: i64| json!({ "i": { "stock": { "id": aapl }, "side": side, "quantity": quantity } });

    let r = app.gql_as(&s.access, PLACE_FULL, full("BUY", 3)).await;
    let p = &r["data"]["placeOrder"];
    assert_eq!(p["userErrors"], json!([]), "{r}");
    assert_eq!(p["order"]["status"], "EXECUTED");
    let trade = &p["trade"];
    assert!(trade["id"].is_string(), "executed at once: {r}");
    assert_eq!(trade["order"]["id"], p["order"]["id"]);
    assert_eq!(trade["quantity"], 3);
    assert_eq!(trade["total"], p["order"]["total"]);
    assert_eq!(p["cash"]["id"], cash_id, "the one `cash` record");
    assert_eq!(p["cash"], cash(&app, &s).await, "the cash after the order");
    assert_eq!(
        dec(&p["cash"]["balance"]),
        Decimal::from(5000) - dec(&p["order"]["total"])
    );
    let seen = app
        .gql_as(
            &s.access,
            "{ portfolio { positions { id quantity } } trades { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        p["position"]["id"], seen["data"]["portfolio"]["positions"][0]["id"],
        "the portfolio's record: {seen}"
    );
    assert_eq!(p["position"]["quantity"], 3);
    assert_eq!(
        trade["id"],
        seen["data"]["trades"]["edges"][0]["node"]["id"]
    );
    let node = app
        .gql_as(
            &s.access,
            "query($id: ID!) { node(id: $id) { __typename id ... on Position { quantity } } }",
            json!({ "id": p["position"]["id"] }),
        )
        .await;
    assert_eq!(node["data"]["node"]["__typename"], "Position", "{node}");
    assert_eq!(node["data"]["node"]["quantity"], 3);

    // Queued while closed: no trade; the buy reserves its estimate, the sell its shares.
    set_market(&app, false).await;
    let price = dec(&app
        .gql(
            "query($s: String!) { stock(by: { symbol: $s }) { price } }",
            json!({ "s": "AAPL" }),
        )
        .await["data"]["stock"]["price"]);
    let before = cash(&app, &s).await;
    let r = app.gql_as(&s.access, PLACE_FULL, full("BUY", 2)).await;
    let buy = &r["data"]["placeOrder"];
    assert_eq!(buy["order"]["status"], "QUEUED", "{r}");
    assert_eq!(buy["trade"], Value::Null, "nothing filled yet");
    assert_eq!(buy["cash"]["id"], cash_id);
    assert_eq!(buy["cash"]["balance"], before["balance"]);
    assert_eq!(dec(&buy["cash"]["reserved"]), price * Decimal::from(2));
    assert_eq!(
        dec(&buy["cash"]["available"]),
        dec(&before["balance"]) - price * Decimal::from(2)
    );
    assert_eq!(buy["position"]["reservedQuantity"], 0);
    let r = app.gql_as(&s.access, PLACE_FULL, full("SELL", 2)).await;
    let sell = &r["data"]["placeOrder"];
    assert_eq!(sell["order"]["status"], "QUEUED", "{r}");
    assert_eq!(sell["trade"], Value::Null);
    assert_eq!(
        sell["position"],
        json!({ "id": p["position"]["id"], "quantity": 3, "reservedQuantity": 2 })
    );
    assert_eq!(sell["cash"], buy["cash"], "a sell reserves no cash");

    // Canceling releases what each reserved, in the payload.
    let c = cancel(&app, &s, &buy["order"]["id"]).await;
    let released = &c["data"]["cancelOrder"];
    assert_eq!(released["userErrors"], json!([]), "{c}");
    assert_eq!(released["order"]["status"], "CANCELED");
    assert_eq!(released["order"]["id"], buy["order"]["id"]);
    assert_eq!(released["cash"]["id"], cash_id);
    assert_eq!(released["cash"]["reserved"], "0.00");
    assert_eq!(released["cash"]["available"], before["balance"]);
    let c = cancel(&app, &s, &sell["order"]["id"]).await;
    let released = &c["data"]["cancelOrder"];
    assert_eq!(
        released["position"],
        json!({ "id": p["position"]["id"], "quantity": 3, "reservedQuantity": 0 }),
        "{c}"
    );
    assert_invariants(&app).await;
}

/// Each `orderUpdates` event carries the order's trade and the owner's cash and position, as
/// the same records the queries return.
#[tokio::test]
async fn order_updates_carry_the_trade_cash_and_position() {
    let app = spawn_app().await;
    set_market(&app, true).await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "quin", "5000.00").await;
    let mut ws = app.ws_session(Some(&s.access)).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id status } trade { id order { id } } \
         cash { id balance reserved } position { id quantity reservedQuantity } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let input = |quantity: i64| json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": quantity } });

    let r = app.gql_as(&s.access, PLACE_FULL, input(2)).await;
    let p = &r["data"]["placeOrder"];
    assert_eq!(p["order"]["status"], "EXECUTED", "{r}");
    let msg = ws.next_for("o").await;
    let e = &msg["payload"]["data"]["orderUpdates"];
    assert_eq!(e["order"]["id"], p["order"]["id"], "{msg}");
    assert_eq!(e["order"]["status"], "EXECUTED");
    assert_eq!(e["trade"]["id"], p["trade"]["id"]);
    assert_eq!(e["trade"]["order"]["id"], p["order"]["id"]);
    assert_eq!(e["cash"]["id"], p["cash"]["id"]);
    assert_eq!(e["cash"]["balance"], p["cash"]["balance"]);
    assert_eq!(e["position"]["id"], p["position"]["id"]);
    assert_eq!(e["position"]["quantity"], 2);

    set_market(&app, false).await;
    let r = app.gql_as(&s.access, PLACE_FULL, input(1)).await;
    let queued = &r["data"]["placeOrder"];
    assert_eq!(queued["order"]["status"], "QUEUED", "{r}");
    let msg = ws.next_for("o").await;
    let e = &msg["payload"]["data"]["orderUpdates"];
    assert_eq!(e["order"]["id"], queued["order"]["id"], "{msg}");
    assert_eq!(e["order"]["status"], "QUEUED");
    assert_eq!(e["trade"], Value::Null);
    assert_eq!(e["cash"]["reserved"], queued["cash"]["reserved"]);
    assert_ne!(e["cash"]["reserved"], "0.00");

    cancel(&app, &s, &queued["order"]["id"]).await;
    let msg = ws.next_for("o").await;
    let e = &msg["payload"]["data"]["orderUpdates"];
    assert_eq!(e["order"]["status"], "CANCELED", "{msg}");
    assert_eq!(e["cash"]["reserved"], "0.00", "released");
    assert_eq!(e["position"]["quantity"], 2);
}

/// `order(id:)` is null, not an error, for another user's order and for an unknown id; the
/// references between orders, trades and ledger entries resolve both ways.
#[tokio::test]
async fn orders_trades_and_entries_reference_each_other_and_others_read_as_null() {
    let app = spawn_app().await;
    set_market(&app, true).await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "rae", "5000.00").await;
    let other = customer(&app, "sol", "10.00").await;
    let r = app
        .gql_as(
            &s.access,
            PLACE_FULL,
            json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": 1 } }),
        )
        .await;
    let (order_id, trade_id) = (
        r["data"]["placeOrder"]["order"]["id"].clone(),
        r["data"]["placeOrder"]["trade"]["id"].clone(),
    );
    assert!(order_id.is_string() && trade_id.is_string(), "{r}");

    let one = "query($id: ID!) { order(id: $id) { id status trades { id order { id } } } }";
    let mine = app.gql_as(&s.access, one, json!({ "id": order_id })).await;
    let order = &mine["data"]["order"];
    assert_eq!(order["id"], order_id, "{mine}");
    assert_eq!(
        order["trades"],
        json!([{ "id": trade_id, "order": { "id": order_id } }])
    );
    for (who, id) in [(&other, order_id.clone()), (&s, json!(unknown_id("Order")))] {
        let r = app.gql_as(&who.access, one, json!({ "id": id })).await;
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(r["data"]["order"], Value::Null, "{id}: {r}");
    }
    // Not an order's id at all: that is the client's mistake, and says so.
    let wrong = app.gql_as(&s.access, one, json!({ "id": aapl })).await;
    assert_eq!(code(&wrong), Some("BAD_USER_INPUT"), "{wrong}");

    let lists = app
        .gql_as(
            &s.access,
            "{ trades { edges { node { id order { id status } } } } \
               cashTransactions { edges { node { type reference order { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        lists["data"]["trades"]["edges"][0]["node"],
        json!({ "id": trade_id, "order": { "id": order_id, "status": "EXECUTED" } }),
        "{lists}"
    );
    let entries = &lists["data"]["cashTransactions"]["edges"];
    assert_eq!(entries[0]["node"]["type"], "BUY");
    assert_eq!(entries[0]["node"]["order"]["id"], order_id);
    assert_eq!(entries[1]["node"]["type"], "DEPOSIT");
    assert_eq!(entries[1]["node"]["order"], Value::Null);

    // A queued order has no fills yet.
    set_market(&app, false).await;
    let queued = placed(&place(&app, &s, &aapl, "BUY", 1).await);
    assert_eq!(queued["status"], "QUEUED");
    let r = app
        .gql_as(&s.access, one, json!({ "id": queued["id"] }))
        .await;
    assert_eq!(r["data"]["order"]["trades"], json!([]), "{r}");
}

/// `orders` pages both ways with the list's total; cursors are opaque (a row id is not one).
#[tokio::test]
async fn orders_page_both_ways_with_opaque_cursors() {
    let app = spawn_app().await;
    set_market(&app, false).await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let s = customer(&app, "tia", "100000.00").await;
    let mut ids = Vec::new(); // oldest first
    for _ in 0..5 {
        let o = placed(&place(&app, &s, &aapl, "BUY", 1).await);
        assert_eq!(o["status"], "QUEUED", "{o}");
        ids.push((o["id"].clone(), o["databaseId"].clone()));
    }
    let q = "query($f: Int, $a: String, $l: Int, $b: String) { \
             orders(first: $f, after: $a, last: $l, before: $b) { totalCount \
             edges { cursor node { id } } \
             pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let page = |vars: Value| {
        let (app, s) = (&app, &s);
        async move {
            let r = app.gql_as(&s.access, q, vars).await;
            let page = r["data"]["orders"].clone();
            assert_eq!(page["totalCount"], 5, "{r}");
            let got: Vec<Value> = page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].clone())
                .collect();
            (got, page["pageInfo"].clone())
        }
    };
    let id = |i: usize| ids[i].0.clone();
    let flags = |info: &Value| (info["hasPreviousPage"].clone(), info["hasNextPage"].clone());

    // The oldest two, shown newest first; then the two before them in the list.
    let (got, info) = page(json!({ "l": 2 })).await;
    assert_eq!(got, vec![id(1), id(0)]);
    assert_eq!(flags(&info), (json!(true), json!(false)));
    let (got, info) = page(json!({ "l": 2, "b": info["startCursor"] })).await;
    assert_eq!(got, vec![id(3), id(2)]);
    assert_eq!(flags(&info), (json!(true), json!(true)));
    let (got, info) = page(json!({ "l": 2, "b": info["startCursor"] })).await;
    assert_eq!(got, vec![id(4)]);
    assert_eq!(flags(&info), (json!(false), json!(true)), "the newest end");

    // Forward from the newest.
    let (got, info) = page(json!({ "f": 2 })).await;
    assert_eq!(got, vec![id(4), id(3)]);
    assert_eq!(flags(&info), (json!(false), json!(true)));
    let (got, _) = page(json!({ "f": 2, "a": info["endCursor"] })).await;
    assert_eq!(got, vec![id(2), id(1)]);

    // Cursors are neither ids nor row numbers, and those are not accepted as cursors.
    let r = app.gql_as(&s.access, q, json!({ "f": 5 })).await;
    let rows: Vec<String> = ids.iter().map(|(_, row)| row.to_string()).collect();
    for edge in r["data"]["orders"]["edges"].as_array().unwrap() {
        let cursor = edge["cursor"].as_str().unwrap();
        assert_ne!(json!(cursor), edge["node"]["id"]);
        assert!(!rows.iter().any(|row| row == cursor), "{cursor}");
    }
    for not_a_cursor in [ids[2].1.to_string(), ids[2].0.as_str().unwrap().to_string()] {
        let r = app
            .gql_as(&s.access, q, json!({ "f": 2, "a": not_a_cursor }))
            .await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{not_a_cursor}: {r}");
    }
    let both = app.gql_as(&s.access, q, json!({ "f": 2, "l": 2 })).await;
    assert_eq!(
        code(&both),
        Some("BAD_USER_INPUT"),
        "first and last: {both}"
    );
}

/// Every expected refusal of an order is data: its code in `userErrors`, no order, nothing
/// stored. A JSON number for money is refused before anything runs.
#[tokio::test]
async fn every_refused_order_is_a_user_error_with_its_code() {
    let app = spawn_app().await;
    set_market(&app, true).await;
    let (aapl, _) = stock(&app, "AAPL").await;
    let (ko, _) = stock(&app, "KO").await;
    let s = customer(&app, "uma", "1000.00").await;
    let order = |stock: Value, side: &str, quantity: i64, key: Option<&str>| json!({ "i": { "stock": stock, "side": side, "quantity": quantity, "clientOrderId": key } });
    let refusal = |r: &Value| {
        let e = &r["data"]["placeOrder"]["userErrors"][0];
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
        assert!(r["errors"].is_null(), "{r}");
        (order_refusal(r).map(str::to_string), e["field"].clone())
    };
    let by_id = |id: &str| json!({ "id": id });

    let r = app
        .gql_as(&s.access, PLACE, order(by_id(&aapl), "BUY", 0, None))
        .await;
    assert_eq!(
        refusal(&r),
        (Some("BAD_USER_INPUT".into()), json!(["input", "quantity"]))
    );
    let r = app
        .gql_as(
            &s.access,
            PLACE,
            order(json!({ "symbol": "NOPE" }), "BUY", 1, None),
        )
        .await;
    assert_eq!(refusal(&r).0.as_deref(), Some("NOT_FOUND"), "{r}");
    let r = app
        .gql_as(&s.access, PLACE, order(by_id(&aapl), "BUY", 1_000, None))
        .await;
    assert_eq!(refusal(&r).0.as_deref(), Some("INSUFFICIENT_FUNDS"));
    let r = app
        .gql_as(&s.access, PLACE, order(by_id(&ko), "SELL", 1, None))
        .await;
    assert_eq!(refusal(&r).0.as_deref(), Some("INSUFFICIENT_SHARES"));

    // CONFLICT: a clientOrderId reused for another order, and canceling a filled one.
    let first = app
        .gql_as(&s.access, PLACE, order(by_id(&ko), "BUY", 1, Some("k-1")))
        .await;
    let first = placed(&first);
    assert_eq!(first["status"], "EXECUTED", "{first}");
    let r = app
        .gql_as(&s.access, PLACE, order(by_id(&ko), "BUY", 2, Some("k-1")))
        .await;
    assert_eq!(refusal(&r).0.as_deref(), Some("CONFLICT"));
    let c = cancel(&app, &s, &first["id"]).await;
    assert_eq!(refused(&c, "cancelOrder", "order"), Some("CONFLICT"), "{c}");
    // A cancel naming something that is not an order's id names the field.
    let c = cancel(&app, &s, &json!(ko)).await;
    assert_eq!(refused(&c, "cancelOrder", "order"), Some("BAD_USER_INPUT"));
    assert_eq!(
        c["data"]["cancelOrder"]["userErrors"][0]["field"],
        json!(["input", "orderId"])
    );

    // STOCK_HALTED: an admin halts the stock; orders are refused, the quote says why.
    let admin = app.admin().await;
    let halt = app
        .gql_as(
            &admin.access,
            "mutation($i: UpdateStockInput!) { updateStock(input: $i) { stock { id active } userErrors { code } } }",
            json!({ "i": { "id": aapl, "active": false } }),
        )
        .await;
    assert_eq!(
        halt["data"]["updateStock"]["stock"]["active"], false,
        "{halt}"
    );
    let r = app
        .gql_as(&s.access, PLACE, order(by_id(&aapl), "BUY", 1, None))
        .await;
    assert_eq!(refusal(&r).0.as_deref(), Some("STOCK_HALTED"), "{r}");
    let q = app
        .gql_as(
            &s.access,
            QUOTE,
            json!({ "i": { "stock": { "symbol": "AAPL" }, "side": "BUY", "quantity": 1 } }),
        )
        .await;
    let quote = &q["data"]["quote"];
    assert_eq!(quote["problemCode"], "STOCK_HALTED", "{q}");
    assert_eq!(quote["problem"], "the stock is halted");
    assert_eq!(quote["executesNow"], false);
    assert_eq!(quote["marketOpen"], true, "halted, not closed");

    // Money is a string: a JSON number is refused as invalid input, inline or as a variable.
    let r = app
        .gql_as(&s.access, DEPOSIT, json!({ "i": { "amount": 12.5 } }))
        .await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    assert!(r["data"].is_null(), "{r}");
    let r = app
        .gql_as(
            &s.access,
            "mutation { deposit(input: { amount: 12.5 }) { cash { balance } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    assert_eq!(
        dec(&cash(&app, &s).await["balance"]),
        Decimal::from(1000) - dec(&first["total"]),
        "only the one order moved money"
    );

    let all = app
        .gql_as(&s.access, "{ orders { totalCount } }", json!({}))
        .await;
    assert_eq!(
        all["data"]["orders"]["totalCount"], 1,
        "refusals store nothing"
    );
    assert_invariants(&app).await;
}
