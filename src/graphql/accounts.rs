//! Registration, login, tokens and the caller's own account.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};

use super::{
    connection::{Conn, PageArgs},
    context::{ContextExt, Limited},
    error::ApiResult,
    guards::RoleGuard,
    node::{Kind, global_id},
    payload::{UserError, split},
    rate_limits::keys,
    scalars::DateTime,
    trading::{
        Cash, CashTransaction, Order, OrderStatus, Portfolio, Trade, cash_transactions_of,
        orders_of, trades_of,
    },
};
use crate::domain::{
    admin::users::UserRecord,
    auth::{self, RegisterInput as DomainRegister},
};

/// What an account may do. New values may be added: clients must treat this enum as open.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    /// Trades with its own money and sees only its own records.
    Customer,
    /// Also manages stocks, users, market hours and holidays, and sees every account.
    Admin,
}

impl From<Role> for auth::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Customer => auth::Role::Customer,
            Role::Admin => auth::Role::Admin,
        }
    }
}

impl From<auth::Role> for Role {
    fn from(role: auth::Role) -> Self {
        match role {
            auth::Role::Customer => Role::Customer,
            auth::Role::Admin => Role::Admin,
        }
    }
}

/// An account. A customer sees only themselves; an admin sees every account. The money and
/// activity fields answer only the account itself or an admin (FORBIDDEN otherwise).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct User {
    /// Global id.
    pub id: ID,
    /// The account's row number.
    pub database_id: i64,
    /// Login email, lower case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the account may do.
    pub role: Role,
    /// False when deactivated: no login, no sessions.
    pub active: bool,
    /// When the account was created.
    pub created_at: DateTime,
    /// The name the account shows on the leaderboard; null when it is not on it (see
    /// `updateMe`).
    pub leaderboard_name: Option<String>,
    #[graphql(skip)]
    pub user_id: i64,
    /// Known when read through the admin API; otherwise read on demand.
    #[graphql(skip)]
    pub last_seen: Option<Option<chrono::DateTime<chrono::Utc>>>,
}

impl From<auth::User> for User {
    fn from(u: auth::User) -> Self {
        User {
            id: global_id(Kind::User, u.id),
            database_id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.into(),
            active: u.active,
            created_at: u.created_at.into(),
            leaderboard_name: u.leaderboard_name,
            user_id: u.id,
            last_seen: None,
        }
    }
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        User {
            last_seen: Some(r.last_seen_at),
            ..User::from(r.user)
        }
    }
}

#[ComplexObject]
impl User {
    /// Last login, token refresh or WebSocket connection; null when never. ADMIN only.
    #[graphql(guard = "RoleGuard::admin()")]
    async fn last_seen_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime>> {
        let seen = match self.last_seen {
            Some(seen) => seen,
            None => {
                let s = ctx.services();
                let admin = s.admin.verify(ctx.viewer()?, ctx.client_addr()).await?;
                s.admin.user(&admin, self.user_id).await?.last_seen_at
            }
        };
        Ok(seen.map(Into::into))
    }

    /// The account's cash. The account itself or an admin; null when it could not be read.
    async fn cash(&self, ctx: &Context<'_>) -> ApiResult<Option<Cash>> {
        ctx.owner_or_admin(self.user_id)?;
        let cash = ctx.services().trading.cash(self.user_id).await?;
        Ok(Some(Cash::of(self.user_id, cash)))
    }

    /// The account's valuation at live prices. The account itself or an admin.
    async fn portfolio(&self, ctx: &Context<'_>) -> ApiResult<Option<Portfolio>> {
        ctx.owner_or_admin(self.user_id)?;
        let s = ctx.services();
        let portfolio = s.trading.portfolio(self.user_id).await?;
        Ok(Some(Portfolio::new(portfolio, s.clock.now())))
    }

    /// The account's orders, newest first. The account itself or an admin.
    #[graphql(complexity = "super::connection::cost(first, last, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only orders with this status.")] status: Option<OrderStatus>,
        #[graphql(desc = "Orders after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Orders before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
    ) -> ApiResult<Conn<Order>> {
        ctx.owner_or_admin(self.user_id)?;
        let page = PageArgs::new(first, after, last, before);
        orders_of(ctx, self.user_id, status, page).await
    }

    /// The account's fills, newest first. The account itself or an admin.
    #[graphql(complexity = "super::connection::cost(first, last, child_complexity)")]
    async fn trades(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Trades after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Trades before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
    ) -> ApiResult<Conn<Trade>> {
        ctx.owner_or_admin(self.user_id)?;
        trades_of(ctx, self.user_id, PageArgs::new(first, after, last, before)).await
    }

    /// The account's cash ledger, newest first. The account itself or an admin.
    #[graphql(complexity = "super::connection::cost(first, last, child_complexity)")]
    async fn cash_transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Entries after `after`, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.endCursor`.")] after: Option<String>,
        #[graphql(desc = "Entries before `before`, at most 100.")] last: Option<i32>,
        #[graphql(desc = "A cursor from this list's `pageInfo.startCursor`.")] before: Option<
            String,
        >,
    ) -> ApiResult<Conn<CashTransaction>> {
        ctx.owner_or_admin(self.user_id)?;
        let page = PageArgs::new(first, after, last, before);
        cash_transactions_of(ctx, self.user_id, page).await
    }
}

/// A session, or why none was made. Send `accessToken` as `Authorization: Bearer …`; trade
/// `refreshToken` for a new pair with `refreshToken` before the access token expires.
#[derive(SimpleObject, Default)]
pub struct AuthPayload {
    /// A short-lived JWT; null when refused.
    pub access_token: Option<String>,
    /// Single use: `refreshToken` returns a new one and retires it; null when refused.
    pub refresh_token: Option<String>,
    /// The account logged in; null when refused.
    pub user: Option<User>,
    /// Expected failures (BAD_USER_INPUT, CONFLICT for a taken email). Wrong credentials
    /// and expired tokens are a top-level UNAUTHENTICATED error instead.
    pub user_errors: Vec<UserError>,
}

fn auth_payload(result: Result<auth::Session, crate::domain::Error>) -> ApiResult<AuthPayload> {
    let (session, user_errors) = split(result)?;
    Ok(match session {
        Some(s) => AuthPayload {
            access_token: Some(s.access_token),
            refresh_token: Some(s.refresh_token),
            user: Some(s.user.into()),
            user_errors,
        },
        None => AuthPayload {
            user_errors,
            ..AuthPayload::default()
        },
    })
}

/// A new customer account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// A valid email address; stored NFKC-normalized and lower case (fullwidth letters become
    /// plain ones). CONFLICT when taken, or when it looks like a taken one (a Cyrillic `е`
    /// for an `e`: the UTS #39 confusables); BAD_USER_INPUT for invisible or control
    /// characters.
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    /// Display name, 1–100 characters, stored NFKC-normalized; BAD_USER_INPUT for control
    /// and invisible formatting characters (zero-width spaces, direction overrides).
    pub name: String,
}

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// The account's email (any case).
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// A refresh token to trade for a new pair.
#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The `refreshToken` of the current session.
    pub token: String,
}

/// Which sessions to end.
#[derive(InputObject, Default)]
pub struct LogoutInput {
    /// End only this session; null ends every session of the caller.
    pub refresh_token: Option<String>,
}

/// What `logout` did.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// True once the sessions are revoked.
    pub revoked: bool,
    /// Always empty today; here so failures can be added without a breaking change.
    pub user_errors: Vec<UserError>,
}

/// The caller's current password and the one to replace it.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password the account has now (for an admin reset: the temporary password).
    pub current_password: String,
    /// The new password: the same rules as at registration (8–128 characters, not one of the
    /// most common passwords), and not the current one.
    pub new_password: String,
}

/// A changed password and the caller's fresh session, or why not.
#[derive(SimpleObject, Default)]
pub struct ChangePasswordPayload {
    /// A new access token for the caller: every token issued before the change is refused,
    /// and the caller's open sockets are closed (reconnect with this one). Null when refused.
    pub access_token: Option<String>,
    /// A new refresh token: every earlier one is revoked. Null when refused.
    pub refresh_token: Option<String>,
    /// The account; null when refused.
    pub user: Option<User>,
    /// Expected failures: BAD_USER_INPUT on `currentPassword` (not the account's password) or
    /// on `newPassword` (too short, too long, too common, or unchanged); CONFLICT when another
    /// change of the password won a race with this one.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user; UNAUTHENTICATED without a valid token. See `viewer` for a field
    /// that is null instead.
    #[graphql(guard = "RoleGuard::user()")]
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let viewer = ctx.viewer()?;
        Ok(ctx.services().auth.user(viewer.user_id).await?.into())
    }

    /// The logged-in user, or null for an anonymous caller (no error). An invalid or
    /// expired token is still UNAUTHENTICATED, so a client knows to refresh it.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        if matches!(ctx.caller(), super::Caller::Anonymous) {
            return Ok(None);
        }
        let viewer = ctx.viewer()?;
        Ok(Some(ctx.services().auth.user(viewer.user_id).await?.into()))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a customer account and logs it in. Rate limited per client address.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account's email, password and name.")] input: RegisterInput,
    ) -> ApiResult<AuthPayload> {
        let addr = ctx.client_addr().unwrap_or_default();
        ctx.rate_limit(Limited::Register, &[&keys::register(&addr)])
            .await?;
        let result = ctx
            .services()
            .auth
            .register(DomainRegister {
                email: input.email,
                password: input.password,
                name: input.name,
            })
            .await;
        auth_payload(result)
    }

    /// Logs in. A wrong password and an unknown email give the same top-level
    /// UNAUTHENTICATED error. Rate limited per address and per account.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Email and password.")] input: LoginInput,
    ) -> ApiResult<AuthPayload> {
        let addr = ctx.client_addr().unwrap_or_default();
        // Bounded: an email is at most 254 characters, whatever a client sends.
        let email: String = input
            .email
            .trim()
            .to_lowercase()
            .chars()
            .take(254)
            .collect();
        // The email's count is per address too: counted alone, five wrong guesses from anyone
        // locked the owner out. Guessing one account from many addresses meets the global
        // rate, counted last so that a client blocked by its own limits does not use it up.
        ctx.rate_limit(
            Limited::Login,
            &[&keys::login(&addr), &keys::login_email(&email, &addr)],
        )
        .await?;
        ctx.rate_limit(Limited::LoginGlobal, &[keys::LOGIN_GLOBAL])
            .await?;
        let auth = &ctx.services().auth;
        auth_payload(auth.login(&input.email, &input.password).await)
    }

    /// Trades a refresh token for a new pair; the old refresh token stops working. An unknown,
    /// used or expired token is a top-level UNAUTHENTICATED error.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token to trade (single use).")] input: RefreshTokenInput,
    ) -> ApiResult<AuthPayload> {
        auth_payload(ctx.services().auth.refresh(&input.token).await)
    }

    /// Changes the caller's password and ends all of their sessions on every instance (as an
    /// admin reset does), answering with a fresh session for this client. Logged-in callers
    /// only; rate limited per account as login attempts are.
    #[graphql(guard = "RoleGuard::user()")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current password and the new one.")] input: ChangePasswordInput,
    ) -> ApiResult<ChangePasswordPayload> {
        let viewer = ctx.viewer()?;
        // Guesses of the current password with a stolen access token meet the login limit.
        ctx.rate_limit(
            Limited::Login,
            &[&format!("password:user:{}", viewer.user_id)],
        )
        .await?;
        let change = auth::ChangePassword {
            current: input.current_password,
            new: input.new_password,
        };
        let result = ctx
            .services()
            .auth
            .change_password(viewer.user_id, change)
            .await;
        let (session, user_errors) = split(result)?;
        Ok(match session {
            Some(s) => ChangePasswordPayload {
                access_token: Some(s.access_token),
                refresh_token: Some(s.refresh_token),
                user: Some(s.user.into()),
                user_errors,
            },
            None => ChangePasswordPayload {
                user_errors,
                ..ChangePasswordPayload::default()
            },
        })
    }

    /// Revokes the session of `refreshToken`, or, without it, every session of the caller.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Which sessions to end; omitted, every session of the caller."
        )]
        input: LogoutInput,
    ) -> ApiResult<LogoutPayload> {
        let auth = &ctx.services().auth;
        let result = auth
            .logout(ctx.maybe_viewer(), input.refresh_token.as_deref())
            .await;
        let (done, user_errors) = split(result)?;
        Ok(LogoutPayload {
            revoked: done.is_some(),
            user_errors,
        })
    }
}
