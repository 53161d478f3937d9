//! Several instances on one PostgreSQL and one Redis: shared live feeds, one engine under a
//! lease, failover; roles; and a Redis that is down or restarts under live subscriptions.

use std::{collections::HashMap, time::Duration};

use entity::{orders, price_ticks, stocks, trades};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use tokio::time::Instant;
use zebrat::{
    domain::market,
    infra::lease::{ENGINE_LOCK, Fence, Lease},
};

use crate::helpers::{
    Session, TestApp, code, require_multi_instance_backends, spawn_app, spawn_app_with,
};

const TICKS: &str = "subscription { ticks { at ticks { symbol price } } }";
const ORDER_UPDATES: &str = "subscription { orderUpdates { order { id status } } }";
const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { id databaseId status stock { symbol } } userErrors { code message } } }";

async fn health(app: &TestApp) -> Value {
    app.http
        .get(app.url("/health"))
        .send()
        .await
        .expect("health answers")
        .json()
        .await
        .expect("health is JSON")
}

pub(crate) async fn becomes_leader(app: &TestApp) {
    app.eventually("this instance to lead the engine", || async {
        app.is_leader()
    })
    .await;
}

/// Every tick round in the database was written once: each round time holds one tick per
/// active stock. Returns how many rounds there are.
async fn rounds_written_once(app: &TestApp) -> usize {
    let db = &app.db;
    let active = stocks::Entity::find()
        .filter(stocks::Column::Active.eq(true))
        .count(db)
        .await
        .unwrap() as usize;
    let mut per_round: HashMap<_, usize> = HashMap::new();
    for tick in price_ticks::Entity::find().all(db).await.unwrap() {
        *per_round.entry(tick.at).or_default() += 1;
    }
    for (at, n) in &per_round {
        assert_eq!(
            *n, active,
            "round at {at} written {n} times for {active} stocks"
        );
    }
    per_round.len()
}

pub(crate) async fn stock_id(app: &TestApp, symbol: &str) -> String {
    let r = app
        .gql(
            "query($s: String!) { stock(by: { symbol: $s }) { id } }",
            json!({ "s": symbol }),
        )
        .await;
    r["data"]["stock"]["id"].as_str().expect("stock id").into()
}

/// Buys `quantity` shares of the stock with global id `stock`; the order placed (the test
/// fails when the order is refused).
pub(crate) async fn place(app: &TestApp, s: &Session, stock: &str, quantity: i64) -> Value {
    let r = app
        .gql_as(
            &s.access,
            PLACE,
            json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": quantity } }),
        )
        .await;
    let order = &r["data"]["placeOrder"]["order"];
    assert!(order.is_object(), "{r}");
    order.clone()
}

/// Every executed order has exactly one trade.
async fn one_trade_per_executed_order(app: &TestApp) {
    let db = &app.db;
    for order in orders::Entity::find()
        .filter(orders::Column::Status.eq("EXECUTED"))
        .all(db)
        .await
        .unwrap()
    {
        let n = trades::Entity::find()
            .filter(trades::Column::OrderId.eq(order.id))
            .count(db)
            .await
            .unwrap();
        assert_eq!(n, 1, "order {} has {n} trades", order.id);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn a_second_instance_relays_feeds_while_only_the_leader_ticks() {
    require_multi_instance_backends();
    let a = spawn_app().await;
    becomes_leader(&a).await;
    let b = a.spawn_peer(&[]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(a.is_leader() && !b.is_leader(), "exactly one leader");
    assert_eq!(health(&a).await["engine"]["leader"], true);
    let hb = health(&b).await;
    assert_eq!(hb["engine"]["leader"], false, "{hb}");
    assert_eq!(hb["redis"]["status"], "ok", "{hb}");

    // Ticks made by A's engine reach a client of B.
    let mut ws = b.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        let round = a.tick_until_message(&mut ws, "t").await;
        assert!(
            !round["payload"]["data"]["ticks"]["ticks"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    assert!(rounds_written_once(&a).await >= 3);

    // An order placed through A shows up on B's orderUpdates feed (same token works on both).
    let demo = a.demo().await;
    let mut mine = b.ws_session(Some(&demo.access)).await;
    mine.subscribe("o", ORDER_UPDATES, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let aapl = stock_id(&a, "AAPL").await;
    let order = place(&a, &demo, &aapl, 2).await;
    assert_eq!(order["status"], "EXECUTED");
    let update = mine.next_for("o").await;
    let updated = &update["payload"]["data"]["orderUpdates"]["order"];
    assert_eq!(updated["id"], order["id"], "{update}");
    assert_eq!(updated["status"], "EXECUTED");
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn the_standby_takes_over_when_the_leader_stops_and_processes_nothing_twice() {
    require_multi_instance_backends();
    let a = spawn_app().await;
    becomes_leader(&a).await;
    let b = a.spawn_peer(&[]).await;
    let mut ws = b.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.tick_until_message(&mut ws, "t").await;

    // Orders queued while the market is closed wait for whoever leads at the open.
    a.override_market(Some(false), Some("maintenance")).await;
    b.wait_market(false).await;
    let demo = b.demo().await;
    let ko = stock_id(&b, "KO").await;
    let mut queued = Vec::new();
    for q in 1..=3 {
        let order = place(&b, &demo, &ko, q).await;
        assert_eq!(order["status"], "QUEUED", "{order}");
        queued.push(order["id"].as_str().unwrap().to_string());
    }

    let mut state = b.ws_session(None).await;
    state
        .subscribe("m", "subscription { marketState { isOpen } }", json!({}))
        .await;
    assert_eq!(
        state.next_for("m").await["payload"]["data"]["marketState"]["isOpen"],
        false
    );

    let stopped_at = Instant::now();
    a.stopped().await;
    b.eventually("B to take the engine over", || async { b.is_leader() })
        .await;
    let took = stopped_at.elapsed();
    assert!(took < Duration::from_secs(10), "failover took {took:?}");
    // The new leader finds the market closed: subscribers hear nothing new.
    let repeated = state.next_within(Duration::from_millis(1500)).await;
    assert!(repeated.is_none(), "{repeated:?}");

    b.override_market(Some(true), Some("back")).await;
    let reopened = state.next_for("m").await;
    assert_eq!(
        reopened["payload"]["data"]["marketState"]["isOpen"], true,
        "{reopened}"
    );
    b.eventually("the queued orders to run at the open", || async {
        let r = b
            .gql_as(
                &demo.access,
                "{ orders(status: QUEUED) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        r["data"]["orders"]["edges"]
            .as_array()
            .is_some_and(Vec::is_empty)
    })
    .await;
    for _ in 0..3 {
        b.tick_until_message(&mut ws, "t").await;
    }
    one_trade_per_executed_order(&b).await;
    let executed = orders::Entity::find()
        .filter(orders::Column::Status.eq("EXECUTED"))
        .count(&b.db)
        .await
        .unwrap();
    assert_eq!(executed, queued.len() as u64);
    assert!(rounds_written_once(&b).await >= 4);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn a_leader_that_loses_its_lease_stops_and_the_standby_takes_over() {
    require_multi_instance_backends();
    let a = spawn_app().await;
    becomes_leader(&a).await;
    let b = a.spawn_peer(&[]).await;
    // Cut A's lease session from the database side, as a network partition would.
    let db = &a.db;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            // pg_locks spans the cluster: only this test's database, not other tests' leaders.
            "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND objid::bigint = {ENGINE_LOCK} AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
    ))
    .await
    .unwrap();
    b.eventually("B to lead", || async { b.is_leader() }).await;
    a.eventually("A to stand down", || async { !a.is_leader() })
        .await;
    let mut ws = b.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        b.tick_until_message(&mut ws, "t").await;
    }
    assert!(rounds_written_once(&b).await >= 3);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn a_fence_refuses_writes_once_its_lease_is_gone() {
    require_multi_instance_backends();
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    let db = &app.db;
    let url = app.services.config.database_url.clone();
    let mut first = Lease::for_database(db, &url);
    let fence = first.try_acquire().await.unwrap().expect("a free lease");
    let mut second = Lease::for_database(db, &url);
    assert!(second.try_acquire().await.unwrap().is_none(), "held");
    let txn = sea_orm::TransactionTrait::begin(db).await.unwrap();
    fence.check(&txn).await.expect("valid while held");
    txn.commit().await.unwrap();

    let Fence::Advisory { pid } = fence else {
        panic!("PostgreSQL uses the advisory lock")
    };
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT pg_terminate_backend({pid})"),
    ))
    .await
    .unwrap();
    assert!(!first.still_held().await);
    let txn = sea_orm::TransactionTrait::begin(db).await.unwrap();
    assert!(fence.check(&txn).await.is_err(), "a lost lease fences");
    drop(txn);
    assert!(second.try_acquire().await.unwrap().is_some(), "free again");
}

#[tokio::test]
async fn racing_queued_order_runs_execute_each_order_once() {
    // No engine here: the five runners below are the only executors.
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    let (db, now) = (&app.db, zebrat::clock::Clock::now(&app.clock));
    market::record_applied(db, false, now).await.unwrap();
    let demo = app.demo().await;
    let ko = stock_id(&app, "KO").await;
    for q in 1..=10 {
        assert_eq!(place(&app, &demo, &ko, q).await["status"], "QUEUED");
    }
    market::record_applied(db, true, now).await.unwrap();
    let runs = join_all((0..5).map(|_| app.services.trading.execute_queued(&Fence::Solo))).await;
    let total: usize = runs.into_iter().map(Result::unwrap).sum();
    assert_eq!(total, 10, "each of 10 orders runs exactly once");
    let left = orders::Entity::find()
        .filter(orders::Column::Status.eq("QUEUED"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    one_trade_per_executed_order(&app).await;
}

#[tokio::test]
async fn an_api_instance_never_runs_the_engine() {
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    for _ in 0..5 {
        app.tick();
    }
    assert!(ws.next_within(Duration::from_millis(700)).await.is_none());
    assert!(!app.is_leader());
    let h = health(&app).await;
    assert_eq!(
        h["engine"],
        json!({ "role": "api", "leader": false }),
        "{h}"
    );
}

#[tokio::test]
async fn an_engine_instance_serves_only_health() {
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "engine")]).await;
    becomes_leader(&app).await;
    let h = health(&app).await;
    assert_eq!(
        h["engine"],
        json!({ "role": "engine", "leader": true }),
        "{h}"
    );
    let r = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ stocks { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A Redis server of the test's own on a free port, so it can be stopped and restarted.
pub(crate) struct OwnRedis {
    port: u16,
    process: Option<tokio::process::Child>,
}

impl OwnRedis {
    /// Fails the test when `redis-server` cannot be started (tests using this are ignored
    /// in the plain run for that reason).
    pub(crate) async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = OwnRedis {
            port,
            process: None,
        };
        assert!(
            redis.restart().await,
            "this test needs redis-server on PATH"
        );
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) async fn restart(&mut self) -> bool {
        let spawned = tokio::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let Ok(child) = spawned else {
            return false;
        };
        self.process = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill().await;
        }
    }
}

#[tokio::test]
#[ignore = "needs redis-server: run with -- --ignored"]
async fn live_feeds_resume_after_redis_restarts_and_requests_work_meanwhile() {
    let mut redis = OwnRedis::start().await;
    let url = redis.url();
    let app = spawn_app_with(&[("REDIS_URL", &url), ("REDIS_PREFIX", "restart")]).await;
    assert_eq!(health(&app).await["redis"]["status"], "ok");
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.tick_until_message(&mut ws, "t").await;

    redis.stop().await;
    app.eventually("health to report Redis degraded", || async {
        let h = health(&app).await;
        h["redis"]["status"] == "degraded" && h["status"] == "degraded"
    })
    .await;
    // Queries and mutations do not need Redis.
    let demo = app.demo().await;
    let r = app
        .gql_as(
            &demo.access,
            "mutation { deposit(input: { amount: \"5.00\" }) { cash { balance } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert!(r["data"]["deposit"]["cash"].is_object(), "{r}");
    assert!(
        app.gql("{ stocks { id } }", json!({})).await["data"]["stocks"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    // This instance's own subscribers keep their feed meanwhile.
    app.tick_until_message(&mut ws, "t").await;

    assert!(redis.restart().await, "redis-server restarts");
    app.eventually("health to report Redis ok", || async {
        health(&app).await["redis"]["status"] == "ok"
    })
    .await;
    // Published through Redis again: arrives only if the subscription was renewed.
    for _ in 0..3 {
        app.tick_until_message(&mut ws, "t").await;
    }
    app.stopped().await;
}

#[tokio::test]
async fn an_unreachable_redis_at_start_degrades_instead_of_failing() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{closed_port}");
    let app = spawn_app_with(&[("REDIS_URL", &url)]).await;
    let h = health(&app).await;
    assert_eq!(h["redis"]["status"], "degraded", "{h}");
    assert_eq!(h["status"], "degraded", "{h}");

    let demo = app.demo().await;
    let mut mine = app.ws_session(Some(&demo.access)).await;
    mine.subscribe("o", ORDER_UPDATES, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let aapl = stock_id(&app, "AAPL").await;
    let order = place(&app, &demo, &aapl, 1).await;
    assert_eq!(order["status"], "EXECUTED");
    let update = mine.next_for("o").await;
    assert_eq!(
        update["payload"]["data"]["orderUpdates"]["order"]["id"], order["id"],
        "{update}"
    );
    assert_eq!(
        code(&app.gql("{ nope }", json!({})).await),
        Some("BAD_USER_INPUT")
    );
    app.stopped().await;
}

/// Rounds published while Redis is down never reach other instances; the round numbers tell
/// their subscribers so.
#[tokio::test]
#[ignore = "needs redis-server: run with -- --ignored"]
async fn a_subscriber_sees_a_jump_in_round_numbers_after_a_redis_outage() {
    require_multi_instance_backends();
    const NUMBERED: &str = "subscription { ticks { seq } }";
    let seq = |msg: &Value| {
        msg["payload"]["data"]["ticks"]["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("a numbered tick batch: {msg}"))
    };
    let stored = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            entity::market_state::Entity::find_by_id(1)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .round_seq
        }
    };
    let mut redis = OwnRedis::start().await;
    let url = redis.url();
    let a = spawn_app_with(&[("REDIS_URL", &url), ("REDIS_PREFIX", "round-gap")]).await;
    becomes_leader(&a).await;
    let b = a.spawn_peer(&[]).await;
    assert_eq!(health(&b).await["redis"]["status"], "ok");
    let mut ws = b.ws_session(None).await;
    ws.subscribe("t", NUMBERED, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = seq(&a.tick_until_message(&mut ws, "t").await);

    redis.stop().await;
    for app in [&a, &b] {
        app.eventually("health to report Redis degraded", || async {
            health(app).await["redis"]["status"] == "degraded"
        })
        .await;
    }
    // A, the leader, ticks twice; neither round reaches B. The clock moves on until each
    // round is written: a ticker still waiting on the dead Redis with the last round's event
    // sets its next round after the tick the test already gave, and would wait forever.
    for _ in 0..2 {
        let was = stored(&a).await;
        a.eventually("the round to be written", || async {
            if stored(&a).await > was {
                return true;
            }
            a.tick();
            false
        })
        .await;
    }
    assert!(a.is_leader(), "A kept the engine");
    assert!(
        stored(&a).await >= i64::try_from(before + 2).unwrap(),
        "two rounds were made"
    );

    assert!(redis.restart().await, "redis-server restarts");
    for app in [&a, &b] {
        app.eventually("health to report Redis ok", || async {
            health(app).await["redis"]["status"] == "ok"
        })
        .await;
    }
    let after = seq(&a.tick_until_message(&mut ws, "t").await);
    assert!(
        after > before + 1,
        "the next round B's subscriber sees ({after}) tells it rounds were missed since {before}"
    );
    assert!(
        after >= before + 3,
        "at least the two outage rounds: {after} after {before}"
    );
    a.stopped().await;
    b.stopped().await;
}

/// Each instance serves the public stock list from its own quote board: rounds from the
/// leader's engine and an admin's change on another instance both reach it over the bus.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn every_instance_keeps_its_quote_board_current_over_the_bus() {
    require_multi_instance_backends();
    let a = spawn_app().await;
    becomes_leader(&a).await;
    let b = a.spawn_peer(&[]).await;
    let prices = "{ stocks { symbol name price updatedAt } }";
    let first = b.gql(prices, json!({})).await; // B's board is loaded now
    assert!(first["data"]["stocks"].is_array(), "{first}");
    let mut ws = b.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.tick_until_message(&mut ws, "t").await;
    let list = async |app: &TestApp| app.gql(prices, json!({})).await["data"]["stocks"].clone();
    b.eventually("B's list at the leader's round", || async {
        let on_b = list(&b).await;
        on_b == list(&a).await && on_b != first["data"]["stocks"]
    })
    .await;

    let admin = a.admin().await;
    let create = "mutation { createStock(input: { symbol: \"REMO\", name: \"Remote\", initialPrice: \"5\" }) { stock { id } } }";
    let created = a.gql_as(&admin.access, create, json!({})).await;
    assert!(
        created["data"]["createStock"]["stock"]["id"].is_string(),
        "{created}"
    );
    b.eventually("B to list the stock created on A", || async {
        b.gql("{ stocks { symbol } }", json!({}))
            .await
            .to_string()
            .contains("REMO")
    })
    .await;
}

/// Each instance serves charts from its own memory: the leader's rounds reach it over the bus,
/// and both instances agree with each other and with the database.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn every_instance_keeps_its_charts_current_over_the_bus() {
    use crate::charts::{CHART, aapl, stored, ten_reads_cost};
    use zebrat::clock::Clock;
    require_multi_instance_backends();
    let a = spawn_app().await;
    becomes_leader(&a).await;
    // The peer keeps the cost budgets: a 30-day chart costs as much as 2,000 candles would.
    let b = a
        .spawn_peer(&[("GRAPHQL_COST_BUDGET_ANONYMOUS", "off")])
        .await;
    let id = aapl(&a).await;
    let from = a.clock.now() - chrono::Duration::days(30);
    let vars = json!({ "from": from.to_rfc3339() });
    a.eventually("the history", || async {
        !stored(&a, id, from).await.is_empty()
    })
    .await;
    let chart = async |app: &TestApp| app.gql(CHART, vars.clone()).await["data"]["candles"].clone();
    let first = chart(&b).await; // B's series is loaded now
    assert!(first["candles"].is_array(), "{first}");
    let mut ws = b.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        a.tick_until_message(&mut ws, "t").await;
    }
    // As stored: bucket start, close and tick count of each candle.
    let in_db = async || -> Value {
        stored(&a, id, from)
            .await
            .iter()
            .map(|c| json!([c.bucket_start, c.close, c.tick_count]))
            .collect()
    };
    let served = |chart: &Value| -> Value {
        chart["candles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let close = c["close"].as_str().unwrap_or_default().replace('.', "");
                let bucket: chrono::DateTime<chrono::Utc> = c["bucketStart"]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .unwrap();
                json!([bucket, close.parse::<i64>().unwrap_or(-1), c["tickCount"]])
            })
            .collect()
    };
    b.eventually("B's chart at the leader's rounds", || async {
        let on_b = chart(&b).await;
        on_b != first && on_b == chart(&a).await && served(&on_b) == in_db().await
    })
    .await;
    let cost = ten_reads_cost(&b, CHART, &vars).await;
    assert!(
        cost <= 2,
        "B's chart reads went to the database: {cost} statements"
    );
}
