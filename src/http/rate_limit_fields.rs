//! The `RateLimit-*` response fields of an answer that counted against a rate limit, as the
//! IETF draft "RateLimit Fields for HTTP" (draft-ietf-httpapi-ratelimit-headers-06) names them:
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds) describe one limit,
//! the one that refused or else the one closest to exhaustion; `RateLimit-Policy` lists every
//! limit the request counted against; `Retry-After` comes with a refusal.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::{graphql::rate_limits::Report, infra::ratelimit::Quota};

pub const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
pub const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Every field this module writes, for CORS to expose to browser scripts.
pub const ALL: [HeaderName; 5] = [LIMIT, REMAINING, RESET, POLICY, header::RETRY_AFTER];

/// Writes the fields of `report` into `headers`.
pub fn insert(headers: &mut HeaderMap, report: &Report) {
    let Quota {
        limit,
        remaining,
        reset_secs,
        ..
    } = report.quota;
    headers.insert(LIMIT, HeaderValue::from(limit));
    headers.insert(REMAINING, HeaderValue::from(remaining));
    headers.insert(RESET, HeaderValue::from(reset_secs));
    if let Ok(policy) = HeaderValue::from_str(&policy(&report.policies)) {
        headers.insert(POLICY, policy);
    }
    if let Some(wait) = report.retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
}

/// `10;w=60;name="orders", 10000;w=20;name="graphql_cost"`: each limit, its window in seconds
/// (a budget's: the time to refill from empty) and its name (a fixed word, never a key).
fn policy(quotas: &[Quota]) -> String {
    quotas
        .iter()
        .map(|q| format!("{};w={};name=\"{}\"", q.limit, q.window_secs, q.rule))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_fields_of_the_reported_limit() {
        let orders = Quota {
            rule: "orders",
            limit: 10,
            remaining: 0,
            reset_secs: 42,
            window_secs: 60,
        };
        let cost = Quota {
            rule: "graphql_cost",
            limit: 10_000,
            remaining: 9_990,
            reset_secs: 1,
            window_secs: 20,
        };
        let mut headers = HeaderMap::new();
        insert(
            &mut headers,
            &Report {
                quota: orders,
                retry_after_secs: Some(42),
                policies: vec![orders, cost],
            },
        );
        assert_eq!(headers["ratelimit-limit"], "10");
        assert_eq!(headers["ratelimit-remaining"], "0");
        assert_eq!(headers["ratelimit-reset"], "42");
        assert_eq!(headers["retry-after"], "42");
        assert_eq!(
            headers["ratelimit-policy"],
            r#"10;w=60;name="orders", 10000;w=20;name="graphql_cost""#
        );
        let mut headers = HeaderMap::new();
        insert(
            &mut headers,
            &Report {
                quota: cost,
                retry_after_secs: None,
                policies: vec![cost],
            },
        );
        assert_eq!(headers["ratelimit-remaining"], "9990");
        assert!(headers.get("retry-after").is_none());
    }
}
