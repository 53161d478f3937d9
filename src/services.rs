//! The handles resolvers and the engine share: configuration, clock, bus and the domain
//! services. Built once by the composition root (`app`); cheap to clone. It holds no database
//! handle: everything that reads or writes goes through a domain service.

use std::sync::Arc;

use crate::{
    bus::{SharedBus, accounts::AccountEvents},
    clock::SharedClock,
    config::Config,
    domain::{
        admin::Administration, auth::AuthService, equity::Equity, market::Market, trading::Trading,
    },
    infra::ratelimit::RateLimiter,
};

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub clock: SharedClock,
    pub bus: SharedBus,
    /// Account events by owner, and tick-round prices, for the account feeds.
    pub accounts: AccountEvents,
    pub auth: AuthService,
    pub market: Market,
    pub trading: Trading,
    /// Equity history and the leaderboard.
    pub equity: Equity,
    pub admin: Administration,
    pub limiter: RateLimiter,
}
