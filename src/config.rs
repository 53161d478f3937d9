//! Every setting, read from environment variables once at start and validated.

use std::{net::SocketAddr, time::Duration};

use chrono_tz::Tz;
use clap::{
    ArgAction, Args, Command, FromArgMatches,
    builder::{EnumValueParser, TypedValueParser},
};
use rand::RngExt;

use ipnet::IpNet;

use crate::infra::ratelimit::{Rate, RateLimits};

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

/// Every setting as it comes from the environment (or the `zebrat serve` flags), parsed by
/// clap: each field is `--long` with `env = "NAME"` and the default `zebrat serve --help`
/// shows. Checks that need more than one value (the profile's rules) happen in
/// [`Config::from_settings`], which turns this into the typed [`Config`].
#[derive(Clone, clap::Args)]
pub struct Settings {
    /// `production` refuses to start without a strong `JWT_SECRET` and seeds no demo data.
    #[arg(
        long = "profile",
        env = "ZEBRAT_PROFILE",
        value_name = "ZEBRAT_PROFILE",
        default_value = "local",
        value_parser = Trimmed(EnumValueParser::<Profile>::new())
    )]
    profile: Profile,
    /// What this instance does: `api` (GraphQL only), `engine` (the engine when it holds the
    /// lease, `/health` only) or `all`.
    #[arg(
        long = "role",
        env = "ZEBRAT_ROLE",
        value_name = "ZEBRAT_ROLE",
        default_value = "all",
        ignore_case = true,
        value_parser = Trimmed(EnumValueParser::<Role>::new())
    )]
    role: Role,
    /// Listen address (`0.0.0.0:8000` in a container).
    #[arg(
        long,
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8000",
        value_parser = trimmed::<SocketAddr>
    )]
    bind_addr: SocketAddr,

    /// SQLite file or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://zebrat.db?mode=rwc",
        hide_env_values = true,
        help_heading = "Storage"
    )]
    database_url: String,
    /// PostgreSQL connections per instance (default: 4 per core, at least 4, at most 32).
    #[arg(
        long,
        env = "DATABASE_POOL_SIZE",
        default_value_t = default_pool_size(),
        value_parser = trimmed::<u32>,
        help_heading = "Storage"
    )]
    database_pool_size: u32,
    /// `redis://host:6379`; unset keeps events in-process (single instance).
    #[arg(
        long,
        env = "REDIS_URL",
        hide_env_values = true,
        help_heading = "Storage"
    )]
    redis_url: Option<String>,
    /// Prefix of Redis channels and keys.
    #[arg(
        long,
        env = "REDIS_PREFIX",
        default_value = "zebrat",
        help_heading = "Storage"
    )]
    redis_prefix: String,
    /// Apply pending migrations on start (also `--no-migrate`).
    #[arg(
        long,
        env = "RUN_MIGRATIONS",
        default_value = "true",
        action = ArgAction::Set,
        value_parser = trimmed::<bool>,
        help_heading = "Storage"
    )]
    run_migrations: bool,
    /// Seed demo users and stocks into an empty database (default: true locally, false in
    /// production).
    #[arg(long, env = "SEED_DEMO_DATA", value_parser = trimmed::<bool>, help_heading = "Storage")]
    seed_demo_data: Option<bool>,

    /// HMAC key for access tokens, at least 32 bytes in production (default: random per
    /// process, with a warning, under the local profile).
    #[arg(
        long,
        env = "JWT_SECRET",
        hide_env_values = true,
        help_heading = "Accounts"
    )]
    jwt_secret: Option<String>,
    /// Access token lifetime, in seconds.
    #[arg(
        long,
        env = "ACCESS_TOKEN_TTL_SECS",
        default_value = "900",
        value_parser = trimmed::<u64>,
        help_heading = "Accounts"
    )]
    access_token_ttl_secs: u64,
    /// Refresh token lifetime, in days.
    #[arg(
        long,
        env = "REFRESH_TOKEN_TTL_DAYS",
        default_value = "30",
        value_parser = trimmed::<u64>,
        help_heading = "Accounts"
    )]
    refresh_token_ttl_days: u64,
    /// Largest deposit or withdrawal.
    #[arg(
        long,
        env = "MAX_CASH_OPERATION",
        default_value = "1000000",
        value_parser = trimmed::<rust_decimal::Decimal>,
        help_heading = "Accounts"
    )]
    max_cash_operation: rust_decimal::Decimal,
    /// Largest order, in shares.
    #[arg(
        long,
        env = "MAX_ORDER_QUANTITY",
        default_value = "1000000",
        value_parser = trimmed::<i64>,
        help_heading = "Accounts"
    )]
    max_order_quantity: i64,

    /// Time zone of market hours and daily candles.
    #[arg(
        long,
        env = "MARKET_TIMEZONE",
        default_value = "America/New_York",
        value_parser = trimmed::<Tz>,
        help_heading = "Market"
    )]
    market_timezone: Tz,
    /// Seconds between tick rounds (positive).
    #[arg(
        long,
        env = "TICK_INTERVAL_SECS",
        default_value = "2",
        value_parser = positive_secs,
        help_heading = "Market"
    )]
    tick_interval_secs: Duration,
    /// Drift per trading day for new stocks.
    #[arg(
        long,
        env = "DEFAULT_DRIFT",
        default_value = "0.0001",
        value_parser = trimmed::<f64>,
        allow_negative_numbers = true,
        help_heading = "Market"
    )]
    default_drift: f64,
    /// Volatility per trading day for new stocks (zero or more).
    #[arg(
        long,
        env = "DEFAULT_VOLATILITY",
        default_value = "0.02",
        value_parser = non_negative,
        help_heading = "Market"
    )]
    default_volatility: f64,
    /// Cap on one tick's move, a fraction between 0 and 1.
    #[arg(
        long,
        env = "MAX_TICK_PCT",
        default_value = "0.05",
        value_parser = fraction,
        help_heading = "Market"
    )]
    max_tick_pct: f64,
    /// Seconds between candle rebuild passes (positive).
    #[arg(
        long,
        env = "CANDLE_AGGREGATION_FREQUENCY",
        default_value = "300",
        value_parser = positive_secs,
        help_heading = "Market"
    )]
    candle_aggregation_frequency: Duration,
    /// Days of candle history backfilled per stock.
    #[arg(
        long,
        env = "CANDLE_BACKFILL_DAYS",
        default_value = "30",
        value_parser = trimmed::<u32>,
        help_heading = "Market"
    )]
    candle_backfill_days: u32,
    /// Raw ticks older than this many hours are pruned (at least 1).
    #[arg(
        long,
        env = "TICK_RETENTION_HOURS",
        default_value = "168",
        value_parser = trimmed::<u64>,
        help_heading = "Market"
    )]
    tick_retention_hours: u64,
    /// Seed for reproducible price paths (unset: random).
    #[arg(long, env = "SIM_SEED", value_parser = trimmed::<u64>, help_heading = "Market")]
    sim_seed: Option<u64>,

    /// Login attempts per client address, and separately per email: `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_LOGIN",
        default_value = "5/60",
        value_parser = rate,
        help_heading = "Security"
    )]
    rate_limit_login: RateSetting,
    /// Registrations per client address: `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_REGISTER",
        default_value = "10/3600",
        value_parser = rate,
        help_heading = "Security"
    )]
    rate_limit_register: RateSetting,
    /// Order placements per user: `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_ORDERS",
        default_value = "10/60",
        value_parser = rate,
        help_heading = "Security"
    )]
    rate_limit_orders: RateSetting,
    /// Proxies whose `X-Forwarded-For` is believed: addresses or CIDR blocks, comma-separated
    /// (default: none).
    #[arg(long, env = "TRUSTED_PROXIES", value_parser = trusted_proxies, help_heading = "Security")]
    trusted_proxies: Option<TrustedProxies>,
    /// Browser origins allowed by CORS and on WebSockets, comma-separated, or `*` for any
    /// (default: any locally, none in production).
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_parser = cors_origins,
        help_heading = "Security"
    )]
    cors_allowed_origins: Option<CorsOrigins>,
    /// Send `Strict-Transport-Security` (when clients reach the service over TLS).
    #[arg(
        long,
        env = "HSTS",
        default_value = "false",
        action = ArgAction::Set,
        value_parser = trimmed::<bool>,
        help_heading = "Security"
    )]
    hsts: bool,
    /// Answer schema introspection (default: true locally, false in production).
    #[arg(
        long,
        env = "GRAPHQL_INTROSPECTION",
        value_parser = trimmed::<bool>,
        help_heading = "Security"
    )]
    graphql_introspection: Option<bool>,
    /// Serve GraphiQL at `/` (default: true locally, false in production).
    #[arg(long, env = "GRAPHIQL", value_parser = trimmed::<bool>, help_heading = "Security")]
    graphiql: Option<bool>,

    /// Largest GraphQL document, in bytes.
    #[arg(
        long,
        env = "GRAPHQL_MAX_DOCUMENT_BYTES",
        default_value = "16384",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    graphql_max_document_bytes: usize,
    /// Deepest selection.
    #[arg(
        long,
        env = "GRAPHQL_MAX_DEPTH",
        default_value = "16",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    graphql_max_depth: usize,
    /// Most fields selected (fragments expanded).
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value = "1000",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    graphql_max_complexity: usize,
    /// Most aliases in a document.
    #[arg(
        long,
        env = "GRAPHQL_MAX_ALIASES",
        default_value = "30",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    graphql_max_aliases: usize,
    /// Most root fields of an operation.
    #[arg(
        long,
        env = "GRAPHQL_MAX_ROOT_FIELDS",
        default_value = "20",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    graphql_max_root_fields: usize,
    /// Most operations in one batched POST.
    #[arg(
        long,
        env = "GRAPHQL_MAX_BATCH",
        default_value = "10",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    graphql_max_batch: usize,
    /// Most subscriptions on one WebSocket.
    #[arg(
        long,
        env = "WS_MAX_SUBSCRIPTIONS",
        default_value = "100",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    ws_max_subscriptions: usize,
    /// Most logged-in WebSockets of one user on one instance.
    #[arg(
        long,
        env = "WS_MAX_CONNECTIONS_PER_USER",
        default_value = "10",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    ws_max_connections_per_user: usize,
}

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
        let jwt_secret = match s.jwt_secret.filter(|v| !v.trim().is_empty()) {
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
            role: s.role,
            bind_addr: s.bind_addr,
            database_url: s.database_url,
            database_pool_size: s.database_pool_size,
            redis_url: s.redis_url.filter(|v| !v.trim().is_empty()),
            redis_prefix: s.redis_prefix,
            jwt_secret,
            access_token_ttl: Duration::from_secs(s.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(s.refresh_token_ttl_days * 86_400),
            seed_demo_data: s.seed_demo_data.unwrap_or(local),
            run_migrations: s.run_migrations,
            market_timezone: s.market_timezone,
            tick_interval: s.tick_interval_secs,
            default_drift: s.default_drift,
            default_volatility: s.default_volatility,
            max_tick_pct: s.max_tick_pct,
            candle_aggregation_frequency: s.candle_aggregation_frequency,
            candle_backfill_days: s.candle_backfill_days,
            tick_retention: Duration::from_secs(s.tick_retention_hours.max(1) * 3600),
            max_cash_operation: s.max_cash_operation,
            max_order_quantity: s.max_order_quantity,
            sim_seed: s.sim_seed,
            rate_limits: RateLimits {
                login: s.rate_limit_login.0,
                register: s.rate_limit_register.0,
                orders: s.rate_limit_orders.0,
            },
            trusted_proxies: s.trusted_proxies.map(|p| p.0).unwrap_or_default(),
            graphql: GraphqlLimits {
                max_depth: s.graphql_max_depth,
                max_complexity: s.graphql_max_complexity,
                max_aliases: s.graphql_max_aliases,
                max_root_fields: s.graphql_max_root_fields,
                max_document_bytes: s.graphql_max_document_bytes,
                max_batch: s.graphql_max_batch,
            },
            introspection: s.graphql_introspection.unwrap_or(local),
            graphiql: s.graphiql.unwrap_or(local),
            cors_origins: match s.cors_allowed_origins {
                Some(CorsOrigins::Any) => None,
                Some(CorsOrigins::List(origins)) => Some(origins),
                None if local => None,
                None => Some(Vec::new()),
            },
            hsts: s.hsts,
            max_subscriptions_per_connection: s.ws_max_subscriptions,
            max_connections_per_user: s.ws_max_connections_per_user,
        })
    }

    /// True when the server runs the embedded SQLite database.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// A command holding only the settings (what `from_env` and `from_lookup` parse).
fn settings_command() -> Command {
    Settings::augment_args(
        Command::new("zebrat")
            .no_binary_name(true)
            .disable_help_flag(true)
            .disable_version_flag(true),
    )
}

/// An empty or whitespace-only variable counts as unset: drops the environment binding of every
/// argument whose variable is blank, so clap falls back to the default. Apply to any command
/// holding [`Settings`] before parsing it (`zebrat serve` does).
pub fn blank_env_is_unset(cmd: Command) -> Command {
    cmd.mut_args(|arg| {
        let blank = arg
            .get_env()
            .and_then(std::env::var_os)
            .is_some_and(|v| v.to_str().is_some_and(|v| v.trim().is_empty()));
        if blank { arg.env(None) } else { arg }
    })
}

/// `(long, env)` of every setting.
fn env_names(cmd: &Command) -> Vec<(String, String)> {
    cmd.get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let env = arg.get_env()?.to_str()?;
            Some((long.to_string(), env.to_string()))
        })
        .collect()
}

/// Names the variable in clap's error: `TICK_INTERVAL_SECS has an invalid value `soon`: ...`.
fn clap_error(err: &clap::Error, names: &[(String, String)]) -> ConfigError {
    use clap::error::{ContextKind, ContextValue};
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let env = context(ContextKind::InvalidArg).and_then(|arg| {
        let long = arg.strip_prefix("--")?.split([' ', '=']).next()?;
        names.iter().find(|(l, _)| l == long).map(|(_, env)| env)
    });
    let Some(env) = env else {
        let message = err.to_string();
        let first = message.lines().next().unwrap_or_default();
        return ConfigError(first.trim_start_matches("error: ").to_string());
    };
    let value = context(ContextKind::InvalidValue).unwrap_or_default();
    let reason = match (
        std::error::Error::source(err),
        err.get(ContextKind::ValidValue),
    ) {
        (Some(source), _) => source.to_string(),
        (None, Some(ContextValue::Strings(valid))) => {
            format!("expected one of {}", valid.join(", "))
        }
        _ => err.kind().to_string(),
    };
    ConfigError(format!("{env} has an invalid value `{value}`: {reason}"))
}

/// Four connections per core (8 on two cores): measured by `order_bench`, more connections
/// than that only make PostgreSQL backends compete for the same cores (p99 doubles at 32).
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    (cores * 4).clamp(4, 32)
}

/// Any `FromStr` value, surrounding whitespace ignored.
fn trimmed<T: std::str::FromStr>(raw: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    raw.trim().parse().map_err(|e: T::Err| e.to_string())
}

/// Trims the value before another parser sees it (keeps that parser's possible values).
#[derive(Clone)]
struct Trimmed<P>(P);

impl<P: TypedValueParser> TypedValueParser for Trimmed<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        match value.to_str() {
            Some(s) => self.0.parse_ref(cmd, arg, std::ffi::OsStr::new(s.trim())),
            None => self.0.parse_ref(cmd, arg, value),
        }
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// A rate such as `5/60`, or `off` (`None`).
#[derive(Clone, Copy)]
struct RateSetting(Option<Rate>);

fn rate(raw: &str) -> Result<RateSetting, String> {
    match raw.trim() {
        "off" => Ok(RateSetting(None)),
        raw => raw.parse().map(|rate| RateSetting(Some(rate))),
    }
}

/// A comma-separated list; blank entries are skipped.
fn list<T: std::str::FromStr>(raw: &str) -> Result<Vec<T>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| item.parse().map_err(|_| format!("invalid entry `{item}`")))
        .collect()
}

/// `TRUSTED_PROXIES`: CIDR blocks (`10.0.0.0/8`) or single addresses (`::1`).
#[derive(Clone)]
struct TrustedProxies(Vec<IpNet>);

fn trusted_proxies(raw: &str) -> Result<TrustedProxies, String> {
    let proxies = list::<TrustedProxy>(raw)?;
    Ok(TrustedProxies(proxies.into_iter().map(|p| p.0).collect()))
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

/// `CORS_ALLOWED_ORIGINS`: `*`, or a list of origins.
#[derive(Clone)]
enum CorsOrigins {
    Any,
    List(Vec<String>),
}

fn cors_origins(raw: &str) -> Result<CorsOrigins, String> {
    match raw.trim() {
        "*" => Ok(CorsOrigins::Any),
        raw => list(raw).map(CorsOrigins::List),
    }
}

fn positive_secs(raw: &str) -> Result<Duration, String> {
    match trimmed::<f64>(raw)? {
        secs if secs.is_finite() && secs > 0.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err("must be a positive number of seconds".into()),
    }
}

fn non_negative(raw: &str) -> Result<f64, String> {
    match trimmed::<f64>(raw)? {
        value if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err("must be zero or more".into()),
    }
}

fn fraction(raw: &str) -> Result<f64, String> {
    match trimmed::<f64>(raw)? {
        value if value.is_finite() && value > 0.0 && value < 1.0 => Ok(value),
        _ => Err("must be between 0 and 1".into()),
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

    /// Every variable, as documented in README.md (Configuration and Security).
    const VARIABLES: &[&str] = &[
        "ZEBRAT_PROFILE",
        "ZEBRAT_ROLE",
        "BIND_ADDR",
        "DATABASE_URL",
        "DATABASE_POOL_SIZE",
        "REDIS_URL",
        "REDIS_PREFIX",
        "RUN_MIGRATIONS",
        "SEED_DEMO_DATA",
        "JWT_SECRET",
        "ACCESS_TOKEN_TTL_SECS",
        "REFRESH_TOKEN_TTL_DAYS",
        "MAX_CASH_OPERATION",
        "MAX_ORDER_QUANTITY",
        "MARKET_TIMEZONE",
        "TICK_INTERVAL_SECS",
        "DEFAULT_DRIFT",
        "DEFAULT_VOLATILITY",
        "MAX_TICK_PCT",
        "CANDLE_AGGREGATION_FREQUENCY",
        "CANDLE_BACKFILL_DAYS",
        "TICK_RETENTION_HOURS",
        "SIM_SEED",
        "RATE_LIMIT_LOGIN",
        "RATE_LIMIT_REGISTER",
        "RATE_LIMIT_ORDERS",
        "TRUSTED_PROXIES",
        "CORS_ALLOWED_ORIGINS",
        "HSTS",
        "GRAPHQL_INTROSPECTION",
        "GRAPHIQL",
        "GRAPHQL_MAX_DOCUMENT_BYTES",
        "GRAPHQL_MAX_DEPTH",
        "GRAPHQL_MAX_COMPLEXITY",
        "GRAPHQL_MAX_ALIASES",
        "GRAPHQL_MAX_ROOT_FIELDS",
        "GRAPHQL_MAX_BATCH",
        "WS_MAX_SUBSCRIPTIONS",
        "WS_MAX_CONNECTIONS_PER_USER",
    ];

    fn known() -> Vec<String> {
        env_names(&settings_command())
            .into_iter()
            .map(|(_, env)| env)
            .collect()
    }

    #[test]
    fn every_documented_variable_is_known_to_the_parser() {
        let mut known = known();
        known.sort();
        let mut listed: Vec<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
        listed.sort();
        assert_eq!(known, listed);

        // And the README's tables name no other: the first cell of every table row in the
        // Configuration and Security sections (RUST_LOG is read by telemetry, not here).
        let readme = include_str!("../README.md");
        let mut documented = Vec::new();
        for heading in ["\n## Configuration\n", "\n## Security\n"] {
            let section = readme.split(heading).nth(1).expect(heading);
            let section = section.split("\n## ").next().unwrap();
            for row in section.lines().filter(|l| l.starts_with("| ")) {
                let first = row.split('|').nth(1).unwrap();
                for name in first.split('`').skip(1).step_by(2) {
                    if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                        documented.push(name.to_string());
                    }
                }
            }
        }
        assert!(documented.len() >= 30, "{documented:?}");
        for name in documented.iter().filter(|n| *n != "RUST_LOG") {
            assert!(known.contains(name), "{name} is documented but not parsed");
        }
        for name in &known {
            assert!(
                documented.contains(name),
                "{name} is parsed but not documented"
            );
        }
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&[
            ("ZEBRAT_PROFILE", "production"),
            ("ZEBRAT_ROLE", " Engine "),
            ("BIND_ADDR", "0.0.0.0:9000"),
            ("DATABASE_URL", "postgres://u:p@db/zebrat"),
            ("DATABASE_POOL_SIZE", "3"),
            ("REDIS_URL", "redis://cache:6379"),
            ("REDIS_PREFIX", "zt"),
            ("RUN_MIGRATIONS", "false"),
            ("SEED_DEMO_DATA", "true"),
            ("JWT_SECRET", &"s".repeat(40)),
            ("ACCESS_TOKEN_TTL_SECS", "60"),
            ("REFRESH_TOKEN_TTL_DAYS", "2"),
            ("MAX_CASH_OPERATION", "500.5"),
            ("MAX_ORDER_QUANTITY", "77"),
            ("MARKET_TIMEZONE", "Europe/Paris"),
            ("TICK_INTERVAL_SECS", "0.5"),
            ("DEFAULT_DRIFT", "-0.001"),
            ("DEFAULT_VOLATILITY", "0"),
            ("MAX_TICK_PCT", "0.1"),
            ("CANDLE_AGGREGATION_FREQUENCY", "60"),
            ("CANDLE_BACKFILL_DAYS", "5"),
            ("TICK_RETENTION_HOURS", "0"),
            ("SIM_SEED", "7"),
            ("RATE_LIMIT_LOGIN", "off"),
            ("RATE_LIMIT_REGISTER", "1/2"),
            ("RATE_LIMIT_ORDERS", " 3 / 4 "),
            ("TRUSTED_PROXIES", "10.0.0.1,"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("HSTS", "true"),
            ("GRAPHQL_INTROSPECTION", "true"),
            ("GRAPHIQL", "true"),
            ("GRAPHQL_MAX_DOCUMENT_BYTES", "100"),
            ("GRAPHQL_MAX_DEPTH", "4"),
            ("GRAPHQL_MAX_COMPLEXITY", "50"),
            ("GRAPHQL_MAX_ALIASES", "3"),
            ("GRAPHQL_MAX_ROOT_FIELDS", "2"),
            ("GRAPHQL_MAX_BATCH", "1"),
            ("WS_MAX_SUBSCRIPTIONS", "5"),
            ("WS_MAX_CONNECTIONS_PER_USER", "6"),
        ])
        .unwrap();
        assert_eq!(c.profile, Profile::Production);
        assert_eq!(c.role, Role::Engine);
        assert_eq!(c.bind_addr, "0.0.0.0:9000".parse().unwrap());
        assert!(!c.is_sqlite());
        assert_eq!(c.database_pool_size, 3);
        assert_eq!(c.redis_url.as_deref(), Some("redis://cache:6379"));
        assert_eq!(c.redis_prefix, "zt");
        assert!(!c.run_migrations);
        assert!(c.seed_demo_data);
        assert_eq!(c.jwt_secret, "s".repeat(40));
        assert_eq!(c.access_token_ttl, Duration::from_secs(60));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(2 * 86_400));
        assert_eq!(c.max_cash_operation, "500.5".parse().unwrap());
        assert_eq!(c.max_order_quantity, 77);
        assert_eq!(c.market_timezone, chrono_tz::Europe::Paris);
        assert_eq!(c.tick_interval, Duration::from_millis(500));
        assert_eq!(c.default_drift, -0.001);
        assert_eq!(c.default_volatility, 0.0);
        assert_eq!(c.max_tick_pct, 0.1);
        assert_eq!(c.candle_aggregation_frequency, Duration::from_secs(60));
        assert_eq!(c.candle_backfill_days, 5);
        assert_eq!(c.tick_retention, Duration::from_secs(3600));
        assert_eq!(c.sim_seed, Some(7));
        let rate = |max, secs| {
            Some(Rate {
                max,
                window: Duration::from_secs(secs),
            })
        };
        assert_eq!(
            c.rate_limits,
            RateLimits {
                login: None,
                register: rate(1, 2),
                orders: rate(3, 4),
            }
        );
        assert_eq!(
            c.trusted_proxies,
            vec!["10.0.0.1/32".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            c.cors_origins,
            Some(vec!["https://a.example".into(), "https://b.example".into()])
        );
        assert!(c.hsts && c.introspection && c.graphiql);
        assert_eq!(
            c.graphql,
            GraphqlLimits {
                max_depth: 4,
                max_complexity: 50,
                max_aliases: 3,
                max_root_fields: 2,
                max_document_bytes: 100,
                max_batch: 1,
            }
        );
        assert_eq!(c.max_subscriptions_per_connection, 5);
        assert_eq!(c.max_connections_per_user, 6);
    }

    #[test]
    fn defaults_match_the_documentation() {
        let c = config(&[]).unwrap();
        assert_eq!(c.role, Role::All);
        assert_eq!(c.bind_addr, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(c.database_url, "sqlite://zebrat.db?mode=rwc");
        assert_eq!(c.database_pool_size, default_pool_size());
        assert_eq!(c.redis_url, None);
        assert_eq!(c.redis_prefix, "zebrat");
        assert!(c.run_migrations);
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(c.max_cash_operation, rust_decimal::Decimal::from(1_000_000));
        assert_eq!(c.max_order_quantity, 1_000_000);
        assert_eq!(c.default_drift, 0.0001);
        assert_eq!(c.default_volatility, 0.02);
        assert_eq!(c.max_tick_pct, 0.05);
        assert_eq!(c.candle_aggregation_frequency, Duration::from_secs(300));
        assert_eq!(c.candle_backfill_days, 30);
        assert_eq!(c.tick_retention, Duration::from_secs(168 * 3600));
        assert_eq!(c.sim_seed, None);
        let rate = |max, secs| {
            Some(Rate {
                max,
                window: Duration::from_secs(secs),
            })
        };
        assert_eq!(
            c.rate_limits,
            RateLimits {
                login: rate(5, 60),
                register: rate(10, 3600),
                orders: rate(10, 60),
            }
        );
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.cors_origins, None);
        assert!(!c.hsts && c.introspection && c.graphiql);
        assert_eq!(
            c.graphql,
            GraphqlLimits {
                max_depth: 16,
                max_complexity: 1000,
                max_aliases: 30,
                max_root_fields: 20,
                max_document_bytes: 16 * 1024,
                max_batch: 10,
            }
        );
        assert_eq!(c.max_subscriptions_per_connection, 100);
        assert_eq!(c.max_connections_per_user, 10);

        let production = config(&[
            ("ZEBRAT_PROFILE", "production"),
            ("JWT_SECRET", &"x".repeat(32)),
        ])
        .unwrap();
        assert!(!production.introspection && !production.graphiql);
        assert_eq!(production.cors_origins, Some(Vec::new()));
        assert_eq!(
            config(&[("CORS_ALLOWED_ORIGINS", " * ")])
                .unwrap()
                .cors_origins,
            None
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        for blank in ["", "   ", "\t"] {
            let pairs: Vec<(&str, &str)> = VARIABLES.iter().map(|v| (*v, blank)).collect();
            let c = config(&pairs).unwrap();
            assert_eq!(c.profile, Profile::Local);
            assert_eq!(c.tick_interval, Duration::from_secs(2));
            assert_eq!(c.jwt_secret.len(), 64);
            assert_eq!(c.redis_url, None);
            assert!(c.seed_demo_data && c.run_migrations);
        }
        let err = config(&[("ZEBRAT_PROFILE", "production"), ("JWT_SECRET", " ")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("JWT_SECRET is required"), "{err}");
    }

    #[test]
    fn clap_errors_name_the_variable() {
        let err = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().to_string();
        assert_eq!(
            err(&[("TICK_INTERVAL_SECS", "soon")]),
            "invalid configuration: TICK_INTERVAL_SECS has an invalid value `soon`: \
             invalid float literal"
        );
        assert_eq!(
            err(&[("TICK_INTERVAL_SECS", "0")]),
            "invalid configuration: TICK_INTERVAL_SECS has an invalid value `0`: \
             must be a positive number of seconds"
        );
        let profile = err(&[("ZEBRAT_PROFILE", "staging")]);
        assert!(
            profile.contains("ZEBRAT_PROFILE has an invalid value `staging`"),
            "{profile}"
        );
        assert!(profile.contains("local, production"), "{profile}");
        let role = err(&[("ZEBRAT_ROLE", "worker")]);
        assert!(
            role.contains("ZEBRAT_ROLE has an invalid value `worker`"),
            "{role}"
        );
        let orders = err(&[("RATE_LIMIT_ORDERS", "often")]);
        assert!(
            orders.contains("RATE_LIMIT_ORDERS has an invalid value `often`"),
            "{orders}"
        );
        assert!(orders.contains("max/seconds"), "{orders}");
        let proxies = err(&[("TRUSTED_PROXIES", "10.0.0.0/8,proxy")]);
        assert!(proxies.contains("TRUSTED_PROXIES"), "{proxies}");
        assert!(proxies.contains("invalid entry `proxy`"), "{proxies}");
        let hsts = err(&[("HSTS", "yes")]);
        assert!(hsts.contains("HSTS has an invalid value `yes`"), "{hsts}");
        let short = err(&[("ZEBRAT_PROFILE", "production"), ("JWT_SECRET", "short")]);
        assert!(short.contains("at least 32 bytes"), "{short}");
    }

    /// Run by `process_environment_does_not_leak_into_from_lookup` in a child process whose
    /// environment sets variables; not on its own.
    #[test]
    #[ignore = "run by process_environment_does_not_leak_into_from_lookup"]
    fn environment_probe() {
        assert_eq!(std::env::var("TICK_INTERVAL_SECS").as_deref(), Ok("7"));
        let injected = Config::from_lookup(|_| None).unwrap();
        assert_eq!(injected.profile, Profile::Local);
        assert_eq!(injected.tick_interval, Duration::from_secs(2));
        assert_eq!(injected.graphql.max_batch, 10);
        let map = Config::from_lookup(|k| (k == "GRAPHQL_MAX_BATCH").then(|| "4".into())).unwrap();
        assert_eq!(map.tick_interval, Duration::from_secs(2));
        assert_eq!(map.graphql.max_batch, 4);

        // While from_env does read it, through clap's env support (blank counting as unset).
        let env = Config::from_env().unwrap();
        assert_eq!(env.profile, Profile::Production);
        assert_eq!(env.tick_interval, Duration::from_secs(7));
        assert_eq!(env.graphql.max_batch, 3);
        assert!(!env.hsts && !env.seed_demo_data);
        assert_eq!(env.redis_prefix, "zebrat");
    }

    #[test]
    fn process_environment_does_not_leak_into_from_lookup() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["config::tests::environment_probe", "--exact", "--ignored"])
            .env("TICK_INTERVAL_SECS", "7")
            .env("GRAPHQL_MAX_BATCH", "3")
            .env("ZEBRAT_PROFILE", "production")
            .env("JWT_SECRET", "p".repeat(32))
            .env("HSTS", "  ")
            .env("SEED_DEMO_DATA", "")
            .env("REDIS_PREFIX", " ")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
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
