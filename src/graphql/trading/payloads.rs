//! What the trading mutations and the order feed answer: the object and everything it
//! changed for its owner, so a client cache needs no refetch.

use async_graphql::{ComplexObject, Context, SimpleObject};

use super::{Cash, CashTransaction, Order, Position, Trade, order_trades};
use crate::{
    domain::{Error, trading::cash::CashMovement},
    graphql::{
        context::ContextExt,
        error::ApiResult,
        payload::{UserError, split},
    },
};

/// What `placeOrder` did: the order and everything it changed, or why it was refused.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PlaceOrderPayload {
    /// The order placed (or, for a retried `clientOrderId`, the one placed first); null when
    /// refused.
    pub order: Option<Order>,
    /// Expected failures: BAD_USER_INPUT, NOT_FOUND, STOCK_HALTED, INSUFFICIENT_FUNDS,
    /// INSUFFICIENT_SHARES, CONFLICT. Empty on success.
    pub user_errors: Vec<UserError>,
}

#[ComplexObject]
impl PlaceOrderPayload {
    /// The fill, when the order executed at once; null when it queued, works, was canceled
    /// (IOC, FOK) or was refused.
    async fn trade(&self, ctx: &Context<'_>) -> ApiResult<Option<Trade>> {
        order_trade(ctx, self.order.as_ref()).await
    }

    /// The owner's cash after the order (a queued or working buy reserves its cost).
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Option<Cash>> {
        owner_cash(ctx, self.order.as_ref()).await
    }

    /// The owner's position in the stock after the order (a queued or working sell reserves
    /// shares);
    /// null when none is held.
    async fn position(&self, ctx: &Context<'_>) -> ApiResult<Option<Position>> {
        owner_position(ctx, self.order.as_ref()).await
    }
}

/// What `replaceOrder` did: the new order, the replaced one, and the owner's cash and position
/// after both.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ReplaceOrderPayload {
    /// The new order (placed with the changes; OPEN, or filled or canceled at once for IOC and
    /// FOK); null when refused.
    pub order: Option<Order>,
    /// The order replaced, now CANCELED with `replacedBy` set; null when refused.
    pub replaced_order: Option<Order>,
    /// Expected failures: BAD_USER_INPUT, NOT_FOUND, STOCK_HALTED, INSUFFICIENT_FUNDS,
    /// INSUFFICIENT_SHARES, CONFLICT (the order filled, ended or was replaced first). Empty on
    /// success; when refused, the old order is left as it was.
    pub user_errors: Vec<UserError>,
}

#[ComplexObject]
impl ReplaceOrderPayload {
    /// The owner's cash after the replacement (reservations moved to the new order).
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Option<Cash>> {
        owner_cash(ctx, self.order.as_ref()).await
    }

    /// The owner's position in the stock after the replacement; null when none is held.
    async fn position(&self, ctx: &Context<'_>) -> ApiResult<Option<Position>> {
        owner_position(ctx, self.order.as_ref()).await
    }
}

/// What `cancelOrder` did: the canceled order and the released reservation.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CancelOrderPayload {
    /// The order, now CANCELED; null when refused.
    pub order: Option<Order>,
    /// Expected failures: BAD_USER_INPUT, NOT_FOUND, CONFLICT (no longer queued or working).
    /// Empty on success.
    pub user_errors: Vec<UserError>,
}

#[ComplexObject]
impl CancelOrderPayload {
    /// The owner's cash after a canceled buy released its reservation.
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Option<Cash>> {
        owner_cash(ctx, self.order.as_ref()).await
    }

    /// The owner's position after a canceled sell released its shares; null when none.
    async fn position(&self, ctx: &Context<'_>) -> ApiResult<Option<Position>> {
        owner_position(ctx, self.order.as_ref()).await
    }
}

/// An order changed: the order and what it changed for its owner.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderEvent {
    /// The order as it is now.
    pub order: Order,
}

#[ComplexObject]
impl OrderEvent {
    /// The fill, once the order executed.
    async fn trade(&self, ctx: &Context<'_>) -> ApiResult<Option<Trade>> {
        order_trade(ctx, Some(&self.order)).await
    }

    /// The owner's cash now.
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Option<Cash>> {
        owner_cash(ctx, Some(&self.order)).await
    }

    /// The owner's position in the order's stock now; null when none is held.
    async fn position(&self, ctx: &Context<'_>) -> ApiResult<Option<Position>> {
        owner_position(ctx, Some(&self.order)).await
    }
}

async fn order_trade(ctx: &Context<'_>, order: Option<&Order>) -> ApiResult<Option<Trade>> {
    let Some(order) = order else { return Ok(None) };
    Ok(order_trades(ctx, order).await?.into_iter().next())
}

async fn owner_cash(ctx: &Context<'_>, order: Option<&Order>) -> ApiResult<Option<Cash>> {
    let Some(order) = order else { return Ok(None) };
    let cash = ctx.services().trading.cash(order.user_id).await?;
    Ok(Some(Cash::of(order.user_id, cash)))
}

async fn owner_position(ctx: &Context<'_>, order: Option<&Order>) -> ApiResult<Option<Position>> {
    let Some(order) = order else { return Ok(None) };
    let portfolio = ctx.services().trading.portfolio(order.user_id).await?;
    Ok(portfolio
        .holdings
        .iter()
        .find(|h| h.stock_id == order.stock_id)
        .map(|h| Position::of(order.user_id, h)))
}

/// What `deposit` or `withdraw` did.
#[derive(SimpleObject)]
pub struct CashPayload {
    /// The caller's cash after the operation (for a retried key: after the first one); null
    /// when refused.
    pub cash: Option<Cash>,
    /// The ledger entry the operation wrote (for a retried key: the one the first request
    /// wrote, so a retry returns the same id). Null when refused, and for a retry of a
    /// request recorded before requests were linked to their entries.
    pub transaction: Option<CashTransaction>,
    /// Expected failures: BAD_USER_INPUT, INSUFFICIENT_FUNDS, CONFLICT (key reused for a
    /// different amount). Empty on success.
    pub user_errors: Vec<UserError>,
}

pub(super) fn cash_payload(
    user_id: i64,
    result: Result<CashMovement, Error>,
) -> ApiResult<CashPayload> {
    let (moved, user_errors) = split(result)?;
    let (cash, transaction) = match moved {
        Some(m) => (Some(Cash::of(user_id, m.cash)), m.entry.map(Into::into)),
        None => (None, None),
    };
    Ok(CashPayload {
        cash,
        transaction,
        user_errors,
    })
}
