//! Every setting, read from environment variables once at start and validated.

use std::{net::SocketAddr, time::Duration};

use chrono_tz::Tz;
use clap::FromArgMatches;

use ipnet::IpNet;

mod settings;
mod trusted_documents;

use settings::{CorsOrigins, clap_error, env_names, settings_command};
pub use settings::{Settings, blank_env_is_unset};
pub use trusted_documents::{TrustedDocuments, document_hash};

use crate::infra::ratelimit::{Bucket, RateLimits};

/// How strict the server is about its own setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Developer machine: generated secret allowed, GraphiQL and introspection on, demo data.
    Local,
    /// Public deployment: refuses to start without a real `JWT_SECRET`.
    Production,
}

/// What one instance does (`ZEBRAT_ROLE` or `zebrat serve --role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Serves GraphQL and WebSockets; never runs the engine.
    Api,
    /// Runs the engine when it holds the lease; serves only `/health`.
    Engine,
    /// Both (the default): every instance serves, one of them also runs the engine.
    All,
}

impl Role {
    pub fn serves_api(self) -> bool {
        self != Role::Engine
    }

    pub fn runs_engine(self) -> bool {
        self != Role::Api
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Role as clap::ValueEnum>::from_str(s, true)
    }
}

/// Which exchange's holidays and early closes the market calendar computes
/// (`MARKET_CALENDAR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MarketCalendar {
    /// The New York Stock Exchange's rules, for every year (the default).
    Nyse,
    /// No rules: only the days admins list (for a market in another country).
    #[value(name = "none")]
    ListedOnly,
}

#[derive(Clone)]
pub struct Config {
    pub profile: Profile,
    pub role: Role,
    pub bind_addr: SocketAddr,
    pub database_url: String,
    /// Connections in the PostgreSQL pool (SQLite always uses one).
    pub database_pool_size: u32,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so deployments (and tests) can share a server.
    pub redis_prefix: String,
    /// Instances the operator runs for this deployment (`EXPECT_INSTANCES`).
    pub expect_instances: u32,
    /// Clients arrive through a reverse proxy (`BEHIND_PROXY`).
    pub behind_proxy: bool,
    /// `None` only under the local profile without `JWT_SECRET`: the composition root then
    /// uses the secret kept beside the SQLite file (`infra::local_secret`).
    pub jwt_secret: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub seed_demo_data: bool,
    pub run_migrations: bool,
    pub market_timezone: Tz,
    pub market_calendar: MarketCalendar,
    pub tick_interval: Duration,
    pub default_drift: f64,
    pub default_volatility: f64,
    pub max_tick_pct: f64,
    /// Standard deviation of the log jump from the previous close to a trading day's first
    /// price; 0 opens where the last day closed.
    pub overnight_volatility: f64,
    pub candle_aggregation_frequency: Duration,
    pub candle_backfill_days: u32,
    /// How long raw ticks are kept before pruning.
    pub tick_retention: Duration,
    pub sim_seed: Option<u64>,
    /// Largest deposit or withdrawal.
    pub max_cash_operation: rust_decimal::Decimal,
    /// Largest order, in shares.
    pub max_order_quantity: i64,
    pub rate_limits: RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    pub graphql: GraphqlLimits,
    /// The allow-list of `GRAPHQL_TRUSTED_DOCUMENTS`; `None` runs every operation.
    pub trusted_documents: Option<std::sync::Arc<TrustedDocuments>>,
    /// Schema introspection (`__schema`, `__type`) is answered.
    pub introspection: bool,
    /// GraphiQL is served at `/`.
    pub graphiql: bool,
    /// Browser origins allowed by CORS and on WebSockets; `None` allows any.
    pub cors_origins: Option<Vec<String>>,
    /// Where users reach this service (`PUBLIC_ORIGIN`), normalized by [`normalize_origin`]:
    /// browser pages from these origins may open WebSockets.
    pub public_origins: Vec<String>,
    /// `PUBLIC_ORIGIN` is unset under the local profile: the origins are loopback on the port
    /// actually bound (see [`Config::bound_to`]).
    pub public_origins_follow_port: bool,
    /// Send `Strict-Transport-Security` (when clients reach us over TLS, via the proxy).
    pub hsts: bool,
    /// Most subscriptions on one WebSocket.
    pub max_subscriptions_per_connection: usize,
    /// Most logged-in WebSockets of one user on one instance.
    pub max_connections_per_user: usize,
    /// `/metrics` on a listener of its own; `None` serves it on `bind_addr`.
    pub metrics_addr: Option<SocketAddr>,
    /// The bearer token `/metrics` requires, if any.
    pub metrics_token: Option<String>,
    pub log_format: crate::telemetry::LogFormat,
    /// Most WebSockets from one client address on one instance.
    pub ws_max_connections_per_client: usize,
    /// A WebSocket without a subscription for this long is closed.
    pub ws_idle_timeout: Duration,
    pub http: HttpLimits,
}

/// Bounds on what one TCP connection may hold, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's head (request line and headers) must arrive within this.
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Most open connections from one client address (trusted proxies are not counted).
    pub max_connections_per_client: usize,
}

/// Bounds on what one GraphQL request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphqlLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_document_bytes: usize,
    /// Most operations in one batched HTTP request.
    pub max_batch: usize,
    /// Cost budget of a logged-in user (`None`: unlimited).
    pub cost_budget: Option<Bucket>,
    /// Cost budget of an anonymous client address (`None`: unlimited).
    pub cost_budget_anonymous: Option<Bucket>,
    /// Longest a query or mutation may run.
    pub timeout: Duration,
    /// Largest response of one operation, one HTTP body, one WebSocket message, in bytes.
    pub max_response_bytes: usize,
}

impl std::fmt::Debug for Config {
    // Hand-written so the secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("profile", &self.profile)
            .field("role", &self.role)
            .field("bind_addr", &self.bind_addr)
            .field("database", &redact_url(&self.database_url))
            .field("redis", &self.redis_url.as_deref().map(redact_url))
            .field("market_timezone", &self.market_timezone)
            .field("tick_interval", &self.tick_interval)
            .field("metrics_addr", &self.metrics_addr)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Shortest `JWT_SECRET` the production profile accepts.
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// Every setting as it comes from the environment (or the `zebrat serve` flags), parsed by
/// clap: each field is `--long` with `env = "NAME"` and the default `zebrat serve --help`
/// shows. Checks that need more than one value (the profile's rules) happen in
/// [`Config::from_settings`], which turns this into the typed [`Config`].
impl Config {
    /// Reads the process environment (through clap's `env` support, as `zebrat serve` does).
    pub fn from_env() -> Result<Self, ConfigError> {
        let cmd = blank_env_is_unset(settings_command());
        let names = env_names(&cmd);
        let matches = cmd
            .try_get_matches_from(std::iter::empty::<String>())
            .map_err(|e| clap_error(&e, &names))?;
        Self::from_matches(&matches, &names)
    }

    /// Reads settings through `get` only (tests pass a map): the same clap arguments, with their
    /// environment lookup turned off and each value found passed as `--long=value`, so the
    /// process environment never leaks in.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let cmd = settings_command();
        let names = env_names(&cmd);
        let args: Vec<String> = names
            .iter()
            .filter_map(|(long, env)| {
                let value = get(env).filter(|v| !v.trim().is_empty())?;
                Some(format!("--{long}={value}"))
            })
            .collect();
        let matches = cmd
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(args)
            .map_err(|e| clap_error(&e, &names))?;
        Self::from_matches(&matches, &names)
    }

    fn from_matches(
        matches: &clap::ArgMatches,
        names: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        let settings = Settings::from_arg_matches(matches).map_err(|e| clap_error(&e, names))?;
        Self::from_settings(settings)
    }

    /// Applies the profile's rules (the secret, the defaults that depend on the profile).
    pub fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let profile = s.profile;
        if profile == Profile::Production {
            production_checks(&s)?;
        }
        let jwt_secret = match s.jwt_secret.filter(|v| !v.trim().is_empty()) {
            Some(secret) if profile == Profile::Production && secret.len() < MIN_JWT_SECRET_LEN => {
                return Err(ConfigError(format!(
                    "JWT_SECRET must be at least {MIN_JWT_SECRET_LEN} bytes in production"
                )));
            }
            Some(secret) => Some(secret),
            None if profile == Profile::Production => {
                return Err(ConfigError(
                    "JWT_SECRET is required in the production profile".into(),
                ));
            }
            // Reading or making the local secret file is not parsing: the composition root does it.
            None => None,
        };
        let local = profile == Profile::Local;
        Ok(Self {
            profile,
            role: s.role,
            bind_addr: s.bind_addr,
            database_url: s.database_url,
            database_pool_size: s.database_pool_size,
            redis_url: s.redis_url.filter(|v| !v.trim().is_empty()),
            redis_prefix: s.redis_prefix,
            expect_instances: s.expect_instances,
            behind_proxy: s.behind_proxy,
            jwt_secret,
            access_token_ttl: Duration::from_secs(s.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(s.refresh_token_ttl_days * 86_400),
            seed_demo_data: s.seed_demo_data.unwrap_or(local),
            run_migrations: s.run_migrations,
            market_timezone: s.market_timezone,
            market_calendar: s.market_calendar,
            tick_interval: s.tick_interval_secs,
            default_drift: s.default_drift,
            default_volatility: s.default_volatility,
            max_tick_pct: s.max_tick_pct,
            overnight_volatility: s.overnight_volatility,
            candle_aggregation_frequency: s.candle_aggregation_frequency,
            candle_backfill_days: s.candle_backfill_days,
            tick_retention: Duration::from_secs(s.tick_retention_hours.max(1) * 3600),
            max_cash_operation: s.max_cash_operation,
            max_order_quantity: s.max_order_quantity,
            sim_seed: s.sim_seed,
            rate_limits: RateLimits {
                login: s.rate_limit_login.0,
                login_global: s.rate_limit_login_global.0,
                register: s.rate_limit_register.0,
                orders: s.rate_limit_orders.0,
                deposits: s.rate_limit_deposits.0,
            },
            trusted_proxies: s.trusted_proxies.map(|p| p.0).unwrap_or_default(),
            graphql: GraphqlLimits {
                max_depth: s.graphql_max_depth,
                max_complexity: s.graphql_max_complexity,
                max_aliases: s.graphql_max_aliases,
                max_root_fields: s.graphql_max_root_fields,
                max_document_bytes: s.graphql_max_document_bytes,
                max_batch: s.graphql_max_batch,
                cost_budget: s.graphql_cost_budget.0,
                cost_budget_anonymous: s.graphql_cost_budget_anonymous.0,
                timeout: s.graphql_timeout_secs,
                max_response_bytes: s.graphql_max_response_bytes,
            },
            trusted_documents: match s.graphql_trusted_documents {
                Some(path) => Some(std::sync::Arc::new(TrustedDocuments::load(&path)?)),
                None => None,
            },
            introspection: s.graphql_introspection.unwrap_or(local),
            graphiql: s.graphiql.unwrap_or(local),
            cors_origins: match s.cors_allowed_origins {
                Some(CorsOrigins::Any) => None,
                Some(CorsOrigins::List(origins)) => Some(origins),
                None if local => None,
                None => Some(Vec::new()),
            },
            public_origins: match &s.public_origin {
                Some(origins) => origins.0.clone(),
                None if local => loopback_origins(s.bind_addr.port()),
                None => Vec::new(),
            },
            public_origins_follow_port: local && s.public_origin.is_none(),
            hsts: s.hsts.unwrap_or(!local),
            max_subscriptions_per_connection: s.ws_max_subscriptions,
            max_connections_per_user: s.ws_max_connections_per_user,
            metrics_addr: s.metrics_addr,
            metrics_token: s.metrics_token.filter(|t| !t.trim().is_empty()),
            log_format: s.log_format,
            ws_max_connections_per_client: s.ws_max_connections_per_client,
            ws_idle_timeout: s.ws_idle_timeout_secs,
            http: HttpLimits {
                header_timeout: s.http_header_timeout_secs,
                idle_timeout: s.http_idle_timeout_secs,
                max_connections_per_client: s.http_max_connections_per_client,
            },
        })
    }

    /// Records the address actually bound (port 0 picks one): the default public origins are
    /// on that port.
    pub fn bound_to(&mut self, addr: SocketAddr) {
        if self.public_origins_follow_port {
            self.public_origins = loopback_origins(addr.port());
        }
    }

    /// True when the server runs the embedded SQLite database.
    pub fn is_sqlite(&self) -> bool {
        is_sqlite(&self.database_url)
    }

    /// What an operator should know about this configuration at start, one line each: the
    /// production profile's expectations, and choices that work but are risky there.
    pub fn start_warnings(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.profile != Profile::Production {
            return notes;
        }
        if self.is_sqlite() {
            notes.push(
                "SQLite in production: one instance only, no fan-out across instances; back it \
                 up with `zebrat backup` (PostgreSQL + Redis for more than one instance)"
                    .into(),
            );
        }
        if self.hsts {
            notes.push(
                "HSTS is on: serve this instance over TLS only (TLS terminates at the proxy, \
                 see deploy/nginx)"
                    .into(),
            );
        } else {
            notes.push("HSTS is off in production: set HSTS=true once TLS is in place".into());
        }
        if self.graphiql && self.public_origins.is_empty() && self.cors_origins.is_some() {
            notes.push(
                "GraphiQL is on without PUBLIC_ORIGIN: its page may not open WebSockets \
                 (subscriptions) unless its origin is in CORS_ALLOWED_ORIGINS"
                    .into(),
            );
        }
        if self.graphiql || self.introspection {
            notes.push(format!(
                "production with GraphiQL {} and introspection {}: enabled on purpose?",
                on_off(self.graphiql),
                on_off(self.introspection)
            ));
        }
        notes
    }
}

/// The local profile's public origins: this machine, on `port`.
fn loopback_origins(port: u16) -> Vec<String> {
    ["127.0.0.1", "localhost"]
        .iter()
        .map(|host| format!("http://{host}:{port}"))
        .collect()
}

/// An origin as `scheme://host:port`, lowercase, with the scheme's default port spelt out
/// (`https://Zebrat.example` and `https://zebrat.example:443` are one origin); `None` for
/// anything that is not an http(s) origin (a path, a query, user info, `null`). A trailing `/`
/// is tolerated, as operators often write one.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let (scheme, rest) = raw.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty()
        || authority.contains(['/', '?', '#', '@', '\\'])
        || authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    // The port follows the last colon, unless that colon is inside an IPv6 literal.
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse::<u16>().ok()?),
        _ => (authority, default_port),
    };
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}:{port}", host.to_ascii_lowercase()))
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The production profile's refusals, each naming the setting at fault.
fn production_checks(s: &Settings) -> Result<(), ConfigError> {
    let redis = s.redis_url.as_deref().is_some_and(|v| !v.trim().is_empty());
    if s.expect_instances > 1 && !redis {
        return Err(ConfigError(format!(
            "EXPECT_INSTANCES={} needs REDIS_URL in production: without Redis each instance \
             hears only its own events and keeps its own rate limits",
            s.expect_instances
        )));
    }
    if s.expect_instances > 1 && is_sqlite(&s.database_url) {
        return Err(ConfigError(format!(
            "EXPECT_INSTANCES={} needs PostgreSQL in production (DATABASE_URL is SQLite, \
             which one process owns)",
            s.expect_instances
        )));
    }
    if s.behind_proxy && s.trusted_proxies.is_none() {
        return Err(ConfigError(
            "BEHIND_PROXY=true needs TRUSTED_PROXIES in production: otherwise every client \
             shares the proxy's address for rate limits and the audit log"
                .into(),
        ));
    }
    Ok(())
}

/// Hides the password in a connection URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests;
