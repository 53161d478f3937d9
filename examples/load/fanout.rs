//! `fanout`: N subscribers to the ticks of M stocks.
//!
//! Each subscriber is a real client: its own address and socket, `connection_init`, one
//! `ticks(symbols:)` subscription, and on a dropped socket a reconnect with backoff and the
//! same subscription again. Per delivered round it records the delay from the round's
//! timestamp (`at`) to its arrival, and a jump in `seq` as missed rounds. `--parse full` parses
//! every frame as JSON and walks every stock in it (what an application does);
//! `--parse at` only reads `seq` and `at` out of the text (what a feed recorder that stores the
//! raw frame does), so the client costs less than the server it measures.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::{
    client::{self, Error, Target},
    stats::{Report, Samples, round},
};

/// What a normalized client cache subscribes to: every moved stock as a `Stock`.
pub const TICKS: &str = "subscription($symbols: [String!]) { ticks(symbols: $symbols) { seq at stocks { id symbol price change changePercent open high low updatedAt } } }";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Parse {
    /// Parse every frame in full and read every stock in it.
    Full,
    /// Read only `seq` and `at` from the frame's text.
    At,
}

/// What a run of subscribers counted.
#[derive(Clone, Default)]
pub struct Counters {
    pub latency: Samples,
    pub frames: Arc<AtomicU64>,
    pub missed: Arc<AtomicU64>,
    pub out_of_order: Arc<AtomicU64>,
    pub reconnects: Arc<AtomicU64>,
    pub errors: Arc<AtomicU64>,
    /// Frames count only while this is set (not while sockets are still being opened).
    pub measuring: Arc<AtomicBool>,
}

/// Opens `n` subscribers (client numbers from `first`) to `symbols` (all stocks when empty)
/// and keeps them running until `stop`. (Each future yields the spawned subscriber's handle, on
/// purpose: the tasks outlive this function.)
#[allow(clippy::async_yields_async)]
pub async fn start(
    target: &Target,
    first: usize,
    n: usize,
    symbols: Vec<String>,
    parse: Parse,
    counters: &Counters,
    stop: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let variables = if symbols.is_empty() {
        json!({})
    } else {
        json!({ "symbols": symbols })
    };
    stream::iter(first..first + n)
        .map(|i| {
            let (target, variables, counters, stop) = (
                target.clone(),
                variables.clone(),
                counters.clone(),
                stop.clone(),
            );
            async move {
                // The first connection is opened here so that the run starts with every
                // subscriber in place; later ones are the task's own reconnects.
                let ws = connect(&target, i, &variables).await;
                tokio::spawn(subscriber(target, i, variables, ws, parse, counters, stop))
            }
        })
        .buffer_unordered(64)
        .collect()
        .await
}

async fn connect(target: &Target, i: usize, variables: &Value) -> Result<client::Socket, Error> {
    let mut ws = client::socket(target, i, None).await?;
    client::subscribe(&mut ws, "ticks", TICKS, variables.clone()).await?;
    Ok(ws)
}

async fn subscriber(
    target: Target,
    i: usize,
    variables: Value,
    mut ws: Result<client::Socket, Error>,
    parse: Parse,
    c: Counters,
    stop: CancellationToken,
) {
    let mut last_seq: Option<u64> = None;
    let mut attempt = 0;
    loop {
        let mut socket = match ws {
            Ok(s) => s,
            Err(_) => {
                c.errors.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(client::backoff(attempt)) => {}
                }
                attempt += 1;
                c.reconnects.fetch_add(1, Ordering::Relaxed);
                ws = connect(&target, i, &variables).await;
                continue;
            }
        };
        attempt = 0;
        loop {
            let msg = tokio::select! {
                _ = stop.cancelled() => return,
                msg = socket.next() => msg,
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => break, // closed or failed: reconnect
            };
            let arrived = Utc::now();
            let Some((seq, at)) = (match parse {
                Parse::At => scan(&text),
                Parse::Full => full(&text),
            }) else {
                if text.contains(r#""type":"error""#) {
                    c.errors.fetch_add(1, Ordering::Relaxed);
                }
                continue; // not a tick frame (`complete`, `error`)
            };
            if !c.measuring.load(Ordering::Relaxed) {
                last_seq = Some(seq);
                continue;
            }
            c.frames.fetch_add(1, Ordering::Relaxed);
            match last_seq {
                Some(last) if seq <= last => {
                    c.out_of_order.fetch_add(1, Ordering::Relaxed);
                }
                Some(last) => {
                    c.missed.fetch_add(seq - last - 1, Ordering::Relaxed);
                }
                None => {}
            }
            last_seq = Some(seq);
            c.latency
                .push((arrived - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
        c.reconnects.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(client::backoff(0)) => {}
        }
        ws = connect(&target, i, &variables).await;
    }
}

/// `seq` and `at` read from the text: `…"ticks":{"seq":12,"at":"2026-…Z",…`.
fn scan(frame: &str) -> Option<(u64, DateTime<Utc>)> {
    let s = frame.find("\"seq\":")? + 6;
    let end = frame[s..].find(|c: char| !c.is_ascii_digit())?;
    let seq = frame[s..s + end].parse().ok()?;
    let a = frame.find("\"at\":\"")? + 6;
    let len = frame[a..].find('"')?;
    Some((seq, frame[a..a + len].parse().ok()?))
}

/// `seq` and `at` from the parsed frame, after reading every stock in it as a cache would.
fn full(frame: &str) -> Option<(u64, DateTime<Utc>)> {
    let v: Value = serde_json::from_str(frame).ok()?;
    let ticks = &v["payload"]["data"]["ticks"];
    for stock in ticks["stocks"].as_array()? {
        let price: f64 = stock["price"].as_str()?.parse().ok()?;
        if stock["id"].as_str()?.is_empty() || price <= 0.0 {
            return None;
        }
    }
    Some((ticks["seq"].as_u64()?, ticks["at"].as_str()?.parse().ok()?))
}

/// Adds a subscriber run's figures to `report`.
pub fn report(report: &mut Report, c: &Counters, secs: f64) {
    let s = c.latency.summary();
    let frames = c.frames.load(Ordering::Relaxed);
    report
        .add("frames", frames, "")
        .add("frames/s", round(frames as f64 / secs), "/s")
        .latency("round → subscriber", s)
        .add("missed rounds", c.missed.load(Ordering::Relaxed), "")
        .add("out of order", c.out_of_order.load(Ordering::Relaxed), "")
        .add("reconnects", c.reconnects.load(Ordering::Relaxed), "")
        .add("errors", c.errors.load(Ordering::Relaxed), "");
}

/// The whole `fanout` scenario.
pub async fn run(
    target: &Target,
    pid: Option<u32>,
    n: usize,
    stocks: usize,
    parse: Parse,
    secs: u64,
) -> Result<Report, Error> {
    let http = target.http(0, 4)?;
    client::require_open_market(&http, target).await?;
    let all = client::stocks(&http, target).await?;
    let symbols: Vec<String> = if stocks >= all.len() {
        Vec::new()
    } else {
        all.into_iter().take(stocks).map(|(_, s)| s).collect()
    };
    let rss_before = client::rss_kib(pid);
    let counters = Counters::default();
    let stop = CancellationToken::new();
    eprintln!("fanout: opening {n} subscribers ...");
    let tasks = start(target, 0, n, symbols, parse, &counters, &stop).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = client::rss_kib(pid);
    counters.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    counters.measuring.store(false, Ordering::Relaxed);
    let rss_end = client::rss_kib(pid);
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let mut r = Report::new(format!(
        "fanout: {n} subscribers, {stocks} stocks, parse={parse:?}, {secs} s"
    ));
    fanout_rss(&mut r, rss_before, rss_connected.max(rss_end), n);
    report(&mut r, &counters, secs as f64);
    Ok(r)
}

fn fanout_rss(r: &mut Report, before: Option<u64>, during: Option<u64>, n: usize) {
    if let (Some(b), Some(d)) = (before, during) {
        r.add("server RSS before", b, "KiB")
            .add("server RSS peak seen", d, "KiB")
            .add(
                "per subscriber",
                round(d.saturating_sub(b) as f64 / n.max(1) as f64),
                "KiB",
            );
    }
}
