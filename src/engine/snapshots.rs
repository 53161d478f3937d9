//! Equity snapshots: at every five-minute boundary while the market is open, every account's
//! value is recorded (the day's closes are recorded by the scheduler); old five-minute and
//! hourly rows are pruned once an hour.

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    domain::equity::{Grain, next_boundary},
    infra::lease::Fence,
    services::Services,
};

pub async fn run(
    services: Services,
    fence: Fence,
    open: watch::Receiver<bool>,
    shutdown: CancellationToken,
) {
    let equity = &services.equity;
    let mut pruned = false;
    loop {
        let at = next_boundary(services.clock.now());
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = services.clock.sleep_until(at) => {}
        }
        if !*open.borrow() {
            continue;
        }
        let grain = Grain::of(at);
        let span = tracing::info_span!("equity_snapshot", at = %at, ?grain);
        let written = retry!(
            "equity snapshot",
            &shutdown,
            equity.record(&fence, at, grain).instrument(span.clone())
        );
        tracing::debug!(parent: &span, accounts = written, "recorded equity");
        if grain == Grain::H1 || !pruned {
            let span = tracing::info_span!("equity_prune");
            let deleted = retry!(
                "equity prune",
                &shutdown,
                equity.prune(&fence).instrument(span.clone())
            );
            if deleted > 0 {
                tracing::info!(parent: &span, rows = deleted, "pruned equity history");
            }
            pruned = true;
        }
    }
}
