//! The single-connection mode of `graphql-sse`, for HTTP/1 browsers (six connections per
//! host): one event stream carries every operation of a client, which separate requests start
//! and stop.
//!
//! `PUT` authenticates and reserves: the reservation takes the client's place in the
//! per-address and per-user counts at once, and its token is a one-time ticket for the one
//! stream that may fulfil it (within [`RESERVATION_TIMEOUT`], or it is dropped). Operations
//! run as the caller who reserved; they may be sent before the stream opens and wait for it.
//! The reservation ends with its stream.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::{
    EventStream, authenticate, logged_in,
    protocol::{BadRequest, OpId, TOKEN_HEADER, read_request},
    refuse, too_many, unauthorized,
};
use crate::{
    graphql::{Caller, ClientAddr},
    http::{
        AppState,
        client_addr::client_ip,
        live::{self, SubStream, sessions::Session},
        per_client::Slot,
    },
};

/// A reserved stream must be opened this soon.
pub const RESERVATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The reservations of this instance, by token.
#[derive(Clone, Default)]
pub struct Reservations {
    by_token: Arc<Mutex<HashMap<String, Arc<Reservation>>>>,
}

struct Reservation {
    caller: Caller,
    peer: ClientAddr,
    expires_at: Option<DateTime<Utc>>,
    /// Operation ids running or on their way, to refuse a duplicate and bound how many.
    ids: Mutex<HashSet<String>>,
    commands: mpsc::Sender<Command>,
    /// What the stream takes when it opens (only one stream per reservation).
    pending: Mutex<Option<Pending>>,
}

struct Pending {
    commands: mpsc::Receiver<Command>,
    slot: Slot,
    session: Option<Session>,
}

/// What the requests of a reserved stream tell it.
pub enum Command {
    /// Run an operation.
    Start {
        id: Arc<OpId>,
        outs: SubStream,
        held: live::Held,
    },
    /// Stop one (`DELETE ?operationId=`).
    Stop(String),
}

/// An open stream's hold on its reservation: the reservation ends with it.
pub struct Open {
    registry: Reservations,
    token: String,
    reservation: Arc<Reservation>,
}

impl Open {
    /// Frees an operation id once its operation has ended.
    pub fn forget(&self, id: &str) {
        lock(&self.reservation.ids).remove(id);
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        lock(&self.registry.by_token).remove(&self.token);
    }
}

impl Reservations {
    fn get(&self, token: &str) -> Option<Arc<Reservation>> {
        lock(&self.by_token).get(token).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these; a poisoned lock still holds plain data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reservation token of a request: the header, or `?token=` (what `EventSource` can send).
pub fn token(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(token) = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(token.to_string());
    }
    query_param(uri, "token")
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn stream_not_found() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        "no such stream: reserve one with PUT",
        "NOT_FOUND",
    )
}

/// `PUT`: a reservation for the caller; 201 with its token.
pub async fn reserve(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Response {
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
    // Starts and stops, each bounded by the operations a stream may hold.
    let (tx, rx) = mpsc::channel(2 * config.max_subscriptions_per_connection + 1);
    let token = uuid::Uuid::new_v4().simple().to_string();
    let reservation = Reservation {
        caller,
        peer: ClientAddr(ip.to_string()),
        expires_at: grant.map(|g| g.expires_at),
        ids: Mutex::default(),
        commands: tx,
        pending: Mutex::new(Some(Pending {
            commands: rx,
            slot,
            session,
        })),
    };
    let registry = state.event_streams.clone();
    lock(&registry.by_token).insert(token.clone(), Arc::new(reservation));
    let expiring = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(RESERVATION_TIMEOUT).await;
        let mut by_token = lock(&registry.by_token);
        let unopened = by_token
            .get(&expiring)
            .is_some_and(|r| lock(&r.pending).is_some());
        if unopened {
            by_token.remove(&expiring);
        }
    });
    (
        StatusCode::CREATED,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        token,
    )
        .into_response()
}

/// `GET`/`POST` with the token, asking for an event stream: opens the reserved stream.
pub fn open(state: &AppState, token: &str) -> Response {
    let Some(reservation) = state.event_streams.get(token) else {
        return stream_not_found();
    };
    let Some(pending) = lock(&reservation.pending).take() else {
        return refuse(StatusCode::CONFLICT, "stream already open", "CONFLICT");
    };
    let mut stream = EventStream::new(
        state,
        reservation.peer.clone(),
        pending.slot,
        pending.session,
        reservation.expires_at,
    );
    stream.commands = Some(pending.commands);
    stream.reservation = Some(Open {
        registry: state.event_streams.clone(),
        token: token.to_string(),
        reservation,
    });
    stream.respond()
}

/// `POST` with the token: runs the operation (`extensions.operationId` names it) on the
/// reserved stream; 202.
pub async fn execute(
    state: &AppState,
    token: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(reservation) = state.event_streams.get(token) else {
        return stream_not_found();
    };
    let request = match read_request(&Method::POST, uri, headers, body) {
        Ok(request) => request,
        Err(BadRequest(status, message)) => return refuse(status, &message, "BAD_USER_INPUT"),
    };
    let id = match request.extensions.0.get("operationId") {
        Some(async_graphql::Value::String(id)) if !id.is_empty() => id.clone(),
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "name the operation in extensions.operationId",
                "BAD_USER_INPUT",
            );
        }
    };
    let request = match state.persisted.expand(request) {
        Ok(request) => request,
        Err(error) => {
            let body = serde_json::json!({ "errors": [error] }).to_string();
            return (
                StatusCode::BAD_REQUEST,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                )],
                body,
            )
                .into_response();
        }
    };
    if matches!(reservation.caller, Caller::Anonymous) && live::needs_caller(&request) {
        return unauthorized("this feed needs a login: reserve the stream with a token");
    }
    {
        let most = state.services.config.max_subscriptions_per_connection;
        let mut ids = lock(&reservation.ids);
        if ids.contains(&id) {
            return refuse(
                StatusCode::CONFLICT,
                "an operation with this id is running",
                "CONFLICT",
            );
        }
        if ids.len() >= most {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("at most {most} operations per stream"),
                "BAD_USER_INPUT",
            );
        }
        ids.insert(id.clone());
    }
    let (outs, held) = live::start(
        state,
        reservation.caller.clone(),
        reservation.peer.clone(),
        request,
    );
    let start = Command::Start {
        id: Arc::new(OpId::new(id.clone())),
        outs,
        held,
    };
    if reservation.commands.try_send(start).is_err() {
        lock(&reservation.ids).remove(&id);
        return stream_not_found();
    }
    StatusCode::ACCEPTED.into_response()
}

/// `DELETE ?operationId=` with the token: stops the operation (200, known or not).
pub fn stop(state: &AppState, token: &str, uri: &Uri) -> Response {
    let Some(reservation) = state.event_streams.get(token) else {
        return stream_not_found();
    };
    let Some(id) = query_param(uri, "operationId") else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "name the operation: ?operationId=",
            "BAD_USER_INPUT",
        );
    };
    if lock(&reservation.ids).remove(&id) {
        // Bounded like the starts it stops; a stream gone already has nothing to stop.
        let _ = reservation.commands.try_send(Command::Stop(id));
    }
    StatusCode::OK.into_response()
}
