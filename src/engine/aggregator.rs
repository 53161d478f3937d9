//! The candle aggregator: backfills history for stocks that have none, then every
//! `CANDLE_AGGREGATION_FREQUENCY` rebuilds recent candles from stored ticks and prunes old
//! ticks (both in the market service).

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{domain::market::candles::Interval, infra::lease::Fence, services::Services};

pub async fn run(
    services: Services,
    fence: Fence,
    candle_writer: super::CandleWriter,
    shutdown: CancellationToken,
) {
    let market = &services.market;
    let span = tracing::info_span!("candle_backfill");
    let written = retry!(
        "candle backfill",
        &shutdown,
        market
            .backfill_missing(&fence, &candle_writer)
            .instrument(span.clone())
    );
    if written > 0 {
        tracing::info!(candles = written, "backfilled candle history");
    }
    // The first pass rebuilds the whole current trading day; later ones the recent window.
    let tz = services.config.market_timezone;
    let mut since = Interval::D1.bucket_start(services.clock.now(), tz);
    let every = chrono::Duration::from_std(services.config.candle_aggregation_frequency)
        .unwrap_or(chrono::Duration::minutes(5));
    loop {
        let now = services.clock.now();
        let span = tracing::info_span!("candle_rebuild", since = %since);
        retry!(
            "candle rebuild",
            &shutdown,
            market
                .rebuild_candles(&fence, &candle_writer, since, now)
                .instrument(span.clone())
        );
        since = now - every * 2;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = services.clock.sleep_until(now + every) => {}
        }
    }
}
