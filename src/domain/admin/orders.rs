//! Orders on an administrator's authority: canceling a user's queued or working order.

use sea_orm::TransactionTrait;
use serde_json::json;

use super::{Admin, Administration, Change, audit};
use crate::{
    bus::Event,
    domain::{
        Error, Result,
        trading::{cancel, order::Order},
    },
};

/// Longest reason an administrator may give.
const MAX_REASON: usize = 200;

/// What the audit log keeps of an order.
pub(super) fn snapshot(o: &Order) -> serde_json::Value {
    json!({
        "userId": o.user_id,
        "stockId": o.stock_id,
        "side": o.side.as_str(),
        "type": o.order_type.as_str(),
        "quantity": o.quantity,
        "status": o.status.as_str(),
        "reservedCents": o.reserved_cents,
        "reservedShares": o.reserved_shares,
    })
}

impl Administration {
    /// Cancels any user's queued or working order, releasing its reservation; `reason` is
    /// kept on the order for its owner and in the audit log. NOT_FOUND for no such order,
    /// CONFLICT when it is no longer queued or working.
    pub async fn cancel_user_order(
        &self,
        admin: &Admin,
        order_id: i64,
        reason: &str,
    ) -> Result<Order> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(Error::bad_input(
                "reason",
                format!("reason must be 1 to {MAX_REASON} characters"),
            ));
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let (before, after) = cancel::cancel_any(&txn, order_id, reason, now).await?;
        let change = Change {
            action: "order.cancel",
            target_type: "order",
            target_id: Some(order_id.to_string()),
            before: Some(snapshot(&before)),
            after: Some(json!({ "order": snapshot(&after), "reason": reason })),
        };
        audit(&txn, admin, change, now).await?;
        txn.commit().await?;
        self.order_changed(&after).await;
        Ok(after)
    }

    /// Tells the owner's feeds of an order an administrator changed, after the commit.
    pub(super) async fn order_changed(&self, order: &Order) {
        self.publish(Event::OrderUpdated(Box::new(order.clone())))
            .await;
        self.publish(Event::PortfolioChanged {
            user_id: order.user_id,
        })
        .await;
    }
}
