//! Shared executions of public subscriptions.
//!
//! A feed is one `execute_stream` of one (document, operation, variables). Its responses are
//! serialized once and broadcast to every subscriber of that key; a subscriber who joins a
//! running feed first gets its latest response (the current state, the last tick round). A
//! feed ends when its last subscriber leaves (noticed at its next event) or when its stream
//! ends.

use std::{
    any::Any,
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Request, Response,
    parser::{
        parse_query,
        types::{OperationType, Selection},
    },
};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast;

use super::{Out, SubStream};
use crate::graphql::{
    AppSchema, Caller,
    feeds::{PUBLIC_FEEDS, SUBSCRIPTION_FIELDS},
};

/// Events a feed may run ahead of a slow subscriber; past that the subscriber skips to the
/// newest event.
const FEED_BUFFER: usize = 16;

/// Identifies executions that are interchangeable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedKey {
    query: String,
    operation: Option<String>,
    /// Variables as canonical JSON (object keys sorted).
    variables: String,
}

/// A running feed: its broadcast and its latest response, numbered so that a joiner never
/// sees the same response twice.
#[derive(Clone)]
struct Feed {
    tx: broadcast::Sender<(u64, Out)>,
    latest: Arc<Mutex<Option<(u64, Out)>>>,
}

/// The registry of running feeds, shared by every connection of this instance.
#[derive(Default, Clone)]
pub struct Feeds {
    running: Arc<Mutex<HashMap<FeedKey, Feed>>>,
}

impl Feeds {
    /// Subscribes to the feed for `key`, starting it if it is not running.
    pub fn join(&self, key: FeedKey, request: Request, schema: &AppSchema) -> SubStream {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = running.get(&key) {
            let rx = feed.tx.subscribe();
            let latest = feed
                .latest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            return receive(latest, rx);
        }
        let feed = Feed {
            tx: broadcast::channel(FEED_BUFFER).0,
            latest: Arc::default(),
        };
        let rx = feed.tx.subscribe();
        running.insert(key.clone(), feed.clone());
        drop(running);
        let stream = schema.execute_stream(request.data(Caller::Anonymous));
        metrics::counter!("zebrat_shared_feeds_started_total").increment(1);
        tokio::spawn(run(self.clone(), key, feed, stream));
        receive(None, rx)
    }

    /// How many distinct feeds are running.
    pub fn len(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes the feed if it has no subscribers left (under the registry lock, so nobody can
    /// join it in between); returns whether it was removed.
    fn retire_if_idle(&self, key: &FeedKey, tx: &broadcast::Sender<(u64, Out)>) -> bool {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if tx.receiver_count() == 0 {
            running.remove(key);
            true
        } else {
            false
        }
    }

    fn retire(&self, key: &FeedKey) {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

async fn run(
    feeds: Feeds,
    key: FeedKey,
    feed: Feed,
    responses: impl Stream<Item = Response> + Send + 'static,
) {
    // A panicking execution ends the feed with an error for its subscribers, instead of
    // ending this task silently and leaving them, and the registry entry, waiting forever.
    let responses = AssertUnwindSafe(responses).catch_unwind();
    futures_util::pin_mut!(responses);
    let mut seq = 0;
    while let Some(response) = responses.next().await {
        if feeds.retire_if_idle(&key, &feed.tx) {
            return;
        }
        let out = match response {
            Ok(response) => to_out(response, seq == 0),
            Err(panic) => panicked(panic.as_ref()),
        };
        seq += 1;
        let terminal = matches!(out, Out::Error(_));
        if terminal {
            // Leave the registry before the last send: whoever joined got the error.
            feeds.retire(&key);
        } else {
            *feed.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some((seq, out.clone()));
        }
        let _ = feed.tx.send((seq, out));
        if terminal {
            return;
        }
    }
    feeds.retire(&key);
    let _ = feed.tx.send((seq + 1, Out::Complete));
}

/// Serializes one response. A first response whose errors are about the document (syntax,
/// validation, variables) means execution never started: it becomes an `error` message.
/// Errors from resolvers travel in `next`, as graphql-ws does.
pub fn to_out(response: Response, first: bool) -> Out {
    if first && crate::http::graphql::is_request_error(&response) {
        let errors = crate::http::graphql::with_codes_in(response.errors);
        return Out::Error(
            serde_json::to_string(&errors)
                .unwrap_or_else(|_| "[]".into())
                .into(),
        );
    }
    let mut response = response;
    response.errors = crate::http::graphql::with_codes_in(response.errors);
    match serde_json::to_string(&response) {
        Ok(json) => Out::Next(json.into()),
        Err(e) => {
            tracing::error!(error = %e, "serializing a subscription response");
            Out::Error(super::errors_json("internal error", "INTERNAL").into())
        }
    }
}

/// The error that ends an execution which panicked (logged; the client learns nothing more).
fn panicked(panic: &(dyn Any + Send)) -> Out {
    tracing::error!(
        panic = crate::http::edge::panic_message(panic),
        "a subscription execution panicked"
    );
    Out::Error(super::errors_json("internal error", "INTERNAL").into())
}

/// Ends the stream with an `INTERNAL` error when polling it panics. Executions are polled by
/// the socket's own task: unguarded, a panic in one would unwind through it and drop the
/// socket and all its subscriptions without a close frame.
fn catch_panics(outs: impl Stream<Item = Out> + Send + 'static) -> impl Stream<Item = Out> + Send {
    AssertUnwindSafe(outs)
        .catch_unwind()
        .map(|out| out.unwrap_or_else(|panic| panicked(panic.as_ref())))
}

/// A subscriber's stream: the feed's latest response (if it has one), then what follows it.
fn receive(latest: Option<(u64, Out)>, rx: broadcast::Receiver<(u64, Out)>) -> SubStream {
    let seen = latest.as_ref().map_or(0, |(seq, _)| *seq);
    let replay = stream::iter(latest.map(|(_, out)| out));
    let live = stream::unfold(Some((rx, seen)), |state| async move {
        let (mut rx, seen) = state?;
        loop {
            match rx.recv().await {
                Ok((seq, _)) if seq <= seen => continue, // already replayed
                Ok((_, out @ (Out::Error(_) | Out::Complete))) => return Some((out, None)),
                Ok((_, out)) => return Some((out, Some((rx, seen)))),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    metrics::counter!("zebrat_events_dropped_total", "consumer" => "shared_feed")
                        .increment(n);
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return Some((Out::Complete, None)),
            }
        }
    });
    Box::pin(replay.chain(live))
}

/// A subscription run for one caller (account feeds, queries and mutations over the socket).
pub fn individual(schema: &AppSchema, request: Request, data: async_graphql::Data) -> SubStream {
    let responses = schema.execute_stream_with_session_data(request, Arc::new(data));
    let mut first = true;
    let outs = responses.map(move |r| {
        let out = to_out(r, first);
        first = false;
        out
    });
    Box::pin(
        catch_panics(outs)
            .chain(stream::once(async { Out::Complete }))
            .scan(false, |done, out| {
                // Nothing after an error or the first completion.
                if *done {
                    return std::future::ready(None);
                }
                *done = matches!(out, Out::Error(_) | Out::Complete);
                std::future::ready(Some(out))
            }),
    )
}

/// The root fields of a subscription, as metric labels: the schema's own names, `other` for
/// anything else (so a client's typos never become series). Empty for a query or mutation.
pub fn root_fields(request: &Request) -> Vec<&'static str> {
    let Ok(doc) = parse_query(&request.query) else {
        return Vec::new();
    };
    let op = crate::http::graphql::operation(&doc, request.operation_name.as_deref());
    let Some(op) = op.filter(|op| op.node.ty == OperationType::Subscription) else {
        return Vec::new();
    };
    op.node
        .selection_set
        .node
        .items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => SUBSCRIPTION_FIELDS
                .iter()
                .find(|known| **known == f.node.name.node.as_str())
                .copied()
                .unwrap_or("other"),
            _ => "other",
        })
        .collect()
}

/// The feed key when `request` is a subscription made only of public feed fields.
pub fn shareable(request: &Request) -> Option<FeedKey> {
    let doc = parse_query(&request.query).ok()?;
    let op = crate::http::graphql::operation(&doc, request.operation_name.as_deref())?;
    if op.node.ty != OperationType::Subscription {
        return None;
    }
    let all_public = op
        .node
        .selection_set
        .node
        .items
        .iter()
        .all(|item| match &item.node {
            Selection::Field(f) => {
                f.node.directives.is_empty() && PUBLIC_FEEDS.contains(&f.node.name.node.as_str())
            }
            _ => false,
        });
    all_public.then(|| FeedKey {
        query: request.query.clone(),
        operation: request.operation_name.clone(),
        variables: serde_json::to_string(&request.variables).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_subscriptions_are_shared() {
        assert!(shareable(&Request::new("subscription { ticks { at } }")).is_some());
        assert!(
            shareable(&Request::new(
                "subscription { t: ticks { at } m: marketState { isOpen } }"
            ))
            .is_some()
        );
        assert!(shareable(&Request::new("subscription { orderUpdates { id } }")).is_none());
        assert!(
            shareable(&Request::new(
                "subscription { ticks { at } orderUpdates { id } }"
            ))
            .is_none()
        );
        assert!(shareable(&Request::new("{ stocks { id } }")).is_none());
        assert!(
            shareable(&Request::new(
                "subscription { ...F } fragment F on Subscription { ticks { at } }"
            ))
            .is_none()
        );
        assert!(shareable(&Request::new("subscription {")).is_none());
    }

    #[tokio::test]
    async fn a_panicking_execution_ends_with_internal_and_nothing_after() {
        let outs = stream::iter([1, 2, 3]).map(|i| {
            assert!(i < 2, "boom");
            Out::Next("{}".into())
        });
        let got: Vec<Out> = catch_panics(outs).collect().await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(got[0], Out::Next(_)));
        assert!(matches!(&got[1], Out::Error(e) if e.contains("INTERNAL")));
    }

    #[test]
    fn root_fields_are_bounded_labels() {
        let fields = |q: &str| root_fields(&Request::new(q));
        assert_eq!(
            fields("subscription { ticks { at } p: portfolio { totalValue } }"),
            ["ticks", "portfolio"]
        );
        assert_eq!(fields("subscription { nope }"), ["other"]);
        assert!(fields("{ stocks { id } }").is_empty());
        assert!(fields("subscription {").is_empty());
    }

    #[test]
    fn keys_ignore_variable_order() {
        let a = Request::new("subscription($a: ID, $b: ID) { ticks { at } }").variables(
            async_graphql::Variables::from_json(serde_json::json!({ "a": "1", "b": "2" })),
        );
        let b = Request::new("subscription($a: ID, $b: ID) { ticks { at } }").variables(
            async_graphql::Variables::from_json(serde_json::json!({ "b": "2", "a": "1" })),
        );
        assert_eq!(shareable(&a), shareable(&b));
    }
}
