//! The load tool: one command per scenario, against any running Zebrat (the embedded default or
//! PostgreSQL + Redis, one instance or several behind a proxy).
//!
//! ```sh
//! cargo build --release --examples
//! set -a; . examples/load/server.env; set +a; target/release/zebrat &   # limits lifted for load
//! target/release/examples/load fanout --subscribers 10000 --stocks 100
//! target/release/examples/load orders --clients 1,8,32
//! target/release/examples/load reads --connections 64
//! target/release/examples/load accounts --subscribers 1000 --traders 0.2
//! target/release/examples/load mixed --scale 1
//! target/release/examples/load peer --bind 127.0.0.1:9000   # the bare async-graphql yardstick
//! ```
//!
//! Every scenario prints a table and, with `--json FILE`, writes its figures as JSON. The clients
//! behave like real ones: each has its own source address on loopback, logs in, parses what it
//! receives (`fanout --parse at` excepted), and reconnects with backoff when its socket drops.
//! They share the machine's cores with the server, so latencies are an upper bound.

mod accounts;
mod client;
mod fanout;
mod mixed;
mod orders;
mod peer;
mod reads;
mod stats;

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::{client::Error, fanout::Parse, stats::Report};

#[derive(Parser)]
#[command(about = "Load scenarios against a running Zebrat")]
struct Args {
    /// The server (or the proxy in front of several).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Seconds each measurement lasts.
    #[arg(long, global = true, default_value_t = 15)]
    secs: u64,
    /// The server's process id, for its resident memory (same machine only).
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// Also write the figures to this file as JSON.
    #[arg(long, global = true)]
    json: Option<std::path::PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// N subscribers to the ticks of M stocks: delivery latency, missed rounds, server memory.
    Fanout {
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// How many stocks each subscribes to (all when at least the number listed).
        #[arg(long, default_value_t = 100)]
        stocks: usize,
        #[arg(long, value_enum, default_value_t = Parse::Full)]
        parse: Parse,
    },
    /// C clients placing market orders: orders/s, latency, then every account checked.
    Orders {
        /// Client counts to run one after the other.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
        clients: Vec<usize>,
    },
    /// The stocks list, a 30-day 1H chart and a portfolio, each at C connections.
    Reads {
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Only the read whose name starts with this (`stocks`, `candles`, `portfolio`).
        #[arg(long)]
        only: Option<String>,
    },
    /// N customers subscribed to portfolio and orderUpdates, a fraction trading.
    Accounts {
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// The fraction that place an order every `--every` seconds.
        #[arg(long, default_value_t = 0.2)]
        traders: f64,
        #[arg(long, default_value_t = 2)]
        every: u64,
        /// The server's PostgreSQL database, to count transactions per round.
        #[arg(long)]
        pg_stats: Option<String>,
    },
    /// Ticks, account feeds, traders and readers at once (see `mixed.rs` for the blend).
    Mixed {
        /// Multiplies every part of the blend (1 = 10,000 / 1,000 / 200 / 500).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Serve the bare async-graphql yardstick until interrupted.
    Peer {
        #[arg(long, default_value = "127.0.0.1:9000")]
        bind: String,
    },
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let target = client::Target::new(&args.url)?;
    let reports: Vec<Report> = match args.scenario {
        Scenario::Fanout {
            subscribers,
            stocks,
            parse,
        } => {
            vec![fanout::run(&target, args.pid, subscribers, stocks, parse, args.secs).await?]
        }
        Scenario::Orders { clients } => vec![orders::run(&target, &clients, args.secs).await?],
        Scenario::Reads { connections, only } => {
            vec![reads::run(&target, connections, args.secs, only.as_deref()).await?]
        }
        Scenario::Accounts {
            subscribers,
            traders,
            every,
            pg_stats,
        } => vec![
            accounts::run(
                &target,
                subscribers,
                traders,
                Duration::from_secs(every),
                args.secs,
                pg_stats.as_deref(),
            )
            .await?,
        ],
        Scenario::Mixed { scale } => mixed::run(&target, args.pid, scale, args.secs).await?,
        Scenario::Peer { bind } => return peer::run(&bind).await,
    };
    for r in &reports {
        r.print();
    }
    if let Some(path) = args.json {
        let all: Vec<_> = reports.iter().map(Report::to_json).collect();
        std::fs::write(path, serde_json::to_string_pretty(&all)?)?;
    }
    Ok(())
}
