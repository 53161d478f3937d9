//! One back-off policy for every step that retries after a failure (engine steps, the Redis
//! subscription): exponential with jitter, through `backon`, and interruptible by shutdown.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

/// Delays between attempts: `first`, doubling (with jitter) up to `max`, never giving up.
pub struct Backoff {
    policy: ExponentialBuilder,
    delays: ExponentialBackoff,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        let policy = ExponentialBuilder::default()
            .with_min_delay(first)
            .with_max_delay(max)
            .with_jitter()
            .without_max_times();
        Backoff {
            policy,
            delays: policy.build(),
            max,
        }
    }

    /// The engine's policy: 200 ms doubling up to 30 s.
    pub fn for_engine() -> Self {
        Self::new(Duration::from_millis(200), Duration::from_secs(30))
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.delays.next().unwrap_or(self.max)
    }

    /// Waits for the next delay; false when shutdown came first.
    pub async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let delay = self.next_delay();
        tokio::select! {
            _ = shutdown.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// Logs a failed attempt and waits; false when shutdown came first.
    pub async fn failed<E: std::fmt::Display + Sync + ?Sized>(
        &mut self,
        what: &str,
        error: &E,
        shutdown: &CancellationToken,
    ) -> bool {
        tracing::warn!(%error, "{what} failed; retrying");
        self.wait(shutdown).await
    }

    /// Starts again from the first delay (after a success).
    pub fn reset(&mut self) {
        self.delays = self.policy.build();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_reset() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let delays: Vec<_> = (0..8).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(100), "{delays:?}");
        assert!(delays[2] > delays[0], "grows: {delays:?}");
        // Jitter adds up to one more delay: the cap bounds each at twice `max`.
        assert!(
            delays.iter().all(|d| *d <= Duration::from_secs(2)),
            "{delays:?}"
        );
        assert!(
            delays[7] >= Duration::from_secs(1),
            "reaches the cap: {delays:?}"
        );
        backoff.reset();
        assert!(
            backoff.next_delay() < Duration::from_millis(250),
            "starts over"
        );
    }

    #[tokio::test]
    async fn shutdown_interrupts_the_wait() {
        let shutdown = CancellationToken::new();
        let mut backoff = Backoff::new(Duration::from_secs(60), Duration::from_secs(60));
        shutdown.cancel();
        assert!(!backoff.wait(&shutdown).await);
    }
}
