//! GraphQL over Server-Sent Events (the `graphql-sse` protocol), for clients where WebSockets
//! are blocked: at `/graphql/stream`, and on `/graphql` for a request whose `Accept` prefers
//! `text/event-stream`.
//!
//! - Distinct-connections mode: a GET or POST asking for an event stream carries one
//!   operation; its results come as `next` events, then `complete`, and the client ends a
//!   subscription by closing the stream.
//! - Single-connection mode (`reservations`): `PUT` reserves a stream and answers its token;
//!   a GET or POST with the token in `X-GraphQL-Event-Stream-Token` (or `?token=`) asking for
//!   an event stream opens it; a POST with the token and `extensions.operationId` runs an
//!   operation on it (202); `DELETE ?operationId=` stops one (200).
//!
//! The same as on WebSocket, from the same code (`live`): public feeds share one execution per
//! document and variables, account feeds run per caller; every stream counts in the live
//! statistics and the metrics; streams and WebSockets share the per-address cap
//! (`WS_MAX_CONNECTIONS_PER_CLIENT`) and the per-user cap (`WS_MAX_CONNECTIONS_PER_USER`).
//!
//! Authentication is the `Authorization: Bearer <accessToken>` header: a token that does not
//! verify answers 401, and so does an account feed (`orderUpdates`, `portfolio`, `adminStats`)
//! without one. A logged-in stream lives no longer than its token, like a socket: when the
//! token expires or the user's sessions end, each of its operations gets a `next` with an
//! UNAUTHENTICATED (or FORBIDDEN, deactivated) error and `complete`. When the server stops,
//! streams end without `complete`, so clients reconnect.

mod protocol;
mod reservations;

use std::{collections::HashMap, convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::{
    Stream, StreamExt,
    stream::{self, AbortHandle, Abortable, SelectAll},
};
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;

pub use self::reservations::Reservations;
use self::{
    protocol::{BadRequest, OpId, PING, SHUTTING_DOWN, events, read_request},
    reservations::Command,
};
use super::{
    MAX_BODY_BYTES,
    client_addr::client_ip,
    live::{self, Out, SubStream, sessions},
    per_client::Slot,
};
use crate::{
    clock::Sleep,
    domain::{Error, auth::Grant},
    graphql::{Caller, ClientAddr, live::Counted},
    http::AppState,
    infra::metrics::GaugeGuard,
};

pub use protocol::wants_event_stream;

/// A comment this often keeps proxies and clients from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `/graphql/stream`: both modes, told apart by the method and the reservation token.
pub async fn stream(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = reservations::token(&headers, &uri);
    match (&method, token) {
        (&Method::PUT, _) => reservations::reserve(&state, peer, &headers).await,
        (&Method::DELETE, Some(token)) => reservations::stop(&state, &token, &uri),
        (&Method::GET | &Method::POST, Some(token)) if wants_event_stream(&headers) => {
            reservations::open(&state, &token)
        }
        (&Method::POST, Some(token)) => {
            reservations::execute(&state, &token, &uri, &headers, &body).await
        }
        (&Method::GET | &Method::POST, None) => {
            distinct(&state, peer, &method, &uri, &headers, &body).await
        }
        (&Method::DELETE, None) => refuse(
            StatusCode::NOT_FOUND,
            "no stream: send its token in X-GraphQL-Event-Stream-Token",
            "NOT_FOUND",
        ),
        _ => {
            let mut response = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "GET or POST an operation; PUT, GET and DELETE for a reserved stream",
                "BAD_USER_INPUT",
            );
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, POST, PUT, DELETE"),
            );
            response
        }
    }
}

/// Middleware on `/graphql`: a request that prefers an event stream is served as one
/// (distinct-connections mode); anything else goes on to the GraphQL-over-HTTP handlers.
pub async fn divert(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !wants_event_stream(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("a request body is at most {MAX_BODY_BYTES} bytes"),
            "BAD_USER_INPUT",
        );
    };
    distinct(
        &state,
        peer,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
    )
    .await
}

/// One operation on a stream of its own.
async fn distinct(
    state: &AppState,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let request = match read_request(method, uri, headers, body) {
        Ok(request) => request,
        Err(BadRequest(status, message)) => return refuse(status, &message, "BAD_USER_INPUT"),
    };
    let grant = match authenticate(state, headers).await {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    let config = &state.services.config;
    let ip = client_ip(peer.ip(), headers, &config.trusted_proxies);
    let Some(slot) = state
        .ws_clients
        .take(ip, config.ws_max_connections_per_client)
    else {
        return too_many("too many WebSockets and event streams from this address");
    };
    let (caller, session) = match logged_in(state, grant.as_ref()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let peer = ClientAddr(ip.to_string());
    // Expanded here, not only when it starts, so an account feed or a mutation sent by hash is
    // recognised as one. Refusals are reported in the stream, as the protocol wants.
    let (outs, held) = match state.persisted.expand(request) {
        Err(error) => {
            let errors = serde_json::to_string(&[error]).unwrap_or_else(|_| "[]".into());
            let outs: SubStream = Box::pin(stream::iter([Out::Error(errors.into())]));
            (outs, None)
        }
        Ok(request) => {
            if let Some(refusal) = refusal(method, &caller, &request) {
                return refusal;
            }
            let (outs, held) = live::start(state, caller, peer.clone(), request);
            (outs, Some(held))
        }
    };
    let mut stream = EventStream::new(state, peer, slot, session, grant.map(|g| g.expires_at));
    stream.add(None, outs, held);
    stream.respond()
}

/// The answer to what the caller may not run here: an account feed without a login (401), a
/// mutation over GET (405).
fn refusal(method: &Method, caller: &Caller, request: &async_graphql::Request) -> Option<Response> {
    if matches!(caller, Caller::Anonymous) && live::needs_caller(request) {
        return Some(unauthorized(
            "this feed needs a login: send `Authorization: Bearer <accessToken>`",
        ));
    }
    if method == Method::GET && is_mutation(request) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations need POST",
            "BAD_USER_INPUT",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Some(response);
    }
    None
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::{parse_query, types::OperationType};
    parse_query(&request.query).is_ok_and(|doc| {
        super::graphql::operation(&doc, request.operation_name.as_deref())
            .is_some_and(|op| op.node.ty == OperationType::Mutation)
    })
}

/// The grant of the `Authorization` header: `None` without one, 401 for one that does not
/// verify, 500 when it could not be checked.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Grant>, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    let Some(token) = token else {
        return Err(unauthorized(
            "the Authorization header must be `Bearer <accessToken>`",
        ));
    };
    match state.services.auth.authenticate(token.trim()).await {
        Ok(grant) => Ok(Some(grant)),
        Err(Error::Unauthenticated(message)) => Err(unauthorized(&message)),
        Err(e) => {
            tracing::error!(error = %e, "verifying an event stream's token");
            Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "INTERNAL",
            ))
        }
    }
}

/// The caller of a grant and, for a user, their place among their open connections (429 past
/// `WS_MAX_CONNECTIONS_PER_USER`).
async fn logged_in(
    state: &AppState,
    grant: Option<&Grant>,
) -> Result<(Caller, Option<sessions::Session>), Response> {
    let Some(grant) = grant else {
        return Ok((Caller::Anonymous, None));
    };
    let viewer = grant.viewer;
    let most = state.services.config.max_connections_per_user;
    let Some(session) = state.sessions.register(viewer.user_id, most) else {
        return Err(too_many("too many connections for this user"));
    };
    if let Err(e) = state.services.auth.touch(viewer.user_id).await {
        tracing::warn!(error = %e, "recording an event stream's login");
    }
    Ok((Caller::User(viewer), Some(session)))
}

/// `{"errors": [{message, extensions: {code}}]}` with `status`.
fn refuse(status: StatusCode, message: &str, code: &str) -> Response {
    let body = format!("{{\"errors\":{}}}", live::errors_json(message, code));
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

fn unauthorized(message: &str) -> Response {
    let mut response = refuse(StatusCode::UNAUTHORIZED, message, "UNAUTHENTICATED");
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn too_many(message: &str) -> Response {
    refuse(StatusCode::TOO_MANY_REQUESTS, message, "RATE_LIMITED")
}

/// One operation's outputs, tagged with its id (`None` in the distinct-connections mode).
type Tagged = std::pin::Pin<Box<dyn Stream<Item = (Option<Arc<OpId>>, Out)> + Send>>;

/// An open event stream and everything it holds until it ends: its place in the per-address
/// count, in the live statistics and in the user's sessions.
struct EventStream {
    outs: SelectAll<Tagged>,
    /// Running operations by id, with what each holds ("" in the distinct mode).
    running: HashMap<String, (AbortHandle, Option<live::Held>)>,
    /// Operations sent to a reserved stream (single-connection mode).
    commands: Option<mpsc::Receiver<Command>>,
    /// A reserved stream's registration, removed when the stream ends.
    reservation: Option<reservations::Open>,
    peer: ClientAddr,
    user_id: Option<i64>,
    session: Option<sessions::Session>,
    /// When the caller's token expires (on the injected clock).
    expiry: Option<Sleep>,
    shutdown: CancellationToken,
    keep_alive: tokio::time::Interval,
    /// A reserved stream without operations for this long ends (`WS_IDLE_TIMEOUT_SECS`, as
    /// a socket without subscriptions closes).
    idle_timeout: Duration,
    /// Since when a reserved stream has had no operation (`None` while it has one).
    idle_since: Option<Instant>,
    /// Nothing more is written.
    finished: bool,
    /// Why it ended, for the log line (a client that goes away leaves it unset).
    ended: &'static str,
    started: Instant,
    sent: u64,
    span: tracing::Span,
    _slot: Slot,
    _connection: Counted,
    _gauge: GaugeGuard,
}

impl EventStream {
    fn new(
        state: &AppState,
        peer: ClientAddr,
        slot: Slot,
        session: Option<sessions::Session>,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        let user_id = session.as_ref().map(sessions::Session::user_id);
        EventStream {
            outs: SelectAll::new(),
            running: HashMap::new(),
            commands: None,
            reservation: None,
            peer,
            user_id,
            session,
            expiry: expires_at.map(|at| state.services.clock.sleep_until(at)),
            shutdown: state.shutdown.clone(),
            keep_alive: tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
            idle_timeout: state.services.config.ws_idle_timeout,
            idle_since: Some(Instant::now()),
            finished: false,
            ended: "client went away",
            started: Instant::now(),
            sent: 0,
            span: tracing::Span::current(),
            _slot: slot,
            _connection: Counted::new(&state.live, |l| &l.connections),
            _gauge: GaugeGuard::new(metrics::gauge!("zebrat_sse_streams")),
        }
    }

    /// Runs one operation's outputs on this stream.
    fn add(&mut self, id: Option<Arc<OpId>>, outs: SubStream, held: Option<live::Held>) {
        let key = id.as_ref().map_or_else(String::new, |id| id.raw.clone());
        let (handle, registration) = AbortHandle::new_pair();
        let tagged = outs.map(move |out| (id.clone(), out));
        self.outs
            .push(Box::pin(Abortable::new(tagged, registration)));
        self.running.insert(key, (handle, held));
    }

    /// Forgets an operation (it ended, or the client stopped it).
    fn remove(&mut self, id: &str) {
        if let Some((handle, _)) = self.running.remove(id) {
            handle.abort();
        }
        if let Some(open) = &self.reservation {
            open.forget(id);
        }
    }

    /// The 200 answer whose body is this stream.
    fn respond(self) -> Response {
        let chunks = stream::unfold(self, |mut s| async move {
            let chunk = s.next_chunk().await?;
            s.sent += 1;
            Some((Ok::<_, Infallible>(chunk), s))
        });
        let body = stream::once(async { Ok(PING.to_string()) }).chain(chunks);
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                // NGINX (deploy/) would otherwise buffer the stream.
                (
                    header::HeaderName::from_static("x-accel-buffering"),
                    HeaderValue::from_static("no"),
                ),
            ],
            Body::from_stream(body),
        )
            .into_response()
    }

    /// The next events to write; `None` once the stream has ended.
    async fn next_chunk(&mut self) -> Option<String> {
        if self.finished {
            return None;
        }
        loop {
            match (self.running.is_empty(), self.idle_since) {
                (true, None) => self.idle_since = Some(Instant::now()),
                (false, Some(_)) => self.idle_since = None,
                _ => {}
            }
            let idle_deadline = self.idle_since.map(|since| since + self.idle_timeout);
            tokio::select! {
                Some((id, out)) = self.outs.next(), if !self.outs.is_empty() => {
                    if matches!(out, Out::Error(_) | Out::Complete) {
                        let key = id.as_ref().map_or("", |id| id.raw.as_str()).to_string();
                        self.remove(&key);
                        // A distinct stream carries one operation: it ends with it.
                        if id.is_none() {
                            self.finish("operation complete");
                        }
                    }
                    return Some(events(id.as_deref(), &out));
                }
                Some(command) = next_command(&mut self.commands) => match command {
                    Command::Start { id, outs, held } => self.add(Some(id), outs, Some(held)),
                    Command::Stop(id) => self.remove(&id),
                },
                _ = self.keep_alive.tick() => return Some(PING.to_string()),
                _ = sleep_until_some(idle_deadline), if self.reservation.is_some() => {
                    self.finish("idle: no operation");
                    return None;
                }
                _ = self.shutdown.cancelled() => {
                    self.finish("server shutting down");
                    return Some(SHUTTING_DOWN.to_string());
                }
                why = cut_off(&self.session) => {
                    let (message, code) = match why {
                        sessions::CutOff::Revoked => {
                            ("session revoked: log in again", "UNAUTHENTICATED")
                        }
                        sessions::CutOff::Disabled => {
                            ("the account was deactivated or its role changed", "FORBIDDEN")
                        }
                    };
                    return Some(self.end_all(message, code));
                }
                _ = expired(&mut self.expiry) => {
                    return Some(self.end_all("token expired: subscribe again with a fresh one", "UNAUTHENTICATED"));
                }
            }
        }
    }

    /// Ends every operation with an error, then the stream.
    fn end_all(&mut self, message: &str, code: &str) -> String {
        let errors: Arc<str> = live::errors_json(message, code).into();
        let mut ids: Vec<String> = self.running.keys().cloned().collect();
        if ids.is_empty() && self.reservation.is_none() {
            ids.push(String::new());
        }
        let chunk = ids
            .iter()
            .map(|id| {
                let id = (self.reservation.is_some()).then(|| OpId::new(id.clone()));
                events(id.as_ref(), &Out::Error(errors.clone()))
            })
            .collect();
        self.finish(match code {
            "FORBIDDEN" => "account disabled",
            _ => "token expired or session revoked",
        });
        chunk
    }

    fn finish(&mut self, why: &'static str) {
        self.finished = true;
        self.ended = why;
        for (_, (handle, _)) in self.running.drain() {
            handle.abort();
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        tracing::info!(
            parent: &self.span,
            client = %self.peer.0,
            user_id = self.user_id,
            duration_ms = self.started.elapsed().as_millis() as u64,
            sent = self.sent,
            ended = self.ended,
            "event stream ended"
        );
    }
}

/// The next operation sent to a reserved stream (never, for a distinct one).
async fn next_command(commands: &mut Option<mpsc::Receiver<Command>>) -> Option<Command> {
    match commands {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Completes at `deadline`, or never without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Completes when the caller's account is cut off, with why (never for anonymous streams).
async fn cut_off(session: &Option<sessions::Session>) -> sessions::CutOff {
    match session {
        Some(s) => s.cut_off().await,
        None => std::future::pending().await,
    }
}

/// Completes when the caller's token expires (never for anonymous streams).
async fn expired(expiry: &mut Option<Sleep>) {
    match expiry {
        Some(sleep) => sleep.await,
        None => std::future::pending().await,
    }
}
