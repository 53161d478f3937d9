//! Registration, login, tokens and the caller's own account.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    context::{ContextExt, Limited},
    error::ApiResult,
    guards::RoleGuard,
};
use crate::domain::auth::{self, RegisterInput as DomainRegister};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    Customer,
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

/// An account.
#[derive(SimpleObject, Clone)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<auth::User> for User {
    fn from(u: auth::User) -> Self {
        User {
            id: ID(u.id.to_string()),
            email: u.email,
            name: u.name,
            role: u.role.into(),
            active: u.active,
            created_at: u.created_at,
        }
    }
}

/// Tokens for a session: send `accessToken` as `Authorization: Bearer …`; trade `refreshToken`
/// for a new pair with `refreshToken(token:)` before the access token expires.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    pub user: User,
}

impl From<auth::Session> for AuthPayload {
    fn from(s: auth::Session) -> Self {
        AuthPayload {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            user: s.user.into(),
        }
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    pub name: String,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user.
    #[graphql(guard = "RoleGuard::user()")]
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let viewer = ctx.viewer()?;
        Ok(ctx.services().auth.user(viewer.user_id).await?.into())
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a customer account and logs it in.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> ApiResult<AuthPayload> {
        let addr = ctx.client_addr().unwrap_or_default();
        ctx.rate_limit(Limited::Register, &[&format!("register:ip:{addr}")])
            .await?;
        let session = ctx
            .services()
            .auth
            .register(DomainRegister {
                email: input.email,
                password: input.password,
                name: input.name,
            })
            .await?;
        Ok(session.into())
    }

    /// Logs in. A wrong password and an unknown email give the same UNAUTHENTICATED error.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<AuthPayload> {
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
            &[
                &format!("login:ip:{addr}"),
                &format!("login:email:{email}:ip:{addr}"),
            ],
        )
        .await?;
        ctx.rate_limit(Limited::LoginGlobal, &["login:all"]).await?;
        let auth = &ctx.services().auth;
        Ok(auth.login(&input.email, &input.password).await?.into())
    }

    /// Trades a refresh token for a new pair; the old refresh token stops working.
    async fn refresh_token(&self, ctx: &Context<'_>, token: String) -> ApiResult<AuthPayload> {
        Ok(ctx.services().auth.refresh(&token).await?.into())
    }

    /// Revokes the session of `refreshToken`, or, without it, every session of the caller.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: Option<String>) -> ApiResult<bool> {
        let auth = &ctx.services().auth;
        auth.logout(ctx.maybe_viewer(), refresh_token.as_deref())
            .await?;
        Ok(true)
    }
}
