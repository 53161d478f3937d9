//! Every setting, read from environment variables once at start and validated.

use std::{net::SocketAddr, time::Duration};

use chrono_tz::Tz;
use rand::RngExt;

use ipnet::IpNet;

use crate::infra::ratelimit::{Rate, RateLimits};

/// How strict the server is about its own setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub jwt_secret: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub seed_demo_data: bool,
    pub run_migrations: bool,
    pub market_timezone: Tz,
    pub tick_interval: Duration,
    pub default_drift: f64,
    pub default_volatility: f64,
    pub max_tick_pct: f64,
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
    /// Schema introspection (`__schema`, `__type`) is answered.
    pub introspection: bool,
    /// GraphiQL is served at `/`.
    pub graphiql: bool,
    /// Browser origins allowed by CORS and on WebSockets; `None` allows any.
    pub cors_origins: Option<Vec<String>>,
    /// Send `Strict-Transport-Security` (when clients reach us over TLS, via the proxy).
    pub hsts: bool,
    /// Most subscriptions on one WebSocket.
    pub max_subscriptions_per_connection: usize,
    /// Most logged-in WebSockets of one user on one instance.
    pub max_connections_per_user: usize,
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
            .finish_non_exhaustive()
    }
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Shortest `JWT_SECRET` the production profile accepts.
pub const MIN_JWT_SECRET_LEN: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `get` (tests pass a map instead of touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let profile = match var("ZEBRAT_PROFILE").as_deref() {
            None | Some("local") => Profile::Local,
            Some("production") => Profile::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "ZEBRAT_PROFILE must be `local` or `production`, not `{other}`"
                )));
            }
        };
        let jwt_secret = match var("JWT_SECRET") {
            Some(secret) if profile == Profile::Production && secret.len() < MIN_JWT_SECRET_LEN => {
                return Err(ConfigError(format!(
                    "JWT_SECRET must be at least {MIN_JWT_SECRET_LEN} bytes in production"
                )));
            }
            Some(secret) => secret,
            None if profile == Profile::Production => {
                return Err(ConfigError(
                    "JWT_SECRET is required in the production profile".into(),
                ));
            }
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret for this process only; \
                     tokens will not survive a restart or work across instances"
                );
                generate_secret()
            }
        };
        let local = profile == Profile::Local;
        Ok(Self {
            profile,
            role: parse(&var, "ZEBRAT_ROLE", Some(Role::All))?,
            bind_addr: parse(&var, "BIND_ADDR", "127.0.0.1:8000".parse().ok())?,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://zebrat.db?mode=rwc".into()),
            database_pool_size: parse(&var, "DATABASE_POOL_SIZE", Some(default_pool_size()))?,
            redis_url: var("REDIS_URL"),
            redis_prefix: var("REDIS_PREFIX").unwrap_or_else(|| "zebrat".into()),
            jwt_secret,
            access_token_ttl: Duration::from_secs(parse(&var, "ACCESS_TOKEN_TTL_SECS", Some(900))?),
            refresh_token_ttl: Duration::from_secs(
                parse::<u64>(&var, "REFRESH_TOKEN_TTL_DAYS", Some(30))? * 86_400,
            ),
            seed_demo_data: parse(&var, "SEED_DEMO_DATA", Some(local))?,
            run_migrations: parse(&var, "RUN_MIGRATIONS", Some(true))?,
            market_timezone: parse(&var, "MARKET_TIMEZONE", Some(chrono_tz::America::New_York))?,
            tick_interval: positive_secs(
                parse(&var, "TICK_INTERVAL_SECS", Some(2.0))?,
                "TICK_INTERVAL_SECS",
            )?,
            default_drift: parse(&var, "DEFAULT_DRIFT", Some(0.0001))?,
            default_volatility: non_negative(
                parse(&var, "DEFAULT_VOLATILITY", Some(0.02))?,
                "DEFAULT_VOLATILITY",
            )?,
            max_tick_pct: fraction(parse(&var, "MAX_TICK_PCT", Some(0.05))?, "MAX_TICK_PCT")?,
            candle_aggregation_frequency: positive_secs(
                parse(&var, "CANDLE_AGGREGATION_FREQUENCY", Some(300.0))?,
                "CANDLE_AGGREGATION_FREQUENCY",
            )?,
            candle_backfill_days: parse(&var, "CANDLE_BACKFILL_DAYS", Some(30))?,
            tick_retention: Duration::from_secs(
                parse::<u64>(&var, "TICK_RETENTION_HOURS", Some(168))?.max(1) * 3600,
            ),
            max_cash_operation: parse(
                &var,
                "MAX_CASH_OPERATION",
                Some(rust_decimal::Decimal::from(1_000_000)),
            )?,
            max_order_quantity: parse(&var, "MAX_ORDER_QUANTITY", Some(1_000_000))?,
            sim_seed: var("SIM_SEED")
                .map(|_| parse(&var, "SIM_SEED", None))
                .transpose()?,
            rate_limits: RateLimits {
                login: rate(&var, "RATE_LIMIT_LOGIN", "5/60")?,
                register: rate(&var, "RATE_LIMIT_REGISTER", "10/3600")?,
                orders: rate(&var, "RATE_LIMIT_ORDERS", "10/60")?,
            },
            trusted_proxies: list::<TrustedProxy>(&var, "TRUSTED_PROXIES")?
                .into_iter()
                .map(|p| p.0)
                .collect(),
            graphql: GraphqlLimits {
                max_depth: parse(&var, "GRAPHQL_MAX_DEPTH", Some(16))?,
                max_complexity: parse(&var, "GRAPHQL_MAX_COMPLEXITY", Some(1000))?,
                max_aliases: parse(&var, "GRAPHQL_MAX_ALIASES", Some(30))?,
                max_root_fields: parse(&var, "GRAPHQL_MAX_ROOT_FIELDS", Some(20))?,
                max_document_bytes: parse(&var, "GRAPHQL_MAX_DOCUMENT_BYTES", Some(16 * 1024))?,
                max_batch: parse(&var, "GRAPHQL_MAX_BATCH", Some(10))?,
            },
            introspection: parse(&var, "GRAPHQL_INTROSPECTION", Some(local))?,
            graphiql: parse(&var, "GRAPHIQL", Some(local))?,
            cors_origins: match var("CORS_ALLOWED_ORIGINS").as_deref().map(str::trim) {
                Some("*") => None,
                Some(_) => Some(list(&var, "CORS_ALLOWED_ORIGINS")?),
                None if local => None,
                None => Some(Vec::new()),
            },
            hsts: parse(&var, "HSTS", Some(false))?,
            max_subscriptions_per_connection: parse(&var, "WS_MAX_SUBSCRIPTIONS", Some(100))?,
            max_connections_per_user: parse(&var, "WS_MAX_CONNECTIONS_PER_USER", Some(10))?,
        })
    }

    /// True when the server runs the embedded SQLite database.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn parse<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: Option<T>,
) -> Result<T, ConfigError> {
    match var(key) {
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{key} has an invalid value `{raw}`"))),
        None => default.ok_or_else(|| ConfigError(format!("{key} is required"))),
    }
}

/// Four connections per core (8 on two cores): measured by `order_bench`, more connections
/// than that only make PostgreSQL backends compete for the same cores (p99 doubles at 32).
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    (cores * 4).clamp(4, 32)
}

/// A rate such as `5/60`, or `off`.
fn rate(
    var: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: &str,
) -> Result<Option<Rate>, ConfigError> {
    match var(key).as_deref().map(str::trim).unwrap_or(default) {
        "off" => Ok(None),
        raw => raw
            .parse()
            .map(Some)
            .map_err(|e| ConfigError(format!("{key}: {e}"))),
    }
}

/// A comma-separated list (empty when unset).
fn list<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    key: &str,
) -> Result<Vec<T>, ConfigError> {
    var(key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .map_err(|_| ConfigError(format!("{key} has an invalid entry `{item}`")))
        })
        .collect()
}

/// A `TRUSTED_PROXIES` entry: a CIDR block (`10.0.0.0/8`) or one address (`::1`).
struct TrustedProxy(IpNet);

impl std::str::FromStr for TrustedProxy {
    type Err = ipnet::AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<std::net::IpAddr>() {
            Ok(addr) => Ok(TrustedProxy(IpNet::from(addr))),
            Err(_) => s.parse().map(TrustedProxy),
        }
    }
}

fn positive_secs(secs: f64, key: &str) -> Result<Duration, ConfigError> {
    if secs.is_finite() && secs > 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(ConfigError(format!(
            "{key} must be a positive number of seconds"
        )))
    }
}

fn non_negative(value: f64, key: &str) -> Result<f64, ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ConfigError(format!("{key} must be zero or more")))
    }
}

fn fraction(value: f64, key: &str) -> Result<f64, ConfigError> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(ConfigError(format!("{key} must be between 0 and 1")))
    }
}

fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = config(&[]).unwrap();
        assert_eq!(c.profile, Profile::Local);
        assert!(c.is_sqlite());
        assert_eq!(c.bind_addr.port(), 8000);
        assert_eq!(c.tick_interval, Duration::from_secs(2));
        assert_eq!(c.market_timezone, chrono_tz::America::New_York);
        assert!(c.seed_demo_data);
        assert_eq!(c.jwt_secret.len(), 64);
    }

    #[test]
    fn production_refuses_missing_or_short_secret() {
        assert!(config(&[("ZEBRAT_PROFILE", "production")]).is_err());
        assert!(config(&[("ZEBRAT_PROFILE", "production"), ("JWT_SECRET", "short")]).is_err());
        let ok = config(&[
            ("ZEBRAT_PROFILE", "production"),
            ("JWT_SECRET", &"x".repeat(32)),
        ])
        .unwrap();
        assert!(!ok.seed_demo_data);
    }

    #[test]
    fn bad_values_are_named() {
        let err = config(&[("TICK_INTERVAL_SECS", "soon")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("TICK_INTERVAL_SECS"), "{err}");
        assert!(config(&[("MARKET_TIMEZONE", "Mars/Olympus")]).is_err());
        assert!(config(&[("MAX_TICK_PCT", "2")]).is_err());
        assert!(config(&[("SIM_SEED", "abc")]).is_err());
        assert_eq!(config(&[("SIM_SEED", "42")]).unwrap().sim_seed, Some(42));
    }

    #[test]
    fn trusted_proxies_take_blocks_and_addresses() {
        let c = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(c.trusted_proxies[0].contains(&ip("10.1.2.3")));
        assert!(!c.trusted_proxies[0].contains(&ip("11.0.0.1")));
        assert!(c.trusted_proxies[1].contains(&ip("::1")));
        assert!(config(&[("TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
        assert!(config(&[("TRUSTED_PROXIES", "proxy")]).is_err());
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@host/db"),
            "postgres://***@host/db"
        );
        assert_eq!(redact_url("sqlite://zebrat.db"), "sqlite://zebrat.db");
    }
}
