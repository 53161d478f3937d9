//! `orders`: C clients placing one-share market buys as fast as each gets its answers, over
//! HTTP, each logged in as a customer of its own; then the money is checked: every client's
//! cash is its deposit minus what its fills cost, to the cent, and its position is the number
//! of shares its fills bought.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    client::{self, Error, Target},
    stats::{Report, Samples, round},
};

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { status } trade { quantity total } userErrors { code message } } }";
const HOLDINGS: &str = "{ cash { balance } portfolio { positions { quantity stock { id } } } }";
/// Each client's deposit, in dollars: enough for thousands of buys a second.
const DEPOSIT: u64 = 1_000_000;

/// What one client did: its fills by stock, their total cost, its latencies and failures.
struct Run {
    bought: HashMap<String, i64>,
    spent: Decimal,
    failures: u64,
}

pub async fn run(target: &Target, clients: &[usize], secs: u64) -> Result<Report, Error> {
    let most = clients.iter().copied().max().unwrap_or(1);
    let http = target.http(0, 4)?;
    client::require_open_market(&http, target).await?;
    let stocks = client::stocks(&http, target).await?;
    let tag = format!("orders-{}", std::process::id());
    eprintln!("orders: registering {most} customers ...");
    let mut users = Vec::new();
    for i in 0..most {
        let http = target.http(i, 4)?;
        let token = client::customer(&http, target, &tag, i, DEPOSIT).await?;
        users.push((http, token));
    }
    let mut report = Report::new(format!(
        "orders: one-share market buys over HTTP, {secs} s per step"
    ));
    let mut totals: Vec<(HashMap<String, i64>, Decimal)> =
        vec![(HashMap::new(), Decimal::ZERO); most];
    for &c in clients {
        let latency = Samples::default();
        let deadline = Instant::now() + Duration::from_secs(secs);
        let runs = users[..c].iter().enumerate().map(|(i, (http, token))| {
            let (http, token, target, latency) =
                (http.clone(), token.clone(), target.clone(), latency.clone());
            let stock = stocks[i % stocks.len()].0.clone();
            tokio::spawn(
                async move { trader(&http, &target, &token, &stock, deadline, &latency).await },
            )
        });
        let mut failures = 0;
        for (i, run) in futures_util::future::join_all(runs)
            .await
            .into_iter()
            .enumerate()
        {
            let run = run??;
            failures += run.failures;
            for (stock, q) in run.bought {
                *totals[i].0.entry(stock).or_default() += q;
            }
            totals[i].1 += run.spent;
        }
        let s = latency.summary();
        report
            .add(
                &format!("clients={c} orders/s"),
                round(s.count as f64 / secs as f64),
                "/s",
            )
            .add(&format!("clients={c} p50"), round(s.p50), "ms")
            .add(&format!("clients={c} p99"), round(s.p99), "ms")
            .add(&format!("clients={c} failed"), failures, "");
    }
    let broken = check(target, &users, &totals).await?;
    report
        .add("accounts checked", users.len(), "")
        .add("accounts wrong", broken, "");
    if broken > 0 {
        return Err(format!("{broken} accounts do not match their fills").into());
    }
    Ok(report)
}

async fn trader(
    http: &reqwest::Client,
    target: &Target,
    token: &str,
    stock: &str,
    deadline: Instant,
    latency: &Samples,
) -> Result<Run, Error> {
    let mut run = Run {
        bought: HashMap::new(),
        spent: Decimal::ZERO,
        failures: 0,
    };
    let vars = json!({ "i": { "stock": { "id": stock }, "side": "BUY", "quantity": 1 } });
    while Instant::now() < deadline {
        let start = Instant::now();
        let answer = client::gql(http, target, Some(token), PLACE, vars.clone()).await;
        let filled = answer.as_ref().ok().and_then(|a| {
            let p = &a["data"]["placeOrder"];
            (p["order"]["status"] == "EXECUTED").then(|| {
                (
                    p["trade"]["quantity"].as_i64(),
                    decimal(&p["trade"]["total"]),
                )
            })
        });
        match filled {
            Some((Some(q), Some(total))) => {
                latency.push(start.elapsed().as_secs_f64() * 1e3);
                *run.bought.entry(stock.to_string()).or_default() += q;
                run.spent += total;
            }
            _ => run.failures += 1,
        }
    }
    Ok(run)
}

/// The accounts whose cash or positions differ from their fills.
async fn check(
    target: &Target,
    users: &[(reqwest::Client, String)],
    totals: &[(HashMap<String, i64>, Decimal)],
) -> Result<usize, Error> {
    let mut broken = 0;
    for ((http, token), (bought, spent)) in users.iter().zip(totals) {
        let a = client::gql(http, target, Some(token), HOLDINGS, json!({})).await?;
        let cash = decimal(&a["data"]["cash"]["balance"])
            .ok_or_else(|| format!("holdings failed: {a}"))?;
        let held: HashMap<String, i64> = a["data"]["portfolio"]["positions"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| {
                        Some((
                            p["stock"]["id"].as_str()?.to_string(),
                            p["quantity"].as_i64()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if cash != Decimal::from(DEPOSIT) - spent || held != *bought {
            eprintln!(
                "account mismatch: cash {cash} expected {}; held {held:?} bought {bought:?}",
                Decimal::from(DEPOSIT) - spent
            );
            broken += 1;
        }
    }
    Ok(broken)
}

fn decimal(v: &Value) -> Option<Decimal> {
    v.as_str()?.parse().ok()
}
