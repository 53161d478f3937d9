//! Global object identification: `node(id:)` and `nodes(ids:)` return each object by its
//! global id to whoever may see it, and null (never an error) to everyone else.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, code, spawn_app_at, user_error};

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

/// Wednesday 2026-11-25 10:00 EST: the market is open.
async fn open_market() -> TestApp {
    let app = spawn_app_at(
        "2026-11-25T15:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        &[],
    )
    .await;
    app.wait_market(true).await;
    app
}

/// `(typename, id)` of every private object the demo user has after buying 2 KO.
async fn demo_objects(app: &TestApp, demo: &Session) -> Vec<(&'static str, Value)> {
    let placed = app
        .gql_as(
            &demo.access,
            "mutation { placeOrder(input: { stock: { symbol: \"KO\" }, side: BUY, quantity: 2 }) { order { id status } trade { id } cash { id } position { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let p = &placed["data"]["placeOrder"];
    assert_eq!(p["order"]["status"], "EXECUTED", "{placed}");
    let mine = app
        .gql_as(
            &demo.access,
            "{ viewer { id } portfolio { id positions { id } } cashTransactions(first: 1) { nodes { id type } } }",
            json!({}),
        )
        .await;
    let d = &mine["data"];
    assert_eq!(d["cashTransactions"]["nodes"][0]["type"], "BUY", "{mine}");
    assert_eq!(d["portfolio"]["positions"][0]["id"], p["position"]["id"]);
    let objects = vec![
        ("Order", p["order"]["id"].clone()),
        ("Trade", p["trade"]["id"].clone()),
        (
            "CashTransaction",
            d["cashTransactions"]["nodes"][0]["id"].clone(),
        ),
        ("Cash", p["cash"]["id"].clone()),
        ("Portfolio", d["portfolio"]["id"].clone()),
        ("Position", p["position"]["id"].clone()),
        ("User", d["viewer"]["id"].clone()),
    ];
    for (kind, id) in &objects {
        assert!(id.is_string(), "{kind}: {placed} {mine}");
    }
    objects
}

/// `node(id:)` as `token` (anonymous when None): the `node` value, asserting no errors.
async fn node(app: &TestApp, token: Option<&str>, id: &Value) -> Value {
    let vars = json!({ "id": id });
    let r = match token {
        Some(t) => app.gql_as(t, NODE, vars).await,
        None => app.gql(NODE, vars).await,
    };
    assert!(
        r["errors"].is_null(),
        "node({id}) answers without errors: {r}"
    );
    r["data"]["node"].clone()
}

#[tokio::test]
async fn node_returns_each_private_object_to_its_owner_and_to_no_other_customer() {
    let app = open_market().await;
    let demo = app.demo().await;
    let objects = demo_objects(&app, &demo).await;
    let eve = app
        .register("eve@example.com", "long enough pw", "Eve")
        .await;
    for (kind, id) in &objects {
        assert_eq!(
            node(&app, Some(&demo.access), id).await,
            json!({ "__typename": kind, "id": id }),
            "the owner gets their {kind}"
        );
        assert_eq!(
            node(&app, Some(&eve.access), id).await,
            Value::Null,
            "another customer gets null for the demo user's {kind}"
        );
        assert_eq!(
            node(&app, None, id).await,
            Value::Null,
            "an anonymous caller gets null for a {kind}"
        );
    }
    // The objects come back whole, not only their ids.
    let cash = app
        .gql_as(
            &demo.access,
            "query($id: ID!) { node(id: $id) { ... on Cash { balance } } }",
            json!({ "id": objects[3].1 }),
        )
        .await;
    let direct = app
        .gql_as(&demo.access, "{ cash { balance } }", json!({}))
        .await;
    assert_eq!(cash["data"]["node"], direct["data"]["cash"], "{cash}");
    // A token that does not verify is an error, as everywhere.
    let forged = app
        .gql_as("not.a.jwt", NODE, json!({ "id": objects[0].1 }))
        .await;
    assert_eq!(code(&forged), Some("UNAUTHENTICATED"), "{forged}");
}

#[tokio::test]
async fn admins_get_every_users_objects_and_the_admin_only_ones() {
    let app = open_market().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let objects = demo_objects(&app, &demo).await;
    for (kind, id) in &objects {
        assert_eq!(
            node(&app, Some(&admin.access), id).await,
            json!({ "__typename": kind, "id": id }),
            "an admin gets the demo user's {kind}"
        );
    }
    app.gql_as(
        &admin.access,
        "mutation { setMarketOverride(input: { open: true, reason: \"drill\" }) { marketState { id } } }",
        json!({}),
    )
    .await;
    let ids = app
        .gql_as(
            &admin.access,
            "{ auditLog(first: 1) { nodes { id } } adminStats { id } candleStats { id } }",
            json!({}),
        )
        .await;
    let admin_only = [
        (
            "AuditEntry",
            ids["data"]["auditLog"]["nodes"][0]["id"].clone(),
        ),
        ("AdminStats", ids["data"]["adminStats"]["id"].clone()),
        ("CandleStat", ids["data"]["candleStats"][0]["id"].clone()),
    ];
    for (kind, id) in &admin_only {
        assert!(id.is_string(), "{kind}: {ids}");
        assert_eq!(
            node(&app, Some(&admin.access), id).await,
            json!({ "__typename": kind, "id": id }),
            "an admin gets the {kind}"
        );
        assert_eq!(
            node(&app, Some(&demo.access), id).await,
            Value::Null,
            "a customer gets null for the {kind}"
        );
        assert_eq!(node(&app, None, id).await, Value::Null, "anonymous: {kind}");
    }
    // What an admin gets through `node` is what the admin API shows.
    let user = app
        .gql_as(
            &admin.access,
            "query($id: ID!) { node(id: $id) { ... on User { email lastSeenAt cash { id } } } }",
            json!({ "id": demo.user_id }),
        )
        .await;
    assert_eq!(user["data"]["node"]["email"], "demo@example.com", "{user}");
    assert!(user["data"]["node"]["lastSeenAt"].is_string(), "{user}");
    assert_eq!(user["data"]["node"]["cash"]["id"], objects[3].1);
}

#[tokio::test]
async fn nodes_keeps_the_order_asked_with_nulls_in_place() {
    let app = open_market().await;
    let demo = app.demo().await;
    let objects = demo_objects(&app, &demo).await;
    let admin = app.admin().await;
    let admin_cash = app
        .gql_as(&admin.access, "{ cash { id } }", json!({}))
        .await["data"]["cash"]["id"]
        .clone();
    let stocks = app.gql("{ stocks { id symbol } }", json!({})).await["data"]["stocks"].clone();
    let (aapl, ko) = (stocks[0]["id"].clone(), stocks[1]["id"].clone());
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Stock { symbol } } }";
    let order = objects[0].1.clone();
    let r = app
        .gql_as(
            &demo.access,
            q,
            json!({ "ids": [ko, "not an id", order, admin_cash, aapl, ko] }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let got = r["data"]["nodes"].as_array().unwrap();
    let typenames: Vec<&Value> = got.iter().map(|n| &n["__typename"]).collect();
    assert_eq!(
        typenames,
        [
            &json!("Stock"),
            &Value::Null,
            &json!("Order"),
            &Value::Null,
            &json!("Stock"),
            &json!("Stock")
        ],
        "{r}"
    );
    assert_eq!(got[0]["id"], ko);
    assert_eq!(got[0]["symbol"], stocks[1]["symbol"]);
    assert_eq!(got[2]["id"], order);
    assert_eq!(got[4]["symbol"], stocks[0]["symbol"]);
    assert_eq!(got[5], got[0], "an id asked twice answers twice");
    let empty = app.gql(q, json!({ "ids": [] })).await;
    assert_eq!(empty["data"]["nodes"], json!([]), "{empty}");

    // At most 100 ids.
    let hundred: Vec<Value> = (0..100).map(|_| ko.clone()).collect();
    let r = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": hundred }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(r["data"]["nodes"].as_array().unwrap().len(), 100);
    let too_many: Vec<Value> = (0..101).map(|_| ko.clone()).collect();
    let r = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": too_many }),
        )
        .await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
}

#[tokio::test]
async fn ids_are_distinct_across_types_and_typed() {
    let app = open_market().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let objects = demo_objects(&app, &demo).await;
    let order = app
        .gql_as(
            &demo.access,
            "query($id: ID!) { order(id: $id) { id databaseId } }",
            json!({ "id": objects[0].1 }),
        )
        .await["data"]["order"]
        .clone();
    let stocks = app.gql("{ stocks { id databaseId } }", json!({})).await["data"]["stocks"].clone();
    let stock = stocks
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["databaseId"] == order["databaseId"])
        .cloned()
        .unwrap_or_else(|| panic!("a stock with the order's row number: {order} {stocks}"));
    // Same row number, different objects.
    assert_ne!(stock["id"], order["id"]);
    assert_eq!(
        node(&app, Some(&demo.access), &stock["id"]).await["__typename"],
        "Stock"
    );
    assert_eq!(
        node(&app, Some(&demo.access), &order["id"]).await["__typename"],
        "Order"
    );
    // Public objects answer anyone.
    assert_eq!(node(&app, None, &stock["id"]).await["id"], stock["id"]);
    let market = app
        .gql("{ marketState { id } marketHours { id } }", json!({}))
        .await;
    for id in [
        &market["data"]["marketState"]["id"],
        &market["data"]["marketHours"][0]["id"],
    ] {
        assert_eq!(node(&app, None, id).await["id"], *id, "{market}");
    }

    // The id of one type where another is expected is refused, naming the argument.
    let r = app
        .gql_as(
            &demo.access,
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": stock["id"] }),
        )
        .await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    let r = app
        .gql_as(
            &demo.access,
            "mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { id } userErrors { code field } } }",
            json!({ "id": stock["id"] }),
        )
        .await;
    assert_eq!(user_error(&r, "cancelOrder"), Some("BAD_USER_INPUT"), "{r}");
    assert_eq!(
        r["data"]["cancelOrder"]["userErrors"][0]["field"],
        json!(["input", "orderId"])
    );
    let r = app
        .gql_as(
            &admin.access,
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    // `node` takes any id: one that is not ours is simply null.
    for junk in ["1", "", "Order:1", "T3JkZXI6LTE=" /* Order:-1 */] {
        assert_eq!(
            node(&app, Some(&admin.access), &json!(junk)).await,
            Value::Null,
            "{junk}"
        );
    }
}

#[tokio::test]
async fn nodes_reads_all_its_stocks_in_one_query() {
    let app = crate::helpers::spawn_app().await;
    let stocks = app.gql("{ stocks { id } }", json!({})).await["data"]["stocks"].clone();
    let all: Vec<Value> = stocks
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert!(all.len() >= 5, "{stocks}");
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    // The start-up work (candle backfill) runs statements of its own: wait until it is done.
    app.eventually("a quiet database", || async {
        let before = app.statements.count();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.statements.count() == before
    })
    .await;
    // The fewest statements `ids` cost over three tries (background work may still add some
    // to any one of them).
    let cost = async |ids: &[Value]| {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.statements.count();
            let r = app.gql(q, json!({ "ids": ids })).await;
            assert_eq!(
                r["data"]["nodes"].as_array().map(Vec::len),
                Some(ids.len()),
                "{r}"
            );
            fewest = fewest.min(app.statements.count() - before);
        }
        fewest
    };
    let one = cost(&all[..1]).await;
    let every = cost(&all).await;
    assert_eq!(one, every, "{} stocks cost as much as one", all.len());
}
