//! The caller's own live feeds: order updates and portfolio valuation.

use async_graphql::{Context, Subscription};
use futures_util::{Stream, StreamExt, stream};

use super::{
    context::ContextExt,
    feeds::events,
    guards::RoleGuard,
    trading::{Order, Portfolio},
};
use crate::bus::Event;

#[derive(Default)]
pub struct AccountFeedSubscription;

#[Subscription]
impl AccountFeedSubscription {
    /// The caller's orders as they change status.
    #[graphql(guard = "RoleGuard::user()")]
    async fn order_updates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Order> + use<>> {
        let user_id = ctx.viewer().map_err(super::error::ApiError::from)?.user_id;
        Ok(events(ctx.services().bus.subscribe()).filter_map(move |e| {
            let order = match &*e {
                Event::OrderUpdated(order) if order.user_id == user_id => {
                    Some(Order::from(order.clone()))
                }
                _ => None,
            };
            std::future::ready(order)
        }))
    }

    /// The caller's valuation: now, then after each of their trades and each tick round that
    /// moves one of their positions.
    #[graphql(guard = "RoleGuard::user()")]
    async fn portfolio(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Portfolio> + use<>> {
        let user_id = ctx.viewer().map_err(super::error::ApiError::from)?.user_id;
        let services = ctx.services().clone();
        let events = Box::pin(events(services.bus.subscribe()));
        // State: the bus events, whether the first snapshot is still due, and the stocks held.
        let state = (events, true, Vec::<i64>::new(), services);
        Ok(stream::unfold(
            state,
            move |(mut events, mut first, mut held, services)| async move {
                loop {
                    let relevant = if std::mem::take(&mut first) {
                        true
                    } else {
                        // Recompute only for events that concern this account.
                        match events.next().await?.as_ref() {
                            Event::PortfolioChanged { user_id: u } => *u == user_id,
                            Event::TickRound(round) => {
                                round.ticks.iter().any(|t| held.contains(&t.stock_id))
                            }
                            _ => false,
                        }
                    };
                    if !relevant {
                        continue;
                    }
                    match services.trading.portfolio(user_id).await {
                        Ok(p) => {
                            held = p.holdings.iter().map(|h| h.stock_id).collect();
                            let now = services.clock.now();
                            return Some((Portfolio::new(p, now), (events, first, held, services)));
                        }
                        Err(e) => tracing::warn!(error = %e, "portfolio feed"),
                    }
                }
            },
        ))
    }
}
