//! The settings as clap arguments: each with its environment variable, default and parser.
//! `Config::from_settings` turns them into the validated [`Config`](super::Config).

use std::{net::SocketAddr, time::Duration};

use chrono_tz::Tz;
use clap::{
    ArgAction, Args, Command,
    builder::{EnumValueParser, TypedValueParser},
};
use ipnet::IpNet;

use super::{ConfigError, Profile, Role};
use crate::infra::ratelimit::Rate;

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
    pub(super) profile: Profile,
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
    pub(super) role: Role,
    /// Listen address (`0.0.0.0:8000` in a container).
    #[arg(
        long,
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8000",
        value_parser = trimmed::<SocketAddr>
    )]
    pub(super) bind_addr: SocketAddr,

    /// SQLite file or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://zebrat.db?mode=rwc",
        hide_env_values = true,
        help_heading = "Storage"
    )]
    pub(super) database_url: String,
    /// PostgreSQL connections per instance (default: 4 per core, at least 4, at most 32).
    #[arg(
        long,
        env = "DATABASE_POOL_SIZE",
        default_value_t = default_pool_size(),
        value_parser = trimmed::<u32>,
        help_heading = "Storage"
    )]
    pub(super) database_pool_size: u32,
    /// `redis://host:6379`; unset keeps events in-process (single instance).
    #[arg(
        long,
        env = "REDIS_URL",
        hide_env_values = true,
        help_heading = "Storage"
    )]
    pub(super) redis_url: Option<String>,
    /// Prefix of Redis channels and keys.
    #[arg(
        long,
        env = "REDIS_PREFIX",
        default_value = "zebrat",
        help_heading = "Storage"
    )]
    pub(super) redis_prefix: String,
    /// Apply pending migrations on start (also `--no-migrate`).
    #[arg(
        long,
        env = "RUN_MIGRATIONS",
        default_value = "true",
        action = ArgAction::Set,
        value_parser = trimmed::<bool>,
        help_heading = "Storage"
    )]
    pub(super) run_migrations: bool,
    /// Seed demo users and stocks into an empty database (default: true locally, false in
    /// production).
    #[arg(long, env = "SEED_DEMO_DATA", value_parser = trimmed::<bool>, help_heading = "Storage")]
    pub(super) seed_demo_data: Option<bool>,

    /// HMAC key for access tokens, at least 32 bytes in production (default: random per
    /// process, with a warning, under the local profile).
    #[arg(
        long,
        env = "JWT_SECRET",
        hide_env_values = true,
        help_heading = "Accounts"
    )]
    pub(super) jwt_secret: Option<String>,
    /// Access token lifetime, in seconds.
    #[arg(
        long,
        env = "ACCESS_TOKEN_TTL_SECS",
        default_value = "900",
        value_parser = trimmed::<u64>,
        help_heading = "Accounts"
    )]
    pub(super) access_token_ttl_secs: u64,
    /// Refresh token lifetime, in days.
    #[arg(
        long,
        env = "REFRESH_TOKEN_TTL_DAYS",
        default_value = "30",
        value_parser = trimmed::<u64>,
        help_heading = "Accounts"
    )]
    pub(super) refresh_token_ttl_days: u64,
    /// Largest deposit or withdrawal.
    #[arg(
        long,
        env = "MAX_CASH_OPERATION",
        default_value = "1000000",
        value_parser = trimmed::<rust_decimal::Decimal>,
        help_heading = "Accounts"
    )]
    pub(super) max_cash_operation: rust_decimal::Decimal,
    /// Largest order, in shares.
    #[arg(
        long,
        env = "MAX_ORDER_QUANTITY",
        default_value = "1000000",
        value_parser = trimmed::<i64>,
        help_heading = "Accounts"
    )]
    pub(super) max_order_quantity: i64,

    /// Time zone of market hours and daily candles.
    #[arg(
        long,
        env = "MARKET_TIMEZONE",
        default_value = "America/New_York",
        value_parser = trimmed::<Tz>,
        help_heading = "Market"
    )]
    pub(super) market_timezone: Tz,
    /// Seconds between tick rounds (positive).
    #[arg(
        long,
        env = "TICK_INTERVAL_SECS",
        default_value = "2",
        value_parser = positive_secs,
        help_heading = "Market"
    )]
    pub(super) tick_interval_secs: Duration,
    /// Drift per trading day for new stocks.
    #[arg(
        long,
        env = "DEFAULT_DRIFT",
        default_value = "0.0001",
        value_parser = trimmed::<f64>,
        allow_negative_numbers = true,
        help_heading = "Market"
    )]
    pub(super) default_drift: f64,
    /// Volatility per trading day for new stocks (zero or more).
    #[arg(
        long,
        env = "DEFAULT_VOLATILITY",
        default_value = "0.02",
        value_parser = non_negative,
        help_heading = "Market"
    )]
    pub(super) default_volatility: f64,
    /// Cap on one tick's move, a fraction between 0 and 1.
    #[arg(
        long,
        env = "MAX_TICK_PCT",
        default_value = "0.05",
        value_parser = fraction,
        help_heading = "Market"
    )]
    pub(super) max_tick_pct: f64,
    /// Seconds between candle rebuild passes (positive).
    #[arg(
        long,
        env = "CANDLE_AGGREGATION_FREQUENCY",
        default_value = "300",
        value_parser = positive_secs,
        help_heading = "Market"
    )]
    pub(super) candle_aggregation_frequency: Duration,
    /// Days of candle history backfilled per stock.
    #[arg(
        long,
        env = "CANDLE_BACKFILL_DAYS",
        default_value = "30",
        value_parser = trimmed::<u32>,
        help_heading = "Market"
    )]
    pub(super) candle_backfill_days: u32,
    /// Raw ticks older than this many hours are pruned (at least 1).
    #[arg(
        long,
        env = "TICK_RETENTION_HOURS",
        default_value = "168",
        value_parser = trimmed::<u64>,
        help_heading = "Market"
    )]
    pub(super) tick_retention_hours: u64,
    /// Seed for reproducible price paths (unset: random).
    #[arg(long, env = "SIM_SEED", value_parser = trimmed::<u64>, help_heading = "Market")]
    pub(super) sim_seed: Option<u64>,

    /// Login attempts per client address, and per email from one address: `max/seconds` or
    /// `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_LOGIN",
        default_value = "5/60",
        value_parser = rate,
        help_heading = "Security"
    )]
    pub(super) rate_limit_login: RateSetting,
    /// Login attempts on the whole service (all instances with Redis): `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_LOGIN_GLOBAL",
        default_value = "1200/60",
        value_parser = rate,
        help_heading = "Security"
    )]
    pub(super) rate_limit_login_global: RateSetting,
    /// Registrations per client address: `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_REGISTER",
        default_value = "10/3600",
        value_parser = rate,
        help_heading = "Security"
    )]
    pub(super) rate_limit_register: RateSetting,
    /// Order placements per user: `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_ORDERS",
        default_value = "10/60",
        value_parser = rate,
        help_heading = "Security"
    )]
    pub(super) rate_limit_orders: RateSetting,
    /// Deposits per user: `max/seconds` or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_DEPOSITS",
        default_value = "10/60",
        value_parser = rate,
        help_heading = "Security"
    )]
    pub(super) rate_limit_deposits: RateSetting,
    /// Proxies whose `X-Forwarded-For` is believed: addresses or CIDR blocks, comma-separated
    /// (default: none).
    #[arg(long, env = "TRUSTED_PROXIES", value_parser = trusted_proxies, help_heading = "Security")]
    pub(super) trusted_proxies: Option<TrustedProxies>,
    /// Browser origins allowed by CORS and on WebSockets, comma-separated, or `*` for any
    /// (default: any locally, none in production).
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_parser = cors_origins,
        help_heading = "Security"
    )]
    pub(super) cors_allowed_origins: Option<CorsOrigins>,
    /// Send `Strict-Transport-Security` (default: false locally, true in production, which is
    /// meant to be reached over TLS).
    #[arg(long, env = "HSTS", value_parser = trimmed::<bool>, help_heading = "Security")]
    pub(super) hsts: Option<bool>,
    /// Answer schema introspection (default: true locally, false in production).
    #[arg(
        long,
        env = "GRAPHQL_INTROSPECTION",
        value_parser = trimmed::<bool>,
        help_heading = "Security"
    )]
    pub(super) graphql_introspection: Option<bool>,
    /// Serve GraphiQL at `/` (default: true locally, false in production).
    #[arg(long, env = "GRAPHIQL", value_parser = trimmed::<bool>, help_heading = "Security")]
    pub(super) graphiql: Option<bool>,

    /// Largest GraphQL document, in bytes.
    #[arg(
        long,
        env = "GRAPHQL_MAX_DOCUMENT_BYTES",
        default_value = "16384",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_document_bytes: usize,
    /// Deepest selection.
    #[arg(
        long,
        env = "GRAPHQL_MAX_DEPTH",
        default_value = "16",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_depth: usize,
    /// Most fields selected (fragments expanded).
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value = "1000",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_complexity: usize,
    /// Most aliases in a document.
    #[arg(
        long,
        env = "GRAPHQL_MAX_ALIASES",
        default_value = "30",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_aliases: usize,
    /// Most root fields of an operation.
    #[arg(
        long,
        env = "GRAPHQL_MAX_ROOT_FIELDS",
        default_value = "20",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_root_fields: usize,
    /// Most operations in one batched POST.
    #[arg(
        long,
        env = "GRAPHQL_MAX_BATCH",
        default_value = "10",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_batch: usize,
    /// Most subscriptions on one WebSocket.
    #[arg(
        long,
        env = "WS_MAX_SUBSCRIPTIONS",
        default_value = "100",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) ws_max_subscriptions: usize,
    /// Most logged-in WebSockets of one user on one instance.
    #[arg(
        long,
        env = "WS_MAX_CONNECTIONS_PER_USER",
        default_value = "10",
        value_parser = trimmed::<usize>,
        help_heading = "Limits"
    )]
    pub(super) ws_max_connections_per_user: usize,
    /// Most WebSockets from one client address on one instance, logged in or not.
    #[arg(
        long,
        env = "WS_MAX_CONNECTIONS_PER_CLIENT",
        default_value = "32",
        value_parser = positive_count,
        help_heading = "Limits"
    )]
    pub(super) ws_max_connections_per_client: usize,
    /// Seconds a WebSocket may stay open without a subscription.
    #[arg(
        long,
        env = "WS_IDLE_TIMEOUT_SECS",
        default_value = "60",
        value_parser = positive_secs,
        help_heading = "Limits"
    )]
    pub(super) ws_idle_timeout_secs: Duration,
    /// Seconds a client has to send a request's head (request line and headers).
    #[arg(
        long,
        env = "HTTP_HEADER_TIMEOUT_SECS",
        default_value = "10",
        value_parser = positive_secs,
        help_heading = "Limits"
    )]
    pub(super) http_header_timeout_secs: Duration,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(
        long,
        env = "HTTP_IDLE_TIMEOUT_SECS",
        default_value = "60",
        value_parser = positive_secs,
        help_heading = "Limits"
    )]
    pub(super) http_idle_timeout_secs: Duration,
    /// Most open connections from one client address (trusted proxies excepted).
    #[arg(
        long,
        env = "HTTP_MAX_CONNECTIONS_PER_CLIENT",
        default_value = "128",
        value_parser = positive_count,
        help_heading = "Limits"
    )]
    pub(super) http_max_connections_per_client: usize,
}

/// A command holding only the settings (what `from_env` and `from_lookup` parse).
pub(super) fn settings_command() -> Command {
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
pub(super) fn env_names(cmd: &Command) -> Vec<(String, String)> {
    cmd.get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let env = arg.get_env()?.to_str()?;
            Some((long.to_string(), env.to_string()))
        })
        .collect()
}

/// Names the variable in clap's error: `TICK_INTERVAL_SECS has an invalid value `soon`: ...`.
pub(super) fn clap_error(err: &clap::Error, names: &[(String, String)]) -> ConfigError {
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
pub(super) fn default_pool_size() -> u32 {
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
pub(super) struct RateSetting(pub(super) Option<Rate>);

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
pub(super) struct TrustedProxies(pub(super) Vec<IpNet>);

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
pub(super) enum CorsOrigins {
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

fn positive_count(raw: &str) -> Result<usize, String> {
    match trimmed::<usize>(raw)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
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
