//! The composition root: `main` and the tests build the application through here.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{InProcessBus, RedisBus, SharedBus},
    clock::{SharedClock, SystemClock},
    config::{Config, redact_url},
    db,
    domain::{
        admin::Administration,
        auth::AuthService,
        money, seed,
        trading::{Limits, Trading},
    },
    engine,
    graphql::{self, AppSchema},
    http,
    ratelimit::RateLimiter,
};

/// Everything resolvers and background tasks share. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub bus: SharedBus,
    pub auth: AuthService,
    pub trading: Trading,
    pub admin: Administration,
    /// This instance's open sockets and subscriptions.
    pub live: Arc<LiveCounters>,
    /// True while this instance holds the engine lease and runs the engine.
    pub leader: Arc<watch::Sender<bool>>,
    pub limiter: RateLimiter,
}

/// Counters of live connections on this instance (for the admin statistics).
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub connections: AtomicUsize,
    pub subscriptions: AtomicUsize,
}

/// Holds one unit of a counter; gives it back when dropped.
pub struct Counted(Arc<LiveCounters>, fn(&LiveCounters) -> &AtomicUsize);

impl Counted {
    pub fn new(live: &Arc<LiveCounters>, which: fn(&LiveCounters) -> &AtomicUsize) -> Self {
        which(live).fetch_add(1, Ordering::Relaxed);
        Counted(live.clone(), which)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::Relaxed);
    }
}

/// State handed to axum handlers.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub schema: AppSchema,
    /// Shared executions of public subscriptions.
    pub feeds: http::ws::Feeds,
    /// Cancelled when the server stops: open WebSockets close with 1001.
    pub shutdown: CancellationToken,
    /// Logged-in sockets by user, so they can be cut off.
    pub sessions: http::ws::Sessions,
}

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
        let db = db::connect(&config.database_url, config.database_pool_size).await?;
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
        let admin = Administration::new(
            db.clone(),
            clock.clone(),
            bus.clone(),
            config.backfill_settings(),
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
            db,
            clock,
            bus,
            auth,
            trading,
            admin,
            live: Arc::default(),
            leader: Arc::new(watch::channel(false).0),
            limiter,
        };
        let schema = graphql::build_schema(services.clone());
        Ok(Self {
            listener,
            state: AppState {
                services,
                schema,
                feeds: Default::default(),
                shutdown: shutdown.clone(),
                sessions: Default::default(),
            },
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
            tasks.spawn(engine::run(services.clone(), self.shutdown.clone()));
        }
        tasks.spawn(
            self.state
                .sessions
                .clone()
                .follow(services.bus.clone(), self.shutdown.clone()),
        );
        let router = http::router(self.state);
        let shutdown = self.shutdown.clone();
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
        self.shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        served
    }
}
