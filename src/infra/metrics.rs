//! Prometheus metrics: the process-wide recorder, the catalogue of families, and helpers that
//! keep label sets bounded.
//!
//! Code records with the `metrics` macros where things happen (one line each); this module
//! installs the recorder they report to and renders it for `/metrics`. The recorder is global
//! to the process (the `metrics` facade allows one), so it is installed once however many
//! applications a process builds (the tests build many): values are the process's, and
//! gauges that describe one application's state are set by its `/metrics` handler just
//! before rendering.

use std::{
    collections::HashSet,
    sync::{Mutex, OnceLock},
};

use metrics::{Gauge, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: from a cached query to a request that hit its timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Stocks in one tick round.
const STOCK_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// Longest operation name kept as a label value, and how many distinct ones: past either, the
/// label is `other`, so a client cannot grow the series without bound.
const MAX_NAME_LEN: usize = 64;
const MAX_NAMES: usize = 200;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static NAMES: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();

/// Installs the recorder (once per process) and returns its handle; `None` when another
/// recorder was installed first (then metrics go there and `/metrics` answers 503).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = build().install_recorder();
            match handle {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

fn build() -> PrometheusBuilder {
    let builder = PrometheusBuilder::new();
    // Without buckets the exporter would render histograms as summaries, which cannot be
    // aggregated across instances.
    let with_buckets = builder
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("zebrat_tick_round_stocks".into()),
                STOCK_BUCKETS,
            )
        });
    match with_buckets {
        Ok(builder) => builder,
        // Only empty bucket lists fail, and ours are constants.
        Err(_) => PrometheusBuilder::new(),
    }
}

/// The exposition text of everything recorded so far (empty without a recorder).
pub fn render() -> Option<String> {
    HANDLE.get().and_then(|h| h.as_ref()).map(|h| h.render())
}

/// Drains histogram samples into their buckets; run every few seconds so memory stays flat
/// when nobody scrapes.
pub fn upkeep() {
    if let Some(Some(handle)) = HANDLE.get() {
        handle.run_upkeep();
    }
}

/// An operation name fit to be a label value: names of at most 64 ASCII letters, digits and
/// underscores, the first 200 distinct ones seen by this process; anything else is `other`,
/// and no name at all is `anonymous`.
pub fn operation_label(name: Option<&str>) -> String {
    let Some(name) = name else {
        return "anonymous".into();
    };
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return "other".into();
    }
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if names.contains(name) || names.len() < MAX_NAMES && names.insert(name.to_string()) {
        name.to_string()
    } else {
        "other".into()
    }
}

/// One unit of a gauge, held while something is open; given back when dropped.
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    pub fn new(gauge: Gauge) -> Self {
        gauge.increment(1.0);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The `# HELP` of every family, in one place, so `/metrics` reads as a catalogue.
fn describe() {
    describe_counter!(
        "zebrat_graphql_requests_total",
        "GraphQL operations run, by type, operation name and outcome (error code or ok)"
    );
    describe_histogram!(
        "zebrat_graphql_request_duration_seconds",
        "Time to answer a query or mutation, by type and operation name"
    );
    describe_gauge!("zebrat_websocket_connections", "Open WebSocket connections");
    describe_gauge!(
        "zebrat_sse_streams",
        "Open GraphQL event streams (Server-Sent Events)"
    );
    describe_gauge!(
        "zebrat_subscriptions_active",
        "Active subscriptions by root field"
    );
    describe_counter!(
        "zebrat_shared_feeds_started_total",
        "Shared executions of public feeds started"
    );
    describe_gauge!(
        "zebrat_shared_feeds_running",
        "Shared executions of public feeds running now"
    );
    describe_counter!(
        "zebrat_events_published_total",
        "Domain events published on the bus, by kind"
    );
    describe_counter!(
        "zebrat_events_delivered_total",
        "Domain events handed to a subscription execution, by kind"
    );
    describe_counter!(
        "zebrat_events_dropped_total",
        "Events a slow consumer skipped (it lagged behind its bounded channel), by consumer"
    );
    describe_histogram!(
        "zebrat_tick_round_duration_seconds",
        "Time to compute and store one tick round (retries included)"
    );
    describe_histogram!("zebrat_tick_round_stocks", "Stocks moved in one tick round");
    describe_counter!(
        "zebrat_orders_placed_total",
        "New orders accepted (executed at once, queued, working, or canceled by IOC/FOK), by side"
    );
    describe_counter!(
        "zebrat_orders_executed_total",
        "Orders executed, by when (at_placement, at_open from the queue, working at a tick round)"
    );
    describe_counter!(
        "zebrat_orders_queued_total",
        "Orders queued because the market was closed"
    );
    describe_counter!(
        "zebrat_orders_rejected_total",
        "Orders rejected, by stage (at_open: no longer covered; halt: stock halted; triggered: a \
         stop's fill no longer covered)"
    );
    describe_counter!(
        "zebrat_orders_expired_total",
        "DAY orders still working at the close, expired"
    );
    describe_counter!(
        "zebrat_orders_replaced_total",
        "Working orders replaced by replaceOrder"
    );
    describe_histogram!(
        "zebrat_working_orders_duration_seconds",
        "Time to evaluate the working orders after one tick round (trailing stops, fills)"
    );
    describe_histogram!(
        "zebrat_order_duration_seconds",
        "Time to place an order, from the call to the commit, by result"
    );
    describe_gauge!(
        "zebrat_orders_queued_waiting",
        "Orders queued now (read from the database on scrape)"
    );
    describe_counter!(
        "zebrat_rate_limit_refusals_total",
        "Requests refused by a rate limit, by rule"
    );
    describe_gauge!(
        "zebrat_db_pool_connections",
        "Database pool connections, by state (in_use, idle)"
    );
    describe_histogram!(
        "zebrat_db_query_duration_seconds",
        "Time of one database statement"
    );
    describe_counter!(
        "zebrat_db_query_errors_total",
        "Database statements that failed"
    );
    describe_gauge!(
        "zebrat_redis_connected",
        "1 while the Redis bus is reachable, 0 while degraded (absent without Redis)"
    );
    describe_counter!(
        "zebrat_redis_reconnects_total",
        "Reconnections of the Redis subscriber connection"
    );
    describe_gauge!(
        "zebrat_engine_leader",
        "1 while this instance holds the engine lease"
    );
    describe_counter!(
        "zebrat_engine_lease_changes_total",
        "Engine lease acquired, lost or released by this instance"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("PlaceOrder_2")), "PlaceOrder_2");
        assert_eq!(operation_label(Some("")), "other");
        assert_eq!(operation_label(Some("drop table")), "other");
        assert_eq!(operation_label(Some(&"a".repeat(65))), "other");
        assert_eq!(operation_label(Some(&"a".repeat(64))), "a".repeat(64));
        for i in 0..(MAX_NAMES + 10) {
            let label = operation_label(Some(&format!("Op{i}")));
            assert!(label == format!("Op{i}") || label == "other");
        }
        let kept = NAMES.get().map(|n| n.lock().unwrap().len()).unwrap();
        assert_eq!(kept, MAX_NAMES);
        assert_eq!(operation_label(Some("NeverSeenBefore")), "other");
        assert_eq!(operation_label(Some("PlaceOrder_2")), "PlaceOrder_2");
    }
}
