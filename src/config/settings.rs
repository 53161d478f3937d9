//! The settings as clap arguments: each with its environment variable, default and parser.
//! `Config::from_settings` turns them into the validated [`Config`](super::Config).

use std::{net::SocketAddr, time::Duration};

use chrono_tz::Tz;
use clap::{ArgAction, Args, Command, builder::EnumValueParser};

mod parse;

pub(super) use self::parse::{
    BucketSetting, CorsOrigins, PublicOrigins, RateSetting, TrustedProxies,
};
use self::parse::{
    Trimmed, bucket, cors_origins, fraction, non_negative, positive_count, positive_secs,
    public_origins, rate, trimmed, trusted_proxies, zero_to_one,
};
use super::{ConfigError, MarketCalendar, Profile, Role};
use crate::telemetry::LogFormat;

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
    /// How many instances serve this deployment (api and engine together). More than one in
    /// production requires `REDIS_URL` and PostgreSQL: without them each instance would hear
    /// only its own events and keep its own rate limits.
    #[arg(
        long,
        env = "EXPECT_INSTANCES",
        default_value = "1",
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Storage"
    )]
    pub(super) expect_instances: u32,
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
    /// Holidays and early closes computed for every year: `nyse`, or `none` (only the days
    /// admins list).
    #[arg(
        long,
        env = "MARKET_CALENDAR",
        default_value = "nyse",
        ignore_case = true,
        value_parser = Trimmed(EnumValueParser::<MarketCalendar>::new()),
        help_heading = "Market"
    )]
    pub(super) market_calendar: MarketCalendar,
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
    /// Standard deviation of the log jump from the previous close to a trading day's first
    /// price, a fraction from 0 (no gap) to below 1.
    #[arg(
        long,
        env = "OVERNIGHT_VOLATILITY",
        default_value = "0.01",
        value_parser = zero_to_one,
        help_heading = "Market"
    )]
    pub(super) overnight_volatility: f64,
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
    /// Whether clients reach this instance through a reverse proxy or load balancer. In
    /// production that requires `TRUSTED_PROXIES`: without it every client would share the
    /// proxy's address (one rate limit, one audit address for everyone).
    #[arg(
        long,
        env = "BEHIND_PROXY",
        default_value = "false",
        action = ArgAction::Set,
        value_parser = trimmed::<bool>,
        help_heading = "Security"
    )]
    pub(super) behind_proxy: bool,
    /// Browser origins allowed by CORS and on WebSockets, comma-separated, or `*` for any
    /// (default: any locally, none in production).
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_parser = cors_origins,
        help_heading = "Security"
    )]
    pub(super) cors_allowed_origins: Option<CorsOrigins>,
    /// Where users reach this service, `scheme://host[:port]`, comma-separated (the scheme and
    /// port count): browser pages from these origins, such as GraphiQL's, may open WebSockets.
    /// Default: `http://127.0.0.1:<port>` and `http://localhost:<port>` on the bound port
    /// locally, none in production.
    #[arg(
        long,
        env = "PUBLIC_ORIGIN",
        value_parser = public_origins,
        help_heading = "Security"
    )]
    pub(super) public_origin: Option<PublicOrigins>,
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
    /// Most an operation may cost: a point per field, lists weighted by their size (and at
    /// most this many selections, fragments expanded, up to 1000).
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value = "25000",
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
    /// Cost budget of a logged-in user: `capacity,refill per second` in complexity points (a
    /// leaky bucket each query and mutation spends its cost from), or `off`.
    #[arg(
        long,
        env = "GRAPHQL_COST_BUDGET",
        default_value = "50000,2500",
        value_parser = bucket,
        help_heading = "Limits"
    )]
    pub(super) graphql_cost_budget: BucketSetting,
    /// Cost budget of an anonymous client address: `capacity,refill per second`, or `off`.
    #[arg(
        long,
        env = "GRAPHQL_COST_BUDGET_ANONYMOUS",
        default_value = "25000,500",
        value_parser = bucket,
        help_heading = "Limits"
    )]
    pub(super) graphql_cost_budget_anonymous: BucketSetting,
    /// Seconds a query or mutation may run before it is cancelled (positive).
    #[arg(
        long,
        env = "GRAPHQL_TIMEOUT_SECS",
        default_value = "10",
        value_parser = positive_secs,
        help_heading = "Limits"
    )]
    pub(super) graphql_timeout_secs: Duration,
    /// Largest response of one operation (and one HTTP body, one WebSocket message), in bytes.
    #[arg(
        long,
        env = "GRAPHQL_MAX_RESPONSE_BYTES",
        default_value = "4194304",
        value_parser = positive_count,
        help_heading = "Limits"
    )]
    pub(super) graphql_max_response_bytes: usize,
    /// A file listing the only operations this server runs (SHA-256 hashes of their
    /// documents; see the README): any other answers `PERSISTED_QUERY_NOT_ALLOWED`. Unset:
    /// every operation runs.
    #[arg(long, env = "GRAPHQL_TRUSTED_DOCUMENTS", help_heading = "Limits")]
    pub(super) graphql_trusted_documents: Option<std::path::PathBuf>,
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

    /// Serve `/metrics` on this address, a listener of its own (unset: on `BIND_ADDR`).
    #[arg(
        long,
        env = "METRICS_ADDR",
        value_parser = trimmed::<SocketAddr>,
        help_heading = "Observability"
    )]
    pub(super) metrics_addr: Option<SocketAddr>,
    /// `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` (unset: anyone who can
    /// reach it).
    #[arg(
        long,
        env = "METRICS_TOKEN",
        hide_env_values = true,
        help_heading = "Observability"
    )]
    pub(super) metrics_token: Option<String>,
    /// Log lines as `text` (readable) or `json` (one object per line).
    #[arg(
        long,
        env = "LOG_FORMAT",
        default_value = "text",
        ignore_case = true,
        value_parser = Trimmed(EnumValueParser::<LogFormat>::new()),
        help_heading = "Observability"
    )]
    pub(super) log_format: LogFormat,
}

impl Settings {
    /// The log format, needed before the rest of the configuration is checked.
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }
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

/// Four connections per core (8 on two cores), as measured with 32 ordering clients (see
/// BENCHMARKS.md): more connections than that only make PostgreSQL backends compete for the
/// same cores (p99 doubles at 32).
pub(super) fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    (cores * 4).clamp(4, 32)
}
