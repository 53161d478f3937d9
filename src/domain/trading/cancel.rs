//! Canceling orders on behalf of an administrator: one order of any user, or every live
//! order of an account being deactivated. The caller audits and publishes; these run inside
//! its transaction.

use chrono::{DateTime, Utc};
use entity::{orders, users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    order::{Order, Status},
    store,
};
use crate::domain::{Error, Result};

/// How an administrator's reason is stored on the order: this, then the reason.
pub const CANCELED_BY_ADMIN: &str = "canceled by an administrator: ";
/// The reason stored on the orders of a deactivated account.
pub const CANCELED_ON_DEACTIVATION: &str = "canceled: the account was deactivated";

/// Cancels a queued or working order of any user with `reason` (stored on the order for its
/// owner to read), releasing its reservation. Locks the owner, then reads the order again.
/// NOT_FOUND for no such order, CONFLICT when it is no longer live. Returns the order before
/// and after.
pub(crate) async fn cancel_any(
    conn: &impl ConnectionTrait,
    order_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(Order, Order)> {
    let owner_id = orders::Entity::find_by_id(order_id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("order".into()))?
        .user_id;
    let owner = users::Entity::find_by_id(owner_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| Error::internal("order without owner"))?;
    let before = orders::Entity::find_by_id(order_id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("order".into()))
        .and_then(Order::try_from)?;
    if !before.status.is_live() {
        return Err(Error::Conflict(format!(
            "only queued or working orders can be canceled; this one is {}",
            before.status.as_str()
        )));
    }
    let reason = Some(format!("{CANCELED_BY_ADMIN}{reason}"));
    let after = store::claim(conn, &owner, before.clone(), Status::Canceled, reason, now).await?;
    Ok((before, after))
}

/// Cancels every queued and working order of `owner`, whose row the caller has locked,
/// releasing their reservations; oldest first.
pub(crate) async fn cancel_all_of(
    conn: &impl ConnectionTrait,
    owner: &users::Model,
    now: DateTime<Utc>,
) -> Result<Vec<Order>> {
    let live = orders::Entity::find()
        .filter(orders::Column::UserId.eq(owner.id))
        .filter(orders::Column::Status.is_in([Status::Queued.as_str(), Status::Open.as_str()]))
        .order_by_asc(orders::Column::Id)
        .all(conn)
        .await?;
    let mut canceled = Vec::with_capacity(live.len());
    for order in live {
        let reason = Some(CANCELED_ON_DEACTIVATION.to_string());
        let order = Order::try_from(order)?;
        canceled.push(store::claim(conn, owner, order, Status::Canceled, reason, now).await?);
    }
    Ok(canceled)
}
