//! What a resolver reads from the request: the caller and the services.

use async_graphql::Context;

use super::rate_limits::RateLimitUsage;
use crate::{
    domain::{
        Error,
        auth::{AuthService, Role, Viewer},
    },
    infra::ratelimit::{Rate, RateLimits},
    services::Services,
};

/// Who is calling, as established by the transport (HTTP header or WebSocket init payload).
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    /// A token was sent but failed verification; kept so the error can say so.
    InvalidToken(String),
    /// A token was sent but could not be checked (the database failed): requests that need a
    /// caller answer INTERNAL rather than telling a valid session to log in again.
    Unverified,
    User(Viewer),
}

/// The client's address, as seen by the transport.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// Actions with a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Login,
    LoginGlobal,
    Register,
    Order,
    Deposit,
}

impl Limited {
    /// The limit's name (in the refusal metric and the `RateLimit-Policy` field) and its rate
    /// (`None`: off).
    pub fn rule(self, limits: &RateLimits) -> (&'static str, Option<Rate>) {
        match self {
            Limited::Login => ("login", limits.login),
            Limited::LoginGlobal => ("login_global", limits.login_global),
            Limited::Register => ("register", limits.register),
            Limited::Order => ("orders", limits.orders),
            Limited::Deposit => ("deposits", limits.deposits),
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait ContextExt {
    fn services(&self) -> &Services;
    /// The client's address, for the audit log.
    fn client_addr(&self) -> Option<String>;
    fn caller(&self) -> &Caller;
    /// The authenticated caller, or UNAUTHENTICATED.
    fn viewer(&self) -> Result<Viewer, Error>;
    /// The authenticated caller if there is one (public fields that read better when logged in).
    fn maybe_viewer(&self) -> Option<Viewer> {
        match self.caller() {
            Caller::User(v) => Some(*v),
            _ => None,
        }
    }
    /// The request's record of the limits it counted against (HTTP requests have one).
    fn rate_limit_usage(&self) -> Option<&RateLimitUsage>;
    /// Counts one `action` against each of `keys` (RATE_LIMITED when over its limit), and
    /// notes where the limit stands in the request's [`RateLimitUsage`]. The service-wide
    /// login limit is noted only when it refuses: its count is everyone's logins, not the
    /// caller's to know.
    async fn rate_limit(&self, action: Limited, keys: &[&str]) -> Result<(), Error> {
        let services = self.services();
        let (rule, rate) = action.rule(&services.config.rate_limits);
        let counted = services.limiter.hit(rule, rate, keys).await;
        if let Some(usage) = self.rate_limit_usage() {
            match &counted {
                Ok(Some(quota)) if action != Limited::LoginGlobal => usage.record(*quota, None),
                Ok(_) => {}
                Err(refused) => usage.record(refused.quota, Some(refused.retry_after_secs)),
            }
        }
        counted?;
        Ok(())
    }
    /// The caller, who must be `user_id` or an admin (FORBIDDEN otherwise).
    fn owner_or_admin(&self, user_id: i64) -> Result<Viewer, Error> {
        let viewer = self.viewer()?;
        if viewer.user_id == user_id || viewer.role == Role::Admin {
            Ok(viewer)
        } else {
            Err(Error::Forbidden(
                "only the account itself or an admin sees this".into(),
            ))
        }
    }
    /// The caller, who must be an admin (FORBIDDEN otherwise).
    fn admin(&self) -> Result<Viewer, Error> {
        let viewer = self.viewer()?;
        match viewer.role {
            Role::Admin => Ok(viewer),
            Role::Customer => Err(Error::Forbidden("this needs the ADMIN role".into())),
        }
    }
}

impl ContextExt for Context<'_> {
    fn services(&self) -> &Services {
        self.data_unchecked::<Services>()
    }

    fn caller(&self) -> &Caller {
        self.data_opt::<Caller>().unwrap_or(&Caller::Anonymous)
    }

    fn client_addr(&self) -> Option<String> {
        self.data_opt::<ClientAddr>().map(|a| a.0.clone())
    }

    fn rate_limit_usage(&self) -> Option<&RateLimitUsage> {
        self.data_opt::<RateLimitUsage>()
    }

    fn viewer(&self) -> Result<Viewer, Error> {
        match self.caller() {
            Caller::User(viewer) => Ok(*viewer),
            Caller::InvalidToken(reason) => Err(Error::Unauthenticated(reason.clone())),
            Caller::Unverified => Err(Error::internal("the access token could not be verified")),
            Caller::Anonymous => Err(Error::Unauthenticated(
                "log in first: send `Authorization: Bearer <accessToken>`".into(),
            )),
        }
    }
}

impl Caller {
    /// Verifies a bearer token (signature, expiry, and that its session has not ended).
    pub async fn from_bearer(auth: &AuthService, token: &str) -> Self {
        Self::from_verification(auth.verify_access_token(token).await)
    }

    /// The caller a token verification makes.
    pub fn from_verification(verified: Result<Viewer, Error>) -> Self {
        match verified {
            Ok(viewer) => Caller::User(viewer),
            Err(Error::Unauthenticated(reason)) => Caller::InvalidToken(reason),
            Err(e) => {
                tracing::error!(error = %e, "verifying an access token");
                Caller::Unverified
            }
        }
    }
}
