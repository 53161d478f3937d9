//! Background work: the market scheduler, the price ticker and the candle aggregator.
//! Each is a thin loop around domain step functions; errors are logged and retried, and every
//! task stops when the shutdown token is cancelled.

use std::time::Duration;

use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::app::Services;

/// Starts the engine tasks.
pub fn spawn(services: &Services, shutdown: &CancellationToken) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let (open_tx, open_rx) = watch::channel(false);
    // Tick rounds and rebuild passes both read-modify-write candles: one at a time.
    let candle_writer = CandleWriter::default();
    tasks.spawn(scheduler::run(services.clone(), open_tx, shutdown.clone()));
    tasks.spawn(ticker::run(
        services.clone(),
        open_rx,
        candle_writer.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(aggregator::run(
        services.clone(),
        candle_writer,
        shutdown.clone(),
    ));
    tasks
}

/// Held while writing candles, so live updates and rebuilds never interleave.
type CandleWriter = std::sync::Arc<tokio::sync::Mutex<()>>;

/// Waits `delay` unless shutdown comes first; returns false on shutdown.
async fn pause(shutdown: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(delay) => true,
    }
}

/// Exponential back-off for a failing step: 200 ms doubling up to 30 s.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(Duration::from_millis(200))
    }

    /// Logs the failure and waits; false when shutdown came first.
    async fn failed(
        &mut self,
        what: &str,
        error: &crate::domain::Error,
        shutdown: &CancellationToken,
    ) -> bool {
        tracing::warn!(%error, "{what} failed; retrying in {:?}", self.0);
        let go_on = pause(shutdown, self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(30));
        go_on
    }
}

/// Runs an expression yielding `Result` until it succeeds, backing off between failures;
/// returns from the enclosing function on shutdown.
macro_rules! retry {
    ($what:expr, $shutdown:expr, $step:expr) => {{
        let mut backoff = $crate::engine::Backoff::new();
        loop {
            match $step.await {
                Ok(v) => break v,
                Err(e) => {
                    if !backoff.failed($what, &e, $shutdown).await {
                        return;
                    }
                }
            }
        }
    }};
}

mod aggregator;
mod scheduler;
mod ticker;

pub use aggregator::{backfill_all, rebuild as rebuild_candles};
