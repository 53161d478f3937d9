//! The caller's own live feeds: order updates and portfolio valuation.

use std::sync::Arc;

use async_graphql::{Context, Subscription};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{
    context::ContextExt,
    feeds::events,
    guards::RoleGuard,
    trading::{Order, OrderEvent, Portfolio},
};
use crate::{
    bus::{Event, accounts::RoundPrices},
    domain::trading::portfolio as domain,
    services::Services,
};

#[derive(Default)]
pub struct AccountFeedSubscription;

#[Subscription]
impl AccountFeedSubscription {
    /// The caller's orders as they change status (placed, executed, canceled, rejected),
    /// each with what it changed: its trade, the caller's cash and position. Needs a
    /// logged-in user.
    #[graphql(guard = "RoleGuard::user()")]
    async fn order_updates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = OrderEvent> + use<>> {
        let user_id = ctx.viewer().map_err(super::error::ApiError::from)?.user_id;
        // Only this user's events reach this channel (see `bus::accounts`).
        Ok(
            events(ctx.services().accounts.user(user_id)).filter_map(move |e| {
                let order = match &*e {
                    Event::OrderUpdated(order) => Some(OrderEvent {
                        order: Order::from((**order).clone()),
                    }),
                    _ => None,
                };
                std::future::ready(order)
            }),
        )
    }

    /// The caller's valuation: now, then after each of their trades, deposits, withdrawals and
    /// reservations, and each tick round that moves one of their positions. Needs a logged-in
    /// user.
    // The positions are read once and again only after the caller's own trades; a tick round
    // revalues them in memory at the round's prices, so the database work per round does not
    // grow with the number of subscribers.
    #[graphql(guard = "RoleGuard::user()")]
    async fn portfolio(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Portfolio> + use<>> {
        let user_id = ctx.viewer().map_err(super::error::ApiError::from)?.user_id;
        let services = ctx.services().clone();
        // Subscribe before the first read, so no change can fall between the two.
        let feed = Valuation {
            own: services.accounts.user(user_id),
            rounds: services.accounts.rounds(),
            current: None,
            user_id,
            services,
        };
        Ok(stream::unfold(feed, |mut feed| async move {
            let next = feed.next().await?;
            Some((next, feed))
        }))
    }
}

/// The state of one `portfolio` subscription.
struct Valuation {
    own: broadcast::Receiver<Arc<Event>>,
    rounds: broadcast::Receiver<Arc<RoundPrices>>,
    /// The last valuation sent; None until the first read succeeded.
    current: Option<domain::Portfolio>,
    user_id: i64,
    services: Services,
}

impl Valuation {
    /// The next valuation to send; None when the feed ends (the bus closed).
    async fn next(&mut self) -> Option<Portfolio> {
        loop {
            let Some(current) = &mut self.current else {
                if let Some(fresh) = self.reload().await {
                    return Some(fresh);
                }
                // Failed: try again at the next event, whatever it is.
                self.wait_any().await?;
                continue;
            };
            tokio::select! {
                own = self.own.recv() => match own {
                    Ok(e) if !matches!(*e, Event::PortfolioChanged { .. }) => continue,
                    // A trade, or missed events: read the account again.
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if let Some(fresh) = self.reload().await {
                            return Some(fresh);
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
                round = self.rounds.recv() => match round {
                    Ok(round) => {
                        if current.revalue(|id| round.prices.get(&id).copied()) {
                            return Some(Portfolio::new(current.clone(), round.at));
                        }
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }

    async fn reload(&mut self) -> Option<Portfolio> {
        match self.services.trading.portfolio(self.user_id).await {
            Ok(p) => {
                self.current = Some(p.clone());
                Some(Portfolio::new(p, self.services.clock.now()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "portfolio feed");
                self.current = None;
                None
            }
        }
    }

    /// Waits for any event; None when the bus closed.
    async fn wait_any(&mut self) -> Option<()> {
        tokio::select! {
            own = self.own.recv() => (!matches!(own, Err(RecvError::Closed))).then_some(()),
            round = self.rounds.recv() => (!matches!(round, Err(RecvError::Closed))).then_some(()),
        }
    }
}
