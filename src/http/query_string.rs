//! A GraphQL request from a GET query string (`query`, `operationName`, `variables`,
//! `extensions`), for `GET /graphql` and the event streams alike.
//!
//! Read here rather than by async-graphql's `parse_query_string` (which async-graphql-axum's
//! GET extractor uses): it expects `operation_name` where clients send `operationName`, so it
//! silently ran a document's only operation, or none, instead of the one named.

use async_graphql::Request;
use serde_json::Value;

/// The request in `query` (the part of the URI after `?`); the message says what is wrong.
pub fn read(query: &str) -> Result<Request, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| format!("the query string is not a GraphQL request: {e}"))?;
    let mut request = serde_json::Map::new();
    for (key, value) in pairs {
        let value = match key.as_str() {
            "query" | "operationName" => Value::String(value),
            "variables" | "extensions" => {
                serde_json::from_str(&value).map_err(|e| format!("`{key}` is not JSON: {e}"))?
            }
            _ => continue,
        };
        request.insert(key, value);
    }
    serde_json::from_value(Value::Object(request))
        .map_err(|e| format!("not a GraphQL request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_standard_parameters() {
        let r = read("query=query%20A%20%7B%20a%20%7D&operationName=A&variables=%7B%22x%22%3A1%7D&extensions=%7B%7D&other=1")
            .unwrap();
        assert_eq!(r.query, "query A { a }");
        assert_eq!(r.operation_name.as_deref(), Some("A"));
        assert_eq!(r.variables.get("x"), Some(&async_graphql::value!(1)));
        assert!(read("query=%7Ba%7D&variables=nope").is_err());
        assert!(read("query=%7Ba%7D&operationName=").is_ok());
    }
}
