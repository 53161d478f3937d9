use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use fred::{
    clients::{Client, SubscriberClient},
    prelude::*,
    types::{
        Message,
        config::{ReconnectPolicy, Server},
    },
};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::{BusError, BusHealth, Event, EventBus, LOCAL_CAPACITY};
use crate::infra::retry::Backoff;

/// Bumped when `Event` changes incompatibly; other versions are skipped, not fatal.
const WIRE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope<E> {
    v: u32,
    /// The publishing process, which has delivered the event to itself already. (Absent from
    /// older publishers: 0, never a live origin.)
    #[serde(default)]
    origin: u64,
    event: E,
}

/// Multi-instance bus: publishes to Redis; ONE subscriber connection per process forwards
/// every message into the local broadcast channel.
///
/// Redis may be down at start or go away later: both clients reconnect by themselves, the
/// subscription is renewed after every reconnect, and meanwhile events still reach this
/// instance's own subscribers (other instances miss them until Redis is back).
#[derive(Clone)]
pub struct RedisBus {
    publisher: Client,
    /// Envelopes on their way to Redis, in publish order (see `send_out`).
    outbox: mpsc::Sender<String>,
    /// Envelopes queued and not yet sent (or dropped) by `send_out`.
    unsent: Arc<AtomicUsize>,
    subscriber: SubscriberClient,
    local: broadcast::Sender<Arc<Event>>,
    /// This process, in envelopes: its own events come back from Redis and are skipped.
    origin: u64,
}

/// How long start-up waits for Redis before going on degraded.
const FIRST_CONNECT: Duration = Duration::from_secs(3);
/// No Redis command (publish, ping, subscribe) waits longer than this.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Envelopes waiting for Redis; past this (Redis slow or gone) new ones are dropped for Redis.
const OUTBOX_CAPACITY: usize = 4096;

impl RedisBus {
    /// Starts both clients and the forwarding task, which stop on `shutdown`. Fails only on a
    /// malformed URL: an unreachable Redis is retried in the background.
    pub async fn connect(
        url: &str,
        prefix: &str,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        let err = |e: Error| BusError(e.to_string());
        let mut config = Config::from_url(url).map_err(err)?;
        config.fail_fast = false;
        let builder = || {
            let mut builder = Builder::from_config(config.clone());
            builder
                .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
                .with_connection_config(|c| c.connection_timeout = Duration::from_secs(5))
                .with_performance_config(|p| {
                    p.default_command_timeout = COMMAND_TIMEOUT;
                    // fred's buffer between the socket and `forward` (32 by default) would drop
                    // messages in bursts such as the queued orders run at the open.
                    p.broadcast_channel_capacity = LOCAL_CAPACITY;
                });
            builder
        };
        let publisher = builder().build().map_err(err)?;
        let subscriber = builder().build_subscriber_client().map_err(err)?;
        // Subscribe to the message stream before connecting, so nothing slips past.
        let messages = subscriber.message_rx();
        let reconnects = subscriber.reconnect_rx();
        publisher.connect();
        subscriber.connect();
        let channel = format!("{prefix}:events");
        let local = broadcast::channel(LOCAL_CAPACITY).0;
        let origin = rand::random::<u64>().max(1);
        tokio::spawn(forward(messages, local.clone(), origin, shutdown.clone()));
        let (outbox, pending) = mpsc::channel(OUTBOX_CAPACITY);
        let unsent = Arc::new(AtomicUsize::new(0));
        tokio::spawn(send_out(
            pending,
            unsent.clone(),
            publisher.clone(),
            channel.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(keep_subscribed(
            subscriber.clone(),
            publisher.clone(),
            channel.clone(),
            reconnects,
            shutdown,
        ));
        let both =
            async { tokio::join!(publisher.wait_for_connect(), subscriber.wait_for_connect()) };
        if tokio::time::timeout(FIRST_CONNECT, both).await.is_err() {
            tracing::warn!("Redis is unreachable: starting degraded, live feeds stay local");
        }
        Ok(Self {
            publisher,
            outbox,
            unsent,
            subscriber,
            local,
            origin,
        })
    }

    /// A client for other Redis work (rate limits), sharing the publisher connection.
    pub fn client(&self) -> Client {
        self.publisher.clone()
    }
}

/// Subscribes to the event channel, again after every reconnect, until shutdown; then closes
/// both clients.
async fn keep_subscribed(
    subscriber: SubscriberClient,
    publisher: Client,
    channel: String,
    mut reconnects: broadcast::Receiver<Server>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        let subscribed = tokio::select! {
            _ = shutdown.cancelled() => break,
            done = tokio::time::timeout(COMMAND_TIMEOUT * 2, subscriber.subscribe(channel.as_str())) => {
                matches!(done, Ok(Ok(())))
            }
        };
        if subscribed {
            tracing::info!(%channel, "subscribed to Redis events");
            backoff.reset();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                next = reconnects.recv() => {
                    if matches!(next, Err(broadcast::error::RecvError::Closed)) {
                        break;
                    }
                    metrics::counter!("zebrat_redis_reconnects_total").increment(1);
                    tracing::info!("Redis reconnected: renewing the subscription");
                }
            }
        } else {
            tracing::debug!("Redis subscription failed; retrying");
            if !backoff.wait(&shutdown).await {
                break;
            }
        }
    }
    let _ = subscriber.quit().await;
    let _ = publisher.quit().await;
}

/// Publishes envelopes to Redis one after another, in the order they were published.
///
/// Requests hand their events here instead of waiting on Redis: when Redis dies, a publish
/// in flight waits for the command timeout, and that wait must not be a request's. Events
/// found while the connection is down are dropped for Redis (this instance delivered them
/// already; other instances miss them, as before).
async fn send_out(
    mut pending: mpsc::Receiver<String>,
    unsent: Arc<AtomicUsize>,
    publisher: Client,
    channel: String,
    shutdown: CancellationToken,
) {
    loop {
        let payload = tokio::select! {
            _ = shutdown.cancelled() => return,
            payload = pending.recv() => match payload {
                Some(payload) => payload,
                None => return,
            },
        };
        if publisher.is_connected() {
            let published: Result<i64, _> = publisher.publish(channel.as_str(), payload).await;
            if let Err(e) = published {
                tracing::warn!(error = %e, "publishing to Redis failed: other instances miss an event");
            }
        }
        unsent.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Forwards other instances' events from Redis to this instance's subscribers.
async fn forward(
    mut rx: broadcast::Receiver<Message>,
    local: broadcast::Sender<Arc<Event>>,
    origin: u64,
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
                    Ok(env) if env.origin == origin => {} // delivered when published
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
                metrics::counter!("zebrat_events_dropped_total", "consumer" => "redis_forward")
                    .increment(n);
                tracing::warn!(skipped = n, "redis subscriber lagged");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    /// Delivers to this instance at once, then queues it for Redis and the others (which miss
    /// it while Redis is unreachable; this instance's subscribers never do). Never waits on
    /// Redis.
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        let payload = serde_json::to_string(&Envelope {
            v: WIRE_VERSION,
            origin: self.origin,
            event: &event,
        })
        .map_err(|e| BusError(e.to_string()))?;
        metrics::counter!("zebrat_events_published_total", "kind" => event.kind()).increment(1);
        let _ = self.local.send(Arc::new(event));
        if !self.publisher.is_connected() {
            return Ok(());
        }
        self.unsent.fetch_add(1, Ordering::AcqRel);
        if let Err(e) = self.outbox.try_send(payload) {
            self.unsent.fetch_sub(1, Ordering::AcqRel);
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                tracing::warn!("Redis is not keeping up: other instances miss an event");
            }
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    async fn flush(&self) {
        let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        while self.unsent.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn health(&self) -> BusHealth {
        if !self.publisher.is_connected() || !self.subscriber.is_connected() {
            return BusHealth::Degraded;
        }
        match self.publisher.ping::<String>(None).await {
            Ok(_) => BusHealth::Ok,
            Err(_) => BusHealth::Degraded,
        }
    }
}
