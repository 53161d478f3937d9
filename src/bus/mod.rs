//! The pub/sub port. Engine and domain publish typed domain events (`domain::events`); every instance fans them out to
//! its own subscribers through one local broadcast channel.

mod memory;
mod redis;

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub mod accounts;

pub use crate::domain::events::{self, Event};
pub use memory::InProcessBus;
pub use redis::RedisBus;

/// Capacity of each instance's local fan-out channel. A subscriber that falls further behind
/// than this skips ahead (it sees `Lagged`) instead of growing memory.
pub const LOCAL_CAPACITY: usize = 1024;

#[derive(Debug, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

/// Connection state of a bus, for `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BusHealth {
    /// No external broker: events stay inside this process.
    InProcess,
    Ok,
    /// The broker is unreachable; live feeds pause until it returns.
    Degraded,
}

#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Sends an event to every instance (this one included).
    async fn publish(&self, event: Event) -> Result<(), BusError>;
    /// A receiver of every event delivered to this instance.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
    async fn health(&self) -> BusHealth;
    /// Waits (briefly) until what was published has left this process; for short-lived
    /// commands that publish and exit.
    async fn flush(&self) {}
}

pub type SharedBus = Arc<dyn EventBus>;

/// One delivery to a [`follow`]er.
pub enum Delivery {
    Event(Arc<Event>),
    /// The follower fell behind and this many events were skipped.
    Missed(u64),
}

/// Hands every event delivered to this instance to `on`, and a count of the ones skipped when
/// it falls behind, until `shutdown` or until the bus closes: the loop of every background
/// follower of the bus.
pub async fn follow(
    bus: &dyn EventBus,
    shutdown: &CancellationToken,
    mut on: impl FnMut(Delivery),
) {
    let mut events = bus.subscribe();
    loop {
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => e,
        };
        match delivery {
            Ok(event) => on(Delivery::Event(event)),
            Err(broadcast::error::RecvError::Lagged(n)) => on(Delivery::Missed(n)),
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
