//! `/graphql/ws`: subscriptions over `graphql-transport-ws` and the legacy `graphql-ws`.

use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{State, WebSocketUpgrade},
    response::Response,
};

use crate::{app::AppState, graphql::Caller};

/// Per-connection socket buffers: small, so ten thousand idle connections cost megabytes.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;
const MAX_MESSAGE: usize = 64 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(4 * WRITE_BUFFER + MAX_MESSAGE)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let auth = state.services.auth.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let caller = match bearer_from_init(&payload) {
                        None => Caller::Anonymous,
                        Some(token) => match Caller::from_bearer(&auth, token) {
                            Caller::User(viewer) => Caller::User(viewer),
                            _ => {
                                return Err(async_graphql::Error::new(
                                    "access token is invalid or expired",
                                ));
                            }
                        },
                    };
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
}

/// The token from `{"authorization": "Bearer …"}` (also `Authorization`, or a bare `token`).
fn bearer_from_init(payload: &serde_json::Value) -> Option<&str> {
    let value = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .or_else(|| payload.get("token"))?
        .as_str()?;
    Some(value.strip_prefix("Bearer ").unwrap_or(value).trim())
}
