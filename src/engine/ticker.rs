//! The price ticker: every `TICK_INTERVAL_SECS` while the market is open, one round (the
//! market service moves every active stock and stores prices, ticks and live candles in one
//! transaction), then ONE event with everything that moved, then the working orders the
//! round's prices reach.

use std::collections::HashMap;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{bus::Event, infra::lease::Fence, services::Services};

pub async fn run(
    services: Services,
    fence: Fence,
    mut open: watch::Receiver<bool>,
    prices: super::Prices,
    shutdown: CancellationToken,
) {
    let interval = chrono::Duration::from_std(services.config.tick_interval)
        .unwrap_or(chrono::Duration::seconds(2));
    loop {
        // Sleep while closed.
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = open.wait_for(|open| *open) => if changed.is_err() { return },
        }
        let next = services.clock.now() + interval;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = services.clock.sleep_until(next) => {}
        }
        if !*open.borrow() {
            continue;
        }
        let now = services.clock.now();
        let span = tracing::info_span!("tick_round", at = %now);
        let guard = prices.candle_writer.lock().await;
        let mut sim = prices.sim.lock().await;
        let started = std::time::Instant::now();
        let round = retry!(
            "tick round",
            &shutdown,
            services
                .market
                .tick_round(&fence, now, &mut sim)
                .instrument(span.clone())
        );
        drop((sim, guard));
        // Retries included: an operator wants to see rounds that took long, whatever the cause.
        metrics::histogram!("zebrat_tick_round_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        if let Some(round) = &round {
            metrics::histogram!("zebrat_tick_round_stocks").record(round.ticks.len() as f64);
        }
        if let Some(round) = round {
            let prices: HashMap<i64, i64> = round
                .ticks
                .iter()
                .map(|t| (t.stock_id, t.price_cents))
                .collect();
            if let Err(e) = services.bus.publish(Event::TickRound(round)).await {
                tracing::warn!(error = %e, "publishing a tick round");
            }
            // Working orders meet this round's prices (a failed pass meets the next round's).
            let started = std::time::Instant::now();
            match services
                .trading
                .evaluate_working(&fence, now, &prices)
                .instrument(span.clone())
                .await
            {
                Ok(done) if done.reached > 0 => {
                    tracing::debug!(?done, "working orders evaluated");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "evaluating working orders"),
            }
            metrics::histogram!("zebrat_working_orders_duration_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        // Orders queued while the market was opening (or left by a failed pass) run now.
        if let Err(e) = services.trading.execute_queued(&fence).await {
            tracing::warn!(error = %e, "running queued orders");
        }
    }
}
