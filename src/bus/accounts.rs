//! Account events routed by owner on this instance. Every account-feed subscriber used to read
//! the whole local event stream and throw away other users' events, so one order woke every
//! subscriber. Here one task reads the stream once and hands each account event only to the
//! channel of its owner, and each tick round, indexed by stock once, to the valuation feeds.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{Delivery, Event, SharedBus};

/// Events one user's feeds may buffer before they skip ahead (and then reload).
const USER_CAPACITY: usize = 64;
/// Tick rounds a valuation feed may fall behind before it skips to the newest.
const ROUND_CAPACITY: usize = 8;

/// A tick round's prices by stock, built once for every valuation feed.
#[derive(Debug)]
pub struct RoundPrices {
    pub at: DateTime<Utc>,
    /// `(price, previous close)` in cents, by stock id.
    pub prices: HashMap<i64, (i64, i64)>,
}

/// Per-user channels of account events, and the shared channel of round prices. Cheap to clone.
#[derive(Clone)]
pub struct AccountEvents {
    users: Arc<Mutex<Users>>,
    rounds: broadcast::Sender<Arc<RoundPrices>>,
}

struct Users {
    channels: HashMap<i64, broadcast::Sender<Arc<Event>>>,
    /// Channels nobody listens to any more are dropped when the map reaches this size.
    prune_at: usize,
}

impl Default for AccountEvents {
    fn default() -> Self {
        AccountEvents {
            users: Arc::new(Mutex::new(Users {
                channels: HashMap::new(),
                prune_at: 1024,
            })),
            rounds: broadcast::channel(ROUND_CAPACITY).0,
        }
    }
}

impl AccountEvents {
    /// The account events of `user_id` (order updates, portfolio changes, cut-offs) from now on.
    pub fn user(&self, user_id: i64) -> broadcast::Receiver<Arc<Event>> {
        let mut users = self.lock();
        if users.channels.len() >= users.prune_at {
            users.channels.retain(|_, tx| tx.receiver_count() > 0);
            // Next time only after the map has doubled: pruning stays amortized O(1).
            users.prune_at = (users.channels.len() * 2).max(1024);
        }
        users
            .channels
            .entry(user_id)
            .or_insert_with(|| broadcast::channel(USER_CAPACITY).0)
            .subscribe()
    }

    /// The prices of every tick round from now on.
    pub fn rounds(&self) -> broadcast::Receiver<Arc<RoundPrices>> {
        self.rounds.subscribe()
    }

    /// Routes this instance's events until `shutdown`.
    pub async fn follow(self, bus: SharedBus, shutdown: CancellationToken) {
        super::follow(bus.as_ref(), &shutdown, |delivery| match delivery {
            Delivery::Event(event) => self.route(event),
            Delivery::Missed(n) => {
                // Feeds that missed their owner's events would show stale accounts: tell
                // every one of them to reload.
                metrics::counter!("zebrat_events_dropped_total", "consumer" => "account_router")
                    .increment(n);
                tracing::warn!(skipped = n, "account event router lagged");
                self.lock().channels.retain(|user_id, tx| {
                    let reload = Event::PortfolioChanged { user_id: *user_id };
                    tx.send(Arc::new(reload)).is_ok()
                });
            }
        })
        .await
    }

    fn route(&self, event: Arc<Event>) {
        let owner = match &*event {
            Event::TickRound(round) => {
                let prices = round
                    .ticks
                    .iter()
                    .map(|t| (t.stock_id, (t.price_cents, t.prev_close_cents)))
                    .collect();
                // No valuation feed open is normal, not an error.
                let _ = self.rounds.send(Arc::new(RoundPrices {
                    at: round.at,
                    prices,
                }));
                return;
            }
            Event::OrderUpdated(order) => order.user_id,
            Event::PortfolioChanged { user_id }
            | Event::UserDisabled { user_id }
            | Event::SessionsRevoked { user_id } => *user_id,
            Event::MarketState(_)
            | Event::MarketConfigChanged
            | Event::StocksChanged
            | Event::EquitySnapshot { .. } => return,
        };
        let mut users = self.lock();
        if let Some(tx) = users.channels.get(&owner)
            && tx.send(event).is_err()
        {
            users.channels.remove(&owner);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Users> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bus::{EventBus, InProcessBus, events::TickRound},
        domain::events::Tick,
    };

    #[tokio::test]
    async fn account_events_reach_their_owner_only() {
        let bus = Arc::new(InProcessBus::default());
        let router = AccountEvents::default();
        let shutdown = CancellationToken::new();
        let mut alice = router.user(1);
        let mut bob = router.user(2);
        let mut rounds = router.rounds();
        let task = tokio::spawn(router.clone().follow(bus.clone(), shutdown.clone()));
        tokio::task::yield_now().await;
        bus.publish(Event::PortfolioChanged { user_id: 1 })
            .await
            .unwrap();
        let round = TickRound {
            at: Utc::now(),
            ticks: vec![Tick {
                stock_id: 7,
                symbol: "AAPL".into(),
                price_cents: 101,
                prev_close_cents: 99,
                day: None,
            }],
            candles: vec![],
            seq: 1,
        };
        bus.publish(Event::TickRound(round)).await.unwrap();
        let got = alice.recv().await.unwrap();
        assert_eq!(*got, Event::PortfolioChanged { user_id: 1 });
        assert_eq!(rounds.recv().await.unwrap().prices[&7], (101, 99));
        assert!(bob.try_recv().is_err(), "bob never sees alice's events");
        shutdown.cancel();
        task.await.unwrap();
    }

    #[test]
    fn channels_nobody_reads_are_pruned() {
        let router = AccountEvents::default();
        for user in 0..5_000 {
            drop(router.user(user));
        }
        let kept = router.lock().channels.len();
        assert!(kept < 2_048, "abandoned channels are dropped: {kept} kept");
    }
}
