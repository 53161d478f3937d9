//! `/graphql/ws`: subscriptions over `graphql-transport-ws` and the legacy `graphql-ws`.

use std::str::FromStr;

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage},
};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, future};

use crate::{app::AppState, graphql::Caller};

/// Per-connection socket buffers: small, so ten thousand idle connections cost megabytes.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;
const MAX_MESSAGE: usize = 64 * 1024;

/// Close code for a rejected `connection_init` (graphql-transport-ws: 4403 Forbidden).
const FORBIDDEN: u16 = 4403;
const AUTH_FAILED: &str = "access token is invalid or expired";

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = negotiate(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "request the `graphql-transport-ws` or `graphql-ws` subprotocol",
        )
            .into_response();
    };
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(4 * WRITE_BUFFER + MAX_MESSAGE)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol))
}

async fn serve(socket: WebSocket, state: AppState, protocol: WebSocketProtocols) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|msg| future::ready(msg.is_ok()))
        .filter_map(|msg| {
            future::ready(match msg {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });
    let auth = state.services.auth.clone();
    let output = GqlWebSocket::new(state.schema.clone(), input, protocol).on_connection_init(
        move |payload| async move {
            let caller = match bearer_from_init(&payload) {
                None => Caller::Anonymous,
                Some(token) => match Caller::from_bearer(&auth, token) {
                    Caller::User(viewer) => Caller::User(viewer),
                    _ => return Err(async_graphql::Error::new(AUTH_FAILED)),
                },
            };
            let mut data = Data::default();
            data.insert(caller);
            Ok(data)
        },
    );
    futures_util::pin_mut!(output);
    while let Some(msg) = output.next().await {
        let frame = match msg {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => {
                // async-graphql closes a rejected init with 1002; the protocol asks for 4403.
                let code = if reason == AUTH_FAILED {
                    FORBIDDEN
                } else {
                    code
                };
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        };
        if sink.send(frame).await.is_err() {
            break;
        }
    }
}

/// The first subprotocol the client offers that we speak.
fn negotiate(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
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
