//! The composition root: `main` and the tests build the application through here.

use std::{net::SocketAddr, sync::Arc};

use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{InProcessBus, RedisBus, SharedBus},
    clock::{SharedClock, SystemClock},
    config::{Config, redact_url},
    domain::{
        admin::{Admin, Administration},
        auth::AuthService,
        market::{Market, backfill},
        money, seed,
        trading::{Limits, Trading},
    },
    engine,
    graphql::{self, live::LiveCounters},
    http::{self, AppState},
    infra::{db, lease::Lease, ratelimit::RateLimiter},
    services::Services,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Domain(#[from] crate::domain::Error),
    #[error("{0}")]
    Bus(#[from] crate::bus::BusError),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The engine's lease lives on this database.
    db: DatabaseConnection,
    /// Every statement run on `db`.
    statements: db::Statements,
    /// Set by the engine while this instance holds its lease.
    leader: watch::Sender<bool>,
    shutdown: CancellationToken,
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Connects, migrates, seeds, wires the services and binds the listener (port 0 works).
    pub async fn build_with_clock(
        config: Config,
        clock: SharedClock,
    ) -> Result<Self, StartupError> {
        let shutdown = CancellationToken::new();
        tracing::info!(database = %redact_url(&config.database_url), "connecting to the database");
        let (db, statements) =
            db::connect_counted(&config.database_url, config.database_pool_size).await?;
        if config.run_migrations {
            db::migrate_up(&db).await?;
        }
        seed::reference_data(&db, clock.as_ref(), config.market_timezone).await?;
        if config.seed_demo_data
            && seed::demo_data(&db, clock.as_ref(), config.market_timezone).await?
        {
            tracing::info!(
                "seeded demo data: {} / {} (admin), {} / {} (customer)",
                seed::DEMO_ADMIN.0,
                seed::DEMO_ADMIN.1,
                seed::DEMO_CUSTOMER.0,
                seed::DEMO_CUSTOMER.1
            );
        }
        let (bus, redis): (SharedBus, _) = match &config.redis_url {
            Some(url) => {
                tracing::info!(redis = %redact_url(url), "connecting to Redis");
                let bus = RedisBus::connect(url, &config.redis_prefix, shutdown.clone()).await?;
                let client = bus.client();
                (Arc::new(bus), Some(client))
            }
            None => (Arc::new(InProcessBus::default()), None),
        };
        let limiter = RateLimiter::new(redis, &config.redis_prefix);
        let auth = AuthService::new(
            db.clone(),
            clock.clone(),
            bus.clone(),
            &config.jwt_secret,
            config.access_token_ttl,
            config.refresh_token_ttl,
        )
        .await?;
        let limits = Limits {
            max_cash_operation_cents: money::to_cents(
                config.max_cash_operation,
                "MAX_CASH_OPERATION",
            )?,
            max_order_quantity: config.max_order_quantity,
        };
        let trading = Trading::new(db.clone(), clock.clone(), bus.clone(), limits);
        let market = Market::new(db.clone(), clock.clone(), (&config).into());
        let admin = Administration::new(
            db.clone(),
            clock.clone(),
            bus.clone(),
            auth.clone(),
            backfill::Settings::from(&config),
            config.market_timezone,
            (config.default_drift, config.default_volatility),
        );
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.bind_addr,
                source,
            })?;
        let services = Services {
            config: Arc::new(config),
            clock,
            bus,
            accounts: Default::default(),
            auth,
            market,
            trading,
            admin,
            limiter,
        };
        let live = Arc::<LiveCounters>::default();
        let schema = graphql::build_schema(services.clone(), live.clone());
        let (leader, leader_rx) = watch::channel(false);
        Ok(Self {
            listener,
            state: AppState {
                services,
                schema,
                database: db.clone(),
                feeds: Default::default(),
                sessions: Default::default(),
                ws_clients: Default::default(),
                live,
                leader: leader_rx,
                shutdown: shutdown.clone(),
            },
            db,
            statements,
            leader,
            shutdown,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.services.config.bind_addr)
    }

    pub fn services(&self) -> &Services {
        &self.state.services
    }

    /// The database connection pool (tests read and write rows directly through it).
    pub fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    /// How many statements this instance has run on its database.
    pub fn statements(&self) -> db::Statements {
        self.statements.clone()
    }

    /// True while this instance holds the engine lease.
    pub fn leader(&self) -> watch::Receiver<bool> {
        self.state.leader.clone()
    }

    /// The shared subscription executions of this instance.
    pub fn feeds(&self) -> &http::ws::Feeds {
        &self.state.feeds
    }

    /// A token that stops the server and its background tasks when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves (and, by role, runs the engine while holding its lease) until the shutdown token
    /// is cancelled, then drains connections and waits for the background tasks to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let services = &self.state.services;
        let role = services.config.role;
        tracing::info!(?role, "starting");
        let mut tasks = JoinSet::new();
        if role.runs_engine() {
            let lease = Lease::for_database(&self.db, &services.config.database_url);
            tasks.spawn(engine::run(
                services.clone(),
                lease,
                self.leader,
                self.shutdown.clone(),
            ));
        }
        tasks.spawn(
            services
                .accounts
                .clone()
                .follow(services.bus.clone(), self.shutdown.clone()),
        );
        tasks.spawn(
            self.state
                .sessions
                .clone()
                .follow(services.bus.clone(), self.shutdown.clone()),
        );
        tasks.spawn(services.auth.clone().follow(self.shutdown.clone()));
        let config = services.config.clone();
        let router = http::router(self.state);
        let served =
            http::serve::serve(self.listener, router, &config, self.shutdown.clone()).await;
        self.shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        served
    }
}

/// How `zebrat migrate` moves the schema.
#[derive(Debug, Clone, Copy)]
pub enum Migration {
    Up,
    /// Roll back this many migrations.
    Down(u32),
    /// Only report which migrations are applied.
    Status,
}

/// Runs `zebrat migrate`; returns `(name, applied)` for every migration afterwards.
pub async fn migrate(
    config: &Config,
    action: Migration,
) -> Result<Vec<(String, bool)>, StartupError> {
    let conn = db::connect(&config.database_url, config.database_pool_size).await?;
    match action {
        Migration::Up => db::migrate_up(&conn).await?,
        Migration::Down(steps) => db::migrate_down(&conn, Some(steps)).await?,
        Migration::Status => {}
    }
    Ok(db::migration_status(&conn).await?)
}

/// Runs `zebrat seed`: reference data where missing, demo data into an empty database.
/// Returns whether demo data was written.
pub async fn seed(config: &Config) -> Result<bool, StartupError> {
    let conn = db::connect(&config.database_url, config.database_pool_size).await?;
    db::migrate_up(&conn).await?;
    let clock = SystemClock;
    seed::reference_data(&conn, &clock, config.market_timezone).await?;
    Ok(seed::demo_data(&conn, &clock, config.market_timezone).await?)
}

/// What `zebrat market` does to the emergency override.
#[derive(Debug, Clone)]
pub enum MarketOverride {
    Open(Option<String>),
    Close(Option<String>),
    Auto,
}

/// Runs `zebrat market`: changes the override through the admin service, audited with the
/// actor `cli`, tells running servers through Redis when there is one (without it they notice
/// within seconds), and returns the state now.
pub async fn override_market(
    config: &Config,
    action: MarketOverride,
) -> Result<crate::domain::market::MarketStatus, StartupError> {
    let conn = db::connect(&config.database_url, config.database_pool_size).await?;
    let clock: SharedClock = Arc::new(SystemClock);
    let shutdown = CancellationToken::new();
    let bus: SharedBus = match &config.redis_url {
        Some(url) => {
            Arc::new(RedisBus::connect(url, &config.redis_prefix, shutdown.clone()).await?)
        }
        // Nobody listens in this process; running servers re-read the state on their own.
        None => Arc::new(InProcessBus::default()),
    };
    let auth = AuthService::new(
        conn.clone(),
        clock.clone(),
        bus.clone(),
        &config.jwt_secret,
        config.access_token_ttl,
        config.refresh_token_ttl,
    )
    .await?;
    let admin = Administration::new(
        conn,
        clock,
        bus,
        auth,
        backfill::Settings::from(config),
        config.market_timezone,
        (config.default_drift, config.default_volatility),
    );
    let (open, reason) = match action {
        MarketOverride::Open(reason) => (Some(true), reason),
        MarketOverride::Close(reason) => (Some(false), reason),
        MarketOverride::Auto => (None, None),
    };
    let status = admin
        .set_override(&Admin::command_line(), open, reason)
        .await;
    shutdown.cancel();
    Ok(status?)
}
