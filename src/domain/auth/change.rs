//! A user changing their own password: proof of the current one, the password policy, and the
//! end of every other session, as an admin reset ends them.

use entity::users;
use sea_orm::{ActiveModelTrait, EntityTrait, QuerySelect, Set, TransactionTrait};

use super::{
    AuthService, Ending, Session, User,
    password::{hash_password, validate_password, verify_password},
};
use crate::domain::{Error, Result};

/// What `changePassword` asks.
pub struct ChangePassword {
    /// The password the account has now.
    pub current: String,
    /// The one it should have.
    pub new: String,
}

impl AuthService {
    /// Replaces the password of `user_id` once `change.current` proves the caller knows it,
    /// ends all of the user's sessions (every access token refused, every refresh token revoked,
    /// open sockets closed) and starts a fresh one for the caller, in one transaction.
    ///
    /// A wrong current password is BAD_USER_INPUT on `currentPassword`; a new password the
    /// policy refuses, or the current one again, is BAD_USER_INPUT on `newPassword`. The
    /// policy is checked first: it costs no hash and says nothing about the current password.
    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn change_password(&self, user_id: i64, change: ChangePassword) -> Result<Session> {
        validate_password("newPassword", &change.new)?;
        let ended_meanwhile =
            || Error::Unauthenticated("this session has ended; log in again".into());
        let user = users::Entity::find_by_id(user_id)
            .one(&self.inner.db)
            .await?
            .filter(|u| u.active)
            .ok_or_else(ended_meanwhile)?;
        let checked = user.password_hash;
        if !verify_password(change.current.clone(), checked.clone()).await? {
            tracing::info!("password change refused: wrong current password");
            return Err(Error::bad_input(
                "currentPassword",
                "the current password is not right",
            ));
        }
        if change.new == change.current {
            return Err(Error::bad_input(
                "newPassword",
                "the new password must differ from the current one",
            ));
        }
        let hash = hash_password(change.new).await?;
        let now = self.inner.clock.now();
        let txn = self.inner.db.begin().await?;
        // The user row first, as `end_sessions` and `refresh` take it.
        let user = users::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .filter(|u| u.active)
            .ok_or_else(ended_meanwhile)?;
        // Two changes (or a change and an admin reset) racing: the one that checked a
        // password that is no longer the account's does not overwrite the other.
        if user.password_hash != checked {
            return Err(Error::Conflict(
                "the password was changed meanwhile; log in with the new one".into(),
            ));
        }
        users::ActiveModel {
            id: Set(user.id),
            password_hash: Set(hash),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let ended = self.end_sessions(&txn, user.id, Ending::Revoked).await?;
        // The row is locked above and `end_sessions` moved its epoch on by exactly one.
        let epoch = user.session_epoch + 1;
        let session = self
            .start_session(&txn, User::try_from(user)?, epoch)
            .await?;
        txn.commit().await?;
        self.announce(ended).await;
        tracing::info!("password changed; the user's other sessions ended");
        Ok(session)
    }
}
