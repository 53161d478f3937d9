//! Configuration: defaults, validation, the documented variables, and isolation from the
//! process environment.

use super::settings::default_pool_size;
use super::*;
use crate::infra::ratelimit::{Bucket, Rate};
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
    assert_eq!(c.jwt_secret, None, "the local secret file is used");
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

/// The production settings every check below starts from.
fn production(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    let secret: &'static str = Box::leak("x".repeat(32).into_boxed_str());
    let mut pairs = vec![("ZEBRAT_PROFILE", "production"), ("JWT_SECRET", secret)];
    pairs.extend_from_slice(extra);
    config(&pairs)
}

#[test]
fn production_refuses_a_cluster_without_redis_or_on_sqlite() {
    let pg = ("DATABASE_URL", "postgres://zebrat@db/zebrat");
    let redis = ("REDIS_URL", "redis://cache:6379");
    let err = production(&[("EXPECT_INSTANCES", "3"), pg])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("EXPECT_INSTANCES=3") && err.contains("REDIS_URL"),
        "{err}"
    );
    let err = production(&[("EXPECT_INSTANCES", "2"), redis])
        .unwrap_err()
        .to_string();
    assert!(err.contains("PostgreSQL"), "{err}");
    assert!(production(&[("EXPECT_INSTANCES", "2"), pg, redis]).is_ok());
    assert!(production(&[("EXPECT_INSTANCES", "1")]).is_ok());
    assert!(config(&[("EXPECT_INSTANCES", "0")]).is_err());
    // Locally, anything goes: tests run clusters on SQLite files of their own.
    assert!(config(&[("EXPECT_INSTANCES", "3")]).is_ok());
}

#[test]
fn production_behind_a_proxy_needs_trusted_proxies() {
    let err = production(&[("BEHIND_PROXY", "true")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("TRUSTED_PROXIES"), "{err}");
    assert!(production(&[("BEHIND_PROXY", "true"), ("TRUSTED_PROXIES", "10.0.0.5")]).is_ok());
}

#[test]
fn production_states_its_expectations_at_start() {
    let sqlite = production(&[]).unwrap().start_warnings();
    assert!(sqlite.iter().any(|w| w.contains("SQLite")), "{sqlite:?}");
    assert!(sqlite.iter().any(|w| w.contains("TLS")), "{sqlite:?}");
    let open = production(&[("GRAPHIQL", "true")])
        .unwrap()
        .start_warnings();
    assert!(open.iter().any(|w| w.contains("GraphiQL on")), "{open:?}");
    let pg = production(&[("DATABASE_URL", "postgres://zebrat@db/zebrat")])
        .unwrap()
        .start_warnings();
    assert!(!pg.iter().any(|w| w.contains("SQLite")), "{pg:?}");
    assert!(config(&[]).unwrap().start_warnings().is_empty());
}

#[test]
fn bad_values_are_named() {
    let err = config(&[("TICK_INTERVAL_SECS", "soon")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("TICK_INTERVAL_SECS"), "{err}");
    assert!(config(&[("MARKET_TIMEZONE", "Mars/Olympus")]).is_err());
    assert!(config(&[("MAX_TICK_PCT", "2")]).is_err());
    assert!(config(&[("MARKET_CALENDAR", "lse")]).is_err());
    for bad in ["-0.01", "1", "NaN", "x"] {
        assert!(config(&[("OVERNIGHT_VOLATILITY", bad)]).is_err(), "{bad}");
    }
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
    "MARKET_CALENDAR",
    "TICK_INTERVAL_SECS",
    "DEFAULT_DRIFT",
    "DEFAULT_VOLATILITY",
    "MAX_TICK_PCT",
    "OVERNIGHT_VOLATILITY",
    "CANDLE_AGGREGATION_FREQUENCY",
    "CANDLE_BACKFILL_DAYS",
    "TICK_RETENTION_HOURS",
    "SIM_SEED",
    "RATE_LIMIT_LOGIN",
    "RATE_LIMIT_LOGIN_GLOBAL",
    "RATE_LIMIT_REGISTER",
    "RATE_LIMIT_ORDERS",
    "RATE_LIMIT_DEPOSITS",
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
    "GRAPHQL_TRUSTED_DOCUMENTS",
    "WS_MAX_SUBSCRIPTIONS",
    "WS_MAX_CONNECTIONS_PER_USER",
    "METRICS_ADDR",
    "METRICS_TOKEN",
    "LOG_FORMAT",
    "WS_MAX_CONNECTIONS_PER_CLIENT",
    "WS_IDLE_TIMEOUT_SECS",
    "HTTP_HEADER_TIMEOUT_SECS",
    "HTTP_IDLE_TIMEOUT_SECS",
    "HTTP_MAX_CONNECTIONS_PER_CLIENT",
    "EXPECT_INSTANCES",
    "BEHIND_PROXY",
    "GRAPHQL_COST_BUDGET",
    "GRAPHQL_COST_BUDGET_ANONYMOUS",
    "GRAPHQL_TIMEOUT_SECS",
    "GRAPHQL_MAX_RESPONSE_BYTES",
    "PUBLIC_ORIGIN",
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
    let readme = include_str!("../../README.md");
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
        ("MARKET_CALENDAR", " None "),
        ("OVERNIGHT_VOLATILITY", "0"),
        ("CANDLE_AGGREGATION_FREQUENCY", "60"),
        ("CANDLE_BACKFILL_DAYS", "5"),
        ("TICK_RETENTION_HOURS", "0"),
        ("SIM_SEED", "7"),
        ("RATE_LIMIT_LOGIN", "off"),
        ("RATE_LIMIT_LOGIN_GLOBAL", "9/10"),
        ("RATE_LIMIT_REGISTER", "1/2"),
        ("RATE_LIMIT_ORDERS", " 3 / 4 "),
        ("RATE_LIMIT_DEPOSITS", "5/6"),
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
        ("METRICS_ADDR", "127.0.0.1:9100"),
        ("METRICS_TOKEN", "scrape-me"),
        ("LOG_FORMAT", " JSON "),
        ("WS_MAX_CONNECTIONS_PER_CLIENT", "7"),
        ("WS_IDLE_TIMEOUT_SECS", "8"),
        ("HTTP_HEADER_TIMEOUT_SECS", "2"),
        ("HTTP_IDLE_TIMEOUT_SECS", "3"),
        ("HTTP_MAX_CONNECTIONS_PER_CLIENT", "4"),
        ("GRAPHQL_COST_BUDGET", " 500 , 25 "),
        ("GRAPHQL_COST_BUDGET_ANONYMOUS", "off"),
        ("GRAPHQL_TIMEOUT_SECS", "2.5"),
        ("GRAPHQL_MAX_RESPONSE_BYTES", "65536"),
        (
            "PUBLIC_ORIGIN",
            "https://Zebrat.example/, http://zebrat.example:8080",
        ),
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
    assert_eq!(c.jwt_secret, Some("s".repeat(40)));
    assert_eq!(c.access_token_ttl, Duration::from_secs(60));
    assert_eq!(c.refresh_token_ttl, Duration::from_secs(2 * 86_400));
    assert_eq!(c.max_cash_operation, "500.5".parse().unwrap());
    assert_eq!(c.max_order_quantity, 77);
    assert_eq!(c.market_timezone, chrono_tz::Europe::Paris);
    assert_eq!(c.tick_interval, Duration::from_millis(500));
    assert_eq!(c.default_drift, -0.001);
    assert_eq!(c.default_volatility, 0.0);
    assert_eq!(c.max_tick_pct, 0.1);
    assert_eq!(c.market_calendar, MarketCalendar::ListedOnly);
    assert_eq!(c.overnight_volatility, 0.0);
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
            login_global: rate(9, 10),
            register: rate(1, 2),
            orders: rate(3, 4),
            deposits: rate(5, 6),
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
            cost_budget: Some(Bucket {
                capacity: 500,
                refill_per_sec: 25
            }),
            cost_budget_anonymous: None,
            timeout: Duration::from_millis(2500),
            max_response_bytes: 65536,
        }
    );
    assert_eq!(
        c.public_origins,
        ["https://zebrat.example:443", "http://zebrat.example:8080"]
    );
    assert_eq!(c.max_subscriptions_per_connection, 5);
    assert_eq!(c.max_connections_per_user, 6);
    assert_eq!(c.ws_max_connections_per_client, 7);
    assert_eq!(c.ws_idle_timeout, Duration::from_secs(8));
    assert_eq!(
        c.http,
        HttpLimits {
            header_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(3),
            max_connections_per_client: 4,
        }
    );
    assert_eq!(c.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    assert_eq!(c.metrics_token.as_deref(), Some("scrape-me"));
    assert_eq!(c.log_format, crate::telemetry::LogFormat::Json);
    assert!(
        !format!("{c:?}").contains("scrape-me"),
        "the token is redacted"
    );
}

/// `.env.example` at the repository root names every variable the parser reads (and no
/// other), each as `NAME=` or `# NAME=` at the start of a line.
#[test]
fn env_example_lists_every_variable() {
    let example = include_str!("../../.env.example");
    let listed: Vec<&str> = example
        .lines()
        .map(|l| l.trim_start_matches('#').trim_start())
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    let known = known();
    for name in &known {
        assert!(
            listed.contains(&name.as_str()),
            "{name} is parsed but missing from .env.example"
        );
    }
    for name in listed.iter().filter(|n| **n != "RUST_LOG") {
        assert!(
            known.iter().any(|k| k == name),
            "{name} is in .env.example but not parsed"
        );
    }
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
    assert_eq!(c.market_calendar, MarketCalendar::Nyse);
    assert_eq!(c.overnight_volatility, 0.01);
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
            login_global: rate(1200, 60),
            register: rate(10, 3600),
            orders: rate(10, 60),
            deposits: rate(10, 60),
        }
    );
    assert!(c.trusted_proxies.is_empty());
    assert_eq!(c.cors_origins, None);
    assert!(!c.hsts && c.introspection && c.graphiql);
    assert_eq!(
        c.graphql,
        GraphqlLimits {
            max_depth: 16,
            max_complexity: 25000,
            max_aliases: 30,
            max_root_fields: 20,
            max_document_bytes: 16 * 1024,
            max_batch: 10,
            cost_budget: Some(Bucket {
                capacity: 50000,
                refill_per_sec: 2500
            }),
            cost_budget_anonymous: Some(Bucket {
                capacity: 25000,
                refill_per_sec: 500
            }),
            timeout: Duration::from_secs(10),
            max_response_bytes: 4 << 20,
        }
    );
    assert_eq!(
        c.public_origins,
        ["http://127.0.0.1:8000", "http://localhost:8000"]
    );
    assert_eq!(c.max_subscriptions_per_connection, 100);
    assert_eq!(c.max_connections_per_user, 10);
    assert_eq!((c.metrics_addr, c.metrics_token.as_deref()), (None, None));
    assert_eq!(c.log_format, crate::telemetry::LogFormat::Text);
    assert_eq!(c.ws_max_connections_per_client, 32);
    assert_eq!(c.ws_idle_timeout, Duration::from_secs(60));
    assert_eq!(
        c.http,
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections_per_client: 128,
        }
    );

    let production = config(&[
        ("ZEBRAT_PROFILE", "production"),
        ("JWT_SECRET", &"x".repeat(32)),
    ])
    .unwrap();
    assert!(!production.introspection && !production.graphiql);
    assert_eq!(production.cors_origins, Some(Vec::new()));
    assert!(
        production.hsts,
        "production is meant to be reached over TLS"
    );
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
        assert_eq!(c.jwt_secret, None, "the local secret file is used");
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
    // Blank HSTS and SEED_DEMO_DATA are unset: the production defaults (on, off).
    assert!(env.hsts && !env.seed_demo_data);
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

#[test]
fn public_origins_follow_the_bound_port_locally_and_are_exact() {
    let mut local = config(&[("BIND_ADDR", "127.0.0.1:0")]).unwrap();
    local.bound_to("127.0.0.1:43210".parse().unwrap());
    assert_eq!(
        local.public_origins,
        ["http://127.0.0.1:43210", "http://localhost:43210"]
    );
    // Set explicitly, they stay as set; production has none by default.
    let mut set = config(&[("PUBLIC_ORIGIN", "https://zebrat.example")]).unwrap();
    set.bound_to("127.0.0.1:43210".parse().unwrap());
    assert_eq!(set.public_origins, ["https://zebrat.example:443"]);
    assert!(production(&[]).unwrap().public_origins.is_empty());
    for bad in [
        "zebrat.example",
        "ftp://zebrat.example",
        "https://a.example/app",
        "null",
    ] {
        assert!(
            config(&[("PUBLIC_ORIGIN", bad)]).is_err(),
            "{bad} is not an origin"
        );
    }
    assert_eq!(
        normalize_origin("HTTPS://[::1]:8443").as_deref(),
        Some("https://[::1]:8443")
    );
    assert_eq!(
        normalize_origin("http://[::1]").as_deref(),
        Some("http://[::1]:80")
    );
    // Production with GraphiQL and an allow-list but no public origin: its page could not
    // open sockets; the operator is told.
    let warned = production(&[("GRAPHIQL", "true")])
        .unwrap()
        .start_warnings();
    assert!(
        warned.iter().any(|w| w.contains("PUBLIC_ORIGIN")),
        "{warned:?}"
    );
}

#[test]
fn cost_budgets_and_response_limits_are_validated() {
    for (name, bad) in [
        ("GRAPHQL_COST_BUDGET", "1000"),
        ("GRAPHQL_COST_BUDGET", "0,10"),
        ("GRAPHQL_COST_BUDGET_ANONYMOUS", "100,0"),
        ("GRAPHQL_TIMEOUT_SECS", "0"),
        ("GRAPHQL_MAX_RESPONSE_BYTES", "0"),
    ] {
        let err = config(&[(name, bad)]).unwrap_err().to_string();
        assert!(err.contains(name), "{err}");
    }
    let off = config(&[("GRAPHQL_COST_BUDGET", "off")]).unwrap();
    assert_eq!(off.graphql.cost_budget, None);
}

#[test]
fn trusted_documents_are_read_at_start_and_a_bad_file_is_named() {
    let dir = std::env::temp_dir().join(format!("zebrat-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("trusted.txt");
    let hash = crate::config::document_hash("{ marketState { isOpen } }");
    std::fs::write(&good, format!("# the web app\n{hash}\n")).unwrap();
    let c = config(&[("GRAPHQL_TRUSTED_DOCUMENTS", good.to_str().unwrap())]).unwrap();
    let trusted = c.trusted_documents.expect("loaded");
    assert!(trusted.allows(&hash) && trusted.len() == 1);
    assert!(config(&[]).unwrap().trusted_documents.is_none());

    let bad = dir.join("broken.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let err = config(&[("GRAPHQL_TRUSTED_DOCUMENTS", bad.to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("GRAPHQL_TRUSTED_DOCUMENTS") && err.contains(bad.to_str().unwrap()),
        "{err}"
    );
    let missing = dir.join("missing.txt");
    let err = config(&[("GRAPHQL_TRUSTED_DOCUMENTS", missing.to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.txt"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
