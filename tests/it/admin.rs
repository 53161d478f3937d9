//! The admin API: role checks, each mutation, its validation, and its audit row.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app, spawn_app_at};

const AUDIT: &str = "query($a: String) { auditLog(action: $a) { edges { node { actorId action targetType targetId before after clientAddr } } } }";

async fn audit_rows(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    let r = app.gql_as(token, AUDIT, json!({ "a": action })).await;
    r["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn every_admin_field_needs_the_admin_role() {
    let app = spawn_app().await;
    let customer = app.demo().await;
    let admin = app.admin().await;
    let operations = [
        "{ adminStocks { id } }",
        "{ auditLog { edges { cursor } } }",
        "mutation { createStock(input: { symbol: \"ZZZ\", name: \"Z\", initialPrice: \"1\" }) { id } }",
        "mutation { updateStock(id: \"1\", input: { name: \"X\" }) { id } }",
        "mutation { updateMarketHours(day: 0, input: { open: \"09:00\", close: \"17:00\", closed: false }) { day } }",
        "mutation { addHoliday(input: { date: \"2030-01-02\", name: \"X\" }) { id } }",
        "mutation { deleteHoliday(id: \"1\") { id } }",
        "mutation { setMarketOverride(open: false, reason: \"x\") { isOpen } }",
        "mutation { clearMarketOverride { isOpen } }",
        "{ users { edges { cursor } } }",
        "{ user(id: \"1\") { id } }",
        "{ adminStats { totalUsers } }",
        "{ candleStats { gaps } }",
        "mutation { updateUser(id: \"1\", input: { active: false }) { id } }",
        "mutation { resetUserPassword(id: \"1\", newPassword: \"hijacked!!\") { temporaryPassword } }",
    ];
    for op in operations {
        assert_eq!(
            code(&app.gql(op, json!({})).await),
            Some("UNAUTHENTICATED"),
            "{op}"
        );
        assert_eq!(
            code(&app.gql_as(&customer.access, op, json!({})).await),
            Some("FORBIDDEN"),
            "{op}"
        );
    }
    // Nothing the refused calls tried was done, and nothing was audited.
    assert!(
        audit_rows(&app, &admin.access, "stock.create")
            .await
            .is_empty()
    );
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
}

#[tokio::test]
async fn admins_create_stocks_with_history_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let create = "mutation($i: CreateStockInput!) { createStock(input: $i) { id symbol name price active } }";
    let r = app.gql_as(&admin.access, create, json!({ "i": { "symbol": "zbr.a", "name": "Zebrat Holdings", "initialPrice": "42.50", "volatility": 0.03 } })).await;
    let stock = r["data"]["createStock"].clone();
    assert_eq!(stock["symbol"], "ZBR.A", "{r}");
    assert_eq!(stock["price"], "42.50");
    // History is there when the mutation returns, ending at the initial price.
    let candles = app
        .gql(
            "query($id: ID!) { candles(stockId: $id, interval: D1) { close } }",
            json!({ "id": stock["id"] }),
        )
        .await;
    let days = candles["data"]["candles"].as_array().unwrap();
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

    let rows = audit_rows(&app, &admin.access, "stock.create").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["targetId"], stock["id"]);
    assert_eq!(rows[0]["after"]["stock"]["symbol"], "ZBR.A");
    assert_eq!(rows[0]["clientAddr"], "127.0.0.1");

    for (input, field) in [
        (
            json!({ "symbol": "ZBR.A", "name": "Dup", "initialPrice": "1" }),
            None,
        ),
        (
            json!({ "symbol": "TOO-LONG-SYMBOL", "name": "X", "initialPrice": "1" }),
            Some("symbol"),
        ),
        (
            json!({ "symbol": "OK", "name": " ", "initialPrice": "1" }),
            Some("name"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "0" }),
            Some("initialPrice"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "1.001" }),
            Some("initialPrice"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "1", "volatility": -1.0 }),
            Some("volatility"),
        ),
        (
            json!({ "symbol": "OK", "name": "X", "initialPrice": "1", "drift": 5.0 }),
            Some("drift"),
        ),
    ] {
        let r = app
            .gql_as(&admin.access, create, json!({ "i": input }))
            .await;
        match field {
            None => assert_eq!(code(&r), Some("CONFLICT"), "{r}"),
            Some(f) => {
                assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
                assert_eq!(r["errors"][0]["extensions"]["field"], f);
            }
        }
    }
    // Failed attempts leave no audit rows and no stocks.
    assert_eq!(
        audit_rows(&app, &admin.access, "stock.create").await.len(),
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
    let ko =
        app.gql("{ stock(symbol: \"KO\") { id } }", json!({})).await["data"]["stock"]["id"].clone();
    let place =
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status rejectReason } }";
    let cash = "{ cash { reserved } }";
    app.gql_as(
        &admin.access,
        "mutation { setMarketOverride(open: false, reason: \"night\") { isOpen } }",
        json!({}),
    )
    .await;
    app.eventually("closed", || async {
        app.gql_as(
            &demo.access,
            place,
            json!({ "i": { "stockId": ko, "side": "BUY", "quantity": 1 } }),
        )
        .await["data"]["placeOrder"]["status"]
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
        "subscription { orderUpdates { id status rejectReason } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let halt = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { updateStock(id: $id, input: { active: false }) { active } }",
            json!({ "id": ko }),
        )
        .await;
    assert_eq!(halt["data"]["updateStock"]["active"], false, "{halt}");
    let update = ws.next_for("o").await;
    assert_eq!(
        update["payload"]["data"]["orderUpdates"]["status"],
        "REJECTED"
    );
    assert_eq!(
        update["payload"]["data"]["orderUpdates"]["rejectReason"],
        "the stock was halted"
    );
    assert_eq!(
        app.gql_as(&demo.access, cash, json!({})).await["data"]["cash"]["reserved"],
        "0.00"
    );

    let refused = app
        .gql_as(
            &demo.access,
            place,
            json!({ "i": { "stockId": ko, "side": "BUY", "quantity": 1 } }),
        )
        .await;
    assert_eq!(code(&refused), Some("NOT_FOUND"));
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

    let rows = audit_rows(&app, &admin.access, "stock.update").await;
    assert_eq!(rows[0]["before"]["active"], true);
    assert_eq!(rows[0]["after"]["stock"]["active"], false);
    assert_eq!(rows[0]["after"]["rejectedOrders"], 1);
    let missing = app
        .gql_as(
            &admin.access,
            "mutation { updateStock(id: \"99999\", input: { active: false }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&missing), Some("NOT_FOUND"));
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
            "mutation { clearMarketOverride { isOpen emergency } }",
            json!({}),
        )
        .await;
    assert_eq!(
        clear["data"]["clearMarketOverride"],
        json!({ "isOpen": true, "emergency": false }),
        "{clear}"
    );

    // A holiday added for today closes the market at once, and subscribers hear of it.
    let add = app.gql_as(&admin.access, "mutation { addHoliday(input: { date: \"2026-11-25\", name: \"Zebra Day\" }) { id date name } }", json!({})).await;
    let holiday = add["data"]["addHoliday"].clone();
    assert_eq!(holiday["name"], "Zebra Day", "{add}");
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["reason"] != "closed: holiday" {
        msg = ws.next_for("m").await;
    }
    assert_eq!(msg["payload"]["data"]["marketState"]["isOpen"], false);
    let dup = app
        .gql_as(
            &admin.access,
            "mutation { addHoliday(input: { date: \"2026-11-25\", name: \"Again\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&dup), Some("CONFLICT"));
    let bad = app
        .gql_as(
            &admin.access,
            "mutation { addHoliday(input: { date: \"2026-13-40\", name: \"X\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));

    let del = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { deleteHoliday(id: $id) { id } }",
            json!({ "id": holiday["id"] }),
        )
        .await;
    assert_eq!(del["data"]["deleteHoliday"]["id"], holiday["id"], "{del}");
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["isOpen"] != true {
        msg = ws.next_for("m").await;
    }
    let again = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { deleteHoliday(id: $id) { id } }",
            json!({ "id": holiday["id"] }),
        )
        .await;
    assert_eq!(code(&again), Some("NOT_FOUND"));

    // Wednesday's hours end at 10:30 now: it is 10:00, so still open until then.
    let hours = "mutation($d: Int!, $i: MarketHoursInput!) { updateMarketHours(day: $d, input: $i) { day open close closed } }";
    let r = app
        .gql_as(
            &admin.access,
            hours,
            json!({ "d": 2, "i": { "open": "09:30", "close": "09:45", "closed": false } }),
        )
        .await;
    assert_eq!(
        r["data"]["updateMarketHours"],
        json!({ "day": 2, "open": "09:30", "close": "09:45", "closed": false }),
        "{r}"
    );
    let mut msg = ws.next_for("m").await;
    while msg["payload"]["data"]["marketState"]["isOpen"] != false {
        msg = ws.next_for("m").await;
    }
    for (vars, field) in [
        (
            json!({ "d": 7, "i": { "open": "09:30", "close": "16:00", "closed": false } }),
            "day",
        ),
        (
            json!({ "d": 1, "i": { "open": "9.30", "close": "16:00", "closed": false } }),
            "open",
        ),
        (
            json!({ "d": 1, "i": { "open": "16:00", "close": "09:30", "closed": false } }),
            "close",
        ),
    ] {
        let r = app.gql_as(&admin.access, hours, vars).await;
        assert_eq!(r["errors"][0]["extensions"]["field"], field, "{r}");
    }

    // The override forces the state and clears explicitly.
    let set = app.gql_as(&admin.access, "mutation { setMarketOverride(open: true, reason: \"extended session\") { isOpen emergency reason } }", json!({})).await;
    assert_eq!(
        set["data"]["setMarketOverride"],
        json!({ "isOpen": true, "emergency": true, "reason": "extended session" })
    );

    // Every successful change is audited once, in order; the failed ones are not.
    let rows = audit_rows(&app, &admin.access, "market.holiday.add").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["after"],
        json!({ "date": "2026-11-25", "name": "Zebra Day" })
    );
    assert_eq!(
        audit_rows(&app, &admin.access, "market.holiday.delete")
            .await
            .len(),
        1
    );
    let hours_rows = audit_rows(&app, &admin.access, "market.hours.update").await;
    assert_eq!(hours_rows.len(), 1);
    assert_eq!(hours_rows[0]["before"]["close"], "16:00");
    assert_eq!(hours_rows[0]["after"]["close"], "09:45");
    assert_eq!(
        audit_rows(&app, &admin.access, "market.override.set").await[0]["after"]["reason"],
        "extended session"
    );
    assert_eq!(
        audit_rows(&app, &admin.access, "market.override.clear")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn the_audit_log_pages_and_filters() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for reason in ["a", "b", "c"] {
        app.gql_as(
            &admin.access,
            "mutation($r: String) { setMarketOverride(open: true, reason: $r) { isOpen } }",
            json!({ "r": reason }),
        )
        .await;
    }
    let q = "query($f: Int, $after: String, $actor: ID) { auditLog(first: $f, after: $after, actorId: $actor) { edges { cursor node { action after } } pageInfo { hasNextPage endCursor } } }";
    let p1 = app.gql_as(&admin.access, q, json!({ "f": 2 })).await["data"]["auditLog"].clone();
    assert_eq!(p1["edges"][0]["node"]["after"]["reason"], "c");
    assert_eq!(p1["pageInfo"]["hasNextPage"], true);
    let p2 = app
        .gql_as(
            &admin.access,
            q,
            json!({ "f": 2, "after": p1["pageInfo"]["endCursor"] }),
        )
        .await["data"]["auditLog"]
        .clone();
    assert_eq!(p2["edges"][0]["node"]["after"]["reason"], "a");
    let none = app
        .gql_as(&admin.access, q, json!({ "actor": "999" }))
        .await;
    assert_eq!(none["data"]["auditLog"]["edges"], json!([]));
}

const UPDATE_USER: &str = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id email name role active } }";

#[tokio::test]
async fn admins_list_and_inspect_users() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let ko =
        app.gql("{ stock(symbol: \"KO\") { id } }", json!({})).await["data"]["stock"]["id"].clone();
    app.gql_as(
        &demo.access,
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        json!({ "i": { "stockId": ko, "side": "BUY", "quantity": 2 } }),
    )
    .await;
    for i in 0..3 {
        app.register(
            &format!("zed{i}@example.com"),
            "long enough pw",
            &format!("Zed {i}"),
        )
        .await;
    }
    let q = "query($s: String, $r: Role, $f: Int, $a: String) { users(search: $s, role: $r, first: $f, after: $a) { edges { node { email role } } pageInfo { hasNextPage endCursor } } }";
    let zeds = app
        .gql_as(&admin.access, q, json!({ "s": "ZED", "f": 2 }))
        .await["data"]["users"]
        .clone();
    assert_eq!(zeds["edges"].as_array().unwrap().len(), 2, "{zeds}");
    assert_eq!(zeds["pageInfo"]["hasNextPage"], true);
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

    let one = app.gql_as(&admin.access, "query($id: ID!) { user(id: $id) { email lastSeenAt cash { balance } portfolio { positions { quantity stock { symbol } } } orders { edges { node { status } } } trades { edges { node { quantity } } } } }", json!({ "id": demo.user_id })).await;
    let u = &one["data"]["user"];
    assert_eq!(u["email"], "demo@example.com", "{one}");
    assert!(u["lastSeenAt"].is_string());
    assert_eq!(u["portfolio"]["positions"][0]["stock"]["symbol"], "KO");
    assert_eq!(u["orders"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(u["trades"]["edges"][0]["node"]["quantity"], 2);
    let missing = app
        .gql_as(&admin.access, "{ user(id: \"99999\") { id } }", json!({}))
        .await;
    assert_eq!(code(&missing), Some("NOT_FOUND"));
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
async fn a_deactivated_user_is_cut_off_everywhere() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe("o", "subscription { orderUpdates { id } }", json!({}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let r = app
        .gql_as(
            &admin.access,
            UPDATE_USER,
            json!({ "id": demo.user_id, "i": { "active": false } }),
        )
        .await;
    assert_eq!(r["data"]["updateUser"]["active"], false, "{r}");
    assert_eq!(
        ws.closed_with().await,
        Some(4403),
        "the live subscription ends"
    );
    let login = app.gql("mutation { login(input: { email: \"demo@example.com\", password: \"demo123\" }) { accessToken } }", json!({})).await;
    assert_eq!(code(&login), Some("UNAUTHENTICATED"));
    let refresh = app
        .gql(
            "mutation($t: String!) { refreshToken(token: $t) { accessToken } }",
            json!({ "t": demo.refresh }),
        )
        .await;
    assert_eq!(code(&refresh), Some("UNAUTHENTICATED"));
    // The still-unexpired access token can no longer move money.
    let dep = app
        .gql_as(
            &demo.access,
            "mutation { deposit(amount: \"1\") { balance } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&dep), Some("UNAUTHENTICATED"));

    let rows = audit_rows(&app, &admin.access, "user.update").await;
    assert_eq!(rows[0]["before"]["active"], true);
    assert_eq!(rows[0]["after"]["active"], false);
    // Reactivated, they can log in again.
    app.gql_as(
        &admin.access,
        UPDATE_USER,
        json!({ "id": demo.user_id, "i": { "active": true } }),
    )
    .await;
    app.demo().await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_removed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for change in [json!({ "active": false }), json!({ "role": "CUSTOMER" })] {
        let r = app
            .gql_as(
                &admin.access,
                UPDATE_USER,
                json!({ "id": admin.user_id, "i": change }),
            )
            .await;
        assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    }
    assert!(
        audit_rows(&app, &admin.access, "user.update")
            .await
            .is_empty(),
        "refused changes are not audited"
    );
    // With a second admin, the first may step down.
    let other = app
        .register("second@example.com", "long enough pw", "Second")
        .await;
    let promoted = app
        .gql_as(
            &admin.access,
            UPDATE_USER,
            json!({ "id": other.user_id, "i": { "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(
        promoted["data"]["updateUser"]["role"], "ADMIN",
        "{promoted}"
    );
    let down = app
        .gql_as(
            &admin.access,
            UPDATE_USER,
            json!({ "id": admin.user_id, "i": { "role": "CUSTOMER" } }),
        )
        .await;
    assert_eq!(down["data"]["updateUser"]["role"], "CUSTOMER", "{down}");
    // Now the second one is the last.
    let second = app.login("second@example.com", "long enough pw").await;
    let r = app
        .gql_as(
            &second.access,
            UPDATE_USER,
            json!({ "id": other.user_id, "i": { "active": false } }),
        )
        .await;
    assert_eq!(code(&r), Some("CONFLICT"));
    // The demoted admin's old token no longer carries admin power.
    assert_eq!(
        code(
            &app.gql_as(&admin.access, "{ adminStocks { id } }", json!({}))
                .await
        ),
        Some("FORBIDDEN")
    );
}

#[tokio::test]
async fn user_edits_are_validated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    for (input, expected) in [
        (json!({ "email": "nope" }), "BAD_USER_INPUT"),
        (json!({ "email": "ADMIN@example.com" }), "CONFLICT"),
        (json!({ "name": "" }), "BAD_USER_INPUT"),
        (json!({ "role": "KING" }), "BAD_USER_INPUT"),
    ] {
        let r = app
            .gql_as(
                &admin.access,
                UPDATE_USER,
                json!({ "id": demo.user_id, "i": input }),
            )
            .await;
        assert_eq!(code(&r), Some(expected), "{r}");
    }
    let r = app
        .gql_as(
            &admin.access,
            UPDATE_USER,
            json!({ "id": demo.user_id, "i": { "name": "Dana D.", "email": "Dana@Example.com" } }),
        )
        .await;
    assert_eq!(r["data"]["updateUser"]["email"], "dana@example.com", "{r}");
    assert_eq!(
        code(
            &app.gql_as(
                &admin.access,
                UPDATE_USER,
                json!({ "id": "99999", "i": { "name": "X" } })
            )
            .await
        ),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn password_resets_end_sessions_and_never_reach_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let reset = "mutation($id: ID!, $p: String) { resetUserPassword(id: $id, newPassword: $p) { temporaryPassword user { email } } }";
    let short = app
        .gql_as(
            &admin.access,
            reset,
            json!({ "id": demo.user_id, "p": "short" }),
        )
        .await;
    assert_eq!(code(&short), Some("BAD_USER_INPUT"));
    let set = app
        .gql_as(
            &admin.access,
            reset,
            json!({ "id": demo.user_id, "p": "brand new secret" }),
        )
        .await;
    assert_eq!(
        set["data"]["resetUserPassword"]["temporaryPassword"],
        Value::Null,
        "{set}"
    );
    let old = app.gql("mutation { login(input: { email: \"demo@example.com\", password: \"demo123\" }) { accessToken } }", json!({})).await;
    assert_eq!(code(&old), Some("UNAUTHENTICATED"));
    app.login("demo@example.com", "brand new secret").await;
    let refresh = app
        .gql(
            "mutation($t: String!) { refreshToken(token: $t) { accessToken } }",
            json!({ "t": demo.refresh }),
        )
        .await;
    assert_eq!(
        code(&refresh),
        Some("UNAUTHENTICATED"),
        "sessions from before the reset are over"
    );

    let generated = app
        .gql_as(&admin.access, reset, json!({ "id": demo.user_id }))
        .await;
    let temp = generated["data"]["resetUserPassword"]["temporaryPassword"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(temp.len(), 16);
    app.login("demo@example.com", &temp).await;

    let log = app
        .gql_as(
            &admin.access,
            "{ auditLog { edges { node { action before after } } } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(log.contains("user.reset_password"));
    for secret in ["brand new secret", temp.as_str(), "argon2"] {
        assert!(!log.contains(secret), "{secret} leaked into the audit log");
    }
}

#[tokio::test]
async fn admin_stats_count_users_orders_and_subscriptions() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let ko =
        app.gql("{ stock(symbol: \"KO\") { id } }", json!({})).await["data"]["stock"]["id"].clone();
    app.gql_as(
        &demo.access,
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        json!({ "i": { "stockId": ko, "side": "BUY", "quantity": 3 } }),
    )
    .await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", "subscription { marketState { isOpen } }", json!({}))
        .await;
    ws.next_for("t").await;

    let q = "{ adminStats { totalUsers activeUsers openSubscriptions openConnections ordersToday tradedValueToday queuedOrders } }";
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
            "subscription { adminStats { totalUsers openConnections } }",
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
    assert_eq!(d1["firstBucket"], "2026-10-26T04:00:00+00:00");
    assert_eq!(d1["lastBucket"], "2026-11-24T05:00:00+00:00");
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
    let stock_id: i64 = app
        .gql("{ stock(symbol: \"AAPL\") { id } }", json!({}))
        .await["data"]["stock"]["id"]
        .as_str()
        .unwrap()
        .parse()
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
        "mutation { setMarketOverride(open: false, reason: \"from a socket\") { isOpen } }",
        json!({}),
    )
    .await;
    let msg = ws.next_for("m").await;
    assert_eq!(
        msg["payload"]["data"]["setMarketOverride"]["isOpen"], false,
        "{msg}"
    );
    let rows = audit_rows(&app, &admin.access, "market.override.set").await;
    assert_eq!(rows[0]["clientAddr"], "127.0.0.1");
    assert_eq!(rows[0]["after"]["reason"], "from a socket");
}

const DEPOSIT: &str = "mutation { deposit(amount: \"1\") { balance } }";

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
    ws.subscribe("o", "subscription { orderUpdates { id } }", json!({}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let reset = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { resetUserPassword(id: $id, newPassword: \"brand new secret\") { user { email } } }",
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
    assert!(dep["data"]["deposit"]["balance"].is_string(), "{dep}");
}

#[tokio::test]
async fn a_deactivated_users_token_reads_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let r = app
        .gql_as(
            &admin.access,
            UPDATE_USER,
            json!({ "id": demo.user_id, "i": { "active": false } }),
        )
        .await;
    assert_eq!(r["data"]["updateUser"]["active"], false, "{r}");
    for query in ["{ me { email } }", "{ portfolio { totalValue } }"] {
        let r = app.gql_as(&demo.access, query, json!({})).await;
        assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{query}: {r}");
    }
    assert!(!socket_accepted(&app, &demo.access).await, "no new socket");
    // Reactivation does not bring the old token back.
    app.gql_as(
        &admin.access,
        UPDATE_USER,
        json!({ "id": demo.user_id, "i": { "active": true } }),
    )
    .await;
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

    let set = audit_rows(&app, &admin.access, "market.override.set").await;
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0]["actorId"], "cli", "{set:?}");
    assert_eq!(set[0]["after"]["open"], false);
    assert_eq!(set[0]["after"]["reason"], "fire drill");
    assert_eq!(set[0]["clientAddr"], Value::Null);
    let cleared = audit_rows(&app, &admin.access, "market.override.clear").await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0]["actorId"], "cli");
    assert_eq!(cleared[0]["before"]["open"], false);
}
