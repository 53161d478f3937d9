//! What axum handlers share: the services, the schema, and this instance's live-connection
//! state (shared feed executions, logged-in sockets, counters).

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    per_client::PerClient,
    ws::{Feeds, Sessions},
};
use crate::{
    graphql::{AppSchema, live::LiveCounters},
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
    /// Logged-in sockets by user, so they can be cut off.
    pub sessions: Sessions,
    /// This instance's open sockets and subscriptions (also read by the admin statistics).
    pub live: Arc<LiveCounters>,
    /// True while this instance holds the engine lease and runs the engine.
    pub leader: watch::Receiver<bool>,
    /// Open WebSockets per client address.
    pub ws_clients: PerClient,
    /// Cancelled when the server stops: open WebSockets close with 1001.
    pub shutdown: CancellationToken,
}
