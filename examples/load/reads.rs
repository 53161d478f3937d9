//! `reads`: C connections, each a client of its own, repeating one read as fast as its answers
//! come, for each of three reads in turn: the stocks list (anonymous), one stock with 30 days of
//! 1H candles (anonymous), and a portfolio (a logged-in customer per connection). Every answer
//! is parsed and checked for data and no errors.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::{
    client::{self, Error, Target},
    stats::{Report, Samples, round},
};

pub const STOCKS: &str = "{ stocks { id symbol name price change changePercent } }";
pub const CANDLES: &str = "query($s: String!, $from: DateTime!) { stock(by: { symbol: $s }) { id \
     candles(interval: H1, from: $from) { truncated candles { bucketStart open high low close } } } }";
pub const PORTFOLIO: &str = "{ portfolio { totalValue positionsValue cash { balance } \
     positions { quantity marketValue stock { id symbol price } } } }";

/// One read: its name, document, variables, whether it needs a customer, and the field that
/// must be present in `data`.
pub struct Read {
    pub name: &'static str,
    pub query: &'static str,
    pub variables: Value,
    pub logged_in: bool,
    pub field: &'static str,
}

/// The three reads, the candles one for `symbol`.
pub fn reads(symbol: &str) -> Vec<Read> {
    let from = (Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    vec![
        Read {
            name: "stocks",
            query: STOCKS,
            variables: json!({}),
            logged_in: false,
            field: "stocks",
        },
        Read {
            name: "candles 30d 1H",
            query: CANDLES,
            variables: json!({ "s": symbol, "from": from }),
            logged_in: false,
            field: "stock",
        },
        Read {
            name: "portfolio",
            query: PORTFOLIO,
            variables: json!({}),
            logged_in: true,
            field: "portfolio",
        },
    ]
}

/// Repeats `read` on `connections` clients (numbers from `first`) until `deadline`; returns
/// (latencies, failures).
pub async fn hammer(
    target: &Target,
    first: usize,
    read: &Read,
    tokens: &[String],
    deadline: Instant,
    latency: &Samples,
) -> Result<u64, Error> {
    let tasks = tokens.iter().enumerate().map(|(k, token)| {
        let http = target.http(first + k, 1);
        let (target, latency) = (target.clone(), latency.clone());
        let token = read.logged_in.then(|| token.clone());
        let (query, variables, field) = (read.query, read.variables.clone(), read.field);
        tokio::spawn(async move {
            let http = http?;
            let mut failures = 0u64;
            while Instant::now() < deadline {
                let start = Instant::now();
                match client::gql(&http, &target, token.as_deref(), query, variables.clone()).await
                {
                    Ok(a)
                        if a["errors"].is_null()
                            && (a["data"][field].is_object() || a["data"][field].is_array()) =>
                    {
                        latency.push(start.elapsed().as_secs_f64() * 1e3)
                    }
                    _ => failures += 1,
                }
            }
            Ok::<u64, Error>(failures)
        })
    });
    let mut failures = 0;
    for t in futures_util::future::join_all(tasks).await {
        failures += t??;
    }
    Ok(failures)
}

/// `connections` customers, each holding one share of three stocks.
pub async fn customers(
    target: &Target,
    first: usize,
    connections: usize,
    tag: &str,
) -> Result<Vec<String>, Error> {
    const BUY: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { status } userErrors { code message } } }";
    let http0 = target.http(first, 1)?;
    let stocks = client::stocks(&http0, target).await?;
    let mut tokens = Vec::new();
    for k in 0..connections {
        let http = target.http(first + k, 1)?;
        let token = client::customer(&http, target, tag, first + k, 100_000).await?;
        for s in 0..3.min(stocks.len()) {
            let stock = &stocks[(k + s) % stocks.len()].0;
            let vars = json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": 1 } });
            let a = client::gql(&http, target, Some(&token), BUY, vars).await?;
            if a["data"]["placeOrder"]["order"].is_null() {
                return Err(format!("buy failed: {a}").into());
            }
        }
        tokens.push(token);
    }
    Ok(tokens)
}

pub async fn run(
    target: &Target,
    connections: usize,
    secs: u64,
    only: Option<&str>,
) -> Result<Report, Error> {
    let http = target.http(0, 1)?;
    let stocks = client::stocks(&http, target).await?;
    let symbol = stocks
        .first()
        .map(|s| s.1.clone())
        .ok_or("the server lists no stocks")?;
    let all = reads(&symbol);
    let needs_customers = all
        .iter()
        .any(|r| r.logged_in && only.is_none_or(|o| r.name.starts_with(o)));
    let tokens = if needs_customers {
        eprintln!("reads: registering {connections} customers ...");
        customers(
            target,
            0,
            connections,
            &format!("reads-{}", std::process::id()),
        )
        .await?
    } else {
        vec![String::new(); connections]
    };
    let mut report = Report::new(format!(
        "reads: {connections} connections, {secs} s per read"
    ));
    for read in all
        .iter()
        .filter(|r| only.is_none_or(|o| r.name.starts_with(o)))
    {
        let latency = Samples::default();
        let deadline = Instant::now() + Duration::from_secs(secs);
        let failures = hammer(target, 0, read, &tokens, deadline, &latency).await?;
        let s = latency.summary();
        report
            .add(
                &format!("{} requests/s", read.name),
                round(s.count as f64 / secs as f64),
                "/s",
            )
            .add(&format!("{} p50", read.name), round(s.p50), "ms")
            .add(&format!("{} p99", read.name), round(s.p99), "ms")
            .add(&format!("{} failed", read.name), failures, "");
    }
    Ok(report)
}
