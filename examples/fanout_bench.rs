//! Tick fan-out: `cargo build --release && cargo run --release --example fanout_bench`.
//!
//! Starts `target/release/zebrat` as a child process (its own SQLite file, 1 s ticks), opens
//! `BENCH_SUBSCRIBERS` (default 2000) WebSocket connections that all subscribe to the same
//! `ticks` document (the shape a normalized client cache subscribes to: every moved stock as a
//! `Stock`; `BENCH_LIGHT=1` asks for the light `ticks` shape instead), and for `BENCH_SECS`
//! (default 15) seconds measures, for every delivered
//! tick round, the delay between the round's timestamp and its arrival at each subscriber.
//! Also prints the server's resident memory per idle connection. Clients and server share the
//! machine's cores, so the figures are an upper bound on what the server alone would show.

use std::{
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::{
    connect_async_with_config,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

/// What a client cache asks for: the moved stocks as `Stock` objects, keyed by `id`.
const TICKS: &str = "subscription { ticks { seq at stocks { id price change changePercent open high low updatedAt } } }";
/// The light shape, for feeds that keep their own state.
const LIGHT_TICKS: &str =
    "subscription { ticks { seq at ticks { stockId price change changePercent } } }";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = env("BENCH_SUBSCRIBERS", 2000);
    let secs: u64 = env("BENCH_SECS", 15);
    let document = if env("BENCH_LIGHT", 0) == 1 {
        LIGHT_TICKS
    } else {
        TICKS
    };
    let port = 18_000 + (std::process::id() % 1000) as u16;
    let dir = std::env::temp_dir().join(format!("zebrat-fanout-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bin = std::env::var("ZEBRAT_BIN").unwrap_or_else(|_| "target/release/zebrat".into());
    // Every subscriber connects from 127.0.0.1: lift the per-address limits above `n`.
    let per_client = (n + 16).to_string();
    let server = Server {
        child: Command::new(&bin)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/z.db?mode=rwc", dir.display()),
            )
            .env("TICK_INTERVAL_SECS", "1")
            .env("WS_MAX_CONNECTIONS_PER_CLIENT", &per_client)
            .env("HTTP_MAX_CONNECTIONS_PER_CLIENT", &per_client)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?,
        dir,
    };
    let pid = server.child.id();
    let url = format!("ws://127.0.0.1:{port}/graphql/ws");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base_rss = rss_kib(pid);

    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    // Rounds delivered while the client is still opening sockets are not counted: the client
    // would be measuring its own connection work.
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 4096;
    config.write_buffer_size = 0;
    for _ in 0..n {
        let mut request = url.as_str().into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut ws, _) = connect_async_with_config(request, Some(config), false).await?;
        ws.send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await?;
        ws.next().await; // ack
        ws.send(Message::text(
            json!({ "id": "t", "type": "subscribe", "payload": { "query": document } }).to_string(),
        ))
        .await?;
        let (latencies, measuring, stop) = (latencies.clone(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let stopped = stop.notified();
            tokio::pin!(stopped);
            loop {
                let msg = tokio::select! {
                    _ = &mut stopped => break,
                    msg = ws.next() => msg,
                };
                let Some(Ok(Message::Text(text))) = msg else {
                    break;
                };
                if !measuring.load(Ordering::Relaxed) {
                    continue;
                }
                // Only the round's timestamp is needed: a full JSON parse per frame would make
                // the client, not the server, the thing being measured.
                if let Some(at) = round_time(&text) {
                    let ms = (Utc::now() - at).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                    latencies.lock().map(|mut l| l.push(ms)).ok();
                }
            }
        }));
    }
    let connected_rss = rss_kib(pid);
    measuring.store(true, Ordering::Relaxed);
    let setup_end = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.notify_waiters();
    let measured_until = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    drop(server);

    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let measured = measured_until
        .saturating_duration_since(setup_end)
        .as_secs_f64()
        .max(1.0);
    println!(
        "shape={} subscribers={n} deliveries={} ({:.0}/s)",
        if document == TICKS { "stocks" } else { "ticks" },
        all.len(),
        all.len() as f64 / measured
    );
    println!(
        "tick round → subscriber latency: p50={:.1} ms p99={:.1} ms max={:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "server RSS: {} KiB before, {} KiB with {n} subscribers ({:.1} KiB per connection)",
        base_rss,
        connected_rss,
        (connected_rss.saturating_sub(base_rss)) as f64 / n as f64
    );
    Ok(())
}

/// The server child process and its scratch directory: stopped and removed however the
/// benchmark ends, an error included.
struct Server {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `at` of a tick round frame: `…"ticks":{"seq":12,"at":"2026-…Z",…`.
fn round_time(frame: &str) -> Option<DateTime<Utc>> {
    let start = frame.find(r#""at":""#)? + 6;
    let len = frame[start..].find('"')?;
    frame[start..start + len].parse().ok()
}

fn env<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
