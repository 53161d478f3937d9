//! The test harness: the real server on port 0 with its own fresh database, and clients that
//! talk to it like a frontend would (GraphQL over HTTP and WebSocket).
//!
//! SQLite by default. With `TEST_DATABASE_URL` (PostgreSQL) each test gets its own database;
//! with `TEST_REDIS_URL` each test gets its own Redis key prefix.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, Statement};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};
use tokio_util::sync::CancellationToken;
use zebrat::{
    Application, Config, clock::ManualClock, domain::admin::Admin, http::ws::Feeds,
    services::Services,
};

pub struct TestApp {
    pub addr: SocketAddr,
    /// `/metrics` on a listener of its own, when `METRICS_ADDR` was set.
    pub metrics_addr: Option<SocketAddr>,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub services: Services,
    /// The database, for assertions and set-up that no API offers.
    pub db: DatabaseConnection,
    /// Statements this instance has run on its database.
    pub statements: zebrat::infra::db::Statements,
    leader: tokio::sync::watch::Receiver<bool>,
    pub feeds: Feeds,
    shutdown: CancellationToken,
    /// The server task, until `stopped()` waited for it.
    stopped: tokio::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
    database: TestDatabase,
}

enum TestDatabase {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A peer instance on another test app's database: the owner cleans up.
    Borrowed,
}

/// Logged-in user: tokens and id.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    /// The user's global id (`User.id`).
    pub user_id: String,
    /// The user's row number (`User.databaseId`), for reading the database directly.
    pub db_id: i64,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra settings (env var names, as in production).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_at(Utc::now(), overrides).await
}

/// Starts the app with its clock at `start`.
pub async fn spawn_app_at(start: DateTime<Utc>, overrides: &[(&str, &str)]) -> TestApp {
    let (database_url, database) = fresh_database().await;
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database_url),
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        ("JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("SEED_DEMO_DATA".into(), "true".into()),
    ]);
    // Tests log in and trade far faster than people; the rate-limit tests turn limits on.
    for limit in [
        "RATE_LIMIT_LOGIN",
        "RATE_LIMIT_REGISTER",
        "RATE_LIMIT_ORDERS",
        "RATE_LIMIT_LOGIN_GLOBAL",
        "RATE_LIMIT_DEPOSITS",
        "GRAPHQL_COST_BUDGET",
        "GRAPHQL_COST_BUDGET_ANONYMOUS",
    ] {
        vars.insert(limit.into(), "off".into());
    }
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        vars.insert("REDIS_URL".into(), redis);
        vars.insert(
            "REDIS_PREFIX".into(),
            format!("zebrat-test-{}", uuid::Uuid::new_v4().simple()),
        );
    }
    for (k, v) in overrides {
        vars.insert((*k).into(), (*v).into());
    }
    start_instance(vars, ManualClock::new(start), database).await
}

/// Starts the app as `cargo run` would on a developer machine: the local profile on the SQLite
/// file at `path`, no `JWT_SECRET`. The caller removes the file.
pub async fn spawn_local_app_on(path: &std::path::Path) -> TestApp {
    let vars: HashMap<String, String> = HashMap::from([
        (
            "DATABASE_URL".into(),
            format!("sqlite://{}?mode=rwc", path.display()),
        ),
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        ("SEED_DEMO_DATA".into(), "true".into()),
        ("RATE_LIMIT_LOGIN".into(), "off".into()),
    ]);
    start_instance(vars, ManualClock::new(Utc::now()), TestDatabase::Borrowed).await
}

const TEST_JWT_SECRET: &str = "test-secret-that-is-long-enough-for-prod";

async fn start_instance(
    vars: HashMap<String, String>,
    clock: ManualClock,
    database: TestDatabase,
) -> TestApp {
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
    let app = Application::build_with_clock(config, std::sync::Arc::new(clock.clone()))
        .await
        .expect("app builds");
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let services = app.services().clone();
    let db = app.database().clone();
    let statements = app.statements();
    let leader = app.leader();
    let feeds = app.feeds().clone();
    let shutdown = app.shutdown_token();
    let stopped = tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        metrics_addr,
        http: reqwest::Client::new(),
        clock,
        services,
        db,
        statements,
        leader,
        feeds,
        shutdown,
        stopped: tokio::sync::Mutex::new(Some(stopped)),
        database,
    }
}

/// True when tests run on PostgreSQL and Redis, where several instances can share them.
pub fn multi_instance_backends() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
        && std::env::var("TEST_REDIS_URL").is_ok()
}

/// Called first by every test marked `#[ignore = "needs PostgreSQL and Redis…"]`.
///
/// libtest cannot decide at run time that a test is skipped, and a test that returns early
/// counts as passed. So those tests are ignored in the plain run (the summary says so) and run
/// by `cargo test --test it -- --ignored` with the services (`.ci/run` does); run that way
/// without them they fail here instead of passing silently.
pub fn require_multi_instance_backends() {
    assert!(
        multi_instance_backends(),
        "this test needs PostgreSQL and Redis: set TEST_DATABASE_URL=postgres://… and \
         TEST_REDIS_URL=redis://…"
    );
}

async fn fresh_database() -> (String, TestDatabase) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("zebrat_t_{id}");
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect TEST_DATABASE_URL");
            admin
                .execute_raw(Statement::from_string(
                    admin.get_database_backend(),
                    format!("CREATE DATABASE \"{name}\""),
                ))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            (
                format!("{base}/{name}"),
                TestDatabase::Postgres { admin_url, name },
            )
        }
        _ => {
            let path = std::env::temp_dir().join(format!("zebrat-test-{id}.db"));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                TestDatabase::Sqlite(path),
            )
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        match &self.database {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDatabase::Borrowed => {}
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; clean up from a runtime of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(admin) = Database::connect(&admin_url).await {
                                let _ = admin
                                    .execute_raw(Statement::from_string(
                                        admin.get_database_backend(),
                                        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                                    ))
                                    .await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL request anonymously and returns the JSON body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_with(None, query, variables).await
    }

    /// POSTs a GraphQL request with `Authorization: Bearer <token>`.
    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.gql_with(Some(token), query, variables).await
    }

    async fn gql_with(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("request sent");
        resp.json().await.expect("JSON body")
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let body = self
            .gql(
                "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id databaseId } } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        session(&body, "login")
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Session {
        let body = self
            .gql(
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken user { id databaseId } userErrors { code message } } }",
                json!({ "i": { "email": email, "password": password, "name": name } }),
            )
            .await;
        session(&body, "register")
    }

    /// Stops the server (as SIGTERM would).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Stops the server and waits until it and its background tasks have ended.
    pub async fn stopped(&self) {
        self.stop();
        if let Some(task) = self.stopped.lock().await.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
    }

    /// Another instance on this one's database, Redis prefix and clock (as a second server
    /// behind the load balancer would be), with extra settings.
    pub async fn spawn_peer(&self, overrides: &[(&str, &str)]) -> TestApp {
        let config = &self.services.config;
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), config.database_url.clone()),
            ("BIND_ADDR".into(), "127.0.0.1:0".into()),
            ("JWT_SECRET".into(), TEST_JWT_SECRET.into()),
            ("REDIS_PREFIX".into(), config.redis_prefix.clone()),
        ]);
        for limit in [
            "RATE_LIMIT_LOGIN",
            "RATE_LIMIT_REGISTER",
            "RATE_LIMIT_ORDERS",
            "RATE_LIMIT_LOGIN_GLOBAL",
            "RATE_LIMIT_DEPOSITS",
        ] {
            vars.insert(limit.into(), "off".into());
        }
        if let Some(redis) = &config.redis_url {
            vars.insert("REDIS_URL".into(), redis.clone());
        }
        for (k, v) in overrides {
            vars.insert((*k).into(), (*v).into());
        }
        start_instance(vars, self.clock.clone(), TestDatabase::Borrowed).await
    }

    /// Whether this instance currently runs the engine.
    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Forces the market open or closed (`Some`), or returns it to its schedule (`None`), as an
    /// operator on the command line would (audited, and the engine is told).
    pub async fn override_market(&self, open: Option<bool>, reason: Option<&str>) {
        self.services
            .admin
            .set_override(&Admin::command_line(), open, reason.map(Into::into))
            .await
            .expect("override written");
    }

    /// Moves the clock one tick interval (2 s) forward: the engine runs one round if open.
    pub fn tick(&self) {
        self.clock.advance(chrono::Duration::seconds(2));
    }

    /// Waits until the market is `open` both as computed (the `marketState` query) and as the
    /// engine applied it (what order placement goes by).
    pub async fn wait_market(&self, open: bool) {
        self.eventually(&format!("market open = {open}"), || async {
            let applied = entity::market_state::Entity::find_by_id(1)
                .one(&self.db)
                .await
                .ok()
                .flatten()
                .is_some_and(|s| s.is_open == open);
            let computed = self
                .gql("{ marketState { isOpen } }", serde_json::json!({}))
                .await["data"]["marketState"]["isOpen"]
                == open;
            applied && computed
        })
        .await;
    }

    /// Ticks the clock until subscription `id` on `ws` gets a message, and returns it.
    pub async fn tick_until_message(&self, ws: &mut WsClient, id: &str) -> Value {
        for _ in 0..100 {
            self.tick();
            if let Some(msg) = ws.next_within(Duration::from_millis(200)).await
                && msg["id"] == id
            {
                return msg;
            }
        }
        panic!("no message for subscription {id}");
    }

    /// Polls `check` every 50 ms for up to 10 s.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..200 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    pub async fn admin(&self) -> Session {
        self.login("admin@example.com", "admin123").await
    }

    pub async fn demo(&self) -> Session {
        self.login("demo@example.com", "demo123").await
    }

    /// Opens a WebSocket on `/graphql/ws` with the given subprotocol (not yet initialised).
    pub async fn ws(&self, protocol: &str) -> WsClient {
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .expect("ws request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol).expect("protocol header"),
        );
        let (stream, response) = connect_async(request).await.expect("ws connects");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol)
        );
        WsClient {
            stream,
            legacy: protocol == "graphql-ws",
        }
    }

    /// A `graphql-transport-ws` connection, initialised with `token` if given.
    pub async fn ws_session(&self, token: Option<&str>) -> WsClient {
        let mut ws = self.ws("graphql-transport-ws").await;
        let payload = match token {
            Some(t) => json!({ "authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        let ack = ws.init(payload).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }
}

fn session(body: &Value, field: &str) -> Session {
    let data = &body["data"][field];
    assert!(data.is_object(), "{field} failed: {body}");
    Session {
        access: data["accessToken"].as_str().unwrap().into(),
        refresh: data["refreshToken"].as_str().unwrap().into(),
        user_id: data["user"]["id"].as_str().unwrap().into(),
        db_id: data["user"]["databaseId"].as_i64().unwrap(),
    }
}

/// `errors[0].extensions.code`, if any: a top-level error.
pub fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The first `userErrors[].code` of the mutation payload at `data.<field>`, if any: an
/// expected failure reported as data.
pub fn user_error<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body["data"][field]["userErrors"][0]["code"].as_str()
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    legacy: bool,
}

impl WsClient {
    pub async fn send(&mut self, msg: Value) {
        self.stream
            .send(Message::text(msg.to_string()))
            .await
            .expect("ws send");
    }

    /// Sends any frame, well-formed or not.
    pub async fn send_raw(&mut self, msg: Message) {
        self.stream.send(msg).await.expect("ws send");
    }

    /// Sends `connection_init` and returns the server's answer.
    pub async fn init(&mut self, payload: Value) -> Value {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.next().await.expect("answer to connection_init")
    }

    /// The next message for subscription `id` (others are skipped).
    pub async fn next_for(&mut self, id: &str) -> Value {
        loop {
            let msg = self
                .next()
                .await
                .unwrap_or_else(|| panic!("no message for {id}"));
            if msg["id"] == id {
                return msg;
            }
        }
    }

    pub async fn complete(&mut self, id: &str) {
        let ty = if self.legacy { "stop" } else { "complete" };
        self.send(json!({ "id": id, "type": ty })).await;
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let ty = if self.legacy { "start" } else { "subscribe" };
        self.send(
            json!({ "id": id, "type": ty, "payload": { "query": query, "variables": variables } }),
        )
        .await;
    }

    /// The next JSON message (pings and keep-alives skipped), or None when the socket closes
    /// or nothing arrives within 10 s.
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(Duration::from_secs(10)).await
    }

    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match msg.ok()? {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON frame");
                    match value["type"].as_str() {
                        Some("ka") | Some("ping") | Some("pong") => continue,
                        _ => return Some(value),
                    }
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next message of any type, pings and pongs included.
    pub async fn next_within_raw(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("a message within 10 s")
                .expect("socket open")
                .expect("frame");
            if let Message::Text(text) = msg {
                return serde_json::from_str(&text).expect("JSON frame");
            }
        }
    }

    /// The close frame's code, waiting up to 10 s.
    pub async fn closed_with(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }
}
