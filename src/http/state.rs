//! What axum handlers share: the services, the schema, and this instance's live-connection
//! state (shared feed executions, logged-in sockets, counters).

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    live::{Feeds, Sessions},
    per_client::PerClient,
    sse::Reservations,
};
use crate::{
    graphql::{AppSchema, live::LiveCounters, persisted::PersistedQueries},
    services::Services,
};

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub schema: AppSchema,
    /// For `/health` only: is the database reachable, and which one is it.
    pub database: DatabaseConnection,
    /// Shared executions of public subscriptions.
    pub feeds: Feeds,
    /// Documents known by hash (Automatic Persisted Queries) and the trusted-documents list.
    pub persisted: PersistedQueries,
    /// Event streams reserved in the single-connection mode of GraphQL over SSE.
    pub event_streams: Reservations,
    /// Logged-in sockets and event streams by user, so they can be cut off.
    pub sessions: Sessions,
    /// This instance's open sockets and subscriptions (also read by the admin statistics).
    pub live: Arc<LiveCounters>,
    /// True while this instance holds the engine lease and runs the engine.
    pub leader: watch::Receiver<bool>,
    /// Open WebSockets and event streams (SSE) per client address: one cap for both.
    pub ws_clients: PerClient,
    /// Cancelled when the server stops: open WebSockets close with 1001, event streams end.
    pub shutdown: CancellationToken,
}
