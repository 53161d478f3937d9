//! Declarative role checks for fields: `#[graphql(guard = "RoleGuard::admin()")]`.

use async_graphql::{Context, Guard};

use super::{context::ContextExt, error::ApiError};
use crate::domain::auth::Role;

pub struct RoleGuard(Option<Role>);

impl RoleGuard {
    /// Any logged-in user.
    pub fn user() -> Self {
        Self(None)
    }

    pub fn admin() -> Self {
        Self(Some(Role::Admin))
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let result = match self.0 {
            Some(Role::Admin) => ctx.admin().map(|_| ()),
            _ => ctx.viewer().map(|_| ()),
        };
        result.map_err(|e| ApiError::from(e).into())
    }
}
