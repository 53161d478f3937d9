//! The binary as an operator runs it: JSON logs, and SIGTERM in the middle of trading.
//! These start `zebrat serve` as a child process (not the in-process test app), because what
//! they check is the process: its log lines and what a signal does to it.

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// A `zebrat serve` process on a free port.
struct Server {
    child: Child,
    addr: String,
    /// Every line it has written to stderr (its log), in order.
    log: Arc<Mutex<Vec<String>>>,
    /// Its SQLite file (removed on drop); None on PostgreSQL.
    db: Option<PathBuf>,
    http: reqwest::Client,
}

impl Server {
    /// On a SQLite file of its own.
    async fn start(env: &[(&str, &str)]) -> Server {
        let db = std::env::temp_dir().join(format!("zebrat-ops-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let mut server = Server::start_on(&url, env).await;
        server.db = Some(db);
        server
    }

    /// On the database at `url`.
    async fn start_on(url: &str, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_zebrat"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("JWT_SECRET", "operations-test-secret-0123456789abcdef")
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("zebrat starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        tokio::spawn({
            let log = log.clone();
            async move {
                let mut addr_tx = Some(addr_tx);
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(at) = line.find("listening on http://") {
                        let rest = &line[at + "listening on http://".len()..];
                        let addr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        if let Some(tx) = addr_tx.take() {
                            let _ = tx.send(addr);
                        }
                    }
                    log.lock().unwrap().push(line);
                }
            }
        });
        let addr = tokio::time::timeout(Duration::from_secs(60), addr_rx)
            .await
            .expect("the server says where it listens within a minute")
            .expect("the server's log ended before it listened");
        Server {
            child,
            addr,
            log,
            db: None,
            http: reqwest::Client::new(),
        }
    }

    /// What `/health` says about the engine: does this instance lead it?
    async fn leads(&self) -> Option<bool> {
        let health: Value = self
            .http
            .get(format!("http://{}/health", self.addr))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        health["engine"]["leader"].as_bool()
    }

    /// Sends a signal to the process (`STOP`, `CONT`, `TERM`).
    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("sent").json().await.expect("JSON")
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .gql(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_string()
    }

    /// Sends SIGTERM, as systemd does on `stop`.
    fn terminate(&self) {
        self.signal("TERM");
    }

    /// Waits for the process to end on its own; its exit status.
    async fn exited(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server stops within 30 s of SIGTERM")
            .expect("wait")
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A stopped process would not die of the kill on drop until continued.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm", ".jwt-secret"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_carry_the_request_id() {
    let mut server = Server::start(&[("LOG_FORMAT", "json")]).await;
    let resp = server
        .http
        .post(format!("http://{}/graphql", server.addr))
        .header("x-request-id", "ops-test-request-42")
        .json(&json!({ "query": "{ marketState { isOpen } }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("ops-test-request-42")
    );
    // The access line is written when the response has been sent: give it a moment.
    let mut access = None;
    for _ in 0..50 {
        access = server
            .log_lines()
            .into_iter()
            .find(|l| l.contains("ops-test-request-42"));
        if access.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate();
    assert!(server.exited().await.success());

    let lines = server.log_lines();
    assert!(lines.len() > 3, "{lines:?}");
    for line in &lines {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        assert!(parsed["timestamp"].is_string(), "{line}");
        assert!(parsed["level"].is_string(), "{line}");
    }
    let access: Value =
        serde_json::from_str(&access.expect("an access log line for the request")).expect("JSON");
    let text = access.to_string();
    assert!(text.contains("/graphql") && text.contains("200"), "{text}");
}

/// What a client learned about one order it sent before the server stopped.
enum Outcome {
    /// The server answered with the order: it must be stored, fully.
    Acknowledged(i64),
    /// No answer (the connection was cut or refused): it may or may not be stored.
    Unknown,
}

#[tokio::test]
async fn sigterm_during_an_order_burst_keeps_every_acknowledged_order_whole() {
    let mut server = Server::start(&[("RATE_LIMIT_ORDERS", "10000/60")]).await;
    let token = server.login("demo@example.com", "demo123").await;

    // A live subscriber, to see how it is told the server is going away.
    let mut request = format!("ws://{}/graphql/ws", server.addr)
        .into_client_request()
        .expect("ws request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = connect_async(request).await.expect("ws connects");
    ws.send(Message::text(
        json!({ "type": "connection_init" }).to_string(),
    ))
    .await
    .expect("init sent");
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { marketState { isOpen } }" } })
            .to_string(),
    ))
    .await
    .expect("subscribe sent");

    let query = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { databaseId status } userErrors { code } } }";
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..60 {
        let (http, addr, token) = (server.http.clone(), server.addr.clone(), token.clone());
        burst.spawn(async move {
            tokio::time::sleep(Duration::from_millis(n * 5)).await;
            let body = json!({ "query": query, "variables": { "i": {
                "stock": { "symbol": "AAPL" }, "side": "BUY", "quantity": 1,
                "clientOrderId": format!("burst-{n}")
            } } });
            let answer = http
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            let Ok(resp) = answer else {
                return Outcome::Unknown;
            };
            let Ok(body) = resp.json::<Value>().await else {
                return Outcome::Unknown;
            };
            match body["data"]["placeOrder"]["order"]["databaseId"].as_i64() {
                Some(id) => Outcome::Acknowledged(id),
                None => Outcome::Unknown,
            }
        });
    }
    // In the middle of the burst.
    tokio::time::sleep(Duration::from_millis(120)).await;
    server.terminate();

    let mut acknowledged = Vec::new();
    while let Some(outcome) = burst.join_next().await {
        if let Ok(Outcome::Acknowledged(id)) = outcome {
            acknowledged.push(id);
        }
    }
    let status = server.exited().await;
    assert!(
        status.success(),
        "zebrat exits cleanly on SIGTERM: {status}"
    );
    assert!(
        !acknowledged.is_empty(),
        "some orders were answered before the signal"
    );

    // The subscriber was told the server is going away (1001), not cut off.
    let mut close = None;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Ok(Message::Close(frame)) = msg {
            close = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(close, Some(1001), "WebSockets close with 1001 Going Away");

    // Every acknowledged order is stored with its trade and ledger entry; nothing is half
    // written; the ledger adds up.
    let path = server.db.as_ref().expect("a SQLite file");
    let db = Database::connect(format!("sqlite://{}?mode=ro", path.display()))
        .await
        .expect("the database opens after the server stopped");
    let rows = |sql: &str| {
        let db = &db;
        let sql = sql.to_string();
        async move {
            db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
        }
    };
    for id in &acknowledged {
        let found = rows(&format!(
            "SELECT o.status, (SELECT COUNT(*) FROM trades t WHERE t.order_id = o.id) AS fills,
                    (SELECT COUNT(*) FROM cash_ledger l WHERE l.reference = 'order:' || o.id) AS entries
             FROM orders o WHERE o.id = {id}"
        ))
        .await;
        assert_eq!(found.len(), 1, "acknowledged order {id} is stored");
        let status: String = found[0].try_get("", "status").expect("status");
        let fills: i64 = found[0].try_get("", "fills").expect("fills");
        let entries: i64 = found[0].try_get("", "entries").expect("entries");
        assert_eq!(
            (status.as_str(), fills, entries),
            ("EXECUTED", 1, 1),
            "order {id} is whole"
        );
    }
    let half_written = rows(
        "SELECT o.id FROM orders o WHERE o.status = 'EXECUTED'
           AND ((SELECT COUNT(*) FROM trades t WHERE t.order_id = o.id) <> 1
             OR (SELECT COUNT(*) FROM cash_ledger l WHERE l.reference = 'order:' || o.id) <> 1)",
    )
    .await;
    assert!(half_written.is_empty(), "no order is half written");
    let unbalanced = rows(
        "SELECT u.id FROM users u
          WHERE u.cash_cents <> (SELECT COALESCE(SUM(l.amount_cents), 0) FROM cash_ledger l WHERE l.user_id = u.id)",
    )
    .await;
    assert!(unbalanced.is_empty(), "every balance equals its ledger");
    let unheld = rows(
        "SELECT p.id FROM positions p
          WHERE p.quantity <> (SELECT COALESCE(SUM(t.quantity), 0) FROM trades t
                                WHERE t.user_id = p.user_id AND t.stock_id = p.stock_id)",
    )
    .await;
    assert!(unheld.is_empty(), "every position equals its trades");

    // The log says it stopped on purpose, after the in-flight work.
    let log = server.log_lines().join("\n");
    assert!(log.to_lowercase().contains("shut"), "{log}");
}

/// Polls `check` every 250 ms for up to `limit`; how long it took, or None.
async fn within<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// Issue 17, defect 4: SIGSTOP on the leader used to keep the engine lease for ever (the
/// kernel answers TCP keepalives for a paused process). A standby must take over within
/// `FROZEN_AFTER` (10 s) plus a poll, and the old leader must stand by when it wakes.
#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): the engine lease is a PostgreSQL lock"]
async fn a_frozen_leader_loses_the_engine_lease_within_bounded_time() {
    crate::helpers::require_multi_instance_backends();
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let name = format!("zebrat_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("connect");
    let sql = |q: String| Statement::from_string(admin.get_database_backend(), q);
    admin
        .execute_raw(sql(format!("CREATE DATABASE \"{name}\"")))
        .await
        .expect("create database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let env = [("TICK_INTERVAL_SECS", "1")];

    let leader = Server::start_on(&url, &env).await;
    assert!(
        within(Duration::from_secs(20), || async {
            leader.leads().await == Some(true)
        })
        .await
        .is_some(),
        "the first instance leads"
    );
    let standby = Server::start_on(&url, &env).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(standby.leads().await, Some(false), "the second stands by");

    let db = Database::connect(&url)
        .await
        .expect("connect to the test database");
    let round = || async {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT round_seq FROM market_state WHERE id = 1".to_string(),
        ))
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get::<i64>("", "round_seq").ok())
        .unwrap_or(0)
    };

    leader.signal("STOP");
    let frozen_at = round().await;
    let took = within(Duration::from_secs(25), || async {
        standby.leads().await == Some(true)
    })
    .await
    .expect("the standby takes the lease from the frozen leader within 25 s");
    assert!(
        took <= Duration::from_secs(16),
        "taken over in {took:?}: FROZEN_AFTER is 10 s and the standby polls every second"
    );
    assert!(
        within(Duration::from_secs(10), || async {
            round().await > frozen_at + 2
        })
        .await
        .is_some(),
        "ticks go on under the new leader"
    );

    leader.signal("CONT");
    assert!(
        within(Duration::from_secs(15), || async {
            leader.leads().await == Some(false)
        })
        .await
        .is_some(),
        "the old leader stands by once it wakes"
    );
    assert_eq!(
        standby.leads().await,
        Some(true),
        "the new leader keeps the lease"
    );
    let log = leader.log_lines().join("\n");
    assert!(
        log.contains("lease lost"),
        "the old leader says it lost the lease: {log}"
    );

    drop(leader);
    drop(standby);
    db.close().await.ok();
    let _ = admin
        .execute_raw(sql(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await;
}

/// Issue 17, defect 1: the scheduler commits "open" and only then runs the queue. An engine
/// that starts while the stored state already says open (a crash, a failover or a lost lease
/// during the opening run) must run the queue first, at the prices the orders waited at, not
/// leave it to the ticker after a round has moved them.
#[tokio::test]
async fn queued_orders_left_by_a_crash_at_the_open_run_before_any_tick() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let path = std::env::temp_dir().join(format!("zebrat-open-{}.db", uuid::Uuid::new_v4()));
    let app = crate::helpers::spawn_local_app_on(&path).await;
    app.override_market(Some(false), Some("before the open"))
        .await;
    app.wait_market(false).await;
    let demo = app.demo().await;
    let place = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } userErrors { code } } }";
    let mut queued = Vec::new();
    for n in 0..5 {
        let body = app
            .gql_as(
                &demo.access,
                place,
                json!({ "i": { "stock": { "symbol": "AAPL" }, "side": "BUY", "quantity": 1,
                               "clientOrderId": format!("open-{n}") } }),
            )
            .await;
        let order = &body["data"]["placeOrder"]["order"];
        assert_eq!(order["status"], "QUEUED", "{body}");
        queued.push(order["id"].as_str().expect("an id").to_string());
    }
    let price_before = app
        .gql("{ stock(by: {symbol: \"AAPL\"}) { price } }", json!({}))
        .await["data"]["stock"]["price"]
        .clone();
    app.stopped().await;

    // The crash: "open" was committed, the queue never ran.
    let db = Database::connect(format!("sqlite://{}?mode=rw", path.display()))
        .await
        .expect("open the file");
    let state = entity::market_state::Entity::find_by_id(1)
        .one(&db)
        .await
        .expect("read")
        .expect("the market state row");
    let mut open: entity::market_state::ActiveModel = state.into();
    open.is_open = Set(true);
    open.override_open = Set(Some(true));
    open.override_reason = Set(Some("opened just before the crash".into()));
    open.update(&db).await.expect("write");
    db.close().await.ok();

    // The restart. Its clock does not move: no tick can run, so only the engine's start can
    // execute the queue.
    let app = crate::helpers::spawn_local_app_on(&path).await;
    let demo = app.demo().await;
    let executed = |id: String| {
        let (app, token) = (&app, demo.access.clone());
        async move {
            let body = app
                .gql_as(
                    &token,
                    "query($id: ID!) { order(id: $id) { status price } }",
                    json!({ "id": id }),
                )
                .await;
            body["data"]["order"].clone()
        }
    };
    app.eventually("the queue ran at the restart", || async {
        let mut all = true;
        for id in &queued {
            all &= executed(id.clone()).await["status"] == "EXECUTED";
        }
        all
    })
    .await;
    for id in &queued {
        assert_eq!(
            executed(id.clone()).await["price"],
            price_before,
            "filled at the price it waited at, before any tick"
        );
    }
    app.stopped().await;
    drop(app);
    for suffix in ["", "-wal", "-shm", ".jwt-secret"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
