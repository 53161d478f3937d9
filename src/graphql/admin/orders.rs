//! Admin actions on users' orders.

use async_graphql::{Context, Object, SimpleObject};

use super::{CancelUserOrderInput, admin};
use crate::graphql::{
    context::ContextExt,
    error::ApiResult,
    guards::RoleGuard,
    node::{Kind, row_id},
    payload::{UserError, split},
    trading::Order,
};

/// What `cancelUserOrder` did.
#[derive(SimpleObject)]
pub struct CancelUserOrderPayload {
    /// The order, now CANCELED with the reason as its `rejectReason`; null when refused.
    pub order: Option<Order>,
    /// Expected failures: BAD_USER_INPUT (id, reason), NOT_FOUND, CONFLICT (no longer queued
    /// or working).
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct AdminOrderMutation;

#[Object]
impl AdminOrderMutation {
    /// Cancels any user's QUEUED or OPEN order and releases its reservation; the owner's
    /// `orderUpdates` and `portfolio` feeds hear of it. ADMIN only; audited.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn cancel_user_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order (its global id) and why it is canceled.")]
        input: CancelUserOrderInput,
    ) -> ApiResult<CancelUserOrderPayload> {
        let admin = admin(ctx).await?;
        let result = async {
            let id = row_id(&input.id, Kind::Order, "id")?;
            let services = ctx.services();
            services
                .admin
                .cancel_user_order(&admin, id, &input.reason)
                .await
        }
        .await;
        let (order, user_errors) = split(result)?;
        Ok(CancelUserOrderPayload {
            order: order.map(Order::from),
            user_errors,
        })
    }
}
