//! Connecting to the database and moving its schema.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// Opens a pool. SQLite gets WAL, foreign keys, a busy timeout and ONE connection: it allows a
/// single writer anyway, and one connection makes every transaction serializable. PostgreSQL
/// gets `pool_size` connections.
pub async fn connect(url: &str, pool_size: u32) -> Result<DatabaseConnection, DbErr> {
    Ok(connect_counted(url, pool_size).await?.0)
}

/// Statements run through one pool (transactions included), so tests and benchmarks can see
/// how much database work a feature does. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Statements(Arc<AtomicU64>);

impl Statements {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Like [`connect`], counting every statement.
pub async fn connect_counted(
    url: &str,
    pool_size: u32,
) -> Result<(DatabaseConnection, Statements), DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        opts.max_connections(1)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
    } else {
        opts.max_connections(pool_size.max(1))
            .min_connections(2.min(pool_size));
    }
    let mut db = Database::connect(opts).await?;
    let statements = Statements::default();
    let counter = statements.0.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        // No statement text as a label: it is unbounded (and may carry values).
        metrics::histogram!("zebrat_db_query_duration_seconds").record(info.elapsed.as_secs_f64());
        if info.failed {
            metrics::counter!("zebrat_db_query_errors_total").increment(1);
        }
    });
    Ok((db, statements))
}

/// `(in use, idle)` connections of the pool now (read on scrape; sqlx keeps both counts).
pub fn pool_connections(db: &DatabaseConnection) -> (u32, u32) {
    // The pool getters panic on the wrong backend: ask for the one this connection is.
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    (size - idle, idle)
}

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

pub async fn migrate_down(db: &DatabaseConnection, steps: Option<u32>) -> Result<(), DbErr> {
    Migrator::down(db, steps).await
}

/// `(name, applied)` for every migration the binary knows.
pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    let migrations = Migrator::get_migration_with_status(db).await?;
    Ok(migrations
        .iter()
        .map(|m| {
            (
                m.name().to_owned(),
                m.status() == migration::MigrationStatus::Applied,
            )
        })
        .collect())
}
