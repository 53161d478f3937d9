//! Equity history and the leaderboard: what the engine records, what `portfolioHistory`
//! answers from it (profit and return net of deposits), the ranking, `updateMe`, and the live
//! feeds. The recording is the engine's own step called at instants the test picks on the
//! manual clock; the last test runs the real engine through a trading day.

// Cents written as dollars_cents (1000_00 is 1,000.00).
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{DateTime, Duration, Utc};
use entity::equity_snapshots;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use zebrat::{
    clock::Clock,
    domain::{
        equity::{Grain, Period},
        market,
    },
    infra::lease::Fence,
};

use crate::{
    helpers::{Session, TestApp, code, spawn_app_at, spawn_app_with},
    trading::{customer, set_price, stock},
};

const HISTORY: &str = "query($p: HistoryPeriod!, $i: HistoryInterval) { \
    portfolioHistory(period: $p, interval: $i) { period interval baseValue baseAt \
    points { at equity cash positionsValue profitLoss profitLossPercent live } } }";
const LEADERBOARD: &str = "query($p: HistoryPeriod!, $first: Int, $after: String) { \
    leaderboard(period: $p, first: $first, after: $after) { period asOf totalCount \
    nodes { rank name returnPercent equity isViewer } \
    pageInfo { hasNextPage hasPreviousPage endCursor } } }";
const UPDATE_ME: &str = "mutation($i: UpdateMeInput!) { updateMe(input: $i) { \
    user { leaderboardName } userErrors { code field message } } }";
const DEPOSIT: &str = "mutation($i: CashInput!) { deposit(input: $i) { cash { balance } } }";

/// An app without an engine, the market applied open, AAPL at 100.00.
async fn scripted() -> (TestApp, String, i64) {
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    market::record_applied(&app.db, true, app.clock.now())
        .await
        .unwrap();
    let (aapl, row) = stock(&app, "AAPL").await;
    set_price(&app, row, "100.00").await;
    (app, aapl, row)
}

async fn buy(app: &TestApp, s: &Session, stock: &str, quantity: i64) {
    let r = app
        .gql_as(
            &s.access,
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { status } \
             userErrors { message } } }",
            json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": quantity } }),
        )
        .await;
    assert_eq!(
        r["data"]["placeOrder"]["order"]["status"], "EXECUTED",
        "{r}"
    );
}

async fn deposit(app: &TestApp, s: &Session, amount: &str) {
    let r = app
        .gql_as(&s.access, DEPOSIT, json!({ "i": { "amount": amount } }))
        .await;
    assert!(r["data"]["deposit"]["cash"]["balance"].is_string(), "{r}");
}

/// The engine's step: every account's value recorded now.
async fn record(app: &TestApp, grain: Grain) -> DateTime<Utc> {
    let at = app.clock.now();
    app.services
        .equity
        .record(&Fence::Solo, at, grain)
        .await
        .unwrap();
    at
}

async fn history(app: &TestApp, s: &Session, period: &str, interval: Value) -> Value {
    let r = app
        .gql_as(&s.access, HISTORY, json!({ "p": period, "i": interval }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"]["portfolioHistory"].clone()
}

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a date-time: {v}"))
}

async fn opt_in(app: &TestApp, s: &Session, name: &str) -> Value {
    app.gql_as(
        &s.access,
        UPDATE_ME,
        json!({ "i": { "leaderboardName": name } }),
    )
    .await["data"]["updateMe"]
        .clone()
}

#[tokio::test]
async fn history_points_carry_profit_and_return_net_of_deposits() {
    let (app, aapl, row) = scripted().await;
    let s = customer(&app, "hist", "10000.00").await;
    buy(&app, &s, &aapl, 50).await; // 5,000 in AAPL at 100, 5,000 cash
    app.clock.advance(Duration::minutes(5));
    let first = record(&app, Grain::M5).await;

    // AAPL +10 %: 5,500 in shares.
    set_price(&app, row, "110.00").await;
    app.clock.advance(Duration::minutes(5));
    let second = record(&app, Grain::H1).await;
    // A deposit is not a gain: profit stays 500.
    app.clock.advance(Duration::seconds(1));
    deposit(&app, &s, "10000.00").await;
    app.clock.advance(Duration::minutes(5));
    record(&app, Grain::M5).await;

    let s = app.login("hist@example.com", "long enough pw").await;
    let h = history(&app, &s, "DAY", Value::Null).await;
    assert_eq!(
        (h["period"].as_str(), h["interval"].as_str()),
        (Some("DAY"), Some("M5"))
    );
    // No value recorded before the day began: measured from nothing at the account's creation.
    assert_eq!(h["baseValue"], "0.00");
    let points = h["points"].as_array().unwrap();
    assert_eq!(points.len(), 4, "three recorded and the live one: {h}");
    assert_eq!(ts(&points[0]["at"]), first);
    assert_eq!(
        (
            &points[0]["equity"],
            &points[0]["cash"],
            &points[0]["positionsValue"]
        ),
        (&json!("10000.00"), &json!("5000.00"), &json!("5000.00"))
    );
    assert_eq!(
        (&points[0]["profitLoss"], &points[0]["profitLossPercent"]),
        (&json!("0.00"), &json!("0.0000"))
    );
    assert_eq!(
        (&points[1]["equity"], &points[1]["profitLoss"]),
        (&json!("10500.00"), &json!("500.00"))
    );
    // 500 on the 10,000 deposited at the start: 5 %.
    assert_eq!(points[1]["profitLossPercent"], "5.0000");
    assert_eq!(
        (&points[2]["equity"], &points[2]["profitLoss"]),
        (&json!("20500.00"), &json!("500.00"))
    );
    let live = &points[3];
    assert_eq!(
        (&live["live"], &live["equity"], &live["profitLoss"]),
        (&json!(true), &json!("20500.00"), &json!("500.00"))
    );
    assert!(points[..3].iter().all(|p| p["live"] == false));
    // The late deposit weighs less than the first: the return is under 5 % but above 2.5 %.
    let pct: f64 = points[2]["profitLossPercent"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(pct > 2.5 && pct < 5.0, "{pct}");

    // Hourly points only: the one recorded at H1 (and the live value).
    let h = history(&app, &s, "WEEK", json!("H1")).await;
    let ats: Vec<&Value> = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["at"])
        .collect();
    assert_eq!(ats.len(), 2, "{h}");
    assert_eq!(ts(ats[0]), second);

    // A day later the base is the last value recorded before the day began.
    app.clock.advance(Duration::days(1));
    let s = app.login("hist@example.com", "long enough pw").await;
    let h = history(&app, &s, "DAY", Value::Null).await;
    assert_eq!(h["baseValue"], "20500.00", "{h}");
    assert_eq!(
        h["points"].as_array().unwrap().len(),
        1,
        "only the live value: {h}"
    );
    assert_eq!(h["points"][0]["profitLoss"], "0.00");
}

#[tokio::test]
async fn an_interval_finer_than_what_is_kept_is_refused_and_history_needs_a_login() {
    let (app, _, _) = scripted().await;
    let s = customer(&app, "fine", "100.00").await;
    for (period, interval) in [("MONTH", "M5"), ("YEAR", "H1"), ("ALL", "M5")] {
        let r = app
            .gql_as(&s.access, HISTORY, json!({ "p": period, "i": interval }))
            .await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{period} {interval}: {r}");
        assert!(
            r["errors"][0]["message"].as_str().unwrap().contains("kept"),
            "{r}"
        );
    }
    let h = history(&app, &s, "ALL", json!("D1")).await;
    assert_eq!(h["points"].as_array().unwrap().len(), 1);
    let r = app.gql(HISTORY, json!({ "p": "DAY" })).await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{r}");
}

#[tokio::test]
async fn an_instant_is_recorded_once_and_a_late_close_leaves_out_later_deposits() {
    let (app, _, _) = scripted().await;
    customer(&app, "late", "1000.00").await;
    app.clock.advance(Duration::minutes(1));
    let close = app.clock.now();
    app.clock.advance(Duration::hours(3));
    let s = app.login("late@example.com", "long enough pw").await;
    deposit(&app, &s, "500.00").await;
    // Recorded hours after the instant (the engine was down at the close): the deposit
    // made since is not in it.
    let equity = &app.services.equity;
    let written = equity.record(&Fence::Solo, close, Grain::D1).await.unwrap();
    assert!(written >= 1);
    let again = equity.record(&Fence::Solo, close, Grain::D1).await.unwrap();
    assert_eq!(again, 0, "an instant already recorded stays as it was");
    let row = equity_snapshots::Entity::find()
        .filter(equity_snapshots::Column::UserId.eq(s.db_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.at, row.cash_cents, row.grain), (close, 1000_00, 2));
    let rows = equity_snapshots::Entity::find()
        .filter(equity_snapshots::Column::UserId.eq(s.db_id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    // Five-minute rows go after 8 days, closes stay.
    app.clock.advance(Duration::minutes(1));
    record(&app, Grain::M5).await;
    app.clock.advance(Duration::days(9));
    assert!(equity.prune(&Fence::Solo).await.unwrap() >= 1);
    let left: Vec<i16> = equity_snapshots::Entity::find()
        .filter(equity_snapshots::Column::UserId.eq(s.db_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.grain)
        .collect();
    assert_eq!(left, vec![2]);
}

#[tokio::test]
async fn the_leaderboard_ranks_players_by_return_and_never_by_deposits() {
    let (app, aapl, row) = scripted().await;
    let winner = customer(&app, "winner", "10000.00").await;
    let saver = customer(&app, "saver", "100000.00").await;
    let loser = customer(&app, "loser", "10000.00").await;
    let hidden = customer(&app, "hidden", "10000.00").await;
    buy(&app, &winner, &aapl, 100).await;
    buy(&app, &hidden, &aapl, 100).await;
    app.clock.advance(Duration::minutes(5));
    record(&app, Grain::M5).await;
    // Before anyone opts in: nobody is ranked.
    let r = app.gql(LEADERBOARD, json!({ "p": "DAY" })).await;
    assert_eq!(r["data"]["leaderboard"]["totalCount"], 0, "{r}");

    for (s, name) in [(&winner, "Winner"), (&saver, "Saver_1"), (&loser, "Lo.ser")] {
        let p = opt_in(&app, s, name).await;
        assert_eq!(p["user"]["leaderboardName"], name, "{p}");
    }
    set_price(&app, row, "120.00").await; // winner +2,000 on 10,000: 20 %
    // The loser deposits 50,000 more and withdraws nothing: still 0 %, not 500 %.
    deposit(&app, &loser, "50000.00").await;
    app.clock.advance(Duration::minutes(5));
    let as_of = record(&app, Grain::M5).await;

    let r = app
        .gql_as(&saver.access, LEADERBOARD, json!({ "p": "DAY" }))
        .await;
    let board = &r["data"]["leaderboard"];
    assert_eq!(ts(&board["asOf"]), as_of, "{r}");
    assert_eq!(
        board["totalCount"], 3,
        "the player who did not opt in is not ranked: {r}"
    );
    let nodes = board["nodes"].as_array().unwrap();
    let ranked: Vec<(&Value, &Value, &Value, &Value)> = nodes
        .iter()
        .map(|n| (&n["rank"], &n["name"], &n["returnPercent"], &n["isViewer"]))
        .collect();
    assert_eq!(
        ranked,
        vec![
            (
                &json!(1),
                &json!("Winner"),
                &json!("20.0000"),
                &json!(false)
            ),
            // Ties at 0 % rank by value: the saver's 100,000 before the loser's 60,000.
            (&json!(2), &json!("Saver_1"), &json!("0.0000"), &json!(true)),
            (&json!(3), &json!("Lo.ser"), &json!("0.0000"), &json!(false)),
        ]
    );
    assert_eq!(nodes[0]["equity"], "12000.00");

    // Paging: one at a time, by cursor.
    let r = app
        .gql(LEADERBOARD, json!({ "p": "DAY", "first": 1 }))
        .await;
    let page = &r["data"]["leaderboard"];
    assert_eq!(
        (&page["nodes"][0]["rank"], &page["pageInfo"]["hasNextPage"]),
        (&json!(1), &json!(true))
    );
    let after = page["pageInfo"]["endCursor"].clone();
    let r = app
        .gql(
            LEADERBOARD,
            json!({ "p": "DAY", "first": 2, "after": after }),
        )
        .await;
    let page = &r["data"]["leaderboard"];
    let ranks: Vec<&Value> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["rank"])
        .collect();
    assert_eq!(ranks, vec![&json!(2), &json!(3)], "{r}");
    assert_eq!(
        (
            &page["pageInfo"]["hasNextPage"],
            &page["pageInfo"]["hasPreviousPage"]
        ),
        (&json!(false), &json!(true))
    );
    for bad in [
        json!({ "p": "DAY", "after": "nonsense" }),
        json!({ "p": "DAY", "first": 0 }),
    ] {
        let r = app.gql(LEADERBOARD, bad).await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    }

    // Leaving the leaderboard takes the player off it.
    let p = app
        .gql_as(
            &winner.access,
            UPDATE_ME,
            json!({ "i": { "leaderboardName": null } }),
        )
        .await;
    assert_eq!(
        p["data"]["updateMe"]["user"]["leaderboardName"],
        Value::Null,
        "{p}"
    );
    let r = app.gql(LEADERBOARD, json!({ "p": "DAY" })).await;
    assert_eq!(
        r["data"]["leaderboard"]["nodes"][0]["name"], "Saver_1",
        "{r}"
    );
    drop(hidden);
}

#[tokio::test]
async fn leaderboard_names_are_checked_and_look_alikes_refused() {
    let (app, _, _) = scripted().await;
    let a = customer(&app, "namea", "10.00").await;
    let b = customer(&app, "nameb", "10.00").await;
    assert_eq!(
        opt_in(&app, &a, "  Trader  ").await["user"]["leaderboardName"],
        "Trader"
    );
    for (name, code) in [
        ("ab", "BAD_USER_INPUT"),
        ("x".repeat(25).as_str(), "BAD_USER_INPUT"),
        ("semi;colon", "BAD_USER_INPUT"),
        ("zero\u{200B}width", "BAD_USER_INPUT"),
        // A Cyrillic "а", and a different case: both look like "Trader".
        ("Tr\u{0430}der", "CONFLICT"),
        ("trader", "CONFLICT"),
    ] {
        let p = opt_in(&app, &b, name).await;
        assert_eq!(p["userErrors"][0]["code"], code, "{name:?}: {p}");
        assert_eq!(
            p["userErrors"][0]["field"],
            json!(["input", "leaderboardName"]),
            "{p}"
        );
        assert_eq!(p["user"], Value::Null);
    }
    // Nothing was half-written: b is still off the board, a still on it.
    let me = app
        .gql_as(&b.access, "{ me { leaderboardName } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["leaderboardName"], Value::Null, "{me}");
    // A name freed is free again; an omitted field changes nothing.
    opt_in(&app, &a, "").await;
    assert_eq!(
        opt_in(&app, &b, "trader").await["user"]["leaderboardName"],
        "trader"
    );
    let p = app.gql_as(&b.access, UPDATE_ME, json!({ "i": {} })).await;
    assert_eq!(
        p["data"]["updateMe"]["user"]["leaderboardName"], "trader",
        "{p}"
    );
    let r = app
        .gql(UPDATE_ME, json!({ "i": { "leaderboardName": "anon" } }))
        .await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{r}");
}

#[tokio::test]
async fn the_engine_records_while_open_and_at_the_close_and_the_feeds_push() {
    // Tuesday 1 December 2026, 10:02 in New York: the market is open.
    let start: DateTime<Utc> = "2026-12-01T15:02:00Z".parse().unwrap();
    let app = spawn_app_at(start, &[]).await;
    // The demo data opens the market by override: back to the schedule, which has it open.
    app.override_market(None, None).await;
    app.wait_market(true).await;
    // On PostgreSQL the engine starts once it holds the lease: before the clock moves.
    app.eventually("the engine runs", || async { app.is_leader() })
        .await;
    let demo = app.demo().await;
    assert_eq!(
        opt_in(&app, &demo, "Demo").await["user"]["leaderboardName"],
        "Demo"
    );

    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe(
        "h",
        "subscription { portfolioHistory(interval: M5) { at equity live } }",
        json!({}),
    )
    .await;
    ws.subscribe(
        "l",
        "subscription { leaderboard(period: DAY) { asOf nodes { rank name isViewer } } }",
        json!({}),
    )
    .await;
    // The board as it stands: nothing recorded yet.
    let first = ws.next_for("l").await;
    assert_eq!(
        first["payload"]["data"]["leaderboard"]["asOf"],
        Value::Null,
        "{first}"
    );

    // The next five-minute instant (10:05, or 10:10 when the engine's tasks started after
    // the clock passed 10:05 on a slow lease).
    let (mut point, mut board) = (None, None);
    'instants: for _ in 0..3 {
        app.clock.advance(Duration::minutes(5));
        while let Some(msg) = ws.next_within(std::time::Duration::from_secs(2)).await {
            match msg["id"].as_str() {
                Some("h") => point = Some(msg),
                Some("l") => board = Some(msg),
                _ => {}
            }
            if point.is_some() && board.is_some() {
                break 'instants;
            }
        }
    }
    let (point, board) = (
        point.expect("a recorded point"),
        board.expect("a new board"),
    );
    let p = &point["payload"]["data"]["portfolioHistory"];
    let at = ts(&p["at"]);
    assert!(at > start && at.timestamp() % 300 == 0, "{point}");
    assert_eq!(p["live"], false);
    let b = &board["payload"]["data"]["leaderboard"];
    assert_eq!(ts(&b["asOf"]), at, "{board}");
    assert_eq!(b["nodes"][0]["name"], "Demo", "{board}");
    assert_eq!(b["nodes"][0]["isViewer"], true);

    // 16:00: the close is recorded at its instant, as a daily point.
    let close: DateTime<Utc> = "2026-12-01T21:00:00Z".parse().unwrap();
    app.clock
        .advance(close - app.clock.now() + Duration::seconds(1));
    app.eventually("the close recorded", || async {
        equity_snapshots::Entity::find()
            .filter(equity_snapshots::Column::At.eq(close))
            .filter(equity_snapshots::Column::Grain.eq(2))
            .count(&app.db)
            .await
            .unwrap()
            > 0
    })
    .await;
    let demo = app.demo().await;
    let h = history(&app, &demo, "WEEK", json!("D1")).await;
    assert_eq!(ts(&h["points"][0]["at"]), close, "{h}");
    let periods = [
        Period::Day,
        Period::Week,
        Period::Month,
        Period::Year,
        Period::All,
    ];
    for period in periods {
        let board = app.services.equity.leaderboard(period).await.unwrap();
        assert_eq!(board.as_of, Some(close), "{period:?}");
    }
}
