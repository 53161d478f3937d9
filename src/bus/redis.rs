use std::{sync::Arc, time::Duration};

use fred::{
    clients::{Client, SubscriberClient},
    prelude::*,
    types::{Message, config::ReconnectPolicy},
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{BusError, BusHealth, Event, EventBus, LOCAL_CAPACITY};

/// Bumped when `Event` changes incompatibly; other versions are skipped, not fatal.
const WIRE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope<E> {
    v: u32,
    event: E,
}

/// Multi-instance bus: publishes to Redis; ONE subscriber connection per process forwards
/// every message into the local broadcast channel.
#[derive(Clone)]
pub struct RedisBus {
    publisher: Client,
    subscriber: SubscriberClient,
    local: broadcast::Sender<Arc<Event>>,
    /// The one channel all events travel on: `<prefix>:events`.
    channel: String,
}

impl RedisBus {
    /// Connects both clients and starts the forwarding task, which stops on `shutdown`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        let err = |e: Error| BusError(e.to_string());
        let config = Config::from_url(url).map_err(err)?;
        let policy = ReconnectPolicy::new_exponential(0, 100, 5_000, 2);
        let publisher = Builder::from_config(config.clone())
            .set_policy(policy.clone())
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(5))
            .build()
            .map_err(err)?;
        let subscriber = Builder::from_config(config)
            .set_policy(policy)
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(5))
            .build_subscriber_client()
            .map_err(err)?;
        publisher.init().await.map_err(err)?;
        subscriber.init().await.map_err(err)?;
        let _resubscribe = subscriber.manage_subscriptions();
        let channel = format!("{prefix}:events");
        subscriber.subscribe(channel.as_str()).await.map_err(err)?;

        let local = broadcast::channel(LOCAL_CAPACITY).0;
        tokio::spawn(forward(subscriber.message_rx(), local.clone(), shutdown));
        Ok(Self {
            publisher,
            subscriber,
            local,
            channel,
        })
    }

    /// A client for other Redis work (rate limits, leases), sharing the publisher connection.
    pub fn client(&self) -> Client {
        self.publisher.clone()
    }
}

async fn forward(
    mut rx: broadcast::Receiver<Message>,
    local: broadcast::Sender<Arc<Event>>,
    shutdown: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return,
            message = rx.recv() => message,
        };
        match message {
            Ok(message) => {
                let Some(text) = message.value.as_string() else {
                    continue;
                };
                match serde_json::from_str::<Envelope<serde_json::Value>>(&text) {
                    Ok(env) if env.v == WIRE_VERSION => match serde_json::from_value(env.event) {
                        Ok(event) => {
                            let _ = local.send(Arc::new(event));
                        }
                        Err(e) => tracing::warn!(error = %e, "skipping unknown event"),
                    },
                    Ok(env) => tracing::debug!(version = env.v, "skipping event of other version"),
                    Err(e) => tracing::warn!(error = %e, "skipping malformed bus message"),
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "redis subscriber lagged");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        let payload = serde_json::to_string(&Envelope {
            v: WIRE_VERSION,
            event: &event,
        })
        .map_err(|e| BusError(e.to_string()))?;
        let _: i64 = self
            .publisher
            .publish(self.channel.as_str(), payload)
            .await
            .map_err(|e| BusError(e.to_string()))?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    async fn health(&self) -> BusHealth {
        let ping =
            tokio::time::timeout(Duration::from_secs(2), self.publisher.ping::<String>(None));
        match ping.await {
            Ok(Ok(_)) if self.subscriber.is_connected() => BusHealth::Ok,
            _ => BusHealth::Degraded,
        }
    }
}
