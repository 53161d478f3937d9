//! `mixed`: the blend of a busy day, all at once against one server: (at `--scale 1`)
//! 10,000 tick subscribers to every stock (parsing every frame), 1,000 customers subscribed to
//! `portfolio` and `orderUpdates` of whom 200 place an order every 2 s, and 500 readers who each
//! load the stocks list or a 30-day chart every 2 s. Each part reports its own figures; any
//! error other than a business one is counted.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    accounts,
    client::{self, Error, Target},
    fanout::{self, Parse},
    reads,
    stats::{Report, Samples, round},
};

pub async fn run(
    target: &Target,
    pid: Option<u32>,
    scale: f64,
    secs: u64,
) -> Result<Vec<Report>, Error> {
    let part = |n: f64| ((n * scale).round() as usize).max(1);
    let (subscribers, account_users, traders, readers) =
        (part(10_000.0), part(1_000.0), part(200.0), part(500.0));
    let http = target.http(0, 1)?;
    client::require_open_market(&http, target).await?;
    let stocks = client::stocks(&http, target).await?;
    let symbol = stocks
        .first()
        .map(|s| s.1.clone())
        .ok_or("the server lists no stocks")?;
    let stop = CancellationToken::new();
    let rss_before = client::rss_kib(pid);

    let ticks = fanout::Counters::default();
    let mut tasks = fanout::start(
        target,
        0,
        subscribers,
        Vec::new(),
        Parse::Full,
        &ticks,
        &stop,
    )
    .await;
    let acc = accounts::Counters::default();
    let tag = format!("mixed-{}", std::process::id());
    tasks.extend(
        accounts::start(
            target,
            subscribers,
            account_users,
            traders.min(account_users),
            Duration::from_secs(2),
            &tag,
            &acc,
            &stop,
        )
        .await?,
    );
    let reader_first = subscribers + account_users + 1;
    let read_latency = Samples::default();
    let read_failures = Arc::new(AtomicU64::new(0));
    for k in 0..readers {
        let (target, stop, latency, failures, symbol) = (
            target.clone(),
            stop.clone(),
            read_latency.clone(),
            read_failures.clone(),
            symbol.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let Ok(http) = target.http(reader_first + k, 1) else { return };
            let all = reads::reads(&symbol);
            tokio::time::sleep(Duration::from_secs(2).mul_f64(rand::random::<f64>())).await;
            let mut turn = k;
            while !stop.is_cancelled() {
                let read = &all[turn % 2]; // the stocks list or the chart
                turn += 1;
                let start = Instant::now();
                let ok = client::gql(&http, &target, None, read.query, read.variables.clone())
                    .await
                    .is_ok_and(|a: Value| a["errors"].is_null() && !a["data"][read.field].is_null());
                if ok { latency.push(start.elapsed().as_secs_f64() * 1e3) } else { failures.fetch_add(1, Ordering::Relaxed); }
                tokio::select! { _ = stop.cancelled() => return, _ = tokio::time::sleep(Duration::from_secs(2)) => {} }
            }
        }));
    }
    accounts::settle(&acc, account_users).await;
    let rounds_before = acc.rounds.lock().map(|r| r.len()).unwrap_or(0);
    ticks.measuring.store(true, Ordering::Relaxed);
    acc.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    ticks.measuring.store(false, Ordering::Relaxed);
    acc.measuring.store(false, Ordering::Relaxed);
    let rss_end = client::rss_kib(pid);
    let rounds = acc.rounds.lock().map(|r| r.len()).unwrap_or(0) - rounds_before;
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }

    let mut t = Report::new(format!(
        "mixed/ticks: {subscribers} subscribers, every stock, parse=Full"
    ));
    fanout::report(&mut t, &ticks, secs as f64);
    let mut a = Report::new(format!(
        "mixed/accounts: {account_users} subscribers, {traders} trading every 2 s"
    ));
    accounts::report(&mut a, &acc, rounds, secs as f64);
    let mut r = Report::new(format!(
        "mixed/readers: {readers} readers, one read every 2 s"
    ));
    let s = read_latency.summary();
    r.add("reads/s", round(s.count as f64 / secs as f64), "/s")
        .latency("read", s)
        .add("failed", read_failures.load(Ordering::Relaxed), "");
    if let (Some(b), Some(e)) = (rss_before, rss_end) {
        r.add("server RSS before", b, "KiB")
            .add("server RSS at the end", e, "KiB");
    }
    Ok(vec![t, a, r])
}
