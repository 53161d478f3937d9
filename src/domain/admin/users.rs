//! Users: listing, editing (role, activation), password resets. Never the last active admin.

use chrono::{DateTime, Utc};
use entity::users;
use rand::RngExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::json;

use super::{Admin, Administration, Change, audit};
use crate::domain::{
    Error, Result,
    auth::{self, Email, Ending, Role, User},
    page::{self, Page, PageRequest},
    trading::cancel,
};

/// A user as admins see them.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl TryFrom<users::Model> for UserRecord {
    type Error = Error;
    fn try_from(m: users::Model) -> Result<Self> {
        let last_seen_at = m.last_seen_at;
        Ok(UserRecord {
            user: User::try_from(m)?,
            last_seen_at,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Part of the email or name, any case.
    pub search: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

fn snapshot(u: &users::Model) -> serde_json::Value {
    json!({ "email": u.email, "name": u.name, "role": u.role, "active": u.active })
}

impl Administration {
    pub async fn users(
        &self,
        _admin: &Admin,
        filter: UserFilter,
        page: PageRequest,
    ) -> Result<Page<UserRecord>> {
        let mut q = users::Entity::find();
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if search.chars().count() > 100 {
                return Err(Error::bad_input(
                    "search",
                    "search must be at most 100 characters",
                ));
            }
            let pattern = format!("%{}%", search.to_lowercase().replace(['%', '_'], ""));
            q = q.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(users::Column::Email)))
                            .like(pattern.clone()),
                    )
                    .add(Expr::expr(Func::lower(Expr::col(users::Column::Name))).like(pattern)),
            );
        }
        if let Some(role) = filter.role {
            q = q.filter(users::Column::Role.eq(role.as_str()));
        }
        if let Some(active) = filter.active {
            q = q.filter(users::Column::Active.eq(active));
        }
        page::fetch(&self.db, q, users::Column::Id, page, UserRecord::try_from).await
    }

    pub async fn user(&self, _admin: &Admin, id: i64) -> Result<UserRecord> {
        users::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound("user".into()))
            .and_then(UserRecord::try_from)
    }

    /// Edits a user. Deactivation ends their sessions (tokens and open sockets) and cancels
    /// their queued and working orders (releasing what they reserved; the audit row lists
    /// them); a role change ends their access tokens and sockets, and a refresh gives tokens
    /// with the new role.
    pub async fn update_user(
        &self,
        admin: &Admin,
        id: i64,
        changes: UserChanges,
    ) -> Result<UserRecord> {
        let email = changes.email.as_deref().map(Email::parse).transpose()?;
        let name = changes
            .name
            .as_deref()
            .map(auth::validate_name)
            .transpose()?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let before = users::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound("user".into()))?;
        let was_admin = before.active && before.role == Role::Admin.as_str();
        let stays_admin = changes.active.unwrap_or(before.active)
            && changes
                .role
                .map_or(before.role == Role::Admin.as_str(), |r| r == Role::Admin);
        if was_admin && !stays_admin {
            ensure_another_admin(&txn, id).await?;
        }
        if let Some(email) = &email {
            auth::ensure_free(&txn, email, Some(id)).await?;
        }
        let mut model: users::ActiveModel = before.clone().into();
        if let Some(email) = &email {
            model.email = Set(email.as_str().into());
            model.email_skeleton = Set(Some(email.skeleton()));
        }
        if let Some(name) = name {
            model.name = Set(name);
        }
        if let Some(role) = changes.role {
            model.role = Set(role.as_str().into());
        }
        if let Some(active) = changes.active {
            model.active = Set(active);
        }
        model.updated_at = Set(now);
        // A concurrent registration of a look-alike meets a unique index here.
        let after = model
            .update(&txn)
            .await
            .map_err(|e| Error::conflict_on_unique(e, auth::taken().to_string()))?;
        let deactivated = before.active && !after.active;
        // A role change too: every access token handed out so far carries the old role.
        let ending = if deactivated {
            Some(Ending::Deactivated)
        } else if after.role != before.role {
            Some(Ending::RoleChanged)
        } else {
            None
        };
        let ended = match ending {
            Some(ending) => Some(self.auth.end_sessions(&txn, id, ending).await?),
            None => None,
        };
        // Their queued and working orders end with the account (the row is locked).
        let canceled = if deactivated {
            cancel::cancel_all_of(&txn, &after, now).await?
        } else {
            Vec::new()
        };
        let mut after_snapshot = snapshot(&after);
        if deactivated {
            after_snapshot["canceledOrders"] = canceled.iter().map(|o| o.id).collect();
        }
        let change = Change {
            action: "user.update",
            target_type: "user",
            target_id: Some(id.to_string()),
            before: Some(snapshot(&before)),
            after: Some(after_snapshot),
        };
        audit(&txn, admin, change, now).await?;
        txn.commit().await?;
        for order in &canceled {
            self.order_changed(order).await;
        }
        if let Some(ended) = ended {
            self.auth.announce(ended).await;
        }
        UserRecord::try_from(after)
    }

    /// Sets a new password (or generates one, returned once) and ends the user's sessions.
    pub async fn reset_password(
        &self,
        admin: &Admin,
        id: i64,
        new_password: Option<String>,
    ) -> Result<Option<String>> {
        let (password, generated) = match new_password {
            Some(p) => {
                auth::validate_password("newPassword", &p)?;
                (p, false)
            }
            None => (temporary_password(), true),
        };
        let hash = auth::hash_password(password.clone()).await?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let user = users::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound("user".into()))?;
        users::ActiveModel {
            id: Set(user.id),
            password_hash: Set(hash),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let ended = self.auth.end_sessions(&txn, id, Ending::Revoked).await?;
        let change = Change {
            action: "user.reset_password",
            target_type: "user",
            target_id: Some(id.to_string()),
            before: None,
            after: Some(json!({ "generated": generated })),
        };
        audit(&txn, admin, change, now).await?;
        txn.commit().await?;
        self.auth.announce(ended).await;
        Ok(generated.then_some(password))
    }
}

/// Refuses to demote or deactivate the last active admin. Locks the other active admins so two
/// admins cannot demote each other at the same moment.
async fn ensure_another_admin(conn: &impl ConnectionTrait, except: i64) -> Result<()> {
    let others = users::Entity::find()
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::Active.eq(true))
        .filter(users::Column::Id.ne(except))
        .order_by_asc(users::Column::Id)
        .lock_exclusive()
        .all(conn)
        .await?;
    if others.is_empty() {
        return Err(Error::Conflict("this is the last active admin".into()));
    }
    Ok(())
}

/// 16 characters from an alphabet without look-alikes.
fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
