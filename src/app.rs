//! The composition root: `main` and the tests build the application through here.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{InProcessBus, RedisBus, SharedBus},
    clock::{SharedClock, SystemClock},
    config::{Config, redact_url},
    domain::{
        admin::{Admin, Administration},
        auth::{self, AuthService},
        equity::Equity,
        market::Market,
        money, seed,
        trading::{Limits, Trading},
    },
    engine,
    graphql::{self, live::LiveCounters},
    http::{self, AppState},
    infra::{
        self,
        backup::{self, BackupError},
        db::{self, OpenError},
        lease::Lease,
        local_secret,
        ratelimit::RateLimiter,
        retry::Backoff,
    },
    services::Services,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("{0}")]
    Domain(#[from] crate::domain::Error),
    #[error("{0}")]
    Bus(#[from] crate::bus::BusError),
    #[error("the local JWT secret file {path}: {source}")]
    Secret {
        path: String,
        source: std::io::Error,
    },
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    /// `/metrics` alone, when `METRICS_ADDR` gives it a listener of its own.
    metrics_listener: Option<TcpListener>,
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
        // Before anything records: the recorder is process-wide and installed once.
        infra::metrics::install();
        for note in config.start_warnings() {
            tracing::warn!("{note}");
        }
        tracing::info!(database = %redact_url(&config.database_url), "connecting to the database");
        let (db, statements) =
            db::connect_counted(&config.database_url, config.database_pool_size).await?;
        if config.run_migrations {
            db::migrate_up(&db).await?;
        }
        seed::reference_data(&db, clock.as_ref()).await?;
        let filled = auth::backfill_skeletons(&db).await?;
        if filled > 0 {
            tracing::info!(
                accounts = filled,
                "filled in the look-alike skeletons of emails"
            );
        }
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
        let (bus, redis) = connect_bus(&config, &shutdown).await?;
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.bind_addr,
                source,
            })?;
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::Bind { addr, source })?,
            ),
            None => None,
        };
        let mut config = config;
        if let Ok(bound) = listener.local_addr() {
            config.bound_to(bound);
        }
        let secret = jwt_secret(&config)?;
        let services =
            wire_services(Arc::new(config), db.clone(), clock, bus, redis, &secret).await?;
        let live = Arc::<LiveCounters>::default();
        let persisted = graphql::persisted::PersistedQueries::new(
            services.config.trusted_documents.clone(),
            services.config.graphql.max_document_bytes,
        );
        if let Some(trusted) = &services.config.trusted_documents {
            tracing::info!(
                operations = trusted.len(),
                file = %trusted.path.display(),
                "only trusted documents run"
            );
        }
        let schema = graphql::build_schema(services.clone(), live.clone(), persisted.clone());
        let (leader, leader_rx) = watch::channel(false);
        Ok(Self {
            listener,
            metrics_listener,
            state: AppState {
                services,
                schema,
                database: db.clone(),
                feeds: Default::default(),
                persisted,
                event_streams: Default::default(),
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

    /// Where `/metrics` is served when `METRICS_ADDR` gives it a listener of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
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
            let engine = engine::run(services.clone(), lease, self.leader, self.shutdown.clone());
            tasks.spawn(async move {
                engine.await;
            });
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
        tasks.spawn(
            services
                .market
                .clone()
                .follow(services.bus.clone(), self.shutdown.clone()),
        );
        tasks.spawn(metrics_upkeep(self.shutdown.clone()));
        if let Some(listener) = self.metrics_listener {
            let router = http::metrics::router(self.state.clone());
            let shutdown = self.shutdown.clone();
            tasks.spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(async move { shutdown.cancelled().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            });
        }
        let config = services.config.clone();
        let router = http::router(self.state);
        let served =
            http::serve::serve(self.listener, router, &config, self.shutdown.clone()).await;
        self.shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        served
    }
}

/// The event bus the configuration asks for: Redis (also returning its client, for shared
/// rate limits) or in-process.
async fn connect_bus(
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<(SharedBus, Option<fred::clients::Client>), StartupError> {
    match &config.redis_url {
        Some(url) => {
            tracing::info!(redis = %redact_url(url), "connecting to Redis");
            let bus = RedisBus::connect(url, &config.redis_prefix, shutdown.clone()).await?;
            let client = bus.client();
            Ok((Arc::new(bus), Some(client)))
        }
        None => Ok((Arc::new(InProcessBus::default()), None)),
    }
}

/// The domain services over one database, clock and bus: the one place they are wired.
async fn wire_services(
    config: Arc<Config>,
    db: DatabaseConnection,
    clock: SharedClock,
    bus: SharedBus,
    redis: Option<fred::clients::Client>,
    jwt_secret: &str,
) -> Result<Services, StartupError> {
    let auth = AuthService::new(
        db.clone(),
        clock.clone(),
        bus.clone(),
        jwt_secret,
        config.access_token_ttl,
        config.refresh_token_ttl,
    )
    .await?;
    let limits = Limits {
        max_cash_operation_cents: money::to_cents(config.max_cash_operation, "MAX_CASH_OPERATION")?,
        max_order_quantity: config.max_order_quantity,
        // A fraction of at most 1 (checked at start): whole basis points, rounded up.
        max_round_move_bps: (config.max_tick_pct * 10_000.0).ceil() as i64,
    };
    let market = Market::new(db.clone(), clock.clone(), config.as_ref().into());
    let trading = Trading::new(
        db.clone(),
        clock.clone(),
        bus.clone(),
        limits,
        config.market_timezone,
        config.market_calendar,
    );
    Ok(Services {
        limiter: RateLimiter::new(redis, &config.redis_prefix),
        equity: Equity::new(
            db.clone(),
            clock.clone(),
            bus.clone(),
            trading.clone(),
            config.market_timezone,
            config.market_calendar,
        ),
        trading,
        admin: Administration::new(
            db,
            clock.clone(),
            bus.clone(),
            auth.clone(),
            &config,
            &market,
        ),
        market,
        auth,
        accounts: Default::default(),
        config,
        clock,
        bus,
    })
}

/// The token secret: `JWT_SECRET`, else (local profile) the one kept beside the SQLite file,
/// else a random one for this process, which logs everyone out at the next restart.
fn jwt_secret(config: &Config) -> Result<String, StartupError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let Some(path) = local_secret::path_beside(&config.database_url) else {
        tracing::warn!(
            "JWT_SECRET is not set: using a random secret for this process only; \
             tokens will not survive a restart or work across instances"
        );
        return Ok(local_secret::generate());
    };
    let secret = local_secret::load_or_create(&path).map_err(|source| StartupError::Secret {
        path: path.display().to_string(),
        source,
    })?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is not set: using the local secret kept beside the database \
         (fine on one machine; set JWT_SECRET for anything shared)"
    );
    Ok(secret)
}

/// Drains histogram samples every few seconds, so memory stays flat between scrapes.
async fn metrics_upkeep(shutdown: CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => infra::metrics::upkeep(),
        }
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
    let conn = db::connect_existing(&config.database_url, config.database_pool_size).await?;
    db::migrate_up(&conn).await?;
    let clock = SystemClock;
    seed::reference_data(&conn, &clock).await?;
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
    let conn = db::connect_existing(&config.database_url, config.database_pool_size).await?;
    let shutdown = CancellationToken::new();
    // Without Redis nobody hears the event in this process; running servers re-read the
    // state on their own within seconds.
    let (bus, redis) = connect_bus(config, &shutdown).await?;
    let clock: SharedClock = Arc::new(SystemClock);
    // The command signs no tokens: any secret will do, and none is read or written.
    let secret = local_secret::generate();
    let services =
        wire_services(Arc::new(config.clone()), conn, clock, bus, redis, &secret).await?;
    let (open, reason) = match action {
        MarketOverride::Open(reason) => (Some(true), reason),
        MarketOverride::Close(reason) => (Some(false), reason),
        MarketOverride::Auto => (None, None),
    };
    // A running server on the same SQLite file may hold the write lock at that moment (SQLite
    // refuses a read transaction's upgrade to a write at once, without waiting): try again.
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    let mut attempts = 0;
    let status = loop {
        match services
            .admin
            .set_override(&Admin::command_line(), open, reason.clone())
            .await
        {
            Err(e) if e.is_busy() && attempts < 10 && backoff.wait(&shutdown).await => {
                attempts += 1;
            }
            done => break done,
        }
    };
    // Events go out to Redis in the background: let them leave before this process does.
    services.bus.flush().await;
    shutdown.cancel();
    Ok(status?)
}

/// Runs `zebrat backup --out FILE`: a consistent copy of the whole database, taken while
/// servers run (`pg_dump` custom format on PostgreSQL, `VACUUM INTO` on SQLite).
pub async fn backup(config: &Config, out: &Path) -> Result<(), StartupError> {
    Ok(backup::backup(&config.database_url, out).await?)
}

/// Runs `zebrat restore FILE`: replaces the database with a backup. Refuses while a server
/// (or any other session) is connected to it.
pub async fn restore(config: &Config, file: &Path) -> Result<(), StartupError> {
    Ok(backup::restore(&config.database_url, file).await?)
}
