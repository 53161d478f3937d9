//! The engine's round over working orders: `cargo run --release --example working_orders_bench`.
//!
//! Builds the real application without its engine (`ZEBRAT_ROLE=api`) on a scratch database:
//! a temp SQLite file, or a new database on the PostgreSQL server that `BENCH_DATABASE_URL`
//! (else `TEST_DATABASE_URL`, else `DATABASE_URL`) points at, dropped afterwards. It writes
//! `BENCH_ORDERS` (100,000) working orders of 1,000 customers across `BENCH_STOCKS` (100)
//! stocks, all at 100.00: limit buys and sells 0.1–10 % away from the price (70 %), stops
//! (15 %), trailing stops of 1–10 % (10 %) and stop-limits (5 %), with their reservations.
//! Then it runs `BENCH_ROUNDS` (30) rounds: every stock takes a random step (standard
//! deviation `BENCH_ROUND_MOVE`, 0.1 % a round by default), and the engine's own step for
//! working orders (`evaluate_working`: trailing stops follow, reached orders fill in fenced
//! batches, under the engine lease on PostgreSQL) runs and is timed. Prints each round and
//! the median and p95. No assertions: figures only. `BENCH_KEEP=1` keeps the database (to
//! `EXPLAIN` the engine's statements on it).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{cash_ledger, orders, positions, prices_live, stocks, users};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement,
};
use zebrat::{Application, Config, clock::ManualClock, infra::lease::Lease};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Res<()> {
    let total = setting("BENCH_ORDERS", 100_000);
    let n_stocks = setting("BENCH_STOCKS", 100);
    let rounds = setting("BENCH_ROUNDS", 30);
    let step: f64 = std::env::var("BENCH_ROUND_MOVE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.001);
    let (url, label, scratch) = database().await?;
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url.clone()),
        ("BIND_ADDR", "127.0.0.1:0".into()),
        (
            "JWT_SECRET",
            "bench-secret-bench-secret-bench-secret".into(),
        ),
        ("ZEBRAT_ROLE", "api".into()),
        ("SEED_DEMO_DATA", "false".into()),
    ]);
    let clock = ManualClock::new(Utc::now());
    let config = Config::from_lookup(|k| vars.get(k).cloned())?;
    let app = Application::build_with_clock(config, Arc::new(clock.clone())).await?;
    let db = app.database().clone();
    let trading = app.services().trading.clone();

    let started = Instant::now();
    let stock_ids = write_stocks(&db, n_stocks).await?;
    let written = write_orders(&db, &stock_ids, total).await?;
    println!(
        "database: {label}; {written} working orders of 1000 customers across {} stocks \
         written in {:.1} s; rounds move each stock by a normal step of sd {:.2} %",
        stock_ids.len(),
        started.elapsed().as_secs_f64(),
        step * 100.0
    );

    let mut lease = Lease::for_database(&db, &url);
    let fence = lease
        .try_acquire()
        .await?
        .ok_or("the engine lease is taken")?;
    let mut rng = StdRng::seed_from_u64(16);
    let mut prices: HashMap<i64, f64> = stock_ids.iter().map(|id| (*id, 100.0)).collect();
    let mut times = Vec::with_capacity(rounds);
    let mut filled = 0;
    for round in 1..=rounds {
        for price in prices.values_mut() {
            let z: f64 = (0..12).map(|_| rng.random_range(0.0..1.0)).sum::<f64>() - 6.0;
            *price *= 1.0 + step * z;
        }
        let cents: HashMap<i64, i64> = prices
            .iter()
            .map(|(id, p)| (*id, ((p * 100.0).round() as i64).max(1)))
            .collect();
        clock.advance(chrono::Duration::seconds(2));
        let at = zebrat::clock::Clock::now(&clock);
        let start = Instant::now();
        let done = trading.evaluate_working(&fence, at, &cents).await?;
        let took = start.elapsed();
        times.push(took);
        filled += done.executed;
        println!(
            "round {round:>3}: {:>8.1} ms  reached {:>5}  executed {:>5}  rejected {:>3}  triggered {:>3}",
            took.as_secs_f64() * 1e3,
            done.reached,
            done.executed,
            done.rejected,
            done.triggered
        );
    }
    times.sort();
    let pct = |p: f64| {
        times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1e3
    };
    println!(
        "{label}: {rounds} rounds, {filled} fills; round time median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.95),
        times
            .last()
            .copied()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64()
            * 1e3
    );
    lease.release().await;
    app.shutdown_token().cancel();
    drop(app);
    db.close().await?;
    if std::env::var("BENCH_KEEP").is_ok() {
        println!("kept the database ({url}) as BENCH_KEEP asks");
        return Ok(());
    }
    scratch.remove().await
}

/// `n` active stocks at 100.00; their ids.
async fn write_stocks(db: &DatabaseConnection, n: usize) -> Res<Vec<i64>> {
    let now = Utc::now();
    let today = now.date_naive();
    let rows = (0..n).map(|i| stocks::ActiveModel {
        symbol: Set(format!("B{i:03}")),
        name: Set(format!("Bench {i}")),
        drift: Set(0.0),
        volatility: Set(0.02),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    stocks::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    let ids: Vec<i64> = stocks::Entity::find()
        .filter(stocks::Column::Symbol.starts_with("B"))
        .order_by_asc(stocks::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let live = ids.iter().map(|id| prices_live::ActiveModel {
        stock_id: Set(*id),
        last_cents: Set(10_000),
        open_cents: Set(10_000),
        high_cents: Set(10_000),
        low_cents: Set(10_000),
        prev_close_cents: Set(10_000),
        change_cents: Set(0),
        session_date: Set(today),
        updated_at: Set(now),
    });
    prices_live::Entity::insert_many(live)
        .exec_without_returning(db)
        .await?;
    Ok(ids)
}

/// One working order as written.
struct Planned {
    user: usize,
    stock: i64,
    sell: bool,
    kind: &'static str,
    quantity: i64,
    limit: Option<i64>,
    stop: Option<i64>,
    trail_bps: Option<i64>,
    reserved_cents: i64,
}

/// `total` working orders of 1,000 customers, each with the cash, shares and reservations
/// they hold; how many were written.
async fn write_orders(db: &DatabaseConnection, stock_ids: &[i64], total: usize) -> Res<usize> {
    const USERS: usize = 1_000;
    const CASH: i64 = 100_000_000; // $1,000,000 each
    const SHARES: i64 = 100_000;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(7);
    let away = |rng: &mut StdRng| 1.0 + rng.random_range(0.001..0.10);
    let mut planned = Vec::with_capacity(total);
    for i in 0..total {
        let (user, stock) = (i % USERS, stock_ids[(i / USERS + i) % stock_ids.len()]);
        let sell = rng.random_range(0..2) == 0;
        let quantity = rng.random_range(1..=10);
        let roll = rng.random_range(0..100);
        let (below, above) = {
            let f = away(&mut rng);
            ((10_000.0 / f) as i64, (10_000.0 * f) as i64)
        };
        // A buy limit waits below the price, a buy stop above it; sells the other way.
        let (limit_side, stop_side) = if sell { (above, below) } else { (below, above) };
        let (kind, limit, stop, trail_bps) = match roll {
            0..70 => ("LIMIT", Some(limit_side), None, None),
            70..85 => ("STOP", None, Some(stop_side), None),
            85..95 => {
                let bps = rng.random_range(100..=1_000);
                let offset = 10_000 * bps / 10_000;
                let stop = if sell {
                    10_000 - offset
                } else {
                    10_000 + offset
                };
                ("TRAILING_STOP", None, Some(stop), Some(bps))
            }
            _ => {
                let limit = if sell {
                    stop_side * 99 / 100
                } else {
                    stop_side * 101 / 100
                };
                ("STOP_LIMIT", Some(limit), Some(stop_side), None)
            }
        };
        let reserved_cents = match (sell, limit, stop) {
            (true, _, _) => 0,
            (false, Some(limit), _) => limit * quantity,
            (false, None, Some(stop)) => (stop * 105 + 99) / 100 * quantity,
            (false, None, None) => 0,
        };
        planned.push(Planned {
            user,
            stock,
            sell,
            kind,
            quantity,
            limit,
            stop,
            trail_bps,
            reserved_cents,
        });
    }
    let mut reserved = vec![0i64; USERS];
    let mut held: HashMap<(usize, i64), i64> = HashMap::new();
    for p in &planned {
        reserved[p.user] += p.reserved_cents;
        if p.sell {
            *held.entry((p.user, p.stock)).or_default() += p.quantity;
        }
    }
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|u| users::ActiveModel {
            email: Set(format!("bench{u}@example.com")),
            name: Set(format!("Bench {u}")),
            password_hash: Set("not a hash: bench users never log in".into()),
            role: Set("CUSTOMER".into()),
            active: Set(true),
            cash_cents: Set(CASH),
            reserved_cents: Set(reserved[*u]),
            created_at: Set(now),
            updated_at: Set(now),
            last_seen_at: Set(None),
            session_epoch: Set(0),
            ..Default::default()
        });
        users::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    let user_ids: Vec<i64> = users::Entity::find()
        .filter(users::Column::Email.starts_with("bench"))
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let ledger = user_ids.iter().map(|id| cash_ledger::ActiveModel {
        user_id: Set(*id),
        kind: Set("DEPOSIT".into()),
        amount_cents: Set(CASH),
        balance_after_cents: Set(CASH),
        reference: Set(None),
        created_at: Set(now),
        ..Default::default()
    });
    cash_ledger::Entity::insert_many(ledger)
        .exec_without_returning(db)
        .await?;
    // Every customer holds shares of the stocks they sell (bought before: a trade per
    // position would be the invariant; the benchmark measures the engine, not the books).
    let holdings: Vec<_> = held.into_iter().collect();
    for chunk in holdings.chunks(1_000) {
        let rows = chunk
            .iter()
            .map(|((u, stock), sold)| positions::ActiveModel {
                user_id: Set(user_ids[*u]),
                stock_id: Set(*stock),
                quantity: Set(SHARES),
                reserved_quantity: Set(*sold),
                cost_basis_cents: Set(SHARES * 10_000),
                realized_pnl_cents: Set(0),
                updated_at: Set(now),
                ..Default::default()
            });
        positions::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    for chunk in planned.chunks(1_000) {
        let rows = chunk.iter().map(|p| orders::ActiveModel {
            user_id: Set(user_ids[p.user]),
            stock_id: Set(p.stock),
            side: Set(if p.sell { "SELL" } else { "BUY" }.into()),
            quantity: Set(p.quantity),
            status: Set("OPEN".into()),
            order_type: Set(p.kind.into()),
            time_in_force: Set("GTC".into()),
            limit_price_cents: Set(p.limit),
            stop_price_cents: Set(p.stop),
            trail_percent_bps: Set(p.trail_bps),
            trail_amount_cents: Set(None),
            trail_reference_cents: Set(p.trail_bps.map(|_| 10_000)),
            triggered_at: Set(None),
            expires_at: Set(None),
            canceled_at: Set(None),
            price_cents: Set(None),
            total_cents: Set(None),
            reserved_cents: Set(p.reserved_cents),
            reserved_shares: Set(if p.sell { p.quantity } else { 0 }),
            replaced_by: Set(None),
            client_order_id: Set(None),
            reject_reason: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            executed_at: Set(None),
            ..Default::default()
        });
        orders::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE orders").await?;
    }
    Ok(planned.len())
}

/// The benchmark's own database, removed afterwards.
enum Scratch {
    Postgres { admin: String, name: String },
    Sqlite(std::path::PathBuf),
}

impl Scratch {
    async fn remove(self) -> Res<()> {
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

/// A fresh database: a new one on the PostgreSQL server named by the environment, or a temp
/// SQLite file.
async fn database() -> Res<(String, String, Scratch)> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let server = ["BENCH_DATABASE_URL", "TEST_DATABASE_URL", "DATABASE_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .filter(|u| u.starts_with("postgres"));
    match server {
        Some(admin) => {
            let name = format!("zebrat_bench_{id}");
            let conn = Database::connect(&admin).await?;
            conn.execute_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("CREATE DATABASE \"{name}\""),
            ))
            .await?;
            conn.close().await?;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            Ok((
                format!("{base}/{name}"),
                "PostgreSQL".into(),
                Scratch::Postgres { admin, name },
            ))
        }
        None => {
            let path = std::env::temp_dir().join(format!("zebrat-bench-{id}.db"));
            Ok((
                format!("sqlite://{}?mode=rwc", path.display()),
                "SQLite".into(),
                Scratch::Sqlite(path),
            ))
        }
    }
}
