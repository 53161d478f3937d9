//! The cost budget: every query and mutation spends its complexity from a leaky bucket, the
//! user's when logged in, else the client address's, kept by
//! [`RateLimiter::spend`](crate::infra::ratelimit::RateLimiter::spend). What is left is
//! reported in `extensions.cost`, in the HTTP answer's `RateLimit-*` fields (through
//! [`RateLimitUsage`]) and by the `rateLimit` query.

use async_graphql::{Response, Value, extensions::ExtensionContext, value};

use super::{
    Caller, ClientAddr,
    error::coded_error,
    limits::{QUERY_TOO_COMPLEX, RATE_LIMITED},
    rate_limits::RateLimitUsage,
};
use crate::{
    config::GraphqlLimits,
    infra::ratelimit::{Bucket, BucketLevel, Spend},
    services::Services,
};

/// A caller's budget: its rule (the metric's and the quota's name), its size and its key.
pub struct Budget {
    pub rule: &'static str,
    pub bucket: Bucket,
    pub key: String,
}

/// The budget of a logged-in user or, for anyone else, of their client address; `None` when
/// that budget is off or the request has neither (the server's own executions, such as a
/// shared public feed).
pub fn budget_of(
    limits: &GraphqlLimits,
    caller: Option<&Caller>,
    addr: Option<&ClientAddr>,
) -> Option<Budget> {
    match caller {
        Some(Caller::User(viewer)) => limits.cost_budget.map(|bucket| Budget {
            rule: "graphql_cost",
            bucket,
            key: format!("cost:user:{}", viewer.user_id),
        }),
        _ => {
            let addr = addr?;
            limits.cost_budget_anonymous.map(|bucket| Budget {
                rule: "graphql_cost_anonymous",
                bucket,
                key: format!("cost:addr:{}", addr.0),
            })
        }
    }
}

/// Spends `cost` from the caller's budget: the level left (`None` without a budget), or the
/// refusal to answer instead of running. Either way the request's [`RateLimitUsage`] hears
/// of it.
pub async fn spend(
    ctx: &ExtensionContext<'_>,
    limits: GraphqlLimits,
    cost: usize,
) -> Result<Option<BucketLevel>, Response> {
    let caller = ctx.data_opt::<Caller>();
    let budget = budget_of(&limits, caller, ctx.data_opt::<ClientAddr>());
    let (Some(Budget { rule, bucket, key }), Some(services)) = (budget, ctx.data_opt::<Services>())
    else {
        return Ok(None);
    };
    let usage = ctx.data_opt::<RateLimitUsage>();
    let spent = services
        .limiter
        .spend(rule, bucket, &key, cost as u64)
        .await;
    let (level, error) = match spent {
        Spend::Spent(level) => {
            if let Some(usage) = usage {
                usage.record(level.quota(rule), None);
            }
            return Ok(Some(level));
        }
        Spend::Refused { level, .. } if cost > bucket.capacity as usize => {
            // Never fits: waiting would not help, so no Retry-After.
            if let Some(usage) = usage {
                usage.record(level.quota(rule), None);
            }
            let mut error = coded_error(
                format!(
                    "the operation costs {cost}; this caller's budget holds at most {}: \
                     ask for less (smaller pages, fewer fields){}",
                    bucket.capacity,
                    // Anonymous, and a user's budget would hold it.
                    match (caller, limits.cost_budget) {
                        (Some(Caller::User(_)), _) => "",
                        (_, Some(user)) if user.capacity as usize >= cost => ", or log in",
                        _ => "",
                    }
                ),
                QUERY_TOO_COMPLEX,
            );
            if let Some(ext) = error.extensions.as_mut() {
                ext.set("limit", bucket.capacity);
            }
            (level, error)
        }
        Spend::Refused {
            level,
            retry_after_secs,
        } => {
            if let Some(usage) = usage {
                usage.record(level.quota(rule), Some(retry_after_secs));
            }
            let mut error = coded_error(
                format!(
                    "over the cost budget: the operation costs {cost}, {} points are left; \
                     retry in {retry_after_secs} s",
                    level.remaining
                ),
                RATE_LIMITED,
            );
            if let Some(ext) = error.extensions.as_mut() {
                ext.set("retryAfter", retry_after_secs);
            }
            (level, error)
        }
    };
    Err(with_cost(
        Response::from_errors(vec![error]),
        cost,
        limits,
        Some(level),
    ))
}

/// Adds `extensions.cost { requested, limit, budget? }` to a response.
pub fn with_cost(
    mut response: Response,
    requested: usize,
    limits: GraphqlLimits,
    level: Option<BucketLevel>,
) -> Response {
    let mut cost = value!({ "requested": requested, "limit": limits.max_complexity });
    if let (Value::Object(cost), Some(level)) = (&mut cost, level) {
        cost.insert(
            async_graphql::Name::new("budget"),
            value!({
                "remaining": level.remaining,
                "capacity": level.bucket.capacity,
                "refillPerSecond": level.bucket.refill_per_sec,
            }),
        );
    }
    response.extensions.insert("cost".to_string(), cost);
    response
}
