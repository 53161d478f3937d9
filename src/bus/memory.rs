use std::sync::Arc;

use tokio::sync::broadcast;

use super::{BusError, BusHealth, Event, EventBus, LOCAL_CAPACITY};

/// The single-instance bus: a tokio broadcast channel.
#[derive(Clone)]
pub struct InProcessBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(LOCAL_CAPACITY).0,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        metrics::counter!("zebrat_events_published_total", "kind" => event.kind()).increment(1);
        // No receivers is normal (nobody subscribed yet), not an error.
        let _ = self.tx.send(Arc::new(event));
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    async fn health(&self) -> BusHealth {
        BusHealth::InProcess
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_each_event() {
        let bus = InProcessBus::default();
        let (mut a, mut b) = (bus.subscribe(), bus.subscribe());
        bus.publish(Event::UserDisabled { user_id: 7 })
            .await
            .unwrap();
        assert_eq!(*a.recv().await.unwrap(), Event::UserDisabled { user_id: 7 });
        assert_eq!(*b.recv().await.unwrap(), Event::UserDisabled { user_id: 7 });
    }

    #[tokio::test]
    async fn a_slow_subscriber_skips_ahead_instead_of_buffering() {
        let bus = InProcessBus::default();
        let mut slow = bus.subscribe();
        for user_id in 0..(LOCAL_CAPACITY as i64 + 10) {
            bus.publish(Event::UserDisabled { user_id }).await.unwrap();
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(10))
        ));
        assert_eq!(
            *slow.recv().await.unwrap(),
            Event::UserDisabled { user_id: 10 }
        );
    }
}
