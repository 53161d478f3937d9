//! `peer`: the yardstick. A bare async-graphql server on axum, holding 100 stocks in memory and
//! pushing a tick round every second, with the same field names as Zebrat's `stocks`,
//! `marketState` and `ticks`, so that `reads --only stocks` and `fanout` run against it
//! unchanged. No database, no limits, no authentication: the framework's own ceiling, run on the
//! same machine in the same session as the figures it is compared with.

use std::{sync::Arc, time::Duration};

use async_graphql::{Context, Object, Schema, SimpleObject, Subscription};
use async_graphql_axum::{GraphQL, GraphQLSubscription};
use axum::{Router, routing::post_service};
use chrono::{SecondsFormat, Utc};
use futures_util::Stream;
use tokio::sync::{RwLock, broadcast};

use crate::client::Error;

#[derive(Clone, SimpleObject)]
struct Stock {
    id: String,
    symbol: String,
    name: String,
    price: String,
    change: String,
    change_percent: String,
    open: String,
    high: String,
    low: String,
    updated_at: String,
}

#[derive(Clone, SimpleObject)]
struct TickBatch {
    seq: i64,
    at: String,
    stocks: Vec<Stock>,
}

#[derive(SimpleObject)]
struct MarketState {
    is_open: bool,
}

struct State {
    stocks: RwLock<Vec<Stock>>,
    rounds: broadcast::Sender<Arc<TickBatch>>,
}

struct Query;

#[Object]
impl Query {
    async fn stocks(&self, ctx: &Context<'_>) -> Vec<Stock> {
        match ctx.data::<Arc<State>>() {
            Ok(s) => s.stocks.read().await.clone(),
            Err(_) => Vec::new(),
        }
    }

    async fn market_state(&self) -> MarketState {
        MarketState { is_open: true }
    }
}

struct Subscriptions;

#[Subscription]
impl Subscriptions {
    async fn ticks(
        &self,
        ctx: &Context<'_>,
        symbols: Option<Vec<String>>,
    ) -> impl Stream<Item = TickBatch> + use<> {
        let rx = ctx.data::<Arc<State>>().ok().map(|s| s.rounds.subscribe());
        futures_util::stream::unfold(rx, move |rx| {
            let symbols = symbols.clone();
            async move {
                let mut rx = rx?;
                loop {
                    match rx.recv().await {
                        Ok(round) => {
                            let mut batch = (*round).clone();
                            if let Some(wanted) = &symbols {
                                batch.stocks.retain(|s| wanted.contains(&s.symbol));
                            }
                            return Some((batch, Some(rx)));
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        })
    }
}

fn stock(i: usize, price: f64, open: f64) -> Stock {
    Stock {
        id: format!("U3RvY2s6{i}"),
        symbol: format!("P{i:03}"),
        name: format!("Peer {i}"),
        price: format!("{price:.2}"),
        change: format!("{:.2}", price - open),
        change_percent: format!("{:.2}", (price - open) / open * 100.0),
        open: format!("{open:.2}"),
        high: format!("{:.2}", price.max(open)),
        low: format!("{:.2}", price.min(open)),
        updated_at: now(),
    }
}

pub async fn run(bind: &str) -> Result<(), Error> {
    let (rounds, _) = broadcast::channel(16);
    let state = Arc::new(State {
        stocks: RwLock::new((0..100).map(|i| stock(i, 100.0, 100.0)).collect()),
        rounds,
    });
    let schema = Schema::build(Query, async_graphql::EmptyMutation, Subscriptions)
        .data(state.clone())
        .finish();
    let ticker = state.clone();
    tokio::spawn(async move {
        let mut prices = vec![100.0f64; 100];
        for seq in 1.. {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut stocks = Vec::with_capacity(100);
            for (i, p) in prices.iter_mut().enumerate() {
                *p = (*p * (1.0 + (rand::random::<f64>() - 0.5) * 0.01)).max(1.0);
                stocks.push(stock(i, *p, 100.0));
            }
            *ticker.stocks.write().await = stocks.clone();
            let _ = ticker.rounds.send(Arc::new(TickBatch {
                seq,
                at: now(),
                stocks,
            }));
        }
    });
    let app = Router::new()
        .route_service("/graphql", post_service(GraphQL::new(schema.clone())))
        .route_service("/graphql/ws", GraphQLSubscription::new(schema));
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!(
        "peer: a bare async-graphql server on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// Timestamps as Zebrat's `DateTime` scalar writes them.
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
