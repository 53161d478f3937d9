//! `/graphql` over HTTP, following the GraphQL-over-HTTP specification: JSON requests,
//! `application/json` or `application/graphql-response+json` answers by `Accept`, queries
//! only over GET.
//!
//! Neither form is extracted by async-graphql-axum. GET: see [`super::query_string`]. POST: its
//! `GraphQLBatchRequest` also accepts `application/graphql` and multipart bodies (the spec
//! wants 415 for anything but JSON), reads the body as a raw stream past axum's
//! `DefaultBodyLimit` (an oversized body would no longer get 413), and its errors are plain
//! text, not GraphQL errors with a code in the negotiated media type.

use async_graphql::{
    BatchRequest, BatchResponse, Request, Response as GqlResponse, ServerError,
    parser::{
        Positioned, parse_query,
        types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType},
    },
};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};

use std::{collections::BTreeMap, net::SocketAddr};

use super::{client_addr::client_ip, rate_limit_fields};
use crate::{
    graphql::{
        Caller, ClientAddr,
        error::coded_error,
        limits::{RATE_LIMITED, RESPONSE_TOO_LARGE, TIMEOUT, too_large_response},
        rate_limits::RateLimitUsage,
    },
    http::AppState,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// The media type of the answer, chosen from `Accept`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    /// Legacy: 200 for every well-formed request, errors in the body.
    Json,
    /// Spec media type: request errors (unparseable, invalid) answer 400.
    GraphqlResponse,
}

impl Media {
    fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Some(Media::Json);
        };
        let mut fallback = None;
        for part in accept.split(',') {
            let media = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match media.as_str() {
                GRAPHQL_RESPONSE_JSON => return Some(Media::GraphqlResponse),
                APPLICATION_JSON | "application/*" | "*/*" => fallback = Some(Media::Json),
                _ => {}
            }
        }
        fallback
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        })
    }
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(APPLICATION_JSON))
    {
        return request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as `Content-Type: application/json`",
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    execute(&state, peer, &headers, media, batch).await
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable();
    };
    let request = match super::query_string::read(uri.query().unwrap_or_default()) {
        Ok(request) => request,
        Err(message) => return request_error(media, StatusCode::BAD_REQUEST, &message),
    };
    if is_mutation(&request) {
        let mut response =
            request_error(media, StatusCode::METHOD_NOT_ALLOWED, "mutations need POST");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, peer, &headers, media, BatchRequest::Single(request)).await
}

async fn execute(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    media: Media,
    batch: BatchRequest,
) -> Response {
    let max_batch = state.services.config.graphql.max_batch;
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > max_batch
    {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            &format!("a batch holds at most {max_batch} operations"),
        );
    }
    let caller = caller(state, headers).await;
    if let Caller::User(viewer) = &caller {
        tracing::Span::current().record("user_id", viewer.user_id);
    }
    let trusted = &state.services.config.trusted_proxies;
    let addr = client_ip(peer.ip(), headers, trusted);
    let usage = RateLimitUsage::default();
    let batch = batch
        .data(caller)
        .data(ClientAddr(addr.to_string()))
        .data(usage.clone());
    let response = state.schema.execute_batch(batch).await;
    let response = with_codes(response, request_id(headers));
    let max_bytes = state.services.config.graphql.max_response_bytes;
    let request_error = matches!(&response, BatchResponse::Single(r) if is_request_error(r));
    let status = match (&response, request_error, media) {
        (BatchResponse::Single(r), true, Media::GraphqlResponse) if is_rate_limited(r) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        (_, true, Media::GraphqlResponse) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    // Serialize the response itself (not via serde_json::Value) so fields keep query order.
    let body = match &response {
        // The spec: `data` is absent, not null, when execution never started.
        BatchResponse::Single(r) if request_error => serde_json::to_vec(&Errors {
            errors: &r.errors,
            extensions: &r.extensions,
        }),
        _ => capped_body(&response, max_bytes),
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "serializing a GraphQL response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response =
        (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response();
    if let Some(report) = usage.report() {
        rate_limit_fields::insert(response.headers_mut(), &report);
    }
    response
}

/// The body of an executed request, at most `max_bytes` of responses: each response (each
/// operation of a batch, in order) is serialized into what room is left, once, and one that
/// does not fit is replaced by a RESPONSE_TOO_LARGE error (never cut short).
fn capped_body(response: &BatchResponse, max_bytes: usize) -> serde_json::Result<Vec<u8>> {
    let responses = match response {
        BatchResponse::Single(r) => std::slice::from_ref(r),
        BatchResponse::Batch(rs) => rs.as_slice(),
    };
    let mut body = Vec::new();
    let batch = matches!(response, BatchResponse::Batch(_));
    if batch {
        body.push(b'[');
    }
    for (i, r) in responses.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        let start = body.len();
        let mut capped = Capped {
            body: &mut body,
            room: max_bytes.saturating_sub(start),
        };
        if let Err(e) = serde_json::to_writer(&mut capped, r) {
            if !e.is_io() {
                return Err(e);
            }
            body.truncate(start);
            metrics::counter!("zebrat_responses_too_large_total", "transport" => "http")
                .increment(1);
            let mut refused = too_large_response(max_bytes);
            // The cost it ran at still counts.
            refused.extensions = r.extensions.clone();
            serde_json::to_writer(&mut body, &refused)?;
        }
    }
    if batch {
        body.push(b']');
    }
    Ok(body)
}

/// A writer that refuses to grow `body` by more than `room` bytes.
struct Capped<'a> {
    body: &'a mut Vec<u8>,
    room: usize,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            return Err(std::io::Error::other("over the response limit"));
        }
        self.room -= buf.len();
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a response was refused as RATE_LIMITED (before it ran: the cost budget).
fn is_rate_limited(r: &GqlResponse) -> bool {
    r.errors.iter().any(|e| {
        e.extensions.as_ref().is_some_and(|ext| {
            matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if c == RATE_LIMITED)
        })
    })
}

/// The caller from `Authorization: Bearer …`.
async fn caller(state: &AppState, headers: &HeaderMap) -> Caller {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    let token = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    match token {
        Some(token) => Caller::from_bearer(&state.services.auth, token.trim()).await,
        None => {
            Caller::InvalidToken("the Authorization header must be `Bearer <accessToken>`".into())
        }
    }
}

/// True when execution never started: nothing was returned and every error is about the
/// document (parse, validation, variables, the cost budget), none about a field, and none says
/// the operation was stopped while it ran (TIMEOUT, RESPONSE_TOO_LARGE: `data` is null then).
pub fn is_request_error(r: &GqlResponse) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
        && !r.errors.iter().any(|e| {
            e.extensions.as_ref().is_some_and(|ext| {
                matches!(ext.get("code"), Some(async_graphql::Value::String(c))
                    if c == TIMEOUT || c == RESPONSE_TOO_LARGE)
            })
        })
}

/// The request's id (`x-request-id`, set by the router when the client sent none).
fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

/// Errors raised by async-graphql itself (syntax, validation, variable types) carry no code;
/// they are all the client's to fix. INTERNAL errors get the request id, which the server's
/// log lines of the request carry too: a user can quote it to an operator.
fn with_codes(response: BatchResponse, request_id: Option<&str>) -> BatchResponse {
    let fix = |mut r: GqlResponse| {
        r.errors = with_request_id(with_codes_in(r.errors), request_id);
        r
    };
    match response {
        BatchResponse::Single(r) => BatchResponse::Single(fix(r)),
        BatchResponse::Batch(rs) => BatchResponse::Batch(rs.into_iter().map(fix).collect()),
    }
}

/// Adds `extensions.requestId` to every INTERNAL error.
pub fn with_request_id(mut errors: Vec<ServerError>, request_id: Option<&str>) -> Vec<ServerError> {
    let Some(id) = request_id else {
        return errors;
    };
    for error in &mut errors {
        if let Some(ext) = error.extensions.as_mut()
            && matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if c == "INTERNAL")
        {
            ext.set("requestId", id);
        }
    }
    errors
}

/// Gives every error without a code `BAD_USER_INPUT`.
pub fn with_codes_in(mut errors: Vec<ServerError>) -> Vec<ServerError> {
    for error in &mut errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
        }
    }
    errors
}

fn is_mutation(request: &Request) -> bool {
    // A document that does not parse is not a mutation: execution reports the syntax error.
    parse_query(&request.query).is_ok_and(|doc| {
        operation(&doc, request.operation_name.as_deref())
            .is_some_and(|op| op.node.ty == OperationType::Mutation)
    })
}

/// The operation a request selects, as async-graphql picks it: the anonymous one, the one
/// named, or, without a name, the document's only (named) operation.
pub fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        // A single named operation without `operationName` runs too: missing this let
        // `GET ?query=mutation M {…}` through as a query.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

fn request_error(media: Media, status: StatusCode, message: &str) -> Response {
    let error = coded_error(message, "BAD_USER_INPUT");
    let body = serde_json::to_string(&Errors {
        errors: std::slice::from_ref(&error),
        extensions: &Default::default(),
    })
    .unwrap_or_default();
    // With the legacy media type only a request that is not GraphQL at all gets a 4xx.
    (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response()
}

/// `{"errors": [...]}` with each error's fields in the usual order (message first), and the
/// response's `extensions` when it has any (the cost and budget of a refused operation).
#[derive(serde::Serialize)]
struct Errors<'a> {
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

fn not_acceptable() -> Response {
    (
        StatusCode::NOT_ACCEPTABLE,
        format!("accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn negotiates_media_types() {
        assert!(Media::negotiate(&HeaderMap::new()) == Some(Media::Json));
        assert!(Media::negotiate(&accept("application/json")) == Some(Media::Json));
        assert!(
            Media::negotiate(&accept(
                "application/json, application/graphql-response+json;q=0.9"
            )) == Some(Media::GraphqlResponse)
        );
        assert!(Media::negotiate(&accept("*/*")) == Some(Media::Json));
        assert!(Media::negotiate(&accept("text/html")).is_none());
    }

    #[test]
    fn spots_mutations() {
        assert!(is_mutation(&Request::new("mutation { logout }")));
        assert!(!is_mutation(&Request::new("{ me { id } }")));
        assert!(is_mutation(&Request::new("mutation M { logout }")));
        let named = "query A { me { id } } mutation B { logout }";
        assert!(is_mutation(&Request::new(named).operation_name("B")));
        assert!(!is_mutation(&Request::new(named).operation_name("A")));
    }
}
