//! Accounts: registration, login, access tokens (JWT) and rotating refresh tokens.
//!
//! Ending a user's sessions (logout everywhere, password change or reset, deactivation) goes
//! through one path, [`AuthService::end_sessions`] then [`AuthService::announce`]: it bumps the
//! user's session epoch and revokes their refresh tokens in the caller's transaction, and after
//! the commit tells every instance. Access tokens carry the epoch they were issued in; one from an
//! older epoch is refused, so the change reaches tokens already handed out, not only new ones.

mod change;
mod epochs;
mod lookalike;
mod password;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{refresh_tokens, users};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::change::ChangePassword;
use self::epochs::{Current, Epochs};
pub use self::lookalike::{backfill_skeletons, ensure_free, taken};
use self::password::verify_password;
pub use self::password::{MIN_PASSWORD_LEN, hash_password, validate_password};
use super::{Error, Result, text};
use crate::{
    bus::{Event, SharedBus},
    clock::SharedClock,
};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "CUSTOMER" => Ok(Role::Customer),
            "ADMIN" => Ok(Role::Admin),
            other => Err(Error::internal(format!(
                "unknown role `{other}` in database"
            ))),
        }
    }
}

/// The authenticated caller of a request, taken from a verified access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i64,
    pub role: Role,
}

/// A user as the rest of the system sees it (no password hash).
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The name shown on the leaderboard; None when not on it.
    pub leaderboard_name: Option<String>,
}

impl TryFrom<users::Model> for User {
    type Error = Error;
    fn try_from(m: users::Model) -> Result<Self> {
        Ok(User {
            id: m.id,
            role: Role::parse(&m.role)?,
            email: m.email,
            name: m.name,
            active: m.active,
            created_at: m.created_at,
            leaderboard_name: m.leaderboard_name,
        })
    }
}

/// Tokens handed out by login, registration and refresh.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user: User,
}

/// A syntactically valid, normalized (NFKC, trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self> {
        // Lower case before NFKC (fullwidth capitals), and after: NFKC turns some symbols
        // into capitals (`Ⓐ` into `A`).
        let email = text::identifier(&raw.to_lowercase(), "email")?.to_lowercase();
        let invalid = || Error::bad_input("email", "email is not a valid address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks and normalizes a display name (NFKC, trimmed, nothing invisible).
pub fn validate_name(raw: &str) -> Result<String> {
    let name = text::name(raw, "name")?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::bad_input("name", "name must be 1 to 100 characters"));
    }
    Ok(name)
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iat: i64,
    exp: i64,
    /// The user's session epoch at issue. Tokens from before this claim existed read as 0,
    /// the epoch every account started in.
    #[serde(default)]
    sep: i64,
}

/// A verified access token: who, and until when.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub viewer: Viewer,
    pub expires_at: DateTime<Utc>,
}

/// Why a user's sessions end; live sockets are told which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Logged out everywhere, or an admin reset the password: the person may log in again.
    Revoked,
    /// The account was deactivated.
    Deactivated,
    /// An admin changed the account's role: the access tokens handed out carry the old one.
    /// Only they end: the refresh tokens stay and trade for tokens with the new role, so a
    /// client carries on after a refresh instead of logging in again.
    RoleChanged,
}

/// Sessions ended inside a transaction that has not committed yet.
#[must_use = "announce it with AuthService::announce once the transaction commits"]
pub struct Ended {
    user_id: i64,
    ending: Ending,
}

pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

/// Accounts and tokens. Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    clock: SharedClock,
    bus: SharedBus,
    epochs: Epochs,
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: chrono::Duration,
    refresh_ttl: chrono::Duration,
    /// Verified against when the email is unknown, so both failures take the same time.
    dummy_hash: String,
}

impl AuthService {
    pub async fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        bus: SharedBus,
        jwt_secret: &str,
        access_ttl: std::time::Duration,
        refresh_ttl: std::time::Duration,
    ) -> Result<Self> {
        let dummy_hash = hash_password(random_token()).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                bus,
                epochs: Epochs::default(),
                encoding: EncodingKey::from_secret(jwt_secret.as_bytes()),
                decoding: DecodingKey::from_secret(jwt_secret.as_bytes()),
                access_ttl: chrono::Duration::from_std(access_ttl).map_err(Error::internal)?,
                refresh_ttl: chrono::Duration::from_std(refresh_ttl).map_err(Error::internal)?,
                dummy_hash,
            }),
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: RegisterInput) -> Result<Session> {
        let email = Email::parse(&input.email)?;
        let name = validate_name(&input.name)?;
        validate_password("password", &input.password)?;
        ensure_free(&self.inner.db, &email, None).await?;
        let hash = hash_password(input.password).await?;
        let now = self.inner.clock.now();
        let user = users::ActiveModel {
            email: Set(email.as_str().to_owned()),
            email_skeleton: Set(Some(email.skeleton())),
            name: Set(name),
            password_hash: Set(hash),
            role: Set(Role::Customer.as_str().to_owned()),
            active: Set(true),
            cash_cents: Set(0),
            reserved_cents: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            last_seen_at: Set(Some(now)),
            ..Default::default()
        }
        .insert(&self.inner.db)
        .await
        // Two registrations racing past the check above meet a unique index here (the
        // email's, or its skeleton's for look-alikes).
        .map_err(|e| Error::conflict_on_unique(e, taken().to_string()))?;
        tracing::info!(user_id = user.id, "user registered");
        let epoch = user.session_epoch;
        self.start_session(&self.inner.db, User::try_from(user)?, epoch)
            .await
    }

    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let user = match Email::parse(email) {
            Ok(email) => {
                users::Entity::find()
                    .filter(users::Column::Email.eq(email.as_str()))
                    .one(&self.inner.db)
                    .await?
            }
            Err(_) => None,
        };
        let hash = user.as_ref().map_or_else(
            || self.inner.dummy_hash.clone(),
            |u| u.password_hash.clone(),
        );
        let password_ok = verify_password(password.to_owned(), hash).await?;
        match user {
            Some(user) if password_ok && user.active => {
                self.touch(user.id).await?;
                let epoch = user.session_epoch;
                self.start_session(&self.inner.db, User::try_from(user)?, epoch)
                    .await
            }
            _ => Err(Error::Unauthenticated("invalid email or password".into())),
        }
    }

    /// Trades a refresh token for a new session; the old token stops working. Presenting an
    /// already-rotated token revokes its whole family (someone else may hold a copy).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, token: &str) -> Result<Session> {
        let invalid = || Error::Unauthenticated("refresh token is invalid or expired".into());
        let now = self.inner.clock.now();
        let txn = self.inner.db.begin().await?;
        let Some(row) = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
            .one(&txn)
            .await?
        else {
            return Err(invalid());
        };
        if row.revoked_at.is_some() {
            txn.rollback().await?;
            tracing::warn!(
                user_id = row.user_id,
                "refresh token reuse: revoking its family"
            );
            self.revoke_family(&row.family_id).await?;
            return Err(invalid());
        }
        if row.expires_at <= now {
            return Err(invalid());
        }
        // The user row first, as `end_sessions` does: a refresh racing a logout everywhere
        // waits for it and then finds its token revoked (and the two cannot deadlock).
        let user = users::Entity::find_by_id(row.user_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .filter(|u| u.active)
            .ok_or_else(invalid)?;
        // Claim the token atomically: of two concurrent refreshes only one updates the row.
        let claimed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
            .filter(refresh_tokens::Column::Id.eq(row.id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(invalid());
        }
        let refresh_token = self
            .issue_refresh_token(&txn, user.id, &row.family_id)
            .await?;
        txn.commit().await?;
        self.touch(user.id).await?;
        let epoch = user.session_epoch;
        let user = User::try_from(user)?;
        Ok(Session {
            access_token: self.access_token(&user, epoch)?,
            refresh_token,
            user,
        })
    }

    /// Revokes the family of `refresh_token` if given, else every refresh token of `viewer`.
    pub async fn logout(&self, viewer: Option<Viewer>, refresh_token: Option<&str>) -> Result<()> {
        match (refresh_token, viewer) {
            (Some(token), _) => {
                let row = refresh_tokens::Entity::find()
                    .filter(refresh_tokens::Column::TokenHash.eq(hash_token(token)))
                    .one(&self.inner.db)
                    .await?;
                match row {
                    Some(row) if viewer.is_none_or(|v| v.user_id == row.user_id) => {
                        self.revoke_family(&row.family_id).await
                    }
                    _ => Err(Error::Unauthenticated("refresh token is invalid".into())),
                }
            }
            (None, Some(viewer)) => {
                let txn = self.inner.db.begin().await?;
                let ended = self
                    .end_sessions(&txn, viewer.user_id, Ending::Revoked)
                    .await?;
                txn.commit().await?;
                self.announce(ended).await;
                Ok(())
            }
            (None, None) => Err(Error::Unauthenticated(
                "log in, or pass the refresh token to revoke".into(),
            )),
        }
    }

    /// Records that the user was just seen (for the active-users statistic).
    pub async fn touch(&self, user_id: i64) -> Result<()> {
        users::Entity::update_many()
            .col_expr(
                users::Column::LastSeenAt,
                Expr::value(self.inner.clock.now()),
            )
            .filter(users::Column::Id.eq(user_id))
            .exec(&self.inner.db)
            .await?;
        Ok(())
    }

    /// Ends every session of `user_id` inside `txn` (the caller's transaction, which holds the
    /// change that warrants it): bumps the session epoch, so every access token issued so far
    /// is refused, and revokes every refresh token (except for [`Ending::RoleChanged`]).
    /// Announce the result once `txn` commits.
    pub async fn end_sessions(
        &self,
        txn: &impl ConnectionTrait,
        user_id: i64,
        ending: Ending,
    ) -> Result<Ended> {
        let bumped = users::Entity::update_many()
            .col_expr(
                users::Column::SessionEpoch,
                Expr::col(users::Column::SessionEpoch).add(1),
            )
            .filter(users::Column::Id.eq(user_id))
            .exec(txn)
            .await?;
        if bumped.rows_affected != 1 {
            return Err(Error::NotFound("user".into()));
        }
        if ending == Ending::RoleChanged {
            return Ok(Ended { user_id, ending });
        }
        refresh_tokens::Entity::update_many()
            .col_expr(
                refresh_tokens::Column::RevokedAt,
                Expr::value(self.inner.clock.now()),
            )
            .filter(refresh_tokens::Column::UserId.eq(user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(txn)
            .await?;
        Ok(Ended { user_id, ending })
    }

    /// After the commit of [`AuthService::end_sessions`]: this instance refuses the old tokens
    /// at once, and every instance (this one included) forgets the old epoch and closes the
    /// user's sockets when the event reaches it.
    pub async fn announce(&self, ended: Ended) {
        let Ended { user_id, ending } = ended;
        self.inner.epochs.forget(user_id);
        let event = match ending {
            Ending::Revoked => Event::SessionsRevoked { user_id },
            // Sockets close with 4403, which clients retry with a fresh token.
            Ending::Deactivated | Ending::RoleChanged => Event::UserDisabled { user_id },
        };
        // The change is committed either way; other instances then catch up when their
        // remembered epoch ages out.
        if let Err(e) = self.inner.bus.publish(event).await {
            tracing::warn!(error = %e, user_id, "announcing ended sessions");
        }
    }

    /// Forgets remembered epochs as sessions end on any instance, until `shutdown`.
    pub async fn follow(self, shutdown: tokio_util::sync::CancellationToken) {
        let bus = self.inner.bus.clone();
        crate::bus::follow(bus.as_ref(), &shutdown, |delivery| match delivery {
            crate::bus::Delivery::Event(e) => {
                if let Event::UserDisabled { user_id } | Event::SessionsRevoked { user_id } = *e {
                    self.inner.epochs.forget(user_id);
                }
            }
            crate::bus::Delivery::Missed(n) => {
                // Some of the skipped events may have ended sessions.
                tracing::warn!(skipped = n, "session epoch follower lagged");
                self.inner.epochs.forget_all();
            }
        })
        .await
    }

    /// Checks signature, algorithm, expiry (against the injected clock) and that the user's
    /// sessions were not ended since the token was issued.
    pub async fn verify_access_token(&self, token: &str) -> Result<Viewer> {
        Ok(self.authenticate(token).await?.viewer)
    }

    /// [`AuthService::verify_access_token`], with the token's expiry.
    pub async fn authenticate(&self, token: &str) -> Result<Grant> {
        let invalid = || Error::Unauthenticated("access token is invalid or expired".into());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked below against the injected clock
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &validation)
            .map_err(|_| invalid())?
            .claims;
        if claims.exp <= self.inner.clock.now().timestamp() {
            return Err(invalid());
        }
        let user_id = claims.sub.parse().map_err(|_| invalid())?;
        let current = self.current(user_id).await?;
        if !current.is_some_and(|c| c.active && c.epoch == claims.sep) {
            return Err(Error::Unauthenticated(
                "this session has ended; log in again".into(),
            ));
        }
        Ok(Grant {
            viewer: Viewer {
                user_id,
                role: claims.role,
            },
            expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or_else(invalid)?,
        })
    }

    /// The user's session epoch and activation, remembered or read; None if there is no user.
    async fn current(&self, user_id: i64) -> Result<Option<Current>> {
        let epochs = &self.inner.epochs;
        if let Some(current) = epochs.get(user_id) {
            return Ok(Some(current));
        }
        let generation = epochs.generation();
        let row: Option<(i64, bool)> = users::Entity::find_by_id(user_id)
            .select_only()
            .column(users::Column::SessionEpoch)
            .column(users::Column::Active)
            .into_tuple()
            .one(&self.inner.db)
            .await?;
        Ok(row.map(|(epoch, active)| {
            let current = Current { epoch, active };
            epochs.remember(generation, user_id, current);
            current
        }))
    }

    /// The user behind a token, if the account still exists.
    pub async fn user(&self, id: i64) -> Result<User> {
        users::Entity::find_by_id(id)
            .one(&self.inner.db)
            .await?
            .ok_or_else(|| Error::NotFound("user".into()))
            .and_then(User::try_from)
    }

    /// A new session (a new refresh token family) for `user` in session epoch `epoch`; the
    /// refresh token is written through `conn`.
    async fn start_session(
        &self,
        conn: &impl ConnectionTrait,
        user: User,
        epoch: i64,
    ) -> Result<Session> {
        let family = uuid::Uuid::new_v4().to_string();
        let refresh_token = self.issue_refresh_token(conn, user.id, &family).await?;
        Ok(Session {
            access_token: self.access_token(&user, epoch)?,
            refresh_token,
            user,
        })
    }

    async fn issue_refresh_token(
        &self,
        conn: &impl sea_orm::ConnectionTrait,
        user_id: i64,
        family: &str,
    ) -> Result<String> {
        let token = random_token();
        let now = self.inner.clock.now();
        refresh_tokens::ActiveModel {
            user_id: Set(user_id),
            token_hash: Set(hash_token(&token)),
            family_id: Set(family.to_owned()),
            created_at: Set(now),
            expires_at: Set(now + self.inner.refresh_ttl),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        Ok(token)
    }

    async fn revoke_family(&self, family: &str) -> Result<()> {
        refresh_tokens::Entity::update_many()
            .col_expr(
                refresh_tokens::Column::RevokedAt,
                Expr::value(self.inner.clock.now()),
            )
            .filter(refresh_tokens::Column::FamilyId.eq(family))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.inner.db)
            .await?;
        Ok(())
    }

    fn access_token(&self, user: &User, epoch: i64) -> Result<String> {
        let now = self.inner.clock.now();
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role,
            iat: now.timestamp(),
            exp: (now + self.inner.access_ttl).timestamp(),
            sep: epoch,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )
        .map_err(Error::internal)
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["password1", "PassWord123", "qwertyuiop", "12345678"] {
            assert!(validate_password("password", common).is_err(), "{common}");
        }
        assert!(validate_password("password", "correct horse battery").is_ok());
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@.com",
            "ann@example..com",
            "ann\u{200B}@example.com",
            "\u{202E}ann@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails_are_nfkc_then_lower_case() {
        // Fullwidth capitals, and a circled letter that NFKC turns into a capital.
        assert_eq!(
            Email::parse("ＤＥＭＯ＠\u{24BA}xample.com")
                .unwrap()
                .as_str(),
            "demo@example.com"
        );
        let cyrillic = Email::parse("d\u{435}mo@example.com").unwrap();
        assert_ne!(cyrillic.as_str(), "demo@example.com");
        assert_eq!(
            cyrillic.skeleton(),
            Email::parse("demo@example.com").unwrap().skeleton()
        );
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(validate_password("password", "short").is_err());
        assert!(validate_password("password", "long enough").is_ok());
        assert!(validate_password("password", &"x".repeat(200)).is_err());
    }
}
