//! Rate limits per key (a client address, an email, a user): fixed windows that count hits
//! ([`RateLimiter::hit`]), and leaky buckets that spend weighted costs and refill over time
//! ([`RateLimiter::spend`], the GraphQL cost budget). Each says where the key stands after it
//! (a [`Quota`]: what the `RateLimit-*` response fields report), and
//! [`RateLimiter::window`] / [`RateLimiter::level`] read that without counting anything.
//!
//! With Redis the counters are shared by every instance (a window: `SET NX PX` opens it,
//! `INCR` counts, `PTTL` says when it ends; a bucket: one Lua script reads, refills and spends
//! it atomically on Redis's clock); without Redis, or while Redis is unreachable, each instance
//! counts in memory.
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
    types::{ClusterHash, CustomCommand, Expiration, SetOptions},
};

/// A hit over its limit: the caller may try again after `retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry in {retry_after_secs} s")]
pub struct RateLimited {
    pub retry_after_secs: u64,
    /// The limit that refused it.
    pub quota: Quota,
}

/// Where one key stands against one limit, after a hit or a spend or when read: what the
/// `RateLimit-*` response fields and the `rateLimit` query report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The limit's name (`orders`, `login`, `graphql_cost`, …), as in the refusal metric.
    pub rule: &'static str,
    /// The hits a window allows, or the points a bucket holds when full.
    pub limit: u64,
    /// Hits or whole points left now.
    pub remaining: u64,
    /// Whole seconds (rounded up) until `remaining` is back to `limit`: the window ends, or the
    /// bucket is full again. 0 when it is already.
    pub reset_secs: u64,
    /// The window's length in seconds; for a bucket, the seconds it takes to refill from empty.
    pub window_secs: u64,
}

impl Quota {
    /// A window's quota after `hits` in it, `left` before it ends.
    fn of_window(rule: &'static str, rate: Rate, hits: u64, left: Duration) -> Self {
        Quota {
            rule,
            limit: u64::from(rate.max),
            remaining: u64::from(rate.max).saturating_sub(hits),
            reset_secs: whole_secs(left),
            window_secs: whole_secs(rate.window),
        }
    }

    /// The quota closest to exhaustion: the smallest share of its limit left, and of equal
    /// shares the one that resets last (the draft of the `RateLimit` fields: a server that
    /// reports one of several policies reports that one). The first of equals.
    pub fn tightest(quotas: impl IntoIterator<Item = Quota>) -> Option<Quota> {
        quotas.into_iter().min_by(|a, b| {
            // remaining / limit compared exactly, cross-multiplied.
            let share =
                |q: &Quota, other: &Quota| u128::from(q.remaining) * u128::from(other.limit);
            share(a, b)
                .cmp(&share(b, a))
                .then(b.reset_secs.cmp(&a.reset_secs))
        })
    }
}

/// Seconds, rounded up.
fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
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

/// A leaky bucket: holds up to `capacity` points and gets `refill_per_sec` back every second
/// (Shopify's cost budget). An operation spends its cost from it, or is refused when the bucket
/// holds less.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub capacity: u32,
    pub refill_per_sec: u32,
}

impl std::str::FromStr for Bucket {
    type Err = String;

    /// `"1000,50"`: a thousand points, fifty more every second.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("expected `capacity,refill per second` (e.g. 1000,50) or `off`, not `{s}`");
        let (capacity, refill) = s.split_once(',').ok_or_else(bad)?;
        let capacity: u32 = capacity.trim().parse().map_err(|_| bad())?;
        let refill_per_sec: u32 = refill.trim().parse().map_err(|_| bad())?;
        if capacity == 0 || refill_per_sec == 0 {
            return Err(bad());
        }
        Ok(Bucket {
            capacity,
            refill_per_sec,
        })
    }
}

/// A bucket's level after a spend, or after a refusal (then nothing was spent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLevel {
    /// Points left, whole (the bucket refills continuously; fractions are kept inside).
    pub remaining: u64,
    pub bucket: Bucket,
    /// Whole seconds (rounded up) until the bucket is full again.
    pub full_in_secs: u64,
}

impl BucketLevel {
    fn new(bucket: Bucket, points: f64) -> Self {
        let capacity = f64::from(bucket.capacity);
        let per_sec = f64::from(bucket.refill_per_sec);
        BucketLevel {
            remaining: points.max(0.0).floor() as u64,
            bucket,
            full_in_secs: ((capacity - points).max(0.0) / per_sec).ceil() as u64,
        }
    }

    /// This level as the quota of the budget named `rule`.
    pub fn quota(&self, rule: &'static str) -> Quota {
        let Bucket {
            capacity,
            refill_per_sec,
        } = self.bucket;
        Quota {
            rule,
            limit: u64::from(capacity),
            remaining: self.remaining,
            reset_secs: self.full_in_secs,
            window_secs: u64::from(capacity.div_ceil(refill_per_sec)),
        }
    }
}

/// The outcome of [`RateLimiter::spend`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spend {
    /// The cost was taken.
    Spent(BucketLevel),
    /// The bucket held less than the cost: nothing was taken. `retry_after_secs` is when it will
    /// hold enough (never, when the cost is over the capacity: check that first).
    Refused {
        level: BucketLevel,
        retry_after_secs: u64,
    },
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

/// Counts hits and spends costs; cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Option<(Client, Arc<str>)>,
    memory: Arc<Mutex<Memory>>,
    buckets: Arc<Mutex<Buckets>>,
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

/// In-memory buckets by key. A bucket that has refilled to its capacity is the same as no
/// entry, so those are dropped when the table reaches `prune_at`.
#[derive(Debug)]
struct Buckets {
    table: HashMap<String, Level>,
    prune_at: usize,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            table: HashMap::new(),
            prune_at: PRUNE_AT,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Level {
    /// Points held at `at`.
    points: f64,
    at: Instant,
    /// When it will be full again (then it can be forgotten).
    full_at: Instant,
}

/// Reads, refills and spends one bucket (a hash of `points` and `at`, in Redis milliseconds),
/// atomically. KEYS[1]: the bucket; ARGV: capacity, refill per second, cost. Answers
/// `{spent (1/0), points left as a string}`. The key expires once the bucket would be full.
const SPEND_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2]) / 1000
local cost = tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 'points', 'at')
local points = tonumber(held[1]) or capacity
local at = tonumber(held[2]) or now
points = math.min(capacity, points + math.max(0, now - at) * per_ms)
local spent = 0
if cost <= points then
  points = points - cost
  spent = 1
end
redis.call('HSET', KEYS[1], 'points', tostring(points), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - points) / per_ms) + 1000)
return {spent, tostring(points)}
"#;

impl RateLimiter {
    /// Counts in Redis (keys `<prefix>:rl:…`) when a client is given, else in memory.
    pub fn new(redis: Option<Client>, prefix: &str) -> Self {
        RateLimiter {
            redis: redis.map(|c| (c, format!("{prefix}:rl:").into())),
            memory: Arc::default(),
            buckets: Arc::default(),
            redis_paused_until: Arc::default(),
        }
    }

    /// Spends `cost` points from `key`'s bucket (a full bucket when the key is new), or refuses
    /// and spends nothing when it holds less. `rule` names the budget in the refusal metric.
    pub async fn spend(&self, rule: &'static str, bucket: Bucket, key: &str, cost: u64) -> Spend {
        let (spent, points) = self.spend_one(bucket, key, cost as f64).await;
        let level = BucketLevel::new(bucket, points);
        if spent {
            return Spend::Spent(level);
        }
        metrics::counter!("zebrat_rate_limit_refusals_total", "rule" => rule).increment(1);
        let missing = (cost as f64 - points).max(0.0);
        let wait = (missing / f64::from(bucket.refill_per_sec)).ceil() as u64;
        Spend::Refused {
            level,
            retry_after_secs: wait.max(1),
        }
    }

    /// `key`'s bucket now, spending nothing.
    pub async fn level(&self, bucket: Bucket, key: &str) -> BucketLevel {
        // Spending nothing always succeeds; it refills the bucket to now, as a read would.
        let (_, points) = self.spend_one(bucket, key, 0.0).await;
        BucketLevel::new(bucket, points)
    }

    /// (spent, points left) for one bucket: in Redis when it answers in time, else in memory.
    async fn spend_one(&self, bucket: Bucket, key: &str, cost: f64) -> (bool, f64) {
        if let Some((client, prefix)) = self.shared() {
            let redis_key = format!("{prefix}{key}");
            let shared = redis_spend(client, &redis_key, bucket, cost);
            if let Some(outcome) = self.within_budget(shared, "cost budget").await {
                return outcome;
            }
        }
        self.memory_spend(bucket, key, cost)
    }

    fn memory_spend(&self, bucket: Bucket, key: &str, cost: f64) -> (bool, f64) {
        let now = Instant::now();
        let capacity = f64::from(bucket.capacity);
        let per_sec = f64::from(bucket.refill_per_sec);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Buckets { table, prune_at } = &mut *buckets;
        if table.len() >= *prune_at {
            table.retain(|_, level| level.full_at > now);
            *prune_at = (table.len() * 2).max(PRUNE_AT);
        }
        let held = table.get(key).map_or(capacity, |level| {
            let refilled = now.saturating_duration_since(level.at).as_secs_f64() * per_sec;
            (level.points + refilled).min(capacity)
        });
        let spent = cost <= held;
        let points = if spent { held - cost } else { held };
        let full_at = now + Duration::from_secs_f64((capacity - points).max(0.0) / per_sec);
        table.insert(
            key.to_owned(),
            Level {
                points,
                at: now,
                full_at,
            },
        );
        (spent, points)
    }

    /// Counts one hit on each key in turn; RATE_LIMITED at the first one over `rate`, and the
    /// keys after it are not counted (so a client blocked by address cannot keep filling the
    /// window of an email it is guessing at). Under the limit, the quota of the key closest to
    /// it; `None` never limits. `rule` names the limit in the refusal metric and the quota (a
    /// fixed word, never a key: keys hold addresses and emails).
    pub async fn hit(
        &self,
        rule: &'static str,
        rate: Option<Rate>,
        keys: &[&str],
    ) -> Result<Option<Quota>, RateLimited> {
        let Some(rate) = rate else {
            return Ok(None);
        };
        let mut quotas = Vec::with_capacity(keys.len());
        for key in keys {
            let (hits, left) = self.hit_one(rate, key).await;
            let quota = Quota::of_window(rule, rate, hits, left);
            if hits > u64::from(rate.max) {
                metrics::counter!("zebrat_rate_limit_refusals_total", "rule" => rule).increment(1);
                return Err(RateLimited {
                    retry_after_secs: quota.reset_secs.max(1),
                    quota,
                });
            }
            quotas.push(quota);
        }
        Ok(Quota::tightest(quotas))
    }

    /// `key`'s window now, counting nothing: a full quota when no window is open.
    pub async fn window(&self, rule: &'static str, rate: Rate, key: &str) -> Quota {
        let (hits, left) = self.peek_one(rate, key).await;
        Quota::of_window(rule, rate, hits, left)
    }

    /// Counts one hit: the hits in the window so far (this one included) and how long until it
    /// ends.
    async fn hit_one(&self, rate: Rate, key: &str) -> (u64, Duration) {
        if let Some((client, prefix)) = self.shared() {
            let redis_key = format!("{prefix}{key}");
            let shared = redis_hit(client, &redis_key, rate);
            if let Some(outcome) = self.within_budget(shared, "rate limit").await {
                return outcome;
            }
        }
        self.memory_hit(rate, key)
    }

    /// The hits in `key`'s open window and how long until it ends (0 and zero without one).
    async fn peek_one(&self, rate: Rate, key: &str) -> (u64, Duration) {
        if let Some((client, prefix)) = self.shared() {
            let redis_key = format!("{prefix}{key}");
            let shared = redis_peek(client, &redis_key, rate);
            if let Some(outcome) = self.within_budget(shared, "rate limit").await {
                return outcome;
            }
        }
        let now = Instant::now();
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        match memory.table.get(key) {
            Some(w) if w.ends > now => (u64::from(w.hits), w.ends - now),
            _ => (0, Duration::ZERO),
        }
    }

    /// Redis, when there is one, it is connected and it is not paused.
    fn shared(&self) -> Option<(&Client, &str)> {
        let (client, prefix) = self.redis.as_ref()?;
        (client.is_connected() && !self.redis_paused()).then_some((client, &**prefix))
    }

    /// A Redis call's answer if it comes within `REDIS_BUDGET`; else `None`, and Redis is
    /// skipped for `REDIS_PAUSE`.
    async fn within_budget<T>(
        &self,
        call: impl Future<Output = Result<T, fred::error::Error>>,
        what: &str,
    ) -> Option<T> {
        match tokio::time::timeout(REDIS_BUDGET, call).await {
            Ok(Ok(outcome)) => Some(outcome),
            Ok(Err(e)) => {
                self.pause_redis();
                tracing::warn!(error = %e, "{what} in Redis failed: counting locally");
                None
            }
            Err(_) => {
                self.pause_redis();
                tracing::warn!("{what} in Redis too slow: counting locally for a while");
                None
            }
        }
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

    fn memory_hit(&self, rate: Rate, key: &str) -> (u64, Duration) {
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
        (u64::from(window.hits), window.ends - now)
    }
}

async fn redis_hit(
    client: &Client,
    key: &str,
    rate: Rate,
) -> Result<(u64, Duration), fred::error::Error> {
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
    Ok((
        hits.max(0) as u64,
        Duration::from_millis(ttl_ms.clamp(1, window_ms) as u64),
    ))
}

/// The hits in a window and its time left, counting nothing.
async fn redis_peek(
    client: &Client,
    key: &str,
    rate: Rate,
) -> Result<(u64, Duration), fred::error::Error> {
    let window_ms = i64::try_from(rate.window.as_millis()).unwrap_or(i64::MAX);
    let pipeline = client.pipeline();
    let () = pipeline.get(key).await?;
    let () = pipeline.pttl(key).await?;
    let (hits, ttl_ms): (Option<i64>, i64) = pipeline.all().await?;
    Ok(match (hits, ttl_ms) {
        // No window, or one without a TTL (a hit's repair will give it one): nothing to wait for.
        (Some(hits), ttl) if ttl > 0 => (
            hits.max(0) as u64,
            Duration::from_millis(ttl.min(window_ms) as u64),
        ),
        _ => (0, Duration::ZERO),
    })
}

async fn redis_spend(
    client: &Client,
    key: &str,
    bucket: Bucket,
    cost: f64,
) -> Result<(bool, f64), fred::error::Error> {
    // EVAL's arguments: the script, the number of keys, the key (hashed for a cluster), ARGV.
    let eval = CustomCommand::new("EVAL", ClusterHash::Offset(2), false);
    let args: Vec<String> = vec![
        SPEND_SCRIPT.to_owned(),
        "1".to_owned(),
        key.to_owned(),
        bucket.capacity.to_string(),
        bucket.refill_per_sec.to_string(),
        cost.to_string(),
    ];
    let (spent, points): (i64, String) = client.custom(eval, args).await?;
    let points: f64 = points.parse().map_err(|_| {
        fred::error::Error::new(
            fred::error::ErrorKind::Parse,
            format!("the cost script answered `{points}`"),
        )
    })?;
    Ok((spent == 1, points))
}

#[cfg(test)]
mod tests;
