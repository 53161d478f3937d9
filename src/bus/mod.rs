//! The pub/sub port. Engine and domain publish typed events; every instance fans them out to
//! its own subscribers through one local broadcast channel.

pub mod events;
mod memory;
mod redis;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub use memory::InProcessBus;
pub use redis::RedisBus;

/// Capacity of each instance's local fan-out channel. A subscriber that falls further behind
/// than this skips ahead (it sees `Lagged`) instead of growing memory.
pub const LOCAL_CAPACITY: usize = 1024;

/// Everything that travels over the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A user must lose their live sessions (deactivated, or logged out everywhere).
    UserDisabled { user_id: i64 },
    /// Prices moved: one event per tick round, all stocks in it.
    TickRound(events::TickRound),
    /// The market opened, closed, or its override changed.
    MarketState(events::MarketStatus),
    /// Hours, holidays or the override changed: the scheduler must re-plan.
    MarketConfigChanged,
    /// One of a user's orders changed status (goes only to its owner's subscriptions).
    OrderUpdated(events::OrderUpdate),
    /// A user's cash or positions changed (a trade): their valuation must be pushed.
    PortfolioChanged { user_id: i64 },
}

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
}

pub type SharedBus = Arc<dyn EventBus>;
