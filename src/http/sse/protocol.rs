//! The `graphql-sse` wire format: which requests ask for an event stream, reading an operation
//! from a request, and writing events. Pure, so it is tested here.

use async_graphql::Request;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::Value;

use super::super::live::Out;

/// The header (or, for `EventSource`, the `token` query parameter) naming a reserved stream.
pub const TOKEN_HEADER: &str = "x-graphql-event-stream-token";

/// A comment line: ignored by every event-stream parser, it keeps proxies from timing the
/// stream out and makes browsers show the response at once.
pub const PING: &str = ":\n\n";
/// The last thing written when the server stops: a comment, so the client sees the stream end
/// without `complete` and reconnects (to another instance, behind a load balancer).
pub const SHUTTING_DOWN: &str = ": server shutting down\n\n";

/// Whether `Accept` prefers `text/event-stream` to the JSON media types: the highest `q` wins,
/// and between equal ones the first listed.
pub fn wants_event_stream(headers: &HeaderMap) -> bool {
    let mut best: Option<(f32, bool)> = None;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let mut params = part.split(';');
            let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
            let sse = match media.as_str() {
                "text/event-stream" => true,
                "application/json" | "application/graphql-response+json" => false,
                _ => continue,
            };
            let q = params
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(top, _)| q > top) {
                best = Some((q, sse));
            }
        }
    }
    best.is_some_and(|(q, sse)| sse && q > 0.0)
}

/// Why a request is not an operation: the status and the message.
#[derive(Debug)]
pub struct BadRequest(pub StatusCode, pub String);

/// The operation in a GET query string or a JSON POST body (the GraphQL-over-HTTP forms).
pub fn read_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Request, BadRequest> {
    let bad = |e: String| BadRequest(StatusCode::BAD_REQUEST, e);
    let value: Value = match *method {
        Method::GET => {
            return super::super::query_string::read(uri.query().unwrap_or_default()).map_err(bad);
        }
        Method::POST => {
            let json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
            if !json {
                return Err(BadRequest(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "send the operation as `Content-Type: application/json`".into(),
                ));
            }
            serde_json::from_slice(body)
                .map_err(|e| bad(format!("the body is not a GraphQL request: {e}")))?
        }
        _ => {
            return Err(BadRequest(
                StatusCode::METHOD_NOT_ALLOWED,
                "an operation is sent by GET or POST".into(),
            ));
        }
    };
    if !value.is_object() {
        return Err(bad("a GraphQL request is a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| bad(format!("not a GraphQL request: {e}")))
}

/// An operation's id in the single-connection mode, as sent and as a JSON string.
#[derive(Debug)]
pub struct OpId {
    pub raw: String,
    pub json: String,
}

impl OpId {
    pub fn new(raw: String) -> Self {
        OpId {
            json: Value::String(raw.clone()).to_string(),
            raw,
        }
    }
}

/// The events for one output: `next` with the payload (request errors as `{"errors": …}`),
/// `complete` after an error or at the end. In the single-connection mode each event's data
/// names its operation (`{"id": …, "payload": …}`). Payloads are compact JSON, one line.
pub fn events(id: Option<&OpId>, out: &Out) -> String {
    let complete = match id {
        None => "event: complete\ndata:\n\n".to_string(),
        Some(id) => format!("event: complete\ndata: {{\"id\":{}}}\n\n", id.json),
    };
    let next = |payload: &str| match id {
        None => format!("event: next\ndata: {payload}\n\n"),
        Some(id) => format!(
            "event: next\ndata: {{\"id\":{},\"payload\":{payload}}}\n\n",
            id.json
        ),
    };
    match out {
        Out::Next(payload) => next(payload),
        Out::Error(errors) => next(&format!("{{\"errors\":{errors}}}")) + &complete,
        Out::Complete => complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn event_streams_are_asked_for_explicitly() {
        assert!(wants_event_stream(&accept("text/event-stream")));
        assert!(wants_event_stream(&accept(
            "text/event-stream, application/json"
        )));
        assert!(!wants_event_stream(&accept(
            "application/json, text/event-stream"
        )));
        assert!(wants_event_stream(&accept(
            "application/json;q=0.5, text/event-stream"
        )));
        assert!(!wants_event_stream(&accept("text/event-stream;q=0")));
        assert!(!wants_event_stream(&accept("*/*")));
        assert!(!wants_event_stream(&HeaderMap::new()));
    }

    #[test]
    fn events_embed_payloads_verbatim() {
        let next = Out::Next(r#"{"data":{"x":1}}"#.into());
        assert_eq!(
            events(None, &next),
            "event: next\ndata: {\"data\":{\"x\":1}}\n\n"
        );
        let id = OpId::new("a\"b".into());
        assert_eq!(
            events(Some(&id), &next),
            "event: next\ndata: {\"id\":\"a\\\"b\",\"payload\":{\"data\":{\"x\":1}}}\n\n"
        );
        let error = Out::Error(r#"[{"message":"no"}]"#.into());
        assert_eq!(
            events(None, &error),
            "event: next\ndata: {\"errors\":[{\"message\":\"no\"}]}\n\nevent: complete\ndata:\n\n"
        );
        assert_eq!(
            events(Some(&id), &Out::Complete),
            "event: complete\ndata: {\"id\":\"a\\\"b\"}\n\n"
        );
    }

    #[test]
    fn reads_both_request_forms() {
        let get = "/graphql/stream?query=subscription%20%7B%20ticks%20%7B%20at%20%7D%20%7D&operationName=T&variables=%7B%22a%22%3A1%7D";
        let r = read_request(&Method::GET, &get.parse().unwrap(), &HeaderMap::new(), b"").unwrap();
        assert_eq!(r.query, "subscription { ticks { at } }");
        assert_eq!(r.operation_name.as_deref(), Some("T"));
        let mut json = HeaderMap::new();
        json.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let post = read_request(
            &Method::POST,
            &"/graphql/stream".parse().unwrap(),
            &json,
            br#"{"query":"{ __typename }","extensions":{"operationId":"1"}}"#,
        )
        .unwrap();
        assert_eq!(post.query, "{ __typename }");
        let text = read_request(
            &Method::POST,
            &"/".parse().unwrap(),
            &HeaderMap::new(),
            b"{}",
        );
        assert_eq!(text.unwrap_err().0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let garbage = read_request(&Method::POST, &"/".parse().unwrap(), &json, b"[1]");
        assert_eq!(garbage.unwrap_err().0, StatusCode::BAD_REQUEST);
        let vars = read_request(
            &Method::GET,
            &"/?query=x&variables=nope".parse().unwrap(),
            &HeaderMap::new(),
            b"",
        );
        assert_eq!(vars.unwrap_err().0, StatusCode::BAD_REQUEST);
    }
}
