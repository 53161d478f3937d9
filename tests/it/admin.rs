//! The admin API: role checks, each mutation, its validation (as `userErrors`), and its audit
//! row with links to the admin and the changed object.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use zebrat::graphql::node::{Kind, global_id};

use crate::helpers::{Session, TestApp, code, spawn_app, spawn_app_at, user_error};

const AUDIT: &str = "query($a: AuditAction) { auditLog(action: $a) { edges { node { id action actionName actorId actor { id } targetType targetId target { __typename id } before after clientAddr } } } }";

async fn audit_rows(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    let r = app.gql_as(token, AUDIT, json!({ "a": action })).await;
    r["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// The global id of a `kind` object that does not exist (to test refusals only: real ids
/// come from responses).
fn missing(kind: Kind) -> String {
    global_id(kind, 99999).0
}

/// A stock's global id, by symbol.
async fn stock_id(app: &TestApp, symbol: &str) -> Value {
    let r = app
        .gql(
            "query($s: String!) { stock(by: { symbol: $s }) { id } }",
            json!({ "s": symbol }),
        )
        .await;
    assert!(r["data"]["stock"]["id"].is_string(), "{r}");
    r["data"]["stock"]["id"].clone()
}

/// The `userErrors[0].field` of the payload at `data.<mutation>`.
fn error_field(body: &Value, mutation: &str) -> Value {
    body["data"][mutation]["userErrors"][0]["field"].clone()
}

const USER_ERRORS: &str = "userErrors { code field message }";

#[tokio::test]
async fn every_admin_field_needs_the_admin_role() {
    let app = spawn_app().await;
    let customer = app.demo().await;
    let admin = app.admin().await;
    let ko = stock_id(&app, "KO").await;
    let vars = json!({ "stock": ko, "user": customer.user_id, "holiday": missing(Kind::Holiday) });
    let operations = [
        "{ adminStocks { id } }",
        "{ auditLog { edges { cursor } } }",
        "mutation { createStock(input: { symbol: \"ZZZ\", name: \"Z\", initialPrice: \"1\" }) { stock { id } } }",
        "mutation($stock: ID!) { updateStock(input: { id: $stock, name: \"X\" }) { stock { id } } }",
        "mutation { updateMarketHours(input: { day: 0, open: \"09:00\", close: \"17:00\", closed: false }) { marketDay { day } } }",
        "mutation { addHoliday(input: { date: \"2030-01-02\", name: \"X\" }) { holiday { id } } }",
        "mutation($holiday: ID!) { deleteHoliday(input: { id: $holiday }) { holiday { id } } }",
        "mutation { setMarketOverride(input: { open: false, reason: \"x\" }) { marketState { isOpen } } }",
        "mutation { clearMarketOverride { marketState { isOpen } } }",
        "{ users { edges { cursor } } }",
        "query($user: ID!) { user(id: $user) { id } }",
        "{ adminStats { totalUsers } }",
        "{ candleStats { gaps } }",
        "mutation($user: ID!) { updateUser(input: { id: $user, active: false }) { user { id } } }",
        "mutation($user: ID!) { resetUserPassword(input: { id: $user, newPassword: \"hijacked!!\" }) { temporaryPassword } }",
    ];
    for op in operations {
        // Declared but unused variables are fine for GraphQL; send only those the op uses.
        let used: serde_json::Map<String, Value> = vars
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| op.contains(&format!("${k}")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let anonymous = app.gql(op, Value::Object(used.clone())).await;
        assert_eq!(
            code(&anonymous),
            Some("UNAUTHENTICATED"),
            "{op}: {anonymous}"
        );
        assert!(anonymous["data"].is_null(), "{op}: {anonymous}");
        let refused = app.gql_as(&customer.access, op, Value::Object(used)).await;
        assert_eq!(code(&refused), Some("FORBIDDEN"), "{op}: {refused}");
        assert!(refused["data"].is_null(), "{op}: {refused}");
    }
    // Nothing the refused calls tried was done, and nothing was audited.
    let log = app
        .gql_as(&admin.access, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert_eq!(log["data"]["auditLog"]["totalCount"], 0, "{log}");
    let r = app
        .gql_as(&admin.access, "{ adminStocks { symbol } }", json!({}))
        .await;
    assert!(
        r["data"]["adminStocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["symbol"] != "ZZZ")
    );
    let me = app
        .gql_as(&customer.access, "{ me { active } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["active"], true, "{me}");
}

#[tokio::test]
async fn admins_create_stocks_with_history_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let create = format!(
        "mutation($i: CreateStockInput!) {{ createStock(input: $i) {{ stock {{ id databaseId symbol name price active }} {USER_ERRORS} }} }}"
    );
    let r = app.gql_as(&admin.access, &create, json!({ "i": { "symbol": "zbr.a", "name": "Zebrat Holdings", "initialPrice": "42.50", "volatility": 0.03 } })).await;
    let stock = r["data"]["createStock"]["stock"].clone();
    assert_eq!(stock["symbol"], "ZBR.A", "{r}");
    assert_eq!(stock["price"], "42.50");
    assert_eq!(r["data"]["createStock"]["userErrors"], json!([]));
    // History is there when the mutation returns, ending at the initial price.
    let candles = app
        .gql(
            "query($id: ID!) { candles(stock: { id: $id }, interval: D1) { candles { close } } }",
            json!({ "id": stock["id"] }),
        )
        .await;
    let days = candles["data"]["candles"]["candles"]
        .as_array()
        .unwrap_or_else(|| panic!("{candles}"));
    assert!(days.len() >= 15, "{candles}");
    assert_eq!(days.last().unwrap()["close"], "42.50");
    // Customers see it in `stocks` and can trade it.
    let listed = app.gql("{ stocks { symbol } }", json!({})).await;
    assert!(
        listed["data"]["stocks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["symbol"] == "ZBR.A")
    );

    let rows = audit_rows(&app, &admin.access, "STOCK_CREATE").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["action"], "STOCK_CREATE");
    assert_eq!(rows[0]["actionName"], "stock.create");
    assert_eq!(rows[0]["targetId"], stock["databaseId"].to_string());
    assert_eq!(
        rows[0]["target"],
        json!({ "__typename": "Stock", "id": stock["id"] })
    );
    assert_eq!(rows[0]["after"]["stock"]["symbol"], "ZBR.A");
    assert_eq!(rows[0]["clientAddr"], "127.0.0.1");

    for (input, expected, field) in [
        (
            json!({ "symbol": "ZBR.A", "name": "Dup", "initialPrice": "1" }),
            "CONFLICT",
            None,
        ),
        (
            json!({ "symbol": "TOO-LONG-SYMBOL", "name": "X", "initialPrice": "1" }),
            "BAD_USER_INPUT",
            Some("symbol"),
        ),
        (
            json!({ "symbol": "OK", "name": " ", "initialPrice": "1" }),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "0" }),
            "BAD_USER_INPUT",
            Some("initialPrice"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "1.001" }),
            "BAD_USER_INPUT",
            Some("initialPrice"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "1", "volatility": -1.0 }),
            "BAD_USER_INPUT",
            Some("volatility"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "1", "drift": 5.0 }),
            "BAD_USER_INPUT",
            Some("drift"),
        ),
    ] {
        let r = app
            .gql_as(&admin.access, &create, json!({ "i": input }))
            .await;
        assert!(r["errors"].is_null(), "an expected failure is data: {r}");
        assert_eq!(user_error(&r, "createStock"), Some(expected), "{r}");
        assert!(r["data"]["createStock"]["stock"].is_null(), "{r}");
        let path = field.map(|f| json!(["input", f])).unwrap_or(Value::Null);
        assert_eq!(error_field(&r, "createStock"), path, "{r}");
    }
    // Failed attempts leave no audit rows and no stocks.
    assert_eq!(
        audit_rows(&app, &admin.access, "STOCK_CREATE").await.len(),
        1
    );
    let all = app
        .gql_as(&admin.access, "{ adminStocks { symbol } }", json!({}))
        .await;
    assert!(
        all["data"]["adminStocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["symbol"] != "OK")
    );
}

#[tokio::test]
async fn halting_a_stock_rejects_its_queued_orders_and_refuses_new_ones() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let ko = stock_id(&app, "KO").await;
    let place = format!(
        "mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{ order {{ id status rejectReason }} {USER_ERRORS} }} }}"
    );
    let order = json!({ "i": { "stock": { "id": ko }, "side": "BUY", "quantity": 1 } });
    let cash = "{ cash { reserved } }";
    let closed = app
        .gql_as(
            &admin.access,
            "mutation { setMarketOverride(input: { open: false, reason: \"night\" }) { marketState { isOpen } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        closed["data"]["setMarketOverride"]["marketState"]["isOpen"], false,
        "{closed}"
    );
    app.eventually("closed", || async {
        app.gql_as(&demo.access, &place, order.clone()).await["data"]["placeOrder"]["order"]
            ["status"]
            == "QUEUED"
    })
    .await;
    assert_ne!(
        app.gql_as(&demo.access, cash, json!({})).await["data"]["cash"]["reserved"],
        "0.00"
    );

    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id status rejectReason rejectCode } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let halt = app
        .gql_as(
            &admin.access,
            &format!("mutation($id: ID!) {{ updateStock(input: {{ id: $id, active: false }}) {{ stock {{ id active }} {USER_ERRORS} }} }}"),
            json!({ "id": ko }),
        )
        .await;
    assert_eq!(
        halt["data"]["updateStock"]["stock"],
        json!({ "id": ko, "active": false }),
        "{halt}"
    );
    let update = ws.next_for("o").await;
    let event = &update["payload"]["data"]["orderUpdates"]["order"];
    assert_eq!(event["status"], "REJECTED", "{update}");
    assert_eq!(event["rejectReason"], "the stock was halted");
    assert_eq!(event["rejectCode"], "STOCK_HALTED");
    assert_eq!(
        app.gql_as(&demo.access, cash, json!({})).await["data"]["cash"]["reserved"],
        "0.00"
    );

    let refused = app.gql_as(&demo.access, &place, order).await;
    assert_eq!(
        user_error(&refused, "placeOrder"),
        Some("STOCK_HALTED"),
        "{refused}"
    );
    assert!(
        refused["data"]["placeOrder"]["order"].is_null(),
        "{refused}"
    );
    let listed = app.gql("{ stocks { symbol } }", json!({})).await;
    assert!(
        listed["data"]["stocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["symbol"] != "KO")
    );
    let all = app
        .gql_as(
            &admin.access,
            "{ adminStocks { symbol active } }",
            json!({}),
        )
        .await;
    assert!(
        all["data"]["adminStocks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["symbol"] == "KO" && s["active"] == false)
    );

    let rows = audit_rows(&app, &admin.access, "STOCK_UPDATE").await;
    assert_eq!(rows[0]["before"]["active"], true);
    assert_eq!(rows[0]["after"]["stock"]["active"], false);
    assert_eq!(rows[0]["after"]["rejectedOrders"], 1);
    assert_eq!(
        rows[0]["target"]["id"], ko,
        "a halted stock is still the target"
    );

    // An unknown stock is NOT_FOUND; the id of something else is BAD_USER_INPUT.
    let update = format!(
        "mutation($id: ID!) {{ updateStock(input: {{ id: $id, active: false }}) {{ stock {{ id }} {USER_ERRORS} }} }}"
    );
    let unknown = app
        .gql_as(
            &admin.access,
            &update,
            json!({ "id": missing(Kind::Stock) }),
        )
        .await;
    assert_eq!(
        user_error(&unknown, "updateStock"),
        Some("NOT_FOUND"),
        "{unknown}"
    );
    assert!(unknown["data"]["updateStock"]["stock"].is_null());
    let wrong = app
        .gql_as(&admin.access, &update, json!({ "id": demo.user_id }))
        .await;
    assert_eq!(
        user_error(&wrong, "updateStock"),
        Some("BAD_USER_INPUT"),
        "{wrong}"
    );
    assert_eq!(error_field(&wrong, "updateStock"), json!(["input", "id"]));
}

#[tokio::test]
async fn market_hours_holidays_and_the_override_take_effect_at_once() {
    // Wednesday 2026-11-25 10:00 EST: open by the schedule.
    let app = spawn_app_at(
        "2026-11-25T15:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        &[],
    )
    .await;
    let admin = app.admin().await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe(
        "m",
        "subscription { marketState { isOpen emergency reason } }",
        json!({}),
    )
    .await;
    let clear = app
        .gql_as(
            &admin.access,
            &format!("mutation {{ clearMarketOverride {{ marketState {{ isOpen emergency }} {USER_ERRORS} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        clear["data"]["clearMarketOverride"],
        json!({ "marketState": { "isOpen": true, "emergency": false }, "userErrors": [] }),
        "{clear}"
    );

    // A holiday added for today (market-local date) closes the market at once: the payload
    // says so, and subscribers hear of it.
    let add = format!(
        "mutation($i: HolidayInput!) {{ addHoliday(input: $i) {{ holiday {{ id date name }} marketState {{ id isOpen reason }} {USER_ERRORS} }} }}"
    );
    let added = app
        .gql_as(
            &admin.access,
            &add,
            json!({ "i": { "date": "2026-11-25", "name": "Zebra Day" } }),
        )
        .await;
    let holiday = added["data"]["addHoliday"]["holiday"].clone();
    assert_eq!(holiday["name"], "Zebra Day", "{added}");
    assert_eq!(holiday["date"], "2026-11-25");
    let state = &added["data"]["addHoliday"]["marketState"];
    assert_eq!(state["isOpen"], false, "{added}");
    assert_eq!(state["reason"], "closed: holiday (Zebra Day)");
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["reason"] != "closed: holiday (Zebra Day)" {
        msg = ws.next_for("m").await;
    }
    assert_eq!(msg["payload"]["data"]["marketState"]["isOpen"], false);
    let dup = app
        .gql_as(
            &admin.access,
            &add,
            json!({ "i": { "date": "2026-11-25", "name": "Again" } }),
        )
        .await;
    assert_eq!(user_error(&dup, "addHoliday"), Some("CONFLICT"), "{dup}");
    assert!(dup["data"]["addHoliday"]["holiday"].is_null());
    assert!(dup["data"]["addHoliday"]["marketState"].is_null());
    let unnamed = app
        .gql_as(
            &admin.access,
            &add,
            json!({ "i": { "date": "2026-12-01", "name": " " } }),
        )
        .await;
    assert_eq!(user_error(&unnamed, "addHoliday"), Some("BAD_USER_INPUT"));
    assert_eq!(
        error_field(&unnamed, "addHoliday"),
        json!(["input", "name"])
    );
    // A date that is no date is refused before any resolver runs (the scalar does not parse).
    let bad = app
        .gql_as(
            &admin.access,
            &add,
            json!({ "i": { "date": "2026-13-40", "name": "X" } }),
        )
        .await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"), "{bad}");

    let delete = format!(
        "mutation($id: ID!) {{ deleteHoliday(input: {{ id: $id }}) {{ holiday {{ id }} marketState {{ isOpen reason }} {USER_ERRORS} }} }}"
    );
    let del = app
        .gql_as(&admin.access, &delete, json!({ "id": holiday["id"] }))
        .await;
    assert_eq!(
        del["data"]["deleteHoliday"]["holiday"]["id"], holiday["id"],
        "{del}"
    );
    assert_eq!(
        del["data"]["deleteHoliday"]["marketState"]["isOpen"], true,
        "{del}"
    );
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["isOpen"] != true {
        msg = ws.next_for("m").await;
    }
    let again = app
        .gql_as(&admin.access, &delete, json!({ "id": holiday["id"] }))
        .await;
    assert_eq!(
        user_error(&again, "deleteHoliday"),
        Some("NOT_FOUND"),
        "{again}"
    );
    assert!(again["data"]["deleteHoliday"]["holiday"].is_null());
    // The id of another kind of object is not a holiday's.
    let wrong = app
        .gql_as(
            &admin.access,
            &delete,
            json!({ "id": stock_id(&app, "KO").await }),
        )
        .await;
    assert_eq!(
        user_error(&wrong, "deleteHoliday"),
        Some("BAD_USER_INPUT"),
        "{wrong}"
    );
    assert_eq!(error_field(&wrong, "deleteHoliday"), json!(["input", "id"]));

    // Wednesday's hours end at 09:45 now: it is 10:00, so the market closes at once.
    let hours = format!(
        "mutation($i: MarketHoursInput!) {{ updateMarketHours(input: $i) {{ marketDay {{ id day open close closed }} marketState {{ isOpen }} {USER_ERRORS} }} }}"
    );
    let r = app
        .gql_as(
            &admin.access,
            &hours,
            json!({ "i": { "day": 2, "open": "09:30", "close": "09:45", "closed": false } }),
        )
        .await;
    let payload = &r["data"]["updateMarketHours"];
    let day = &payload["marketDay"];
    assert_eq!(
        (&day["day"], &day["open"], &day["close"], &day["closed"]),
        (&json!(2), &json!("09:30"), &json!("09:45"), &json!(false)),
        "{r}"
    );
    assert_eq!(payload["marketState"]["isOpen"], false, "{r}");
    let listed = app.gql("{ marketHours { id day close } }", json!({})).await;
    assert_eq!(
        listed["data"]["marketHours"][2]["id"], day["id"],
        "one cache record per weekday"
    );
    assert_eq!(listed["data"]["marketHours"][2]["close"], "09:45");
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["isOpen"] != false {
        msg = ws.next_for("m").await;
    }
    for (input, field) in [
        (
            json!({ "day": 7, "open": "09:30", "close": "16:00", "closed": false }),
            "day",
        ),
        (
            json!({ "day": 1, "open": "9.30", "close": "16:00", "closed": false }),
            "open",
        ),
        (
            json!({ "day": 1, "open": "16:00", "close": "09:30", "closed": false }),
            "close",
        ),
    ] {
        let r = app
            .gql_as(&admin.access, &hours, json!({ "i": input }))
            .await;
        assert_eq!(
            user_error(&r, "updateMarketHours"),
            Some("BAD_USER_INPUT"),
            "{r}"
        );
        assert_eq!(
            error_field(&r, "updateMarketHours"),
            json!(["input", field]),
            "{r}"
        );
        assert!(r["data"]["updateMarketHours"]["marketDay"].is_null(), "{r}");
        assert!(
            r["data"]["updateMarketHours"]["marketState"].is_null(),
            "{r}"
        );
    }

    // The override forces the state and clears explicitly; each payload carries the state.
    let set = app.gql_as(&admin.access, &format!("mutation {{ setMarketOverride(input: {{ open: true, reason: \"extended session\" }}) {{ marketState {{ isOpen emergency reason }} {USER_ERRORS} }} }}"), json!({})).await;
    assert_eq!(
        set["data"]["setMarketOverride"],
        json!({ "marketState": { "isOpen": true, "emergency": true, "reason": "extended session" }, "userErrors": [] }),
        "{set}"
    );
    let cleared = app
        .gql_as(
            &admin.access,
            "mutation { clearMarketOverride { marketState { isOpen emergency } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        cleared["data"]["clearMarketOverride"]["marketState"],
        json!({ "isOpen": false, "emergency": false }),
        "back to the (shortened) schedule: {cleared}"
    );

    // Every successful change is audited once, in order; the failed ones are not.
    let rows = audit_rows(&app, &admin.access, "MARKET_HOLIDAY_ADD").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["after"],
        json!({ "date": "2026-11-25", "name": "Zebra Day", "kind": "HOLIDAY", "closeTime": null })
    );
    assert_eq!(
        audit_rows(&app, &admin.access, "MARKET_HOLIDAY_DELETE")
            .await
            .len(),
        1
    );
    let hours_rows = audit_rows(&app, &admin.access, "MARKET_HOURS_UPDATE").await;
    assert_eq!(hours_rows.len(), 1);
    assert_eq!(hours_rows[0]["before"]["close"], "16:00");
    assert_eq!(hours_rows[0]["after"]["close"], "09:45");
    assert_eq!(
        audit_rows(&app, &admin.access, "MARKET_OVERRIDE_SET").await[0]["after"]["reason"],
        "extended session"
    );
    assert_eq!(
        audit_rows(&app, &admin.access, "MARKET_OVERRIDE_CLEAR")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn audit_entries_link_the_admin_and_the_changed_object() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let viewer = app
        .gql_as(&admin.access, "{ viewer { id } }", json!({}))
        .await;
    assert_eq!(
        viewer["data"]["viewer"]["id"],
        admin.user_id.as_str(),
        "{viewer}"
    );

    let stock = app
        .gql_as(
            &admin.access,
            "mutation { createStock(input: { symbol: \"LNK\", name: \"Links\", initialPrice: \"10\" }) { stock { id } } }",
            json!({}),
        )
        .await["data"]["createStock"]["stock"]["id"]
        .clone();
    app.gql_as(
        &admin.access,
        "mutation($id: ID!) { updateUser(input: { id: $id, name: \"Dana\" }) { user { id } } }",
        json!({ "id": demo.user_id }),
    )
    .await;
    let add = "mutation($d: Date!) { addHoliday(input: { date: $d, name: \"Kept\" }) { holiday { id } } }";
    let kept = app
        .gql_as(&admin.access, add, json!({ "d": "2031-01-02" }))
        .await["data"]["addHoliday"]["holiday"]["id"]
        .clone();
    let gone = app
        .gql_as(&admin.access, add, json!({ "d": "2031-01-03" }))
        .await["data"]["addHoliday"]["holiday"]["id"]
        .clone();
    app.gql_as(
        &admin.access,
        "mutation($id: ID!) { deleteHoliday(input: { id: $id }) { holiday { id } } }",
        json!({ "id": gone }),
    )
    .await;
    let day = app
        .gql_as(
            &admin.access,
            "mutation { updateMarketHours(input: { day: 5, open: \"10:00\", close: \"12:00\", closed: false }) { marketDay { id } } }",
            json!({}),
        )
        .await["data"]["updateMarketHours"]["marketDay"]["id"]
        .clone();
    let state = app
        .gql_as(
            &admin.access,
            "mutation { setMarketOverride(input: { open: true }) { marketState { id } } }",
            json!({}),
        )
        .await["data"]["setMarketOverride"]["marketState"]["id"]
        .clone();
    assert!(
        [&stock, &kept, &gone, &day, &state]
            .iter()
            .all(|id| id.is_string()),
        "{stock} {kept} {gone} {day} {state}"
    );

    let target = |rows: &[Value]| {
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["actor"]["id"], admin.user_id.as_str(), "{rows:?}");
        assert_eq!(rows[0]["actorId"], admin.db_id.to_string());
        rows[0]["target"].clone()
    };
    assert_eq!(
        target(&audit_rows(&app, &admin.access, "STOCK_CREATE").await),
        json!({ "__typename": "Stock", "id": stock })
    );
    assert_eq!(
        target(&audit_rows(&app, &admin.access, "USER_UPDATE").await),
        json!({ "__typename": "User", "id": demo.user_id })
    );
    let added = audit_rows(&app, &admin.access, "MARKET_HOLIDAY_ADD").await;
    assert_eq!(added.len(), 2);
    // Newest first: the deleted holiday's entry has no target any more.
    assert_eq!(added[0]["target"], Value::Null, "{added:?}");
    assert_eq!(
        added[1]["target"],
        json!({ "__typename": "Holiday", "id": kept })
    );
    assert_eq!(
        target(&audit_rows(&app, &admin.access, "MARKET_HOLIDAY_DELETE").await),
        Value::Null
    );
    assert_eq!(
        target(&audit_rows(&app, &admin.access, "MARKET_HOURS_UPDATE").await),
        json!({ "__typename": "MarketDay", "id": day })
    );
    assert_eq!(
        target(&audit_rows(&app, &admin.access, "MARKET_OVERRIDE_SET").await),
        json!({ "__typename": "MarketState", "id": state })
    );

    // The filter keeps only the asked action; without it, every entry, newest first.
    let all = app
        .gql_as(
            &admin.access,
            "{ auditLog { totalCount nodes { action } } }",
            json!({}),
        )
        .await;
    assert_eq!(all["data"]["auditLog"]["totalCount"], 7, "{all}");
    assert_eq!(
        all["data"]["auditLog"]["nodes"][0]["action"],
        "MARKET_OVERRIDE_SET"
    );
    let only = app
        .gql_as(
            &admin.access,
            "{ auditLog(action: STOCK_CREATE) { totalCount nodes { action target { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        only["data"]["auditLog"],
        json!({ "totalCount": 1, "nodes": [{ "action": "STOCK_CREATE", "target": { "id": stock } }] }),
        "{only}"
    );
}

#[tokio::test]
async fn the_audit_log_pages_and_filters() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    for reason in ["a", "b", "c"] {
        app.gql_as(
            &admin.access,
            "mutation($r: String) { setMarketOverride(input: { open: true, reason: $r }) { marketState { isOpen } } }",
            json!({ "r": reason }),
        )
        .await;
    }
    let q = "query($f: Int, $after: String, $actor: ID) { auditLog(first: $f, after: $after, actorId: $actor) { totalCount edges { cursor node { action after } } pageInfo { hasNextPage endCursor } } }";
    let p1 = app.gql_as(&admin.access, q, json!({ "f": 2 })).await["data"]["auditLog"].clone();
    assert_eq!(p1["edges"][0]["node"]["after"]["reason"], "c", "{p1}");
    assert_eq!(p1["pageInfo"]["hasNextPage"], true);
    assert_eq!(p1["totalCount"], 3);
    let p2 = app
        .gql_as(
            &admin.access,
            q,
            json!({ "f": 2, "after": p1["pageInfo"]["endCursor"] }),
        )
        .await["data"]["auditLog"]
        .clone();
    assert_eq!(p2["edges"][0]["node"]["after"]["reason"], "a", "{p2}");
    assert_eq!(p2["pageInfo"]["hasNextPage"], false);
    // By actor: the admin's three, none of the customer's.
    let mine = app
        .gql_as(&admin.access, q, json!({ "actor": admin.user_id }))
        .await;
    assert_eq!(mine["data"]["auditLog"]["totalCount"], 3, "{mine}");
    let none = app
        .gql_as(&admin.access, q, json!({ "actor": demo.user_id }))
        .await;
    assert_eq!(none["data"]["auditLog"]["edges"], json!([]), "{none}");
    // An actor id that is not a user's is refused.
    let stock = stock_id(&app, "KO").await;
    let wrong = app
        .gql_as(&admin.access, q, json!({ "actor": stock }))
        .await;
    assert_eq!(code(&wrong), Some("BAD_USER_INPUT"), "{wrong}");
}

const UPDATE_USER: &str = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id email name role active } userErrors { code field message } } }";

/// `updateUser` of the account `id` with `changes`.
async fn update_user(app: &TestApp, admin: &Session, id: &str, changes: Value) -> Value {
    let mut input = changes;
    input["id"] = json!(id);
    app.gql_as(&admin.access, UPDATE_USER, json!({ "i": input }))
        .await
}

#[tokio::test]
async fn admins_list_and_inspect_users() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let placed = app
        .gql_as(
            &demo.access,
            "mutation { placeOrder(input: { stock: { symbol: \"KO\" }, side: BUY, quantity: 2 }) { order { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert!(
        placed["data"]["placeOrder"]["order"]["id"].is_string(),
        "{placed}"
    );
    for i in 0..3 {
        app.register(
            &format!("zed{i}@example.com"),
            "long enough pw",
            &format!("Zed {i}"),
        )
        .await;
    }
    let q = "query($s: String, $r: Role, $f: Int, $a: String) { users(search: $s, role: $r, first: $f, after: $a) { totalCount edges { node { email role } } pageInfo { hasNextPage endCursor } } }";
    let zeds = app
        .gql_as(&admin.access, q, json!({ "s": "ZED", "f": 2 }))
        .await["data"]["users"]
        .clone();
    assert_eq!(zeds["edges"].as_array().unwrap().len(), 2, "{zeds}");
    assert_eq!(zeds["pageInfo"]["hasNextPage"], true);
    assert_eq!(zeds["totalCount"], 3);
    let rest = app
        .gql_as(
            &admin.access,
            q,
            json!({ "s": "zed", "f": 2, "a": zeds["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(rest["data"]["users"]["edges"].as_array().unwrap().len(), 1);
    let admins = app.gql_as(&admin.access, q, json!({ "r": "ADMIN" })).await;
    assert_eq!(
        admins["data"]["users"]["edges"],
        json!([{ "node": { "email": "admin@example.com", "role": "ADMIN" } }])
    );

    let one = app.gql_as(&admin.access, "query($id: ID!) { user(id: $id) { id email lastSeenAt cash { balance } portfolio { positions { quantity stock { symbol } } } orders { totalCount edges { node { status } } } trades { edges { node { quantity } } } cashTransactions { totalCount } } }", json!({ "id": demo.user_id })).await;
    let u = &one["data"]["user"];
    assert_eq!(u["email"], "demo@example.com", "{one}");
    assert_eq!(u["id"], demo.user_id.as_str());
    assert!(u["lastSeenAt"].is_string());
    assert!(u["cash"]["balance"].is_string());
    assert_eq!(u["portfolio"]["positions"][0]["stock"]["symbol"], "KO");
    assert_eq!(u["orders"]["totalCount"], 1);
    assert_eq!(u["trades"]["edges"][0]["node"]["quantity"], 2);
    assert!(u["cashTransactions"]["totalCount"].as_i64().unwrap() >= 1);
    // An unknown account is null, not an error.
    let missing_user = app
        .gql_as(
            &admin.access,
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": missing(Kind::User) }),
        )
        .await;
    assert!(missing_user["errors"].is_null(), "{missing_user}");
    assert_eq!(missing_user["data"]["user"], Value::Null);
    // A customer cannot look at anyone through these fields, themselves included.
    assert_eq!(
        code(
            &app.gql_as(
                &demo.access,
                "query($id: ID!) { user(id: $id) { id } }",
                json!({ "id": demo.user_id })
            )
            .await
        ),
        Some("FORBIDDEN")
    );
}

#[tokio::test]
async fn a_customer_reads_their_own_account_but_no_one_elses_and_never_last_seen() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let own = app
        .gql_as(
            &demo.access,
            "{ viewer { id cash { id balance } portfolio { id } orders { totalCount } trades { totalCount } cashTransactions { totalCount } } }",
            json!({}),
        )
        .await;
    assert!(own["errors"].is_null(), "{own}");
    let cash = app
        .gql_as(&demo.access, "{ cash { id balance } }", json!({}))
        .await;
    assert_eq!(own["data"]["viewer"]["cash"], cash["data"]["cash"], "{own}");
    let seen = app
        .gql_as(&demo.access, "{ me { lastSeenAt } }", json!({}))
        .await;
    assert_eq!(
        code(&seen),
        Some("FORBIDDEN"),
        "lastSeenAt is ADMIN only: {seen}"
    );

    // Another account is out of reach: its User is null through `node`, not an error.
    let r = app
        .gql_as(
            &demo.access,
            "query($id: ID!) { node(id: $id) { id ... on User { cash { balance } } } }",
            json!({ "id": admin.user_id }),
        )
        .await;
    assert_eq!(r["data"]["node"], Value::Null, "{r}");
    assert!(r["errors"].is_null(), "{r}");
}

#[tokio::test]
async fn an_admin_editing_themselves_updates_the_same_user_record() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ids = app
        .gql_as(&admin.access, "{ viewer { id } me { id } }", json!({}))
        .await;
    let r = update_user(&app, &admin, &admin.user_id, json!({ "name": "Chief" })).await;
    let user = &r["data"]["updateUser"]["user"];
    assert_eq!(user["name"], "Chief", "{r}");
    assert_eq!(user["id"], ids["data"]["viewer"]["id"], "{ids}");
    assert_eq!(user["id"], ids["data"]["me"]["id"]);
    let me = app
        .gql_as(&admin.access, "{ me { id name } }", json!({}))
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "id": user["id"], "name": "Chief" })
    );
}

#[tokio::test]
async fn an_admin_sees_each_users_own_cash() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let eve = app
        .register("eve@example.com", "long enough pw", "Eve")
        .await;
    let dep = app
        .gql_as(
            &eve.access,
            "mutation { deposit(input: { amount: \"123.45\" }) { cash { id balance } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(dep["data"]["deposit"]["cash"]["balance"], "123.45", "{dep}");
    let own = |token: String| {
        let app = &app;
        async move {
            app.gql_as(&token, "{ cash { id balance } }", json!({}))
                .await["data"]["cash"]
                .clone()
        }
    };
    let (demo_cash, eve_cash) = (
        own(demo.access.clone()).await,
        own(eve.access.clone()).await,
    );
    assert_ne!(demo_cash["id"], eve_cash["id"]);
    assert_ne!(demo_cash["balance"], eve_cash["balance"]);

    let listed = app
        .gql_as(
            &admin.access,
            "{ users(first: 100) { nodes { id cash { id balance } } } }",
            json!({}),
        )
        .await;
    let nodes = listed["data"]["users"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    let cash_of = |user: &str| {
        nodes
            .iter()
            .find(|n| n["id"] == user)
            .map(|n| n["cash"].clone())
            .unwrap_or_else(|| panic!("{user} not listed: {listed}"))
    };
    assert_eq!(cash_of(&demo.user_id), demo_cash);
    assert_eq!(cash_of(&eve.user_id), eve_cash);
    let ids: std::collections::HashSet<String> = nodes
        .iter()
        .map(|n| n["cash"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.len(),
        nodes.len(),
        "one Cash record per account: {listed}"
    );
}

#[tokio::test]
async fn a_deactivated_user_is_cut_off_everywhere() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let r = update_user(&app, &admin, &demo.user_id, json!({ "active": false })).await;
    assert_eq!(r["data"]["updateUser"]["user"]["active"], false, "{r}");
    assert_eq!(
        ws.closed_with().await,
        Some(4403),
        "the live subscription ends"
    );
    let login = app.gql("mutation { login(input: { email: \"demo@example.com\", password: \"demo123\" }) { accessToken } }", json!({})).await;
    assert_eq!(code(&login), Some("UNAUTHENTICATED"));
    let refresh = app
        .gql(
            "mutation($t: String!) { refreshToken(input: { token: $t }) { accessToken } }",
            json!({ "t": demo.refresh }),
        )
        .await;
    assert_eq!(code(&refresh), Some("UNAUTHENTICATED"));
    // The still-unexpired access token can no longer move money.
    let dep = app.gql_as(&demo.access, DEPOSIT, json!({})).await;
    assert_eq!(code(&dep), Some("UNAUTHENTICATED"));

    let rows = audit_rows(&app, &admin.access, "USER_UPDATE").await;
    assert_eq!(rows[0]["before"]["active"], true);
    assert_eq!(rows[0]["after"]["active"], false);
    // Reactivated, they can log in again.
    let back = update_user(&app, &admin, &demo.user_id, json!({ "active": true })).await;
    assert_eq!(back["data"]["updateUser"]["user"]["active"], true, "{back}");
    app.demo().await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_removed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for change in [json!({ "active": false }), json!({ "role": "CUSTOMER" })] {
        let r = update_user(&app, &admin, &admin.user_id, change).await;
        assert_eq!(user_error(&r, "updateUser"), Some("CONFLICT"), "{r}");
        assert!(r["data"]["updateUser"]["user"].is_null(), "{r}");
    }
    assert!(
        audit_rows(&app, &admin.access, "USER_UPDATE")
            .await
            .is_empty(),
        "refused changes are not audited"
    );
    // With a second admin, the first may step down.
    let other = app
        .register("second@example.com", "long enough pw", "Second")
        .await;
    let promoted = update_user(&app, &admin, &other.user_id, json!({ "role": "ADMIN" })).await;
    assert_eq!(
        promoted["data"]["updateUser"]["user"]["role"], "ADMIN",
        "{promoted}"
    );
    let down = update_user(&app, &admin, &admin.user_id, json!({ "role": "CUSTOMER" })).await;
    assert_eq!(
        down["data"]["updateUser"]["user"]["role"], "CUSTOMER",
        "{down}"
    );
    // Now the second one is the last.
    let second = app.login("second@example.com", "long enough pw").await;
    let r = update_user(&app, &second, &other.user_id, json!({ "active": false })).await;
    assert_eq!(user_error(&r, "updateUser"), Some("CONFLICT"), "{r}");
    // The demoted admin's old token no longer works at all; a new login is a customer's.
    assert_eq!(
        code(
            &app.gql_as(&admin.access, "{ adminStocks { id } }", json!({}))
                .await
        ),
        Some("UNAUTHENTICATED")
    );
    let again = app.admin().await;
    assert_eq!(
        code(
            &app.gql_as(&again.access, "{ adminStocks { id } }", json!({}))
                .await
        ),
        Some("FORBIDDEN")
    );
}

#[tokio::test]
async fn a_role_change_ends_the_sessions_that_carry_the_old_role() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let eve = app
        .register("eve@example.com", "long enough pw", "Eve")
        .await;
    let mut ws = app.ws_session(Some(&eve.access)).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let me = "{ me { role } }";
    let before = app.gql_as(&eve.access, me, json!({})).await;
    assert_eq!(before["data"]["me"]["role"], "CUSTOMER", "{before}");

    let promoted = update_user(&app, &admin, &eve.user_id, json!({ "role": "ADMIN" })).await;
    assert_eq!(
        promoted["data"]["updateUser"]["user"]["role"], "ADMIN",
        "{promoted}"
    );
    // The access token still unexpired, issued with the CUSTOMER role, is refused, on HTTP
    // and for a new socket; the open socket closes as after a deactivation (clients retry 4403
    // with a fresh token).
    let old = app.gql_as(&eve.access, me, json!({})).await;
    assert_eq!(code(&old), Some("UNAUTHENTICATED"), "{old}");
    assert_eq!(ws.closed_with().await, Some(4403), "the socket closes");
    let mut again = app.ws("graphql-transport-ws").await;
    again
        .send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", eve.access) } }))
        .await;
    assert_eq!(again.closed_with().await, Some(4403), "no new socket");
    // The refresh token still works, and its access token carries the new role.
    let refresh = app
        .gql(
            "mutation($t: String!) { refreshToken(input: { token: $t }) { accessToken } }",
            json!({ "t": eve.refresh }),
        )
        .await;
    let fresh = refresh["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{refresh}"))
        .to_string();
    let now = app.gql_as(&fresh, me, json!({})).await;
    assert_eq!(now["data"]["me"]["role"], "ADMIN", "{now}");
    let stocks = app
        .gql_as(&fresh, "{ adminStocks { id } }", json!({}))
        .await;
    assert!(stocks["errors"].is_null(), "{stocks}");
    // Other edits leave sessions alone.
    let renamed = update_user(&app, &admin, &eve.user_id, json!({ "name": "Eve E." })).await;
    assert_eq!(renamed["data"]["updateUser"]["user"]["name"], "Eve E.");
    let still = app.gql_as(&fresh, me, json!({})).await;
    assert_eq!(still["data"]["me"]["role"], "ADMIN", "{still}");
}

#[tokio::test]
async fn user_edits_are_validated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    for (input, expected, field) in [
        (
            json!({ "email": "nope" }),
            "BAD_USER_INPUT",
            json!(["input", "email"]),
        ),
        (
            json!({ "email": "ADMIN@example.com" }),
            "CONFLICT",
            Value::Null,
        ),
        (
            json!({ "name": "" }),
            "BAD_USER_INPUT",
            json!(["input", "name"]),
        ),
    ] {
        let r = update_user(&app, &admin, &demo.user_id, input).await;
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(user_error(&r, "updateUser"), Some(expected), "{r}");
        assert_eq!(error_field(&r, "updateUser"), field, "{r}");
        assert!(r["data"]["updateUser"]["user"].is_null(), "{r}");
    }
    // A role that does not exist is refused before any resolver runs.
    let r = update_user(&app, &admin, &demo.user_id, json!({ "role": "KING" })).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    let r = update_user(
        &app,
        &admin,
        &demo.user_id,
        json!({ "name": "Dana D.", "email": "Dana@Example.com" }),
    )
    .await;
    assert_eq!(
        r["data"]["updateUser"]["user"]["email"], "dana@example.com",
        "{r}"
    );
    assert_eq!(r["data"]["updateUser"]["userErrors"], json!([]));
    let unknown = update_user(&app, &admin, &missing(Kind::User), json!({ "name": "X" })).await;
    assert_eq!(
        user_error(&unknown, "updateUser"),
        Some("NOT_FOUND"),
        "{unknown}"
    );
    assert!(unknown["data"]["updateUser"]["user"].is_null());
    let stock = stock_id(&app, "KO").await;
    let wrong = update_user(
        &app,
        &admin,
        stock.as_str().unwrap(),
        json!({ "name": "X" }),
    )
    .await;
    assert_eq!(
        user_error(&wrong, "updateUser"),
        Some("BAD_USER_INPUT"),
        "{wrong}"
    );
    assert_eq!(error_field(&wrong, "updateUser"), json!(["input", "id"]));
}

#[tokio::test]
async fn password_resets_end_sessions_and_never_reach_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let reset = "mutation($i: ResetUserPasswordInput!) { resetUserPassword(input: $i) { temporaryPassword user { id email } userErrors { code field } } }";
    let short = app
        .gql_as(
            &admin.access,
            reset,
            json!({ "i": { "id": demo.user_id, "newPassword": "short" } }),
        )
        .await;
    assert_eq!(
        user_error(&short, "resetUserPassword"),
        Some("BAD_USER_INPUT"),
        "{short}"
    );
    assert_eq!(
        error_field(&short, "resetUserPassword"),
        json!(["input", "newPassword"])
    );
    assert!(short["data"]["resetUserPassword"]["user"].is_null());
    let unknown = app
        .gql_as(
            &admin.access,
            reset,
            json!({ "i": { "id": missing(Kind::User), "newPassword": "long enough pw" } }),
        )
        .await;
    assert_eq!(
        user_error(&unknown, "resetUserPassword"),
        Some("NOT_FOUND"),
        "{unknown}"
    );
    let set = app
        .gql_as(
            &admin.access,
            reset,
            json!({ "i": { "id": demo.user_id, "newPassword": "brand new secret" } }),
        )
        .await;
    assert_eq!(
        set["data"]["resetUserPassword"]["temporaryPassword"],
        Value::Null,
        "{set}"
    );
    assert_eq!(
        set["data"]["resetUserPassword"]["user"]["id"],
        demo.user_id.as_str()
    );
    let old = app.gql("mutation { login(input: { email: \"demo@example.com\", password: \"demo123\" }) { accessToken } }", json!({})).await;
    assert_eq!(code(&old), Some("UNAUTHENTICATED"));
    app.login("demo@example.com", "brand new secret").await;
    let refresh = app
        .gql(
            "mutation($t: String!) { refreshToken(input: { token: $t }) { accessToken } }",
            json!({ "t": demo.refresh }),
        )
        .await;
    assert_eq!(
        code(&refresh),
        Some("UNAUTHENTICATED"),
        "sessions from before the reset are over"
    );

    let generated = app
        .gql_as(&admin.access, reset, json!({ "i": { "id": demo.user_id } }))
        .await;
    let temp = generated["data"]["resetUserPassword"]["temporaryPassword"]
        .as_str()
        .unwrap_or_else(|| panic!("{generated}"))
        .to_string();
    assert_eq!(temp.len(), 16);
    app.login("demo@example.com", &temp).await;

    let log = app
        .gql_as(
            &admin.access,
            "{ auditLog { edges { node { action actionName before after } } } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(log.contains("USER_RESET_PASSWORD"), "{log}");
    for secret in ["brand new secret", temp.as_str(), "argon2"] {
        assert!(!log.contains(secret), "{secret} leaked into the audit log");
    }
}

#[tokio::test]
async fn admin_stats_count_users_orders_and_subscriptions() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let placed = app
        .gql_as(
            &demo.access,
            "mutation { placeOrder(input: { stock: { symbol: \"KO\" }, side: BUY, quantity: 3 }) { order { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert!(
        placed["data"]["placeOrder"]["order"]["id"].is_string(),
        "{placed}"
    );
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", "subscription { marketState { isOpen } }", json!({}))
        .await;
    ws.next_for("t").await;

    let q = "{ adminStats { id totalUsers activeUsers openSubscriptions openConnections ordersToday tradedValueToday queuedOrders } }";
    let s = app.gql_as(&admin.access, q, json!({})).await["data"]["adminStats"].clone();
    assert_eq!(s["totalUsers"], 2, "{s}");
    assert_eq!(s["activeUsers"], 2);
    assert_eq!(s["openSubscriptions"], 1);
    assert_eq!(s["openConnections"], 1);
    assert_eq!(s["ordersToday"], 1);
    assert_ne!(s["tradedValueToday"], "0.00");
    assert_eq!(s["queuedOrders"], 0);

    // The subscription pushes at once (admins only).
    let mut admin_ws = app.ws_session(Some(&admin.access)).await;
    admin_ws
        .subscribe(
            "s",
            "subscription { adminStats { id totalUsers openConnections } }",
            json!({}),
        )
        .await;
    let pushed = admin_ws.next_for("s").await;
    assert_eq!(
        pushed["payload"]["data"]["adminStats"]["totalUsers"], 2,
        "{pushed}"
    );
    assert_eq!(
        pushed["payload"]["data"]["adminStats"]["openConnections"],
        2
    );
    assert_eq!(
        pushed["payload"]["data"]["adminStats"]["id"], s["id"],
        "the query and the feed update one cache record"
    );
    let mut customer_ws = app.ws_session(Some(&demo.access)).await;
    customer_ws
        .subscribe("s", "subscription { adminStats { totalUsers } }", json!({}))
        .await;
    let refused = customer_ws.next_for("s").await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
}

#[tokio::test]
async fn candle_stats_report_counts_and_gaps() {
    // Wednesday 2026-11-25 before the open: 30 days of history, nothing live yet.
    let app = spawn_app_at(
        "2026-11-25T14:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        &[],
    )
    .await;
    let admin = app.admin().await;
    let q = "{ candleStats { stock { symbol } interval count firstBucket lastBucket gaps } }";
    let aapl_d1 = |body: &Value| {
        body["data"]["candleStats"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .find(|c| c["stock"]["symbol"] == "AAPL" && c["interval"] == "D1")
            .cloned()
            .unwrap()
    };
    app.eventually("backfill", || async {
        aapl_d1(&app.gql_as(&admin.access, q, json!({})).await)["count"] == 22
    })
    .await;
    let body = app.gql_as(&admin.access, q, json!({})).await;
    let d1 = aapl_d1(&body);
    assert_eq!(d1["firstBucket"], "2026-10-26T04:00:00Z");
    assert_eq!(d1["lastBucket"], "2026-11-24T05:00:00Z");
    assert_eq!(d1["gaps"], 0, "{d1}");
    assert!(
        body["data"]["candleStats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["gaps"] == 0),
        "{body}"
    );

    // Lose a day in the middle: one gap.
    use entity::candle_data;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let stock_id = app
        .gql(
            "{ stock(by: { symbol: \"AAPL\" }) { databaseId } }",
            json!({}),
        )
        .await["data"]["stock"]["databaseId"]
        .as_i64()
        .unwrap();
    candle_data::Entity::delete_many()
        .filter(candle_data::Column::StockId.eq(stock_id))
        .filter(candle_data::Column::Interval.eq("D1"))
        .filter(
            candle_data::Column::BucketStart
                .eq("2026-11-10T05:00:00Z".parse::<DateTime<Utc>>().unwrap()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let d1 = aapl_d1(&app.gql_as(&admin.access, q, json!({})).await);
    assert_eq!(
        (d1["count"].clone(), d1["gaps"].clone()),
        (json!(21), json!(1))
    );
}

#[tokio::test]
async fn admin_mutations_over_the_socket_are_audited_with_the_client_address() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut ws = app.ws_session(Some(&admin.access)).await;
    ws.subscribe(
        "m",
        "mutation { setMarketOverride(input: { open: false, reason: \"from a socket\" }) { marketState { isOpen } } }",
        json!({}),
    )
    .await;
    let msg = ws.next_for("m").await;
    assert_eq!(
        msg["payload"]["data"]["setMarketOverride"]["marketState"]["isOpen"], false,
        "{msg}"
    );
    let rows = audit_rows(&app, &admin.access, "MARKET_OVERRIDE_SET").await;
    assert_eq!(rows[0]["clientAddr"], "127.0.0.1");
    assert_eq!(rows[0]["after"]["reason"], "from a socket");
}

const DEPOSIT: &str =
    "mutation { deposit(input: { amount: \"1\" }) { cash { balance } userErrors { code } } }";

/// Whether a socket initialised with `token` is accepted.
async fn socket_accepted(app: &TestApp, token: &str) -> bool {
    let mut ws = app.ws("graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    ws.next()
        .await
        .is_some_and(|ack| ack["type"] == "connection_ack")
}

#[tokio::test]
async fn a_password_reset_ends_the_users_access_tokens_and_sockets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe(
        "o",
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let reset = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { resetUserPassword(input: { id: $id, newPassword: \"brand new secret\" }) { user { email } } }",
            json!({ "id": demo.user_id }),
        )
        .await;
    assert_eq!(
        reset["data"]["resetUserPassword"]["user"]["email"], "demo@example.com",
        "{reset}"
    );
    assert_eq!(ws.closed_with().await, Some(4401), "the open socket closes");
    let dep = app.gql_as(&demo.access, DEPOSIT, json!({})).await;
    assert_eq!(code(&dep), Some("UNAUTHENTICATED"), "{dep}");
    assert!(!socket_accepted(&app, &demo.access).await, "no new socket");
    // The admin's own session is untouched; the new password works.
    let me = app
        .gql_as(&admin.access, "{ me { email } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["email"], "admin@example.com", "{me}");
    let fresh = app.login("demo@example.com", "brand new secret").await;
    let dep = app.gql_as(&fresh.access, DEPOSIT, json!({})).await;
    assert!(
        dep["data"]["deposit"]["cash"]["balance"].is_string(),
        "{dep}"
    );
}

#[tokio::test]
async fn a_deactivated_users_token_reads_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let r = update_user(&app, &admin, &demo.user_id, json!({ "active": false })).await;
    assert_eq!(r["data"]["updateUser"]["user"]["active"], false, "{r}");
    for query in ["{ me { email } }", "{ portfolio { totalValue } }"] {
        let r = app.gql_as(&demo.access, query, json!({})).await;
        assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{query}: {r}");
    }
    assert!(!socket_accepted(&app, &demo.access).await, "no new socket");
    // Reactivation does not bring the old token back.
    let back = update_user(&app, &admin, &demo.user_id, json!({ "active": true })).await;
    assert_eq!(back["data"]["updateUser"]["user"]["active"], true, "{back}");
    let r = app
        .gql_as(&demo.access, "{ me { email } }", json!({}))
        .await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{r}");
}

#[tokio::test]
async fn the_command_line_market_override_is_audited_as_cli() {
    use zebrat::app::{MarketOverride, override_market};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let config = &app.services.config;
    let status = override_market(config, MarketOverride::Close(Some("fire drill".into())))
        .await
        .expect("override from the command line");
    assert!(!status.is_open && status.emergency);
    override_market(config, MarketOverride::Auto)
        .await
        .expect("override cleared from the command line");

    let set = audit_rows(&app, &admin.access, "MARKET_OVERRIDE_SET").await;
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0]["actorId"], "cli", "{set:?}");
    assert_eq!(set[0]["actor"], Value::Null, "no account acted");
    assert_eq!(set[0]["target"]["__typename"], "MarketState");
    assert_eq!(set[0]["after"]["open"], false);
    assert_eq!(set[0]["after"]["reason"], "fire drill");
    assert_eq!(set[0]["clientAddr"], Value::Null);
    let cleared = audit_rows(&app, &admin.access, "MARKET_OVERRIDE_CLEAR").await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0]["actorId"], "cli");
    assert_eq!(cleared[0]["before"]["open"], false);
}
