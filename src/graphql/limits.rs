//! Bounds on an operation, over HTTP and WebSocket alike.
//!
//! Before it is validated or run: a document's size, its aliases and its root fields. Depth
//! and complexity are the schema's own limits (set in `build_schema`); this extension gives
//! their errors a code. Then, for each query and mutation (subscriptions are bounded by their
//! socket's limits instead):
//! - its complexity is spent from the caller's cost budget ([`super::cost`]);
//! - it runs for at most `GRAPHQL_TIMEOUT_SECS`, and is cancelled after;
//! - its response is measured while it is built, and given up as soon as it would be larger
//!   than `GRAPHQL_MAX_RESPONSE_BYTES` (the HTTP and WebSocket layers check the serialized
//!   size exactly);
//! - its cost, and the budget left, is reported in `extensions.cost`.
//!
//! A document refused before execution answers one of these codes (nothing runs):
//! - [`DOCUMENT_TOO_LARGE`]: too many bytes, aliases, root fields, or selections once
//!   fragments are expanded;
//! - [`QUERY_TOO_COMPLEX`]: its complexity is over the limit, or over what the caller's budget
//!   can ever hold (`extensions.limit` says which);
//! - [`QUERY_TOO_DEEP`]: its selections nest deeper than the limit (`extensions.limit`);
//! - [`RATE_LIMITED`]: the budget holds less than the cost now (`extensions.retryAfter`).
//!
//! An operation stopped while it runs answers `data: null` and [`TIMEOUT`] or
//! [`RESPONSE_TOO_LARGE`] (`extensions.limit`: seconds or bytes). A mutation stopped by the
//! timeout may have taken effect: retry it with the same idempotency key where it takes one.

mod document;

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Value,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
        NextResolve, NextValidation, ResolveInfo,
    },
    parser::types::{ExecutableDocument, OperationType},
};
use tokio::sync::Notify;

use self::document::{count_aliases, introspects, operation_sizes};
use super::{cost, error::coded_error};
use crate::config::GraphqlLimits;

/// Most selections an operation makes once its fragments are expanded (fewer when
/// `GRAPHQL_MAX_COMPLEXITY` is lower): the web app's largest query makes about 50.
pub const MAX_SELECTIONS: usize = 1000;

/// The extension that enforces [`GraphqlLimits`], and refuses introspection when it is off
/// (the schema alone would answer `__schema` with a silent null; an error tells the client).
pub struct DocumentLimits {
    pub limits: GraphqlLimits,
    pub introspection: bool,
}

/// The document's size: bytes, aliases, root fields or selections.
pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
/// Complexity over `GRAPHQL_MAX_COMPLEXITY`, or over the caller's budget capacity.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// Selections nested deeper than `GRAPHQL_MAX_DEPTH`.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// The caller's cost budget holds less than the operation costs, for now.
pub const RATE_LIMITED: &str = "RATE_LIMITED";
/// The operation ran longer than `GRAPHQL_TIMEOUT_SECS` and was cancelled.
pub const TIMEOUT: &str = "TIMEOUT";
/// The response would be larger than `GRAPHQL_MAX_RESPONSE_BYTES`.
pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsCheck {
            limits: self.limits,
            introspection: self.introspection,
            seen: Mutex::default(),
            size: ResponseSize::default(),
        })
    }
}

/// One request's extension (the factory makes one per request, or per subscription).
struct DocumentLimitsCheck {
    limits: GraphqlLimits,
    introspection: bool,
    seen: Mutex<Seen>,
    size: ResponseSize,
}

/// What the hooks before execution learnt, for the `execute` hook.
#[derive(Default)]
struct Seen {
    /// Each operation's name (`None`: the anonymous one) and type.
    operations: Vec<(Option<String>, OperationType)>,
    /// The validated document's complexity.
    complexity: Option<usize>,
}

/// The response of the running query or mutation, measured as its fields resolve.
#[derive(Default)]
struct ResponseSize {
    /// Set while a query or mutation executes (never for subscription events).
    measuring: AtomicBool,
    /// About as many bytes as the JSON of the values resolved so far (names, scalars,
    /// punctuation; string escapes not counted).
    bytes: AtomicUsize,
    /// Past the limit: the remaining fields are not resolved.
    over: AtomicBool,
    /// Wakes the `execute` hook, which then drops the execution.
    tripped: Notify,
}

impl DocumentLimitsCheck {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Nothing panics while holding it; a poisoned lock still holds plain data.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// async-graphql's own depth and complexity errors carry no code and no limit: add both.
    fn coded(&self, mut error: ServerError) -> ServerError {
        let (code, limit) = if error.message.starts_with("Query is too complex") {
            (QUERY_TOO_COMPLEX, self.limits.max_complexity)
        } else if error.message.starts_with("Query is nested too deep") {
            (QUERY_TOO_DEEP, self.limits.max_depth)
        } else {
            return error;
        };
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("code", code);
        ext.set("limit", limit);
        error
    }

    /// The limits on a parsed document: aliases, root fields, selections with fragments
    /// expanded, introspection; remembers its operations for the `execute` hook.
    fn check(&self, doc: &ExecutableDocument) -> ServerResult<()> {
        let limits = self.limits;
        let aliases = count_aliases(doc);
        if aliases > limits.max_aliases {
            return Err(too_big(format!(
                "the document has {aliases} aliases; the limit is {}",
                limits.max_aliases
            )));
        }
        let (roots, fields) =
            operation_sizes(doc).map_err(|problem| coded_error(problem, "BAD_USER_INPUT"))?;
        if roots > limits.max_root_fields {
            return Err(too_big(format!(
                "an operation makes {roots} root selections; the limit is {}",
                limits.max_root_fields
            )));
        }
        // Also caught by the complexity limit, but only after validation has expanded every
        // fragment spread: a few kilobytes of nested spreads would take it a very long time.
        // Bounded on its own too: the complexity limit counts lists by their sizes, so it is
        // far larger than the number of selections a document needs.
        let max_selections = limits.max_complexity.min(MAX_SELECTIONS);
        if fields > max_selections {
            return Err(too_big(format!(
                "an operation makes {fields} selections once fragments are expanded; the limit is \
                 {max_selections}"
            )));
        }
        if !self.introspection && introspects(doc) {
            return Err(coded_error(
                "introspection is disabled on this server",
                "FORBIDDEN",
            ));
        }
        self.seen().operations = doc
            .operations
            .iter()
            .map(|(name, op)| (name.map(|n| n.to_string()), op.node.ty))
            .collect();
        Ok(())
    }
}

#[async_trait::async_trait]
impl Extension for DocumentLimitsCheck {
    /// Checks the document before async-graphql parses or validates it, on a parse of ours
    /// that async-graphql then uses (parsing is most of what a large document costs, and it
    /// happens once).
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Parsing and validating a document is work that never waits: let other requests run
        // first, so that a batch of large documents (even one refused in the end) does not
        // hold a worker thread for all its operations in a row.
        tokio::task::yield_now().await;
        let limits = self.limits;
        if request.query.len() > limits.max_document_bytes {
            return Err(too_big(format!(
                "the document is {} bytes; the limit is {}",
                request.query.len(),
                limits.max_document_bytes
            )));
        }
        // Checked on our parse, before async-graphql's own checks: its recursion-depth check
        // expands every fragment spread, which nested spreads turn into exponential work.
        // (Parsing itself is safe: the parser stops at 64 levels of nesting.) A document that
        // does not parse goes on: async-graphql reports the syntax error.
        if let Ok(doc) = request.parsed_query() {
            self.check(doc)?;
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        // Between parsing and validating, the other stretch of work that never waits.
        tokio::task::yield_now().await;
        match next.run(ctx).await {
            Ok(result) => {
                self.seen().complexity = Some(result.complexity);
                Ok(result)
            }
            Err(errors) => Err(errors.into_iter().map(|e| self.coded(e)).collect()),
        }
    }

    /// Spends the cost from the caller's budget, runs the operation within the timeout and
    /// the response limit, and adds `extensions.cost` to the response. Only queries and
    /// mutations come here: subscription events do not (their cost was checked once, at
    /// subscribe time, and a feed's every frame would repeat it).
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let cost = {
            let seen = self.seen();
            let kind = seen
                .operations
                .iter()
                .find(|(name, _)| name.as_deref() == operation_name)
                .map(|(_, kind)| *kind);
            seen.complexity
                .filter(|_| kind != Some(OperationType::Subscription))
        };
        let Some(cost) = cost else {
            return next.run(ctx, operation_name).await;
        };
        let level = match cost::spend(ctx, self.limits, cost).await {
            Ok(level) => level,
            Err(refused) => return refused,
        };
        let limits = self.limits;
        self.size.measuring.store(true, Ordering::Relaxed);
        let run = tokio::time::timeout(limits.timeout, next.run(ctx, operation_name));
        let response = tokio::select! {
            biased;
            () = self.size.tripped.notified() => None,
            finished = run => Some(finished),
        };
        self.size.measuring.store(false, Ordering::Relaxed);
        let response = match response {
            _ if self.size.over.load(Ordering::Relaxed) => {
                metrics::counter!("zebrat_responses_too_large_total", "transport" => "execution")
                    .increment(1);
                too_large_response(limits.max_response_bytes)
            }
            Some(Ok(response)) => response,
            Some(Err(_)) => {
                metrics::counter!("zebrat_graphql_timeouts_total").increment(1);
                timed_out(limits)
            }
            // Woken only once over (checked above); kept total for the compiler.
            None => too_large_response(limits.max_response_bytes),
        };
        cost::with_cost(response, cost, limits, level)
    }

    /// Measures each value of a running query or mutation; once the response is over the
    /// limit, resolves nothing more (the `execute` hook answers RESPONSE_TOO_LARGE).
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let size = &self.size;
        if !size.measuring.load(Ordering::Relaxed) {
            return next.run(ctx, info).await;
        }
        if size.over.load(Ordering::Relaxed) {
            // `Some`: a list item must resolve to a value (async-graphql panics on `None`).
            return Ok(Some(Value::Null));
        }
        let name = match info.path_node.segment {
            // A list item: its comma.
            async_graphql::QueryPathSegment::Index(_) => 1,
            // `"name":` and the comma.
            async_graphql::QueryPathSegment::Name(_) => info.alias.unwrap_or(info.name).len() + 4,
        };
        let value = next.run(ctx, info).await?;
        let bytes = name + value.as_ref().map_or(4, own_bytes);
        let total = size.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.limits.max_response_bytes && !size.over.swap(true, Ordering::Relaxed) {
            size.tripped.notify_one();
        }
        Ok(value)
    }
}

/// The bytes a value adds to the JSON beyond its children (which are measured on their own).
fn own_bytes(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Boolean(_) => 5,
        Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Enum(name) => name.len() + 2,
        Value::Binary(bytes) => bytes.len() * 4 / 3 + 4,
        Value::List(_) | Value::Object(_) => 2,
    }
}

/// What an operation whose response is over `max_bytes` answers instead: `data: null` and a
/// RESPONSE_TOO_LARGE error with the limit.
pub fn too_large_response(max_bytes: usize) -> Response {
    let mut error = coded_error(
        format!(
            "the response would be larger than {max_bytes} bytes: ask for less (smaller pages, \
             fewer fields or aliases)"
        ),
        RESPONSE_TOO_LARGE,
    );
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("limit", max_bytes);
    }
    Response::from_errors(vec![error])
}

fn timed_out(limits: GraphqlLimits) -> Response {
    let secs = limits.timeout.as_secs_f64();
    let mut error = coded_error(
        format!(
            "the operation ran longer than {secs} s and was cancelled (a mutation may have taken \
             effect: retry it with the same idempotency key)"
        ),
        TIMEOUT,
    );
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("limit", secs);
    }
    Response::from_errors(vec![error])
}

fn too_big(message: String) -> ServerError {
    coded_error(message, DOCUMENT_TOO_LARGE)
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Toy;

    #[Object]
    impl Toy {
        /// Costs its page size times its selection, as a weighted list does.
        #[graphql(complexity = "first.max(0) as usize * child_complexity")]
        async fn items(&self, first: i32) -> Vec<Item> {
            (0..first).map(|_| Item).collect()
        }

        /// Waits `ms` milliseconds.
        async fn slow(&self, ms: u64) -> bool {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            SLOW_FINISHED.store(true, Ordering::Relaxed);
            true
        }
    }

    struct Item;

    /// Calls of `Item.a`, by every test of this module (they run in parallel: compare with a
    /// margin).
    static A_CALLS: AtomicUsize = AtomicUsize::new(0);
    /// Set when `Toy.slow` ran to its end.
    static SLOW_FINISHED: AtomicBool = AtomicBool::new(false);

    #[Object]
    impl Item {
        async fn a(&self) -> i32 {
            A_CALLS.fetch_add(1, Ordering::Relaxed);
            1
        }
        async fn b(&self) -> Item {
            Item
        }
    }

    fn toy_limits(max_complexity: usize, max_depth: usize) -> GraphqlLimits {
        GraphqlLimits {
            max_depth,
            max_complexity,
            max_aliases: 30,
            max_root_fields: 20,
            max_document_bytes: 16384,
            max_batch: 10,
            cost_budget: None,
            cost_budget_anonymous: None,
            timeout: std::time::Duration::from_secs(10),
            max_response_bytes: 1 << 20,
        }
    }

    fn toy_schema(
        max_complexity: usize,
        max_depth: usize,
    ) -> Schema<Toy, EmptyMutation, EmptySubscription> {
        toy_schema_with(toy_limits(max_complexity, max_depth))
    }

    fn toy_schema_with(limits: GraphqlLimits) -> Schema<Toy, EmptyMutation, EmptySubscription> {
        Schema::build(Toy, EmptyMutation, EmptySubscription)
            .limit_complexity(limits.max_complexity)
            .limit_depth(limits.max_depth)
            .extension(DocumentLimits {
                limits,
                introspection: true,
            })
            .finish()
    }

    fn code_and_limit(response: &Response) -> (String, String) {
        let ext = response.errors[0].extensions.as_ref().expect("extensions");
        let get = |k| ext.get(k).map(|v| v.to_string()).unwrap_or_default();
        (get("code"), get("limit"))
    }

    #[tokio::test]
    async fn the_cost_is_in_the_response_and_grows_with_the_page_size() {
        let schema = toy_schema(1000, 10);
        let cost = |first: i32| {
            let schema = &schema;
            async move {
                let r = schema
                    .execute(format!("{{ items(first: {first}) {{ a }} }}"))
                    .await;
                assert!(r.errors.is_empty(), "{:?}", r.errors);
                r.extensions["cost"].clone().into_json().unwrap()
            }
        };
        let five = cost(5).await;
        let fifty = cost(50).await;
        assert_eq!(five, serde_json::json!({ "requested": 5, "limit": 1000 }));
        assert_eq!(fifty, serde_json::json!({ "requested": 50, "limit": 1000 }));
    }

    #[tokio::test]
    async fn a_response_over_the_limit_is_refused_and_stops_resolving() {
        let schema = toy_schema_with(GraphqlLimits {
            max_response_bytes: 2000,
            ..toy_limits(100_000, 10)
        });
        let before = A_CALLS.load(Ordering::Relaxed);
        let r = schema.execute("{ items(first: 10000) { a } }").await;
        let calls = A_CALLS.load(Ordering::Relaxed) - before;
        assert_eq!(
            code_and_limit(&r),
            ("\"RESPONSE_TOO_LARGE\"".into(), "2000".into())
        );
        assert_eq!(r.data, Value::Null);
        assert!(calls < 1000, "{calls} of 10000 items were resolved");
        // Its cost is still reported; a response under the limit answers.
        assert!(r.extensions.contains_key("cost"));
        let small = schema.execute("{ items(first: 100) { a } }").await;
        assert!(small.errors.is_empty(), "{:?}", small.errors);
    }

    #[tokio::test]
    async fn an_operation_over_the_timeout_is_cancelled() {
        let schema = toy_schema_with(GraphqlLimits {
            timeout: std::time::Duration::from_millis(100),
            ..toy_limits(1000, 10)
        });
        let started = std::time::Instant::now();
        let r = schema.execute("{ slow(ms: 3000) }").await;
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(code_and_limit(&r), ("\"TIMEOUT\"".into(), "0.1".into()));
        assert_eq!(r.data, Value::Null);
        tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
        assert!(
            !SLOW_FINISHED.load(Ordering::Relaxed),
            "the resolver was dropped, not left running"
        );
        let quick = schema.execute("{ slow(ms: 1) }").await;
        assert!(quick.errors.is_empty(), "{:?}", quick.errors);
    }

    #[tokio::test]
    async fn refused_documents_have_a_code_each() {
        let schema = toy_schema(100, 3);
        let complex = schema.execute("{ items(first: 101) { a } }").await;
        assert_eq!(
            code_and_limit(&complex),
            ("\"QUERY_TOO_COMPLEX\"".into(), "100".into())
        );
        assert!(!complex.extensions.contains_key("cost"));

        let deep = schema
            .execute("{ items(first: 1) { b { b { a } } } }")
            .await;
        assert_eq!(
            code_and_limit(&deep),
            ("\"QUERY_TOO_DEEP\"".into(), "3".into())
        );

        let aliases: String = (0..31)
            .map(|i| format!("x{i}: items(first: 1) {{ a }} "))
            .collect();
        let wide = schema.execute(format!("{{ {aliases} }}")).await;
        assert_eq!(code_and_limit(&wide).0, "\"DOCUMENT_TOO_LARGE\"");

        // Other validation errors keep no code here (the HTTP layer gives them BAD_USER_INPUT).
        let unknown = schema.execute("{ nope }").await;
        assert!(unknown.errors[0].extensions.is_none());
        let unknown_fragment = schema.execute("{ ...Nope }").await;
        assert_eq!(code_and_limit(&unknown_fragment).0, "\"BAD_USER_INPUT\"");
    }

    #[tokio::test]
    async fn selections_stay_bounded_when_the_complexity_limit_is_large() {
        let schema = toy_schema(1_000_000, 10);
        let selections = |fields: usize| {
            format!(
                "{{ items(first: 1) {{ ...F ...F }} }} fragment F on Item {{ {} }}",
                "a ".repeat(fields)
            )
        };
        let r = schema.execute(selections(480)).await;
        assert!(r.errors.is_empty(), "963 selections: {:?}", r.errors);
        let r = schema.execute(selections(520)).await;
        assert_eq!(code_and_limit(&r).0, "\"DOCUMENT_TOO_LARGE\"");
        assert!(
            r.errors[0].message.contains("the limit is 1000"),
            "{:?}",
            r.errors
        );
    }
}
