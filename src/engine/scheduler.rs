//! Opens and closes the market: computes the next transition and sleeps exactly until then,
//! or until hours, calendar days or the override change. At the open it runs the opening
//! round (the overnight gap) and then the queued orders, before the ticker is let go.

use std::{sync::Arc, time::Duration};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    bus::{Event, events::MarketStatus},
    domain::Result,
    infra::lease::Fence,
    services::Services,
};

/// Changes made outside this process without an event (the `zebrat market` CLI on SQLite)
/// are noticed within this long.
const REFRESH: Duration = Duration::from_secs(5);

pub async fn run(
    services: Services,
    fence: Fence,
    open_tx: watch::Sender<bool>,
    prices: super::Prices,
    shutdown: CancellationToken,
) {
    let mut events = services.bus.subscribe();
    let mut published: Option<MarketStatus> = None;
    // Due at the start of each leadership (the last one may have stopped mid-way) and at
    // each close; cleared once a pass succeeded.
    let mut expiry_due = true;
    loop {
        let span = tracing::info_span!("market_scheduler");
        let next = retry!(
            "market scheduling",
            &shutdown,
            evaluate(
                &services,
                &fence,
                &open_tx,
                &prices,
                &mut published,
                &mut expiry_due
            )
            .instrument(span.clone())
        );
        let far = services.clock.now() + chrono::Duration::days(365);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = services.clock.sleep_until(next.unwrap_or(far)) => {}
            _ = tokio::time::sleep(REFRESH) => {}
            alive = config_changed(&mut events) => if !alive { return },
        }
    }
}

/// Applies the state due now; returns when it next changes by itself.
async fn evaluate(
    services: &Services,
    fence: &Fence,
    open_tx: &watch::Sender<bool>,
    prices: &super::Prices,
    published: &mut Option<MarketStatus>,
    expiry_due: &mut bool,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let now = services.clock.now();
    let applied = services.market.apply_state(fence, now).await?;
    let status = applied.status;
    if applied.changed {
        tracing::info!(open = status.is_open, reason = ?status.reason, "market state changed");
    }
    // DAY orders end with their session: at the close, before anyone hears it closed.
    *expiry_due |= applied.changed && !status.is_open;
    // And every account's value at the close, for equity history and the leaderboard.
    if *expiry_due && !status.is_open {
        services.trading.expire_day_orders(fence).await?;
        services.equity.record_last_close(fence).await?;
        *expiry_due = false;
    }
    // The queue runs before the ticker is let go: at the open, and also when this leadership
    // finds the market already open (a restart, a failover or a lost lease during the opening
    // run) or the last run failed (`retry!` evaluates again with the ticker still held back).
    // Otherwise the first tick would move prices under the waiting orders.
    let ticker_held = !*open_tx.borrow();
    if status.is_open && (applied.changed || ticker_held) {
        // First the day's opening prices (the overnight gap), so the queue meets them.
        let opening = {
            let _writing = prices.candle_writer.lock().await;
            let mut sim = prices.sim.lock().await;
            services.market.opening_round(fence, now, &mut sim).await?
        };
        let mut opening_prices = std::collections::HashMap::new();
        if let Some(round) = opening {
            tracing::info!(
                stocks = round.ticks.len(),
                "opening round: the day's first prices"
            );
            opening_prices = round
                .ticks
                .iter()
                .map(|t| (t.stock_id, t.price_cents))
                .collect();
            if let Err(e) = services.bus.publish(Event::TickRound(round)).await {
                tracing::warn!(error = %e, "publishing the opening round");
            }
        }
        let executed = services.trading.execute_queued(fence).await?;
        if executed > 0 || applied.changed {
            tracing::info!(executed, "ran the queued orders before the first tick");
        }
        // Then the working orders meet the opening prices, as they meet every round's (a
        // failed pass meets the first tick's).
        if !opening_prices.is_empty()
            && let Err(e) = services
                .trading
                .evaluate_working(fence, now, &opening_prices)
                .await
        {
            tracing::warn!(error = %e, "evaluating working orders at the open");
        }
    }
    open_tx.send_if_modified(|open| std::mem::replace(open, status.is_open) != status.is_open);
    if published.as_ref() != Some(&status) {
        services
            .bus
            .publish(Event::MarketState(status.clone()))
            .await
            .map_err(crate::domain::Error::internal)?;
        *published = Some(status);
    }
    Ok(applied.next)
}

/// Completes when a `MarketConfigChanged` event arrives (or events were missed); false when
/// the bus is gone.
async fn config_changed(events: &mut broadcast::Receiver<Arc<Event>>) -> bool {
    loop {
        match events.recv().await {
            Ok(e) if matches!(*e, Event::MarketConfigChanged) => return true,
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(_)) => return true,
            Err(broadcast::error::RecvError::Closed) => return false,
        }
    }
}
