//! `/graphql/ws`: subscriptions over `graphql-transport-ws` and the legacy `graphql-ws`
//! (subscriptions-transport-ws).
//!
//! The protocol is handled here rather than by async-graphql so that public feeds can be
//! multiplexed: every subscription with the same document and variables to a public feed
//! (ticks, market state, candles) shares ONE execution and ONE serialization per event (see
//! `feeds`); only the message id differs between the frames sent to each subscriber. Account
//! feeds run one execution per subscriber, with the caller in their context.
//!
//! A socket authenticated in `connection_init` lives no longer than its access token: neither
//! protocol can re-authenticate an open socket, so it closes with 4401 when the token expires
//! or the user's sessions are revoked (4403 when the account is deactivated), and the client
//! reconnects with a fresh token (graphql-ws: `connectionParams` as a function).

mod protocol;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use async_graphql::http::WebSocketProtocols;
use axum::{
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{
    SinkExt, Stream, StreamExt,
    stream::{AbortHandle, Abortable, SelectAll},
};
use tokio::time::Instant;
use tracing::Instrument;

use self::protocol::{ClientMessage, Protocol};
pub use super::live::{Feeds, Sessions};
use super::{
    client_addr::client_ip,
    live::{self, Out, sessions},
    per_client::Slot,
};
use crate::{
    clock::Sleep,
    domain::Error,
    graphql::live::Counted,
    graphql::{Caller, ClientAddr},
    http::AppState,
    infra::metrics::GaugeGuard,
};

/// Per-connection socket buffers: small, so ten thousand idle connections cost megabytes.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;
const MAX_MESSAGE: usize = 64 * 1024;
/// A client must send `connection_init` this soon.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Legacy clients expect a keep-alive (`ka`) this often.
const KEEP_ALIVE: Duration = Duration::from_secs(20);

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let config = &state.services.config;
    if !origin_allowed(
        &headers,
        config.cors_origins.as_deref(),
        &config.public_origins,
    ) {
        return (
            StatusCode::FORBIDDEN,
            "this origin may not open a WebSocket",
        )
            .into_response();
    }
    let peer = client_ip(peer.ip(), &headers, &config.trusted_proxies);
    // The session's log lines, its end line included, carry the upgrade request's id.
    let span = tracing::Span::current();
    let Some(slot) = state
        .ws_clients
        .take(peer, config.ws_max_connections_per_client)
    else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many WebSockets from this address",
        )
            .into_response();
    };
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        // A frame that does not fit the write buffer would fail the socket: room for the
        // largest response allowed, plus its id (at most a message) and the envelope.
        .max_write_buffer_size(4 * WRITE_BUFFER + MAX_MESSAGE + config.graphql.max_response_bytes)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .on_upgrade(move |socket| {
            Connection::new(state, Protocol::from(protocol), peer, slot)
                .serve(socket)
                .instrument(span)
        })
}

/// Browsers send `Origin`: unless `CORS_ALLOWED_ORIGINS` is `*`, it must be one of the public
/// origins (`PUBLIC_ORIGIN`: this service's own pages, such as GraphiQL) or on the CORS
/// allow-list, scheme, host and port alike. Never the request's own `Host`: a page whose name
/// was rebound to this server's address sends a matching one. Other clients send no `Origin`
/// and are let through; they authenticate with tokens like everyone else.
fn origin_allowed(headers: &HeaderMap, allowed: Option<&[String]>, public: &[String]) -> bool {
    let (Some(origin), Some(list)) = (headers.get(header::ORIGIN), allowed) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(origin) = crate::config::normalize_origin(origin) else {
        return false;
    };
    public.contains(&origin)
        || list
            .iter()
            .any(|a| crate::config::normalize_origin(a).as_ref() == Some(&origin))
}

/// The first subprotocol the client offers that we speak. async-graphql-axum's
/// `GraphQLProtocol` extractor does the same but keeps the protocol it found private (only
/// its own `GraphQLWebSocket` can read it, and that handler cannot share feed executions),
/// and it reads only the first `Sec-WebSocket-Protocol` header line where a client may send
/// several.
fn negotiate(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
}

/// Outputs tagged with their subscription.
type TaggedStream = Pin<Box<dyn Stream<Item = (Arc<SubId>, Out)> + Send>>;

/// A subscription id as the client sent it, and as it appears in frames (a JSON string).
struct SubId {
    raw: String,
    json: String,
}

/// Why a connection is closed.
struct Close(u16, &'static str);

struct Connection {
    state: AppState,
    protocol: Protocol,
    /// `None` until `connection_init` is accepted.
    caller: Option<Caller>,
    /// Set for a logged-in caller: fires when the account is deactivated or changed, or its
    /// sessions are revoked.
    session: Option<sessions::Session>,
    /// Set for a logged-in caller: completes when the access token expires (on the injected
    /// clock). Made once, not per loop turn, so a busy socket does not re-arm a timer per frame.
    expiry: Option<Sleep>,
    /// Active subscriptions by client id, each counted in the live statistics and, by root
    /// field, in the metrics.
    active: HashMap<String, (AbortHandle, live::Held)>,
    _connection: Counted,
    _connection_gauge: GaugeGuard,
    /// Client messages read and frames sent, for the session's access log line.
    received: u64,
    sent: u64,
    /// The client's address, for the audit log of admin mutations sent over the socket.
    peer: ClientAddr,
    /// This socket's place in its address's count.
    _slot: Slot,
    /// Since when the socket has had no subscription (`None` while it has one).
    idle_since: Option<Instant>,
    streams: SelectAll<TaggedStream>,
}

impl Connection {
    fn new(state: AppState, protocol: Protocol, peer: IpAddr, slot: Slot) -> Self {
        Connection {
            peer: ClientAddr(peer.to_string()),
            _slot: slot,
            idle_since: Some(Instant::now()),
            _connection: Counted::new(&state.live, |l| &l.connections),
            _connection_gauge: GaugeGuard::new(metrics::gauge!("zebrat_websocket_connections")),
            received: 0,
            sent: 0,
            state,
            protocol,
            caller: None,
            session: None,
            expiry: None,
            active: HashMap::new(),
            streams: SelectAll::new(),
        }
    }

    /// Runs the session, then writes its access log line.
    async fn serve(mut self, socket: WebSocket) {
        let started = Instant::now();
        let close_code = self.converse(socket).await;
        self.stop_all();
        let user_id = match &self.caller {
            Some(Caller::User(viewer)) => Some(viewer.user_id),
            _ => None,
        };
        tracing::info!(
            client = %self.peer.0,
            user_id,
            duration_ms = started.elapsed().as_millis() as u64,
            received = self.received,
            sent = self.sent,
            close_code,
            "websocket session ended"
        );
    }

    /// Serves messages until the socket closes; returns the close code (the server's, the
    /// client's, 1005 when the client sent none, 1006 when the connection broke).
    async fn converse(&mut self, socket: WebSocket) -> u16 {
        let (mut sink, mut incoming) = socket.split();
        let init_deadline = tokio::time::Instant::now() + INIT_TIMEOUT;
        let mut keep_alive = tokio::time::interval_at(init_deadline, KEEP_ALIVE);
        let idle_timeout = self.state.services.config.ws_idle_timeout;
        let close = loop {
            // Pings do not count as activity: a socket is kept for its subscriptions.
            match (self.active.is_empty(), self.idle_since) {
                (true, None) => self.idle_since = Some(Instant::now()),
                (false, Some(_)) => self.idle_since = None,
                _ => {}
            }
            let idle_deadline = self.idle_since.map(|since| since + idle_timeout);
            let result = tokio::select! {
                msg = incoming.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        self.received += 1;
                        self.handle(text.as_bytes()).await
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        self.received += 1;
                        self.handle(&bytes).await
                    }
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map_or(1005, |f| f.code);
                    }
                    Some(Err(e)) if too_big(&e) => Err(Close(1009, "Message too big")),
                    None | Some(Err(_)) => return 1006,
                    Some(Ok(_)) => Ok(Vec::new()), // ping/pong frames: axum answers pings
                },
                Some((id, out)) = self.streams.next(), if !self.streams.is_empty() => {
                    Ok(self.output(&id, &out))
                }
                _ = tokio::time::sleep_until(init_deadline), if self.caller.is_none() => {
                    Err(Close(4408, "Connection initialisation timeout"))
                }
                _ = sleep_until_some(idle_deadline), if self.caller.is_some() => {
                    Err(Close(4408, "Idle timeout: no subscription"))
                }
                _ = keep_alive.tick(), if self.protocol == Protocol::Legacy && self.caller.is_some() => {
                    Ok(vec![protocol::keep_alive()])
                }
                _ = self.state.shutdown.cancelled() => Err(Close(1001, "Server shutting down")),
                why = cut_off(&self.session) => Err(match why {
                    sessions::CutOff::Revoked => Close(4401, "Session revoked"),
                    sessions::CutOff::Disabled => Close(4403, "Forbidden"),
                }),
                _ = expired(&mut self.expiry) => Err(Close(4401, "Token expired")),
            };
            match result {
                Ok(frames) => {
                    for frame in frames {
                        if sink.send(Message::Text(frame.into())).await.is_err() {
                            return 1006;
                        }
                        self.sent += 1;
                    }
                }
                Err(close) => break close,
            }
        };
        let Close(code, reason) = close;
        let message = match code {
            4401 => Some(reason),
            4403 => Some("access token is invalid or expired"),
            _ => None,
        };
        if let (Protocol::Legacy, Some(message)) = (self.protocol, message) {
            // Legacy clients read the reason from a message before the socket closes.
            let frame = protocol::connection_error(message);
            let _ = sink.send(Message::Text(frame.into())).await;
        }
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
        code
    }

    fn stop_all(&mut self) {
        for (_, (handle, _)) in self.active.drain() {
            handle.abort();
        }
    }

    /// Answers one client message with frames to send, or closes the connection.
    async fn handle(&mut self, raw: &[u8]) -> Result<Vec<String>, Close> {
        let msg = protocol::parse(self.protocol, raw).ok_or(Close(4400, "Invalid message"))?;
        match msg {
            ClientMessage::Init(payload) => {
                if self.caller.is_some() {
                    return Err(Close(4429, "Too many initialisation requests"));
                }
                let caller = match bearer_from_init(&payload) {
                    None => Caller::Anonymous,
                    Some(token) => {
                        let grant = self.state.services.auth.authenticate(token).await.map_err(
                            |e| match e {
                                Error::Unauthenticated(_) => Close(4403, "Forbidden"),
                                e => {
                                    tracing::error!(error = %e, "verifying a socket's token");
                                    Close(4500, "Internal server error")
                                }
                            },
                        )?;
                        let viewer = grant.viewer;
                        let most = self.state.services.config.max_connections_per_user;
                        let Some(session) = self.state.sessions.register(viewer.user_id, most)
                        else {
                            return Err(Close(4429, "Too many connections for this user"));
                        };
                        self.session = Some(session);
                        self.expiry = Some(self.state.services.clock.sleep_until(grant.expires_at));
                        if let Err(e) = self.state.services.auth.touch(viewer.user_id).await {
                            tracing::warn!(error = %e, "recording a socket login");
                        }
                        Caller::User(viewer)
                    }
                };
                self.caller = Some(caller);
                Ok(protocol::ack(self.protocol))
            }
            ClientMessage::Ping(payload) => Ok(vec![protocol::pong(payload)]),
            ClientMessage::Pong => Ok(Vec::new()),
            ClientMessage::Terminate => Err(Close(1000, "Normal closure")),
            ClientMessage::Subscribe { id, request } => {
                let Some(caller) = self.caller.clone() else {
                    return Err(Close(4401, "Unauthorized"));
                };
                if self.active.contains_key(&id) {
                    return Err(Close(4409, "Subscriber for this id already exists"));
                }
                let sub = Arc::new(SubId {
                    json: protocol::json_string(&id),
                    raw: id.clone(),
                });
                let most = self.state.services.config.max_subscriptions_per_connection;
                if self.active.len() >= most {
                    let errors = live::errors_json(
                        &format!("at most {most} subscriptions per connection"),
                        "BAD_USER_INPUT",
                    );
                    let out = Out::Error(errors.into());
                    return Ok(protocol::frames(self.protocol, &sub.json, &out));
                }
                let (stream, held) = live::start(&self.state, caller, self.peer.clone(), *request);
                let (handle, registration) = AbortHandle::new_pair();
                let tagged = stream.map(move |out| (sub.clone(), out));
                self.streams
                    .push(Box::pin(Abortable::new(tagged, registration)));
                self.active.insert(id, (handle, held));
                Ok(Vec::new())
            }
            ClientMessage::Complete(id) => {
                if let Some((handle, _)) = self.active.remove(&id) {
                    handle.abort();
                    if self.protocol == Protocol::Legacy {
                        let id_json = protocol::json_string(&id);
                        return Ok(protocol::frames(self.protocol, &id_json, &Out::Complete));
                    }
                }
                Ok(Vec::new())
            }
        }
    }

    /// Frames for one subscription output; a finished subscription is forgotten. A response
    /// over `GRAPHQL_MAX_RESPONSE_BYTES` is not sent: a `RESPONSE_TOO_LARGE` error takes its
    /// place, and the subscription and the socket go on.
    fn output(&mut self, sub: &SubId, out: &Out) -> Vec<String> {
        if matches!(out, Out::Error(_) | Out::Complete)
            && let Some((handle, _)) = self.active.remove(&sub.raw)
        {
            handle.abort();
        }
        let most = self.state.services.config.graphql.max_response_bytes;
        match out {
            Out::Next(payload) if payload.len() > most => {
                metrics::counter!("zebrat_responses_too_large_total", "transport" => "websocket")
                    .increment(1);
                let error = crate::graphql::limits::too_large_response(most);
                let payload = serde_json::to_string(&error).unwrap_or_else(|_| {
                    r#"{"data":null,"errors":[{"message":"response too large","extensions":{"code":"RESPONSE_TOO_LARGE"}}]}"#.into()
                });
                let out = Out::Next(payload.into());
                protocol::frames(self.protocol, &sub.json, &out)
            }
            out => protocol::frames(self.protocol, &sub.json, out),
        }
    }
}

/// Whether a read failed because the client's message or frame exceeded `MAX_MESSAGE`: the
/// socket library refuses it, and the client is told so with 1009 rather than a silent drop.
fn too_big(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

/// Completes at `deadline`, or never without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Completes when the caller's account is cut off, with why (never for anonymous sockets).
async fn cut_off(session: &Option<sessions::Session>) -> sessions::CutOff {
    match session {
        Some(s) => s.cut_off().await,
        None => std::future::pending().await,
    }
}

/// Completes when the caller's token expires (never for anonymous sockets).
async fn expired(expiry: &mut Option<Sleep>) {
    match expiry {
        Some(sleep) => sleep.await,
        None => std::future::pending().await,
    }
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
