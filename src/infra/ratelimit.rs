//! Rate limits: fixed windows counted per key (a client address, an email, a user).
//!
//! With Redis the counters are shared by every instance (`SET NX PX` opens a window, `INCR`
//! counts, `PTTL` says when it ends); without Redis, or while Redis is unreachable, each
//! instance counts in memory.
//!
//! A request never waits long on Redis: the shared count gets `REDIS_BUDGET`, and after a
//! failed or slow call the limiter counts locally for `REDIS_PAUSE` before trying Redis again.
//! So when Redis dies, only the requests already waiting on it pay (at most the budget), not
//! every request until the client notices the connection is gone.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fred::{
    clients::Client,
    interfaces::{ClientLike, KeysInterface},
    types::{Expiration, SetOptions},
};

/// A hit over its limit: the caller may try again after `retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry in {retry_after_secs} s")]
pub struct RateLimited {
    pub retry_after_secs: u64,
}

/// At most `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub max: u32,
    pub window: Duration,
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `"5/60"`: five per sixty seconds.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected `max/seconds` (e.g. 5/60) or `off`, not `{s}`");
        let (max, secs) = s.split_once('/').ok_or_else(bad)?;
        let max: u32 = max.trim().parse().map_err(|_| bad())?;
        let secs: u64 = secs.trim().parse().map_err(|_| bad())?;
        if max == 0 || secs == 0 {
            return Err(bad());
        }
        Ok(Rate {
            max,
            window: Duration::from_secs(secs),
        })
    }
}

/// What is limited, and how much (`None`: not limited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Login attempts per client address, and per email from one client address.
    pub login: Option<Rate>,
    /// Login attempts on the whole service, whoever makes them.
    pub login_global: Option<Rate>,
    /// Registrations per client address.
    pub register: Option<Rate>,
    /// Order placements per user.
    pub orders: Option<Rate>,
    /// Deposits per user.
    pub deposits: Option<Rate>,
}

/// Counts hits; cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Option<(Client, Arc<str>)>,
    memory: Arc<Mutex<Memory>>,
    /// Until when Redis is skipped after it failed or was slow.
    redis_paused_until: Arc<Mutex<Option<Instant>>>,
}

/// Longest a request waits for the shared count before counting locally. A local Redis answers
/// in well under a millisecond; this is for one that has just died or hangs.
const REDIS_BUDGET: Duration = Duration::from_millis(50);
/// How long the limiter counts locally after Redis failed or was slow.
const REDIS_PAUSE: Duration = Duration::from_secs(1);

/// In-memory windows by key.
#[derive(Debug)]
struct Memory {
    table: HashMap<String, Window>,
    /// Finished windows are dropped when the table reaches this size.
    prune_at: usize,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            table: HashMap::new(),
            prune_at: PRUNE_AT,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    ends: Instant,
    hits: u32,
}

/// Forget finished windows once the in-memory table grows past this.
const PRUNE_AT: usize = 10_000;

impl RateLimiter {
    /// Counts in Redis (keys `<prefix>:rl:…`) when a client is given, else in memory.
    pub fn new(redis: Option<Client>, prefix: &str) -> Self {
        RateLimiter {
            redis: redis.map(|c| (c, format!("{prefix}:rl:").into())),
            memory: Arc::default(),
            redis_paused_until: Arc::default(),
        }
    }

    /// Counts one hit on each key in turn; RATE_LIMITED at the first one over `rate`, and the
    /// keys after it are not counted (so a client blocked by address cannot keep filling the
    /// window of an email it is guessing at). `None` never limits. `rule` names the limit in
    /// the refusal metric (a fixed word, never a key: keys hold addresses and emails).
    pub async fn hit(
        &self,
        rule: &'static str,
        rate: Option<Rate>,
        keys: &[&str],
    ) -> Result<(), RateLimited> {
        let Some(rate) = rate else {
            return Ok(());
        };
        for key in keys {
            if let Some(wait) = self.hit_one(rate, key).await {
                metrics::counter!("zebrat_rate_limit_refusals_total", "rule" => rule).increment(1);
                return Err(RateLimited {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                });
            }
        }
        Ok(())
    }

    /// None when under the limit, else how long until the window ends.
    async fn hit_one(&self, rate: Rate, key: &str) -> Option<Duration> {
        if let Some((client, prefix)) = &self.redis
            && client.is_connected()
            && !self.redis_paused()
        {
            let redis_key = format!("{prefix}{key}");
            let shared = redis_hit(client, &redis_key, rate);
            match tokio::time::timeout(REDIS_BUDGET, shared).await {
                Ok(Ok(outcome)) => return outcome,
                Ok(Err(e)) => {
                    self.pause_redis();
                    tracing::warn!(error = %e, "rate limit in Redis failed: counting locally");
                }
                Err(_) => {
                    self.pause_redis();
                    tracing::warn!("rate limit in Redis too slow: counting locally for a while");
                }
            }
        }
        self.memory_hit(rate, key)
    }

    fn redis_paused(&self) -> bool {
        let paused = self
            .redis_paused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        paused.is_some_and(|until| Instant::now() < until)
    }

    fn pause_redis(&self) {
        let mut paused = self
            .redis_paused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *paused = Some(Instant::now() + REDIS_PAUSE);
    }

    fn memory_hit(&self, rate: Rate, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        let Memory { table, prune_at } = &mut *memory;
        if table.len() >= *prune_at {
            table.retain(|_, w| w.ends > now);
            // Next time only after the table has doubled: pruning stays amortized O(1).
            *prune_at = (table.len() * 2).max(PRUNE_AT);
        }
        let window = table
            .entry(key.to_owned())
            .and_modify(|w| {
                if w.ends <= now {
                    *w = Window {
                        ends: now + rate.window,
                        hits: 0,
                    };
                }
            })
            .or_insert(Window {
                ends: now + rate.window,
                hits: 0,
            });
        window.hits = window.hits.saturating_add(1);
        (window.hits > rate.max).then(|| window.ends - now)
    }
}

async fn redis_hit(
    client: &Client,
    key: &str,
    rate: Rate,
) -> Result<Option<Duration>, fred::error::Error> {
    let window_ms = i64::try_from(rate.window.as_millis()).unwrap_or(i64::MAX);
    let pipeline = client.pipeline();
    let () = pipeline
        .set(
            key,
            0,
            Some(Expiration::PX(window_ms)),
            Some(SetOptions::NX),
            false,
        )
        .await?;
    let () = pipeline.incr(key).await?;
    let () = pipeline.pttl(key).await?;
    let (_, hits, mut ttl_ms): (Option<String>, i64, i64) = pipeline.all().await?;
    if ttl_ms < 0 {
        // The window expired between SET and INCR, which recreated the key without a TTL:
        // give it one, or the key would block for good.
        let _: bool = client.pexpire(key, window_ms, None).await?;
        ttl_ms = window_ms;
    }
    let over = hits > i64::from(rate.max);
    Ok(over.then(|| Duration::from_millis(ttl_ms.clamp(1, window_ms) as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!(
            "5/60".parse::<Rate>(),
            Ok(Rate {
                max: 5,
                window: Duration::from_secs(60)
            })
        );
        assert!("0/60".parse::<Rate>().is_err());
        assert!("5".parse::<Rate>().is_err());
        assert!("five/60".parse::<Rate>().is_err());
    }

    #[tokio::test]
    async fn memory_windows_count_and_reset() {
        let limiter = RateLimiter::new(None, "t");
        let rate = Some(Rate {
            max: 2,
            window: Duration::from_millis(200),
        });
        assert!(limiter.hit("test", rate, &["a"]).await.is_ok());
        assert!(limiter.hit("test", rate, &["a"]).await.is_ok());
        let Err(RateLimited { retry_after_secs }) = limiter.hit("test", rate, &["a"]).await else {
            panic!("the third hit is limited");
        };
        assert_eq!(retry_after_secs, 1, "rounded up to whole seconds");
        assert!(
            limiter.hit("test", rate, &["b"]).await.is_ok(),
            "keys are separate"
        );
        assert!(
            limiter.hit("test", None, &["a"]).await.is_ok(),
            "no rate, no limit"
        );
        // Blocked on its first key, a hit does not count against the next one.
        assert!(limiter.hit("test", rate, &["a", "c"]).await.is_err());
        assert!(limiter.hit("test", rate, &["c"]).await.is_ok());
        assert!(limiter.hit("test", rate, &["c"]).await.is_ok());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            limiter.hit("test", rate, &["a"]).await.is_ok(),
            "a new window"
        );
    }
}
