//! Account feeds under load: `cargo build --release && cargo run --release --example portfolio_bench`.
//!
//! Starts `ZEBRAT_BIN` (default `target/release/zebrat`) as a child process with 1 s ticks, on
//! a fresh PostgreSQL database when `BENCH_DATABASE_URL` points at a server (else a temporary
//! SQLite file). Registers `BENCH_SUBSCRIBERS` (default 1000) customers, each holding three
//! stocks, then opens one WebSocket per customer subscribed to its `portfolio`, plus one
//! `ticks` subscriber that records when each round was taken. For `BENCH_SECS` (default 20)
//! seconds it measures:
//! - delivery: for each portfolio frame, arrival time minus the timestamp of the newest round
//!   (the valuation a frame carries is the one that round caused);
//! - database work per round on PostgreSQL: the growth of `xact_commit + xact_rollback` in
//!   `pg_stat_database` (each statement outside a transaction counts once, each transaction
//!   once) divided by the rounds seen.
//!
//! The client shares the machine's cores with the server, so latencies are an upper bound.

use std::{
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt, stream};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::{
    connect_async_with_config,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

const PORTFOLIO: &str = "subscription { portfolio { totalValue positionsValue updatedAt } }";
const TICKS: &str = "subscription { ticks { at } }";
const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
const DEPOSIT: &str = "mutation($i: CashInput!) { deposit(input: $i) { \
     cash { balance } userErrors { code message } } }";
const BUY: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { status } userErrors { code message } } }";

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let n: usize = env("BENCH_SUBSCRIBERS", 1000);
    let secs: u64 = env("BENCH_SECS", 20);
    let port = 19_000 + (std::process::id() % 1000) as u16;
    let dir = std::env::temp_dir().join(format!("zebrat-portfolio-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (database_url, stats_db, scratch) = database(&dir).await?;
    let bin = std::env::var("ZEBRAT_BIN").unwrap_or_else(|_| "target/release/zebrat".into());
    let mut server = Command::new(&bin)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &database_url)
        .env("JWT_SECRET", "bench-secret-bench-secret-bench-secret")
        .env("TICK_INTERVAL_SECS", "1")
        .env("RATE_LIMIT_REGISTER", "off")
        .env("RATE_LIMIT_LOGIN", "off")
        .env("RATE_LIMIT_ORDERS", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let result = run(n, secs, port, stats_db.as_ref()).await;
    let _ = server.kill();
    let _ = server.wait();
    if let Some((admin, name)) = scratch {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(
    n: usize,
    secs: u64,
    port: u16,
    stats_db: Option<&DatabaseConnection>,
) -> Result<(), Error> {
    let base = format!("http://127.0.0.1:{port}/graphql");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    for _ in 0..200 {
        if http
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stocks = gql(&http, &base, None, "{ stocks { id } }", json!({})).await?["data"]["stocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if stocks.len() < 3 {
        return Err("the server lists fewer than three stocks".into());
    }
    eprintln!("registering {n} customers, each buying three stocks ...");
    let tokens: Vec<String> = stream::iter(0..n)
        .map(|i| {
            let (http, base, stocks) = (http.clone(), base.clone(), stocks.clone());
            async move { customer(&http, &base, &stocks, i).await }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;

    // Round timestamps, newest last, from one ticks subscriber.
    let rounds = Arc::new(Mutex::new(Vec::<DateTime<Utc>>::new()));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let measuring = Arc::new(AtomicBool::new(false));
    let frames = Arc::new(AtomicUsize::new(0));
    let url = format!("ws://127.0.0.1:{port}/graphql/ws");
    let mut tasks = Vec::new();
    {
        let mut ws = connect(&url, None, TICKS).await?;
        let rounds = rounds.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = ws.next().await {
                if let Some(at) = field_time(&text, "at") {
                    rounds.lock().map(|mut r| r.push(at)).ok();
                }
            }
        }));
    }
    eprintln!("opening {n} portfolio subscriptions ...");
    for token in &tokens {
        let mut ws = connect(&url, Some(token), PORTFOLIO).await?;
        let (rounds, latencies, measuring, frames) = (
            rounds.clone(),
            latencies.clone(),
            measuring.clone(),
            frames.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = ws.next().await {
                let arrived = Utc::now();
                if !measuring.load(Ordering::Relaxed) || !text.contains("\"next\"") {
                    continue;
                }
                frames.fetch_add(1, Ordering::Relaxed);
                let newest = rounds
                    .lock()
                    .ok()
                    .and_then(|r| r.iter().rev().find(|at| **at <= arrived).copied());
                if let Some(at) = newest {
                    let ms = (arrived - at).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                    latencies.lock().map(|mut l| l.push(ms)).ok();
                }
            }
        }));
    }
    // Let the first snapshots pass before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rounds_before = rounds.lock().map(|r| r.len()).unwrap_or(0);
    let work_before = match stats_db {
        Some(db) => Some(transactions(db).await?),
        None => None,
    };
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    measuring.store(false, Ordering::Relaxed);
    let rounds_seen = rounds.lock().map(|r| r.len()).unwrap_or(0) - rounds_before;
    // pg_stat counters are flushed about once a second: wait before reading them back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let work = match (stats_db, work_before) {
        (Some(db), Some(before)) => Some(transactions(db).await? - before),
        _ => None,
    };
    for t in &tasks {
        t.abort();
    }

    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "subscribers={n} rounds={rounds_seen} portfolio frames={} ({:.2} per subscriber per round)",
        frames.load(Ordering::Relaxed),
        frames.load(Ordering::Relaxed) as f64 / (n * rounds_seen.max(1)) as f64
    );
    println!(
        "round → portfolio frame: p50={:.1} ms p99={:.1} ms max={:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    match work {
        Some(w) => println!(
            "database: {w} statements/transactions in {rounds_seen} rounds = {:.1} per round",
            w as f64 / rounds_seen.max(1) as f64
        ),
        None => println!("database: not counted on SQLite (set BENCH_DATABASE_URL)"),
    }
    Ok(())
}

/// Registers customer `i`, deposits, buys one share of three stocks; returns its token.
async fn customer(
    http: &reqwest::Client,
    base: &str,
    stocks: &[Value],
    i: usize,
) -> Result<String, Error> {
    let email = format!("bench{i}-{}@example.com", std::process::id());
    let input = json!({ "i": { "email": email, "password": "correct horse battery", "name": format!("Bench {i}") } });
    let answer = gql(http, base, None, REGISTER, input).await?;
    let token = answer["data"]["register"]["accessToken"]
        .as_str()
        .ok_or_else(|| format!("register failed: {answer}"))?
        .to_string();
    let funded = gql(
        http,
        base,
        Some(&token),
        DEPOSIT,
        json!({ "i": { "amount": "100000" } }),
    )
    .await?;
    if funded["data"]["deposit"]["cash"].is_null() {
        return Err(format!("deposit failed: {funded}").into());
    }
    for k in 0..3 {
        let stock = &stocks[(i + k) % stocks.len()]["id"];
        let order = json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": 1 } });
        let answer = gql(http, base, Some(&token), BUY, order).await?;
        if answer["data"]["placeOrder"]["order"].is_null() {
            return Err(format!("buy failed: {answer}").into());
        }
    }
    Ok(token)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws socket with one subscription to `query`.
async fn connect(url: &str, token: Option<&str>, query: &str) -> Result<Socket, Error> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 4096;
    config.write_buffer_size = 0;
    let (mut ws, _) = connect_async_with_config(request, Some(config), false).await?;
    let payload = match token {
        Some(t) => json!({ "authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": payload }).to_string(),
    ))
    .await?;
    ws.next().await; // ack
    ws.send(Message::text(
        json!({ "id": "s", "type": "subscribe", "payload": { "query": query } }).to_string(),
    ))
    .await?;
    Ok(ws)
}

async fn gql(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value, Error> {
    let mut request = http
        .post(base)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    Ok(request.send().await?.json().await?)
}

/// A fresh database: `(url for the server, connection for statistics, scratch to drop)`.
#[allow(clippy::type_complexity)]
async fn database(
    dir: &std::path::Path,
) -> Result<
    (
        String,
        Option<DatabaseConnection>,
        Option<(DatabaseConnection, String)>,
    ),
    Error,
> {
    let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") else {
        return Ok((
            format!("sqlite://{}/z.db?mode=rwc", dir.display()),
            None,
            None,
        ));
    };
    let name = format!("zebrat_bench_{}", std::process::id());
    let admin = Database::connect(&admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..i]),
        None => return Err("BENCH_DATABASE_URL needs a database path".into()),
    };
    let stats = Database::connect(&url).await?;
    Ok((url, Some(stats), Some((admin, name))))
}

/// Committed plus rolled-back transactions of the bench database so far.
async fn transactions(db: &DatabaseConnection) -> Result<i64, Error> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database \
             WHERE datname = current_database()",
        ))
        .await?
        .ok_or("no pg_stat_database row")?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// The timestamp in `"field":"…"` of a frame, read without parsing the rest.
fn field_time(frame: &str, field: &str) -> Option<DateTime<Utc>> {
    let key = format!("\"{field}\":\"");
    let start = frame.find(&key)? + key.len();
    let len = frame[start..].find('"')?;
    frame[start..start + len].parse().ok()
}

fn env<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
