//! Market-order throughput: `cargo run --release --example order_bench`.
//!
//! Starts the real server in-process (SQLite in a temp file, or PostgreSQL when
//! `BENCH_DATABASE_URL` points at a server: a fresh database is created there), registers one
//! customer per client, then each client places one-share market buys over HTTP GraphQL as
//! fast as it can for `BENCH_SECS` (default 5) seconds. Prints orders/s and p50/p99 latency for
//! 1, 8 and 32 concurrent clients. The engine keeps ticking meanwhile, as in production.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use zebrat::{Application, Config};

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { id status } userErrors { code message } } }";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // BENCH_MODE=noop sends `{ __typename }` instead: the HTTP + GraphQL floor, no database.
    let noop = std::env::var("BENCH_MODE").is_ok_and(|m| m == "noop");
    let (url, label, scratch) = database().await?;
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url),
        ("BIND_ADDR", "127.0.0.1:0".into()),
        (
            "JWT_SECRET",
            "bench-secret-bench-secret-bench-secret".into(),
        ),
        ("MAX_ORDER_QUANTITY", "1000".into()),
        // Enough play money that no client runs out at thousands of buys a second.
        ("MAX_CASH_OPERATION", "1000000000".into()),
        // Measures the order path, not the limiter: 32 clients register at once and each
        // places hundreds of orders a second.
        ("RATE_LIMIT_ORDERS", "off".into()),
        ("RATE_LIMIT_REGISTER", "off".into()),
        ("RATE_LIMIT_LOGIN", "off".into()),
    ]);
    if let Ok(size) = std::env::var("DATABASE_POOL_SIZE") {
        vars.insert("DATABASE_POOL_SIZE", size); // to compare pool sizes
    }
    let app = Application::build(Config::from_lookup(|k| vars.get(k).cloned())?).await?;
    let base = format!("http://{}/graphql", app.local_addr());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;

    let stock = gql(&http, &base, None, "{ stocks { id } }", json!({})).await?["data"]["stocks"][0]
        ["id"]
        .clone();
    let mut tokens = Vec::new();
    for i in 0..32 {
        let r = gql(&http, &base, None,
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "email": format!("bench{i}@example.com"), "password": "bench password", "name": "Bench" } })).await?;
        let token = r["data"]["register"]["accessToken"]
            .as_str()
            .ok_or("register failed")?
            .to_string();
        let funded = gql(
            &http,
            &base,
            Some(&token),
            "mutation { deposit(input: { amount: \"1000000000\" }) { \
             cash { balance } userErrors { code message } } }",
            json!({}),
        )
        .await?;
        if !funded["data"]["deposit"]["cash"].is_object() {
            return Err(format!("deposit failed: {funded}").into());
        }
        tokens.push(token);
    }

    let what = if noop {
        "`{ __typename }` queries"
    } else {
        "one-share market buys"
    };
    println!("database: {label}, {secs} s per run, {what} over HTTP");
    for clients in [1usize, 8, 32] {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let runs = tokens[..clients].iter().cloned().map(|token| {
            let (http, base, stock) = (http.clone(), base.clone(), stock.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0u64;
                while Instant::now() < deadline {
                    let start = Instant::now();
                    let vars =
                        json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": 1 } });
                    let ok = if noop {
                        gql(&http, &base, Some(&token), "{ __typename }", json!({}))
                            .await
                            .is_ok()
                    } else {
                        gql(&http, &base, Some(&token), PLACE, vars)
                            .await
                            .is_ok_and(|r| r["data"]["placeOrder"]["order"]["status"] == "EXECUTED")
                    };
                    if ok {
                        latencies.push(start.elapsed());
                    } else {
                        failures += 1;
                    }
                }
                (latencies, failures)
            })
        });
        let mut all = Vec::new();
        let mut failures = 0;
        for run in futures_util::future::join_all(runs).await {
            let (l, f) = run?;
            all.extend(l);
            failures += f;
        }
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        println!(
            "clients={clients:<3} orders={:<7} rate={:>8.1}/s  p50={:>6.2} ms  p99={:>6.2} ms  failed={failures}",
            all.len(),
            all.len() as f64 / secs as f64,
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
        );
    }
    shutdown.cancel();
    let _ = server.await;
    scratch.remove().await
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value, reqwest::Error> {
    let mut req = http
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await?.json().await
}

/// A fresh database: a temp SQLite file, or a new database on `BENCH_DATABASE_URL`.
/// The benchmark's own database, removed afterwards.
enum Scratch {
    Postgres { admin: String, name: String },
    Sqlite(std::path::PathBuf),
}

impl Scratch {
    async fn remove(self) -> Result<(), Box<dyn std::error::Error>> {
        match self {
            Scratch::Postgres { admin, name } => {
                let conn = Database::connect(&admin).await?;
                conn.execute_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                ))
                .await?;
            }
            Scratch::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
        Ok(())
    }
}

async fn database() -> Result<(String, String, Scratch), Box<dyn std::error::Error>> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => {
            let name = format!("zebrat_bench_{id}");
            let conn = Database::connect(&admin).await?;
            conn.execute_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("CREATE DATABASE \"{name}\""),
            ))
            .await?;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            Ok((
                format!("{base}/{name}"),
                "PostgreSQL".into(),
                Scratch::Postgres { admin, name },
            ))
        }
        Err(_) => {
            let path = std::env::temp_dir().join(format!("zebrat-bench-{id}.db"));
            Ok((
                format!("sqlite://{}?mode=rwc", path.display()),
                "SQLite".into(),
                Scratch::Sqlite(path),
            ))
        }
    }
}
