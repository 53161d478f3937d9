//! Fault injection (issue 17): a halt racing the queue run, retried cash movements and orders,
//! a restarted local server, a stopping leader, Redis dying under request load. Each ends with
//! the invariants of DESIGN.md checked in SQL where money moved.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use entity::{audit_log, cash_ledger, orders, users};
use futures_util::future::join_all;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement,
    TransactionTrait,
};
use serde_json::{Value, json};
use zebrat::{domain::market, engine, infra::lease::Lease};

use crate::{
    helpers::{
        code, require_multi_instance_backends, spawn_app_with, spawn_local_app_on, user_error,
    },
    scale_out::{place, stock_id},
    trading::assert_invariants,
};

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { id status } userErrors { code field message } } }";
const WITHDRAW: &str = "mutation($a: Decimal!, $k: String) { \
     withdraw(input: { amount: $a, idempotencyKey: $k }) { \
     cash { balance reserved available } transaction { id amount } userErrors { code } } }";
const DEPOSIT: &str = "mutation($a: Decimal!, $k: String) { \
     deposit(input: { amount: $a, idempotencyKey: $k }) { \
     cash { balance reserved available } transaction { id amount } userErrors { code } } }";

async fn run_sql(conn: &impl ConnectionTrait, sql: String) {
    conn.execute_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn a_halt_racing_the_queue_run_rejects_exactly_what_is_still_queued() {
    require_multi_instance_backends();
    // No engine: the test plays the queue run itself, at the moment of its choosing.
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    let (db, now) = (&app.db, zebrat::clock::Clock::now(&app.clock));
    market::record_applied(db, false, now).await.unwrap();
    let demo = app.demo().await;
    let ko = stock_id(&app, "KO").await;
    // Row numbers: the run below plays the queue in SQL.
    let first = place(&app, &demo, &ko, 1).await["databaseId"]
        .as_i64()
        .unwrap();
    let second = place(&app, &demo, &ko, 2).await["databaseId"]
        .as_i64()
        .unwrap();

    // The queue run holds the owner's row while it takes the first order out of the queue.
    let run = db.begin().await.unwrap();
    let uid = demo.db_id;
    run_sql(
        &run,
        format!("SELECT id FROM users WHERE id = {uid} FOR UPDATE"),
    )
    .await;
    // Meanwhile the admin halts the stock: it reads both orders as queued, then waits for
    // the owner's row.
    let admin = app.admin().await;
    let (http, url) = (app.http.clone(), app.url("/graphql"));
    let halt = tokio::spawn(async move {
        http.post(url)
            .bearer_auth(admin.access)
            .json(&json!({
                "query": "mutation($id: ID!) { updateStock(input: { id: $id, active: false }) { stock { active } userErrors { code } } }",
                "variables": { "id": ko },
            }))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    app.eventually("the halt to wait for the owner's row", || async {
        let waiting = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            ))
            .await
            .unwrap()
            .unwrap();
        waiting.try_get::<i64>("", "n").unwrap() > 0
    })
    .await;
    run_sql(
        &run,
        format!(
            "UPDATE users SET reserved_cents = reserved_cents - \
             (SELECT reserved_cents FROM orders WHERE id = {first}) WHERE id = {uid}"
        ),
    )
    .await;
    run_sql(
        &run,
        format!("UPDATE orders SET status = 'CANCELED', reserved_cents = 0 WHERE id = {first}"),
    )
    .await;
    run.commit().await.unwrap();

    let halted = halt.await.unwrap();
    assert!(halted["errors"].is_null(), "the halt succeeds: {halted}");
    assert_eq!(halted["data"]["updateStock"]["stock"]["active"], false);
    let status = |id: i64| async move {
        orders::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status(first).await, "CANCELED", "left as the run left it");
    assert_eq!(status(second).await, "REJECTED", "still queued: rejected");
    let user = users::Entity::find_by_id(uid)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.reserved_cents, 0, "nothing stays reserved");
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("stock.update"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(audited, 1, "the halt is audited");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_withdrawal_whose_answer_was_lost_is_retried_with_its_key_and_moves_money_once() {
    let app = spawn_app_with(&[]).await;
    let demo = app.demo().await;
    let vars = json!({ "a": "100.00", "k": "withdraw-1" });
    let first = app.gql_as(&demo.access, WITHDRAW, vars.clone()).await;
    assert!(first["data"]["withdraw"]["cash"].is_object(), "{first}");
    assert_eq!(
        first["data"]["withdraw"]["transaction"]["amount"],
        "-100.00"
    );
    // The answer was lost; something else moves money before the client retries, several
    // times at once.
    let other = app
        .gql_as(
            &demo.access,
            DEPOSIT,
            json!({ "a": "5.00", "k": "deposit-1" }),
        )
        .await;
    assert!(other["data"]["deposit"]["cash"].is_object(), "{other}");
    let retries = join_all((0..5).map(|_| app.gql_as(&demo.access, WITHDRAW, vars.clone()))).await;
    for retry in retries {
        // The same balances and the same ledger entry as the first answer.
        assert_eq!(retry["data"], first["data"], "the first answer: {retry}");
    }
    let again = app
        .gql_as(
            &demo.access,
            DEPOSIT,
            json!({ "a": "5.00", "k": "deposit-1" }),
        )
        .await;
    assert_eq!(again["data"]["deposit"], other["data"]["deposit"]);
    // The same key for something else is a conflict, as with clientOrderId.
    let different = app
        .gql_as(
            &demo.access,
            WITHDRAW,
            json!({ "a": "7.00", "k": "withdraw-1" }),
        )
        .await;
    assert_eq!(
        user_error(&different, "withdraw"),
        Some("CONFLICT"),
        "{different}"
    );
    assert!(different["data"]["withdraw"]["cash"].is_null());
    let other_kind = app
        .gql_as(
            &demo.access,
            DEPOSIT,
            json!({ "a": "100.00", "k": "withdraw-1" }),
        )
        .await;
    assert_eq!(
        user_error(&other_kind, "deposit"),
        Some("CONFLICT"),
        "{other_kind}"
    );
    assert!(other_kind["data"]["deposit"]["cash"].is_null());
    // Keys are per user: another user may use the same one.
    let ann = app
        .register("ann@example.com", "long enough pw", "Ann")
        .await;
    let theirs = app
        .gql_as(
            &ann.access,
            DEPOSIT,
            json!({ "a": "1.00", "k": "withdraw-1" }),
        )
        .await;
    assert!(theirs["data"]["deposit"]["cash"].is_object(), "{theirs}");
    assert_ne!(
        theirs["data"]["deposit"]["transaction"]["id"],
        first["data"]["withdraw"]["transaction"]["id"]
    );

    let uid = demo.db_id;
    let withdrawals = cash_ledger::Entity::find()
        .filter(cash_ledger::Column::UserId.eq(uid))
        .filter(cash_ledger::Column::Kind.eq("WITHDRAWAL"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(withdrawals, 1, "withdrawn once");
    let now = app
        .gql_as(&demo.access, "{ cash { balance } }", json!({}))
        .await;
    let before: rust_decimal::Decimal = first["data"]["withdraw"]["cash"]["balance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let after: rust_decimal::Decimal = now["data"]["cash"]["balance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        after,
        before + rust_decimal::Decimal::new(500, 2),
        "one withdrawal, one deposit"
    );
    // Without a key nothing changes: every call moves money.
    let plain = app
        .gql_as(
            &demo.access,
            "mutation { deposit(input: { amount: \"1.00\" }) { cash { balance } } }",
            json!({}),
        )
        .await;
    assert!(plain["data"]["deposit"]["cash"].is_object(), "{plain}");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_retried_order_is_answered_even_over_the_rate_limit() {
    let app = spawn_app_with(&[("RATE_LIMIT_ORDERS", "2/60")]).await;
    let demo = app.demo().await;
    let aapl = stock_id(&app, "AAPL").await;
    let order = |key: &str| json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": 1, "clientOrderId": key } });
    let first = app.gql_as(&demo.access, PLACE, order("o-1")).await;
    assert!(first["data"]["placeOrder"]["order"].is_object(), "{first}");
    let second = app.gql_as(&demo.access, PLACE, order("o-2")).await;
    assert!(
        second["data"]["placeOrder"]["order"].is_object(),
        "{second}"
    );
    let third = app.gql_as(&demo.access, PLACE, order("o-3")).await;
    assert_eq!(code(&third), Some("RATE_LIMITED"), "{third}");
    // Over the limit, a retry of an order placed before still gets its answer.
    for _ in 0..3 {
        let retry = app.gql_as(&demo.access, PLACE, order("o-1")).await;
        assert_eq!(retry["data"], first["data"], "{retry}");
    }
    assert_invariants(&app).await;
}

#[tokio::test]
async fn orders_refused_as_invalid_do_not_spend_the_rate_limit() {
    let app = spawn_app_with(&[("RATE_LIMIT_ORDERS", "2/60")]).await;
    let demo = app.demo().await;
    let aapl = stock_id(&app, "AAPL").await;
    for (bad, code) in [
        (
            json!({ "stock": { "id": aapl }, "side": "BUY", "quantity": 0 }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "stock": { "id": "nope" }, "side": "BUY", "quantity": 1 }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "stock": { "id": aapl }, "side": "BUY", "quantity": 1, "clientOrderId": "" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "stock": { "symbol": "NOPE" }, "side": "BUY", "quantity": 1 }),
            "NOT_FOUND",
        ),
    ] {
        let r = app.gql_as(&demo.access, PLACE, json!({ "i": bad })).await;
        assert_eq!(user_error(&r, "placeOrder"), Some(code), "{r}");
        assert!(r["data"]["placeOrder"]["order"].is_null(), "{r}");
    }
    for _ in 0..2 {
        let ok = place(&app, &demo, &aapl, 1).await;
        assert_eq!(ok["status"], "EXECUTED");
    }
    let over = app
        .gql_as(
            &demo.access,
            PLACE,
            json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": 1 } }),
        )
        .await;
    assert_eq!(code(&over), Some("RATE_LIMITED"), "{over}");
}

#[tokio::test]
async fn a_restarted_local_server_keeps_its_sessions() {
    let dir = std::env::temp_dir().join(format!("zebrat-local-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zebrat.db");
    let first = spawn_local_app_on(&path).await;
    let demo = first.demo().await;
    first.stopped().await;
    drop(first);

    let second = spawn_local_app_on(&path).await;
    let me = second
        .gql_as(&demo.access, "{ me { email } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["email"], "demo@example.com", "{me}");
    let refreshed = second
        .gql(
            "mutation($t: String!) { refreshToken(input: { token: $t }) { accessToken userErrors { code } } }",
            json!({ "t": demo.refresh }),
        )
        .await;
    assert!(
        refreshed["data"]["refreshToken"]["accessToken"].is_string(),
        "{refreshed}"
    );
    // The secret beside the database is the owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secrets: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("secret"))
            .collect();
        assert_eq!(secrets.len(), 1, "one secret file beside the database");
        let mode = secrets[0].metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "owner-only: {mode:o}");
    }
    second.stopped().await;
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Log lines written on this thread, for tests that check what a component logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// The default single-threaded runtime runs every task on this thread, where the capturing
// subscriber is installed. (Run beside other tests, tracing's callsite cache can hide lines
// from it: the log check can miss a failure, the returned `Stopped` cannot.)
#[tokio::test]
async fn a_stopping_leader_releases_its_lease_and_logs_a_clean_stop() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // An API instance runs no engine of its own: the test runs it, stops it and looks.
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    let url = app.services.config.database_url.clone();
    for round in 0..12 {
        let (leader, mut is_leader) = tokio::sync::watch::channel(false);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let lease = Lease::for_database(&app.db, &url);
        let running = tokio::spawn(engine::run(
            app.services.clone(),
            lease,
            leader,
            shutdown.clone(),
        ));
        tokio::time::timeout(Duration::from_secs(20), is_leader.wait_for(|l| *l))
            .await
            .expect("leads")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        shutdown.cancel();
        let stopped = tokio::time::timeout(Duration::from_secs(20), running)
            .await
            .expect("stops")
            .unwrap();
        assert_eq!(
            stopped,
            engine::Stopped::Released,
            "round {round}: a clean stop releases the lease"
        );
        // Released, not abandoned: another instance gets the lease at once.
        let mut next = Lease::for_database(&app.db, &url);
        assert!(
            next.try_acquire().await.unwrap().is_some(),
            "round {round}: the lease is free right after the stop"
        );
        next.release().await;
        let text = logs.text();
        assert!(
            !text.contains("ended unexpectedly") && !text.contains("lease lost"),
            "round {round}: a clean stop logged as a failure:\n{text}"
        );
    }
}

/// A Redis server killed under request load: no request waits on it for long.
#[tokio::test]
#[ignore = "needs redis-server: run with -- --ignored"]
async fn requests_do_not_stall_when_redis_dies() {
    let mut redis = crate::scale_out::OwnRedis::start().await;
    let url = redis.url();
    let app = spawn_app_with(&[
        ("REDIS_URL", &url),
        ("REDIS_PREFIX", "outage"),
        ("RATE_LIMIT_ORDERS", "100000/60"),
    ])
    .await;
    let demo = app.demo().await;
    // Fast requests place thousands of orders in the measured seconds: never run out of cash.
    let funded = app
        .gql_as(
            &demo.access,
            "mutation { deposit(input: { amount: \"900000\" }) { cash { balance } } }",
            json!({}),
        )
        .await;
    assert!(funded["data"]["deposit"]["cash"].is_object(), "{funded}");
    let aapl = stock_id(&app, "AAPL").await;
    let timed = || async {
        let started = Instant::now();
        let r = app
            .gql_as(
                &demo.access,
                PLACE,
                json!({ "i": { "stock": { "id": aapl }, "side": "BUY", "quantity": 1 } }),
            )
            .await;
        assert!(r["data"]["placeOrder"]["order"].is_object(), "{r}");
        started.elapsed()
    };
    // Several at once, as a busy server would see them; one user's orders queue behind each
    // other on the account lock, so the baseline is measured with the same load as the outage.
    let rounds = |secs| async move {
        let mut worst = Duration::ZERO;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            let round = join_all((0..4).map(|_| timed())).await;
            worst = worst.max(round.into_iter().max().unwrap_or_default());
        }
        worst
    };
    let baseline = rounds(2).await;
    redis.stop().await;
    let worst = rounds(4).await;
    assert!(
        worst < baseline + Duration::from_millis(100),
        "worst request during the outage took {worst:?} (worst before it: {baseline:?})"
    );
    assert!(redis.restart().await);
    assert_invariants(&app).await;
    app.stopped().await;
}

/// The trades of `orders` (row ids), in the order they were written: by trade id.
async fn fill_order(app: &crate::helpers::TestApp, orders: &[i64]) -> Vec<(i64, i64)> {
    use entity::trades;
    let mut filled: Vec<(i64, i64, i64)> = trades::Entity::find()
        .filter(trades::Column::OrderId.is_in(orders.to_vec()))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.order_id, t.price_cents))
        .collect();
    filled.sort();
    filled.into_iter().map(|(_, o, p)| (o, p)).collect()
}

/// Row ids of the orders placed, as the server answered them.
async fn buy(app: &crate::helpers::TestApp, s: &crate::helpers::Session, stock: &str) -> Value {
    place(app, s, stock, 1).await
}

#[tokio::test]
async fn a_new_market_order_waits_behind_orders_still_queued_at_the_open() {
    // No engine yet: the market is recorded open with its queue not run, as a crash right
    // after the open leaves it.
    let app = spawn_app_with(&[("ZEBRAT_ROLE", "api")]).await;
    let (db, now) = (&app.db, zebrat::clock::Clock::now(&app.clock));
    app.override_market(Some(true), Some("open all day")).await;
    market::record_applied(db, false, now).await.unwrap();
    let demo = app.demo().await;
    let ko = stock_id(&app, "KO").await;
    let aapl = stock_id(&app, "AAPL").await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let order = buy(&app, &demo, &ko).await;
        assert_eq!(order["status"], "QUEUED", "{order}");
        ids.push(order["databaseId"].as_i64().unwrap());
    }
    market::record_applied(db, true, now).await.unwrap();

    // Another user's new order in that stock joins the queue behind them, reserved like them.
    let late = app
        .register("late@example.com", "long enough pw", "Late")
        .await;
    let funded = app
        .gql_as(&late.access, DEPOSIT, json!({ "a": "1000.00", "k": null }))
        .await;
    assert!(funded["data"]["deposit"]["cash"].is_object(), "{funded}");
    let newer = buy(&app, &late, &ko).await;
    assert_eq!(
        newer["status"], "QUEUED",
        "behind the older orders: {newer}"
    );
    let cash = app
        .gql_as(&late.access, "{ cash { reserved } }", json!({}))
        .await;
    assert_ne!(cash["data"]["cash"]["reserved"], "0.00", "{cash}");
    ids.push(newer["databaseId"].as_i64().unwrap());
    // A stock with nothing queued trades at once.
    assert_eq!(buy(&app, &late, &aapl).await["status"], "EXECUTED");
    let quote = app
        .gql_as(
            &late.access,
            "{ quote(input: { stock: { symbol: \"KO\" }, side: BUY, quantity: 1 }) { executesNow } }",
            json!({}),
        )
        .await;
    assert_eq!(quote["data"]["quote"]["executesNow"], false, "{quote}");

    // An engine comes (the clock does not move: no tick can run) and runs the queue in order.
    let engine = app.spawn_peer(&[("ZEBRAT_ROLE", "engine")]).await;
    app.eventually("the queue to run", || async {
        fill_order(&app, &ids).await.len() == ids.len()
    })
    .await;
    let filled = fill_order(&app, &ids).await;
    let order_of_fills: Vec<i64> = filled.iter().map(|(o, _)| *o).collect();
    assert_eq!(
        order_of_fills, ids,
        "filled in id order, the newer one last"
    );
    assert!(
        filled.iter().all(|(_, p)| *p == filled[0].1),
        "all at the price they waited at: {filled:?}"
    );
    drop(engine);
    assert_invariants(&app).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn queue_priority_holds_across_a_failover_during_the_opening_run() {
    require_multi_instance_backends();
    let a = spawn_app_with(&[]).await;
    crate::scale_out::becomes_leader(&a).await;
    let b = a.spawn_peer(&[]).await;
    a.override_market(Some(false), Some("before the open"))
        .await;
    a.wait_market(false).await;
    let demo = a.demo().await;
    let ko = stock_id(&a, "KO").await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(buy(&a, &demo, &ko).await["databaseId"].as_i64().unwrap());
    }

    // The owner's row is held, so the leader's opening run stops at the first order.
    let db = &a.db;
    let hold = db.begin().await.unwrap();
    run_sql(
        &hold,
        format!("SELECT id FROM users WHERE id = {} FOR UPDATE", demo.db_id),
    )
    .await;
    a.override_market(Some(true), Some("the open")).await;
    a.eventually("the opening run to wait for the owner's row", || async {
        let waiting = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            ))
            .await
            .unwrap()
            .unwrap();
        waiting.try_get::<i64>("", "n").unwrap() > 0
    })
    .await;
    // Meanwhile another user's order (through the standby) joins the queue behind them.
    let late = b
        .register("late@example.com", "long enough pw", "Late")
        .await;
    let funded = b
        .gql_as(&late.access, DEPOSIT, json!({ "a": "1000.00", "k": null }))
        .await;
    assert!(funded["data"]["deposit"]["cash"].is_object(), "{funded}");
    let newer = buy(&b, &late, &ko).await;
    assert_eq!(newer["status"], "QUEUED", "{newer}");
    ids.push(newer["databaseId"].as_i64().unwrap());

    // The leader loses its lease mid-run (its lease session is cut, as a partition would).
    run_sql(
        db,
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND objid::bigint = {} AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            zebrat::infra::lease::ENGINE_LOCK
        ),
    )
    .await;
    // A's transaction in flight was fenced before the cut and may finish; every later one of
    // A's fails its fence. Whoever leads next (B, or A again) finds the market open with
    // orders queued and runs them before any tick.
    hold.commit().await.unwrap();
    b.eventually("a new leadership", || async {
        a.is_leader() || b.is_leader()
    })
    .await;
    b.eventually("the rest of the queue to run", || async {
        fill_order(&b, &ids).await.len() == ids.len()
    })
    .await;
    let filled = fill_order(&b, &ids).await;
    let order_of_fills: Vec<i64> = filled.iter().map(|(o, _)| *o).collect();
    assert_eq!(order_of_fills, ids, "in id order across the failover");
    assert!(
        filled.iter().all(|(_, p)| *p == filled[0].1),
        "no tick in between: {filled:?}"
    );
    assert_invariants(&b).await;
}
