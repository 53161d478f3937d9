//! Persisted queries over `GET /graphql`: a query string holding only a hash gets its document
//! back before the GraphQL handler reads it, so the handler's rule that GET runs no mutation
//! sees the document. (The schema's extension expands every other request; left to it, a
//! mutation sent by hash over GET would run.)

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use crate::http::AppState;

/// Middleware on `GET /graphql`: expands a persisted-query hash into its document, or answers
/// the error (`PersistedQueryNotFound`, `PERSISTED_QUERY_NOT_ALLOWED`, …) itself.
pub async fn expand_get(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some((pairs, extensions)) = persisted_pairs(request.uri()) else {
        // No hash (or a query string the handler will refuse): nothing to do here.
        return next.run(request).await;
    };
    let query = pairs
        .iter()
        .find(|(k, _)| k == "query")
        .map_or("", |(_, v)| v.as_str());
    let gql = serde_json::json!({ "query": query, "extensions": extensions });
    let Ok(gql) = serde_json::from_value::<async_graphql::Request>(gql) else {
        return next.run(request).await;
    };
    match state.persisted.expand(gql) {
        Ok(expanded) => {
            match rewritten(request.uri(), pairs, &expanded) {
                Some(uri) => *request.uri_mut() = uri,
                None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
            next.run(request).await
        }
        Err(error) => refused(request.headers(), error),
    }
}

type Pairs = Vec<(String, String)>;

/// The query string's pairs and its `extensions` object, when that holds `persistedQuery`.
fn persisted_pairs(uri: &Uri) -> Option<(Pairs, serde_json::Map<String, Value>)> {
    let pairs: Pairs = serde_urlencoded::from_str(uri.query()?).ok()?;
    let (_, raw) = pairs.iter().find(|(k, _)| k == "extensions")?;
    let Ok(Value::Object(extensions)) = serde_json::from_str(raw) else {
        return None;
    };
    extensions
        .contains_key("persistedQuery")
        .then_some((pairs, extensions))
}

/// `uri` with the expanded document as `query` and the hash taken out of `extensions`.
fn rewritten(uri: &Uri, pairs: Pairs, expanded: &async_graphql::Request) -> Option<Uri> {
    let mut pairs: Pairs = pairs
        .into_iter()
        .filter(|(k, _)| k != "query" && k != "extensions")
        .collect();
    pairs.push(("query".into(), expanded.query.clone()));
    if !expanded.extensions.0.is_empty() {
        pairs.push((
            "extensions".into(),
            serde_json::to_string(&expanded.extensions).ok()?,
        ));
    }
    let query = serde_urlencoded::to_string(&pairs).ok()?;
    format!("{}?{query}", uri.path()).parse().ok()
}

/// The error as `/graphql` answers a request error: 400 under
/// `application/graphql-response+json`, 200 under `application/json`.
fn refused(headers: &HeaderMap, error: async_graphql::ServerError) -> Response {
    let spec = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/graphql-response+json"));
    let (status, content_type) = match spec {
        true => (
            StatusCode::BAD_REQUEST,
            "application/graphql-response+json; charset=utf-8",
        ),
        false => (StatusCode::OK, "application/json; charset=utf-8"),
    };
    let body = serde_json::json!({ "errors": [error] }).to_string();
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_becomes_its_document_and_other_parameters_stay() {
        let ext = r#"{"persistedQuery":{"version":1,"sha256Hash":"ab"},"x":1}"#;
        let raw = serde_urlencoded::to_string([
            ("operationName", "M"),
            ("extensions", ext),
            ("variables", "{}"),
        ])
        .unwrap();
        let uri: Uri = format!("/graphql?{raw}").parse().unwrap();
        let (pairs, extensions) = persisted_pairs(&uri).unwrap();
        assert!(extensions.contains_key("x"));
        let mut expanded = async_graphql::Request::new("mutation M { logout }");
        expanded
            .extensions
            .0
            .insert("x".into(), async_graphql::value!(1));
        let uri = rewritten(&uri, pairs, &expanded).unwrap();
        let back: Pairs = serde_urlencoded::from_str(uri.query().unwrap()).unwrap();
        assert!(back.contains(&("query".into(), "mutation M { logout }".into())));
        assert!(back.contains(&("operationName".into(), "M".into())));
        assert!(back.contains(&("extensions".into(), r#"{"x":1}"#.into())));
        assert_eq!(uri.path(), "/graphql");
        let plain: Uri = "/graphql?query=%7B__typename%7D".parse().unwrap();
        assert!(persisted_pairs(&plain).is_none());
    }
}
