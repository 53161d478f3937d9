//! `accounts`: N logged-in customers, each holding three moving stocks and subscribed to its
//! `portfolio` and `orderUpdates` on one socket (reconnecting with backoff when it drops); a
//! fraction of them trade. Measures the delay from each portfolio valuation (`updatedAt`: the
//! tick round's timestamp for the frames a round causes) to the frame's arrival, the delay from sending an order to its `orderUpdates` event, and on PostgreSQL
//! (`--pg-stats`) the database transactions per round, which must not grow with N.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::{
    client::{self, Error, Target},
    reads,
    stats::{Report, Samples, round},
};

const PORTFOLIO: &str = "subscription { portfolio { totalValue positionsValue updatedAt positions { quantity marketValue stock { id price } } } }";
const ORDER_UPDATES: &str = "subscription { orderUpdates { order { id status clientOrderId } trade { price } cash { balance } } }";
const ROUNDS: &str = "subscription { ticks { seq at } }";
const BUY: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { status } userErrors { code } } }";

/// Tick round timestamps seen so far, newest last.
type Rounds = Arc<Mutex<Vec<DateTime<Utc>>>>;

#[derive(Clone, Default)]
pub struct Counters {
    pub portfolio: Samples,
    pub order_update: Samples,
    pub portfolio_frames: Arc<AtomicU64>,
    pub orders: Arc<AtomicU64>,
    pub order_failures: Arc<AtomicU64>,
    pub reconnects: Arc<AtomicU64>,
    /// Subscribers that received their first valuation: the socket, its session and the
    /// first read of the account are behind them.
    pub ready: Arc<AtomicU64>,
    pub measuring: Arc<AtomicBool>,
    pub rounds: Rounds,
}

/// Starts the round recorder and `n` account subscribers (client numbers from `first`), of which
/// `traders` trade every `every`.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    target: &Target,
    first: usize,
    n: usize,
    traders: usize,
    every: Duration,
    tag: &str,
    c: &Counters,
    stop: &CancellationToken,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Error> {
    let mut tasks = vec![tokio::spawn(recorder(
        target.clone(),
        first,
        c.rounds.clone(),
        stop.clone(),
    ))];
    eprintln!("accounts: registering {n} customers holding three stocks each ...");
    let tokens: Vec<String> = stream::iter(0..n)
        .map(|k| {
            let target = target.clone();
            let tag = tag.to_string();
            async move { reads::customers(&target, first + 1 + k, 1, &tag).await }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let stocks = client::stocks(&target.http(first, 1)?, target).await?;
    for (k, token) in tokens.into_iter().enumerate() {
        let stock = stocks[k % stocks.len()].0.clone();
        let trade = (k < traders).then_some(every);
        tasks.push(tokio::spawn(account(
            target.clone(),
            first + 1 + k,
            token,
            stock,
            trade,
            c.clone(),
            stop.clone(),
        )));
    }
    Ok(tasks)
}

/// One socket subscribed to the round timestamps.
async fn recorder(target: Target, i: usize, rounds: Rounds, stop: CancellationToken) {
    let mut attempt = 0;
    while !stop.is_cancelled() {
        if let Ok(mut ws) = client::socket(&target, i, None).await
            && client::subscribe(&mut ws, "r", ROUNDS, json!({}))
                .await
                .is_ok()
        {
            attempt = 0;
            loop {
                let msg = tokio::select! { _ = stop.cancelled() => return, m = ws.next() => m };
                let Some(Ok(Message::Text(t))) = msg else {
                    break;
                };
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                if let Some(at) = v["payload"]["data"]["ticks"]["at"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                {
                    rounds.lock().map(|mut r| r.push(at)).ok();
                }
            }
        }
        tokio::time::sleep(client::backoff(attempt)).await;
        attempt += 1;
    }
}

/// A customer's socket (portfolio + orderUpdates) and, for a trader, its orders.
async fn account(
    target: Target,
    i: usize,
    token: String,
    stock: String,
    trade: Option<Duration>,
    c: Counters,
    stop: CancellationToken,
) {
    let sent: Arc<Mutex<Option<Instant>>> = Arc::default();
    if let Some(every) = trade {
        let (target, token, c, stop, sent) = (
            target.clone(),
            token.clone(),
            c.clone(),
            stop.clone(),
            sent.clone(),
        );
        tokio::spawn(async move {
            let Ok(http) = target.http(i, 1) else { return };
            // Spread the traders' first orders over one period.
            tokio::time::sleep(every.mul_f64(rand::random::<f64>())).await;
            while !stop.is_cancelled() {
                let vars =
                    json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": 1 } });
                sent.lock().map(|mut s| *s = Some(Instant::now())).ok();
                let ok = client::gql(&http, &target, Some(&token), BUY, vars)
                    .await
                    .is_ok_and(|a| a["data"]["placeOrder"]["order"]["status"] == "EXECUTED");
                if c.measuring.load(Ordering::Relaxed) {
                    let counter = if ok { &c.orders } else { &c.order_failures };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                tokio::select! { _ = stop.cancelled() => return, _ = tokio::time::sleep(every) => {} }
            }
        });
    }
    let mut attempt = 0;
    while !stop.is_cancelled() {
        let ws = async {
            let mut ws = client::socket(&target, i, Some(&token)).await?;
            client::subscribe(&mut ws, "p", PORTFOLIO, json!({})).await?;
            client::subscribe(&mut ws, "o", ORDER_UPDATES, json!({})).await?;
            Ok::<_, Error>(ws)
        };
        if let Ok(mut ws) = ws.await {
            attempt = 0;
            let mut first = true;
            loop {
                let msg = tokio::select! { _ = stop.cancelled() => return, m = ws.next() => m };
                let Some(Ok(Message::Text(t))) = msg else {
                    break;
                };
                let arrived = Utc::now();
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                if first && v["id"] == "p" && v["type"] == "next" {
                    first = false;
                    c.ready.fetch_add(1, Ordering::Relaxed);
                }
                if v["type"] != "next" || !c.measuring.load(Ordering::Relaxed) {
                    continue;
                }
                if v["id"] == "p" && v["payload"]["data"]["portfolio"]["totalValue"].is_string() {
                    c.portfolio_frames.fetch_add(1, Ordering::Relaxed);
                    // `updatedAt` is the round's timestamp when a round caused the frame (and
                    // the valuation's time when a trade or deposit did).
                    let at: Option<DateTime<Utc>> = v["payload"]["data"]["portfolio"]["updatedAt"]
                        .as_str()
                        .and_then(|a| a.parse().ok());
                    if let Some(at) = at {
                        c.portfolio
                            .push((arrived - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
                    }
                } else if v["id"] == "o"
                    && v["payload"]["data"]["orderUpdates"]["order"]["status"] == "EXECUTED"
                    && let Some(at) = sent.lock().ok().and_then(|mut s| s.take())
                {
                    c.order_update.push(at.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        c.reconnects.fetch_add(1, Ordering::Relaxed);
        tokio::select! { _ = stop.cancelled() => return, _ = tokio::time::sleep(client::backoff(attempt)) => {} }
        attempt += 1;
    }
}

/// Waits until the `n` subscribers have their first valuation (at most a minute), then a few
/// rounds more: what opening a socket costs (the session, the first read of the account) must
/// not be counted as the per-round cost of feeds that are already open.
pub async fn settle(c: &Counters, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while (c.ready.load(Ordering::Relaxed) as usize) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = c.ready.load(Ordering::Relaxed);
    if (ready as usize) < n {
        eprintln!("accounts: only {ready} of {n} subscribers had a first valuation after a minute");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
}

pub fn report(r: &mut Report, c: &Counters, rounds: usize, secs: f64) {
    let frames = c.portfolio_frames.load(Ordering::Relaxed);
    r.add("rounds", rounds, "")
        .add("portfolio frames", frames, "")
        .latency("valuation → portfolio frame", c.portfolio.summary())
        .add(
            "orders filled/s",
            round(c.orders.load(Ordering::Relaxed) as f64 / secs),
            "/s",
        )
        .add(
            "orders failed",
            c.order_failures.load(Ordering::Relaxed),
            "",
        )
        .latency("order sent → orderUpdates", c.order_update.summary())
        .add("reconnects", c.reconnects.load(Ordering::Relaxed), "");
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    target: &Target,
    n: usize,
    traders: f64,
    every: Duration,
    secs: u64,
    pg_stats: Option<&str>,
) -> Result<Report, Error> {
    client::require_open_market(&target.http(0, 1)?, target).await?;
    let c = Counters::default();
    let stop = CancellationToken::new();
    let tag = format!("accounts-{}", std::process::id());
    let tasks = start(
        target,
        0,
        n,
        (n as f64 * traders) as usize,
        every,
        &tag,
        &c,
        &stop,
    )
    .await?;
    settle(&c, n).await;
    let stats = match pg_stats {
        Some(url) => Some(Database::connect(url).await?),
        None => None,
    };
    let before = match &stats {
        Some(db) => Some(transactions(db).await?),
        None => None,
    };
    let rounds_before = c.rounds.lock().map(|r| r.len()).unwrap_or(0);
    c.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    c.measuring.store(false, Ordering::Relaxed);
    let rounds = c.rounds.lock().map(|r| r.len()).unwrap_or(0) - rounds_before;
    tokio::time::sleep(Duration::from_millis(1500)).await; // pg_stat counters flush each second
    let after = match &stats {
        Some(db) => Some(transactions(db).await?),
        None => None,
    };
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let mut r = Report::new(format!(
        "accounts: {n} subscribers (portfolio + orderUpdates), {:.0}% trading every {:?}, {secs} s",
        traders * 100.0,
        every
    ));
    report(&mut r, &c, rounds, secs as f64);
    if let (Some(b), Some(a)) = (before, after) {
        r.add(
            "database transactions per round",
            round((a - b) as f64 / rounds.max(1) as f64),
            "",
        );
    }
    Ok(r)
}

/// Committed plus rolled-back transactions of the server's database (PostgreSQL).
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
