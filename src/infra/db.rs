//! Connecting to the database and moving its schema.

use std::{
    path::{Path, PathBuf},
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

/// Prepared statements each PostgreSQL connection keeps.
const PREPARED_PER_CONNECTION: usize = 500;

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
            .min_connections(2.min(pool_size))
            // Prepared statements kept per connection (sqlx's default is 100): multi-row
            // inserts have one text per row count, and a statement evicted is parsed and
            // planned again on its next use.
            .map_sqlx_postgres_opts(|o| o.statement_cache_capacity(PREPARED_PER_CONNECTION));
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

/// Why a command that needs an existing database could not open one.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "no SQLite database at {path} (DATABASE_URL={url}); run the command where the server's \
         database is, or point DATABASE_URL at it (e.g. DATABASE_URL=sqlite:///var/lib/zebrat/zebrat.db); \
         `zebrat migrate up` creates a new one"
    )]
    Missing { path: PathBuf, url: String },
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// The file a `sqlite:` URL names, made absolute against the current folder; `None` for other
/// databases and for in-memory SQLite.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or_default();
    if file.is_empty() || file == ":memory:" {
        return None;
    }
    let file = Path::new(file);
    Some(std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()))
}

/// Opens a database that must already exist, never creating one: every command but `serve`
/// and `migrate` connects through here, so running one from the wrong folder names the
/// missing file instead of leaving an empty `zebrat.db` behind (the default URL says
/// `mode=rwc`, which would create it).
pub async fn connect_existing(url: &str, pool_size: u32) -> Result<DatabaseConnection, OpenError> {
    let Some(path) = sqlite_path(url) else {
        return Ok(connect(url, pool_size).await?);
    };
    if !path.is_file() {
        return Err(OpenError::Missing {
            path,
            url: crate::config::redact_url(url),
        });
    }
    Ok(connect(&without_create(url), pool_size).await?)
}

/// The SQLite URL with `mode=rw` in place of any `mode=`: the file must exist.
fn without_create(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .chain(["mode=rw"])
        .collect();
    format!("{base}?{}", params.join("&"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        let cwd = std::env::current_dir().unwrap_or_default();
        assert_eq!(
            sqlite_path("sqlite://zebrat.db?mode=rwc"),
            Some(cwd.join("zebrat.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/zebrat/z.db"),
            Some(PathBuf::from("/var/lib/zebrat/z.db"))
        );
        assert_eq!(sqlite_path("sqlite:z.db"), Some(cwd.join("z.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://u:p@h/db"), None);
    }

    #[test]
    fn opening_never_asks_to_create() {
        assert_eq!(
            without_create("sqlite://zebrat.db?mode=rwc"),
            "sqlite://zebrat.db?mode=rw"
        );
        assert_eq!(
            without_create("sqlite:///a.db?cache=shared&mode=rwc"),
            "sqlite:///a.db?cache=shared&mode=rw"
        );
        assert_eq!(without_create("sqlite:///a.db"), "sqlite:///a.db?mode=rw");
    }
}
