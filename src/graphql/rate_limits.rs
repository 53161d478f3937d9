//! Visible rate limits: what one request counted against ([`RateLimitUsage`], which the HTTP
//! layer turns into `RateLimit-*` response fields) and the `rateLimit` query (where a caller
//! stands now, counting nothing).

use std::sync::{Arc, Mutex};

use async_graphql::{Context, Object, SimpleObject};

use super::{
    ClientAddr,
    context::{ContextExt, Limited},
    cost::{Budget, budget_of},
    scalars::DateTime,
};
use crate::{infra::ratelimit::Quota, services::Services};

/// The keys the limits count under, in one place: the mutations count on them, the
/// `rateLimit` query reads them.
pub mod keys {
    /// Login attempts from one client address.
    pub fn login(addr: &str) -> String {
        format!("login:ip:{addr}")
    }

    /// Login attempts for one email from one client address.
    pub fn login_email(email: &str, addr: &str) -> String {
        format!("login:email:{email}:ip:{addr}")
    }

    /// Login attempts on the whole service.
    pub const LOGIN_GLOBAL: &str = "login:all";

    /// Registrations from one client address.
    pub fn register(addr: &str) -> String {
        format!("register:ip:{addr}")
    }

    /// One user's order placements.
    pub fn orders(user_id: i64) -> String {
        format!("order:user:{user_id}")
    }

    /// One user's deposits.
    pub fn deposits(user_id: i64) -> String {
        format!("deposit:user:{user_id}")
    }
}

/// The limits one request counted against, as it runs (shared by the operations of a batch).
/// The HTTP layer puts one in each request's data and reads it once the request is answered.
#[derive(Clone, Default)]
pub struct RateLimitUsage(Arc<Mutex<Vec<Counted>>>);

#[derive(Clone, Copy)]
struct Counted {
    quota: Quota,
    /// Set when this count was refused: the seconds to wait.
    retry_after_secs: Option<u64>,
}

/// What an answer reports of the limits its request counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The limit the `RateLimit-Limit`, `-Remaining` and `-Reset` fields describe: the one that
    /// refused (the longest wait, when several did), else the one closest to exhaustion.
    pub quota: Quota,
    /// `Retry-After`: set when a limit refused.
    pub retry_after_secs: Option<u64>,
    /// Every limit counted against, as it stands after the request (`RateLimit-Policy`), the
    /// described one first.
    pub policies: Vec<Quota>,
}

impl RateLimitUsage {
    /// Notes where a limit stands after counting this request (refused: with the wait).
    pub fn record(&self, quota: Quota, retry_after_secs: Option<u64>) {
        self.counted().push(Counted {
            quota,
            retry_after_secs,
        });
    }

    /// The last count against the limit named `rule` in this request.
    pub fn last(&self, rule: &str) -> Option<Quota> {
        let counted = self.counted();
        counted
            .iter()
            .rev()
            .find(|c| c.quota.rule == rule)
            .map(|c| c.quota)
    }

    /// What the answer reports; `None` when the request counted against no limit.
    pub fn report(&self) -> Option<Report> {
        let counted = self.counted();
        // Each limit as it stands now: its last count.
        let mut latest: Vec<Quota> = Vec::new();
        for c in counted.iter() {
            match latest.iter_mut().find(|q| q.rule == c.quota.rule) {
                Some(q) => *q = c.quota,
                None => latest.push(c.quota),
            }
        }
        let refused = counted
            .iter()
            .filter_map(|c| Some((c.retry_after_secs?, c.quota)))
            .max_by_key(|(wait, _)| *wait);
        let (quota, retry_after_secs) = match refused {
            Some((wait, quota)) => (quota, Some(wait)),
            None => (Quota::tightest(latest.iter().copied())?, None),
        };
        latest.retain(|q| q.rule != quota.rule);
        latest.insert(0, quota);
        Some(Report {
            quota,
            retry_after_secs,
            policies: latest,
        })
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, Vec<Counted>> {
        // Nothing panics while holding it; a poisoned lock still holds plain data.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
pub struct RateLimitQuery;

#[Object]
impl RateLimitQuery {
    /// Where the caller stands against the rate limits now, and when each resets; reading it
    /// counts against none of them (it spends its own small cost from the budget, like any
    /// query). Anyone may ask: anonymous callers see their client address's cost budget and
    /// login attempts, logged-in users also their orders and deposits. A limit that is off
    /// is null. The numbers are those of the `RateLimit-*` fields of HTTP answers.
    async fn rate_limit(&self, ctx: &Context<'_>) -> RateLimitStatus {
        let services = ctx.services();
        let limits = &services.config.rate_limits;
        // A window as it stands: `None` when the limit is off or there is no key.
        let window = |action: Limited, key: Option<String>| async move {
            let (rule, rate) = action.rule(limits);
            Some(services.limiter.window(rule, rate?, &key?).await)
        };
        let addr = ctx.client_addr().unwrap_or_default();
        let user = ctx.maybe_viewer().map(|v| v.user_id);
        let now = services.clock.now();
        let quota = |q: Option<Quota>| q.map(|q| RateLimitQuota::new(q, now));
        RateLimitStatus {
            cost: quota(cost_budget(ctx, services).await),
            login: quota(window(Limited::Login, Some(keys::login(&addr))).await),
            orders: quota(window(Limited::Order, user.map(keys::orders)).await),
            deposits: quota(window(Limited::Deposit, user.map(keys::deposits)).await),
        }
    }
}

/// The caller's cost budget: as this request left it (what its `RateLimit-*` fields say), or
/// read now when the request did not spend from it (over WebSocket).
async fn cost_budget(ctx: &Context<'_>, services: &Services) -> Option<Quota> {
    let Budget { rule, bucket, key } = budget_of(
        &services.config.graphql,
        Some(ctx.caller()),
        ctx.data_opt::<ClientAddr>(),
    )?;
    let spent = ctx
        .data_opt::<RateLimitUsage>()
        .and_then(|usage| usage.last(rule));
    match spent {
        Some(quota) => Some(quota),
        None => Some(services.limiter.level(bucket, &key).await.quota(rule)),
    }
}

/// The caller's rate limits now. Each is null when it is off (or, for `orders` and
/// `deposits`, for an anonymous caller).
#[derive(SimpleObject)]
pub struct RateLimitStatus {
    /// The cost budget queries and mutations spend their complexity from: the user's when
    /// logged in, else the client address's (see `extensions.cost`).
    pub cost: Option<RateLimitQuota>,
    /// Login attempts from this client address.
    pub login: Option<RateLimitQuota>,
    /// The logged-in user's order placements.
    pub orders: Option<RateLimitQuota>,
    /// The logged-in user's deposits.
    pub deposits: Option<RateLimitQuota>,
}

/// One rate limit as it stands for the caller: the numbers of the `RateLimit-*` fields.
#[derive(SimpleObject)]
pub struct RateLimitQuota {
    /// The limit's name, as in the `name` of `RateLimit-Policy` (`graphql_cost`,
    /// `graphql_cost_anonymous`, `login`, `orders`, `deposits`).
    pub policy: String,
    /// Attempts a window allows, or the points the cost budget holds when full
    /// (`RateLimit-Limit`).
    pub limit: u64,
    /// Attempts or points left now (`RateLimit-Remaining`).
    pub remaining: u64,
    /// Seconds until `remaining` is back to `limit`, rounded up: the window ends, or the
    /// budget has refilled (`RateLimit-Reset`). 0 when it already is.
    pub reset_after: u64,
    /// When that is, on the server's clock.
    pub reset_at: DateTime,
    /// The window's length in seconds; for the cost budget, the seconds it takes to refill
    /// from empty.
    pub window: u64,
}

impl RateLimitQuota {
    fn new(q: Quota, now: chrono::DateTime<chrono::Utc>) -> Self {
        let reset_after = i64::try_from(q.reset_secs).unwrap_or(i64::MAX);
        RateLimitQuota {
            policy: q.rule.to_owned(),
            limit: q.limit,
            remaining: q.remaining,
            reset_after: q.reset_secs,
            reset_at: (now + chrono::TimeDelta::try_seconds(reset_after).unwrap_or_default())
                .into(),
            window: q.window_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(rule: &'static str, limit: u64, remaining: u64) -> Quota {
        Quota {
            rule,
            limit,
            remaining,
            reset_secs: 10,
            window_secs: 60,
        }
    }

    #[test]
    fn reports_the_refusal_or_the_tightest_limit() {
        let usage = RateLimitUsage::default();
        assert_eq!(usage.report(), None, "nothing counted, nothing reported");
        usage.record(quota("graphql_cost", 1000, 990), None);
        usage.record(quota("orders", 10, 8), None);
        let report = usage.report().unwrap();
        assert_eq!(report.quota, quota("orders", 10, 8), "80 % left vs 99 %");
        assert_eq!(report.retry_after_secs, None);
        assert_eq!(
            report.policies,
            vec![quota("orders", 10, 8), quota("graphql_cost", 1000, 990)]
        );
        // A limit counts as it stands last: the cost budget spent again, to 70 %.
        usage.record(quota("graphql_cost", 1000, 700), None);
        let report = usage.report().unwrap();
        assert_eq!(report.quota, quota("graphql_cost", 1000, 700));
        assert_eq!(report.policies.len(), 2, "{report:?}");
        assert_eq!(
            usage.last("graphql_cost"),
            Some(quota("graphql_cost", 1000, 700))
        );
        // A refusal is reported whatever is tighter, with the longest wait of all refusals.
        usage.record(quota("orders", 10, 0), Some(30));
        usage.record(quota("login", 5, 0), Some(45));
        usage.record(quota("graphql_cost", 1000, 0), None);
        let report = usage.report().unwrap();
        assert_eq!(report.quota, quota("login", 5, 0));
        assert_eq!(report.retry_after_secs, Some(45));
        assert_eq!(report.policies[0], quota("login", 5, 0));
        assert_eq!(report.policies.len(), 3);
    }
}
