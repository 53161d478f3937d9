//! Counts every GraphQL operation by type, operation name and outcome, and times queries and
//! mutations; also names the operation in the HTTP request's span, for the access log.
//!
//! An extension sees every operation whatever the transport: HTTP requests through the
//! `request` hook, WebSocket operations through `subscribe`. A shared public feed is one
//! execution however many sockets watch it, and counts once.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use async_graphql::{
    Request, Response, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextRequest, NextSubscribe,
    },
    futures_util::stream::BoxStream,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};
use futures_util::StreamExt;

use crate::infra::metrics::operation_label;

/// Error codes a client can see (DESIGN.md, and a document refused before execution):
/// anything else is counted as `other`.
const CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "RATE_LIMITED",
    "INSUFFICIENT_FUNDS",
    "INSUFFICIENT_SHARES",
    "STOCK_HALTED",
    "INTERNAL",
    super::limits::DOCUMENT_TOO_LARGE,
    super::limits::QUERY_TOO_COMPLEX,
    super::limits::QUERY_TOO_DEEP,
    super::limits::TIMEOUT,
    super::limits::RESPONSE_TOO_LARGE,
    super::persisted::PERSISTED_QUERY_NOT_FOUND,
    super::persisted::PERSISTED_QUERY_HASH_MISMATCH,
    super::persisted::PERSISTED_QUERY_NOT_ALLOWED,
];

pub struct OperationMetrics;

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Recorder::default())
    }
}

/// One operation's facts, learnt along the way (an extension instance lives for one request).
#[derive(Default)]
struct Recorder(Arc<Mutex<Operation>>);

#[derive(Default, Clone)]
struct Operation {
    /// The name the client asked for, or the document's only operation's name.
    name: Option<String>,
    /// None until the document parsed.
    kind: Option<&'static str>,
}

impl Operation {
    fn labels(&self) -> (&'static str, String) {
        (
            self.kind.unwrap_or("unknown"),
            operation_label(self.name.as_deref()),
        )
    }
}

impl Recorder {
    fn operation(&self) -> Operation {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl Extension for Recorder {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).name = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut op = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // As async-graphql picks it: the anonymous one, the one named, or the only named one.
        let asked = op.name.clone();
        let chosen = match (&doc.operations, asked.as_deref()) {
            (DocumentOperations::Single(single), _) => Some(&single.node),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|o| &o.node),
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                ops.iter().next().map(|(name, only)| {
                    op.name = Some(name.to_string());
                    &only.node
                })
            }
            (DocumentOperations::Multiple(_), None) => None,
        };
        op.kind = chosen.map(|o| match o.ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        });
        let (kind, name) = op.labels();
        // The access log line of an HTTP request is written in this span (see `http`).
        let span = tracing::Span::current();
        span.record("operation", name.as_str());
        span.record("operation_type", kind);
        Ok(doc)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        record(&self.operation(), &response, Some(started));
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let started = Instant::now();
        let facts = self.0.clone();
        let mut first = true;
        let stream = stream.map(move |response| {
            if std::mem::take(&mut first) {
                // Counted at its first answer: then it is known to have started or failed. A
                // subscription's lifetime is not a latency; a query's or mutation's is.
                let op = facts.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let timed = (op.kind != Some("subscription")).then_some(started);
                record(&op, &response, timed);
            }
            response
        });
        next.run(ctx, stream.boxed())
    }
}

fn record(op: &Operation, response: &Response, started: Option<Instant>) {
    let (kind, name) = op.labels();
    let outcome = outcome(response);
    metrics::counter!(
        "zebrat_graphql_requests_total",
        "type" => kind, "operation" => name.clone(), "outcome" => outcome
    )
    .increment(1);
    if let Some(started) = started {
        metrics::histogram!(
            "zebrat_graphql_request_duration_seconds",
            "type" => kind, "operation" => name
        )
        .record(started.elapsed().as_secs_f64());
    }
}

/// `ok`, or the first error's code (errors async-graphql raised itself carry none yet: they
/// are the client's, `BAD_USER_INPUT`, as the HTTP layer labels them).
fn outcome(response: &Response) -> &'static str {
    let Some(error) = response.errors.first() else {
        return "ok";
    };
    let code = error.extensions.as_ref().and_then(|e| e.get("code"));
    match code {
        None => "BAD_USER_INPUT",
        Some(async_graphql::Value::String(code)) => CODES
            .iter()
            .find(|c| **c == code.as_str())
            .copied()
            .unwrap_or("other"),
        Some(_) => "other",
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Response;

    use super::super::{error::coded_error, limits, persisted};
    use crate::domain::Error;

    #[test]
    fn every_code_a_client_can_see_is_a_label_of_its_own() {
        let domain = [
            Error::Unauthenticated(String::new()),
            Error::Forbidden(String::new()),
            Error::bad_input("x", ""),
            Error::NotFound(String::new()),
            Error::Conflict(String::new()),
            Error::RateLimited {
                retry_after_secs: 1,
            },
            Error::InsufficientFunds(String::new()),
            Error::InsufficientShares(String::new()),
            Error::StockHalted(String::new()),
            Error::Internal(String::new()),
        ]
        .map(|e| e.code());
        let refusals = [
            limits::DOCUMENT_TOO_LARGE,
            limits::QUERY_TOO_COMPLEX,
            limits::QUERY_TOO_DEEP,
            limits::RATE_LIMITED,
            limits::TIMEOUT,
            limits::RESPONSE_TOO_LARGE,
            persisted::PERSISTED_QUERY_NOT_FOUND,
            persisted::PERSISTED_QUERY_HASH_MISMATCH,
            persisted::PERSISTED_QUERY_NOT_ALLOWED,
        ];
        for code in domain.into_iter().chain(refusals) {
            let response = Response::from_errors(vec![coded_error("", code)]);
            assert_eq!(super::outcome(&response), code);
        }
    }

    #[test]
    fn subscription_fields_are_the_schemas() {
        let sdl = super::super::sdl();
        let body = sdl
            .split("type Subscription {")
            .nth(1)
            .and_then(|s| s.split("\n}").next())
            .unwrap();
        let mut fields: Vec<&str> = body
            .lines()
            // Fields are indented once; their arguments, when on lines of their own, deeper.
            .filter_map(|l| l.strip_prefix('\t'))
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            // A field is a name followed at once by `(` or `:`; descriptions are prose.
            .filter_map(|l| {
                let end = l.find(|c: char| !c.is_ascii_alphanumeric())?;
                matches!(&l[end..end + 1], "(" | ":").then_some(&l[..end])
            })
            .collect();
        fields.sort();
        let mut known = super::super::feeds::SUBSCRIPTION_FIELDS.to_vec();
        known.sort();
        assert_eq!(fields, known);
    }
}
