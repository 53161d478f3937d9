//! Background work: the market scheduler, the price ticker, the candle aggregator and the
//! equity snapshots.
//! Each is a thin loop making one domain-service call per step; errors are logged and
//! retried, and every task stops when the shutdown token is cancelled.
//!
//! The engine runs only on the instance holding the engine lease (see `infra::lease`); the
//! others stand by and take over when the leader stops or loses the lease.

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    domain::market::tick::Simulation,
    infra::lease::{Fence, Lease},
    services::Services,
};

/// How often a standby tries for the lease and a leader checks it still holds it.
const LEASE_POLL: Duration = Duration::from_secs(1);

/// How the engine loop ended at shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It led the engine, stopped its tasks and released the lease for the next leader.
    Released,
    /// It was standing by (never led, or lost the lease before the shutdown).
    StandingBy,
}

/// Holds or waits for the engine lease until shutdown, running the engine while it is held.
pub async fn run(
    services: Services,
    mut lease: Lease,
    leader: watch::Sender<bool>,
    shutdown: CancellationToken,
) -> Stopped {
    loop {
        let Some(fence) = acquire(&mut lease, &shutdown).await else {
            return Stopped::StandingBy;
        };
        tracing::info!("engine lease acquired: this instance runs the engine");
        lease_changed("acquired");
        leader.send_replace(true);
        let term = shutdown.child_token();
        let mut tasks = spawn(&services, fence, &term);
        // Shutdown is looked at first and again in every branch: stopping also ends the
        // tasks (their token is a child of it) and may cut a lease check short, and neither is
        // a failure. Without that, `select!` picked a finished task at random half the time
        // and a clean stop dropped the lease instead of releasing it.
        let lost = loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break false,
                Some(ended) = tasks.join_next() => {
                    if shutdown.is_cancelled() {
                        break false;
                    }
                    // Only a panic ends a task early: let a fresh engine (maybe elsewhere) go on.
                    tracing::error!(?ended, "an engine task ended unexpectedly");
                    break true;
                }
                _ = tokio::time::sleep(LEASE_POLL) => {
                    if !lease.still_held().await && !shutdown.is_cancelled() {
                        break true;
                    }
                }
            }
        };
        term.cancel();
        while tasks.join_next().await.is_some() {}
        leader.send_replace(false);
        if !lost {
            lease.release().await;
            lease_changed("released");
            tracing::info!("engine stopped: lease released");
            return Stopped::Released;
        }
        lease.abandon();
        lease_changed("lost");
        tracing::warn!("engine lease lost: engine stopped, standing by");
    }
}

/// Counts a change of this instance's leadership (the leader gauge itself is read from the
/// leader flag on scrape).
fn lease_changed(change: &'static str) {
    metrics::counter!("zebrat_engine_lease_changes_total", "change" => change).increment(1);
}

/// Tries for the lease every `LEASE_POLL`; None on shutdown.
async fn acquire(lease: &mut Lease, shutdown: &CancellationToken) -> Option<Fence> {
    let mut logged = false;
    loop {
        let attempt = tokio::select! {
            _ = shutdown.cancelled() => return None,
            attempt = lease.try_acquire() => attempt,
        };
        match attempt {
            Ok(Some(fence)) => return Some(fence),
            Ok(None) if !logged => {
                tracing::info!("another instance runs the engine: standing by");
                logged = true;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "trying for the engine lease"),
        }
        if !pause(shutdown, LEASE_POLL).await {
            return None;
        }
    }
}

/// Starts the engine tasks under `fence`.
fn spawn(services: &Services, fence: Fence, shutdown: &CancellationToken) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let (open_tx, open_rx) = watch::channel(false);
    // Tick rounds and candle passes both read-modify-write candles: one at a time (a pass
    // takes it per stock, so a round never waits for a whole pass).
    let candle_writer = CandleWriter::default();
    // Lives as long as this leadership (a new leader resyncs from the stored prices). The
    // scheduler's opening round and the ticker's rounds draw from it in turn: the ticker is
    // held back while the market opens, so a seed gives the same prices every run.
    let prices = Prices {
        sim: Arc::new(tokio::sync::Mutex::new(Simulation::new(
            services.config.sim_seed,
        ))),
        candle_writer: candle_writer.clone(),
    };
    tasks.spawn(scheduler::run(
        services.clone(),
        fence.clone(),
        open_tx,
        prices.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(snapshots::run(
        services.clone(),
        fence.clone(),
        open_rx.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(ticker::run(
        services.clone(),
        fence.clone(),
        open_rx,
        prices,
        shutdown.clone(),
    ));
    tasks.spawn(aggregator::run(
        services.clone(),
        fence,
        candle_writer,
        shutdown.clone(),
    ));
    tasks
}

/// Held while writing candles, so live updates and rebuilds never interleave.
type CandleWriter = Arc<tokio::sync::Mutex<()>>;

/// What a task that moves prices holds: the simulation, and the candle writer its rounds take.
#[derive(Clone)]
struct Prices {
    sim: Arc<tokio::sync::Mutex<Simulation>>,
    candle_writer: CandleWriter,
}

/// Waits `delay` unless shutdown comes first; returns false on shutdown.
async fn pause(shutdown: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(delay) => true,
    }
}

/// Runs an expression yielding `Result` until it succeeds, backing off between failures;
/// returns from the enclosing function on shutdown.
macro_rules! retry {
    ($what:expr, $shutdown:expr, $step:expr) => {{
        let mut backoff = $crate::infra::retry::Backoff::for_engine();
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
mod snapshots;
mod ticker;
