//! Whole-database backups and restoring one (`zebrat backup` / `zebrat restore`).
//!
//! PostgreSQL goes through its own tools, `pg_dump -Fc` and `pg_restore`, so a backup is the
//! standard custom-format archive any PostgreSQL operator can inspect and restore by hand.
//! SQLite is copied with `VACUUM INTO`: a consistent snapshot taken inside one read
//! transaction, safe while a server writes (WAL lets the writer go on).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use sea_orm::{
    ConnectionTrait, DbErr, Statement,
    sqlx::{
        self, Connection,
        sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode},
    },
};

use super::db;
use crate::config::redact_url;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Open(#[from] db::OpenError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("SQLite: {0}")]
    Sqlite(#[from] sqlx::Error),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} already exists; choose another --out or remove it first")]
    Exists(PathBuf),
    #[error(
        "{0} not found: install the PostgreSQL client tools (Debian: apt-get install \
         postgresql-client, the server's major version or newer), or put their folder on PATH; \
         `pg_config --bindir` is tried too"
    )]
    ToolMissing(&'static str),
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        tool: &'static str,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("an in-memory SQLite database ({0}) has nothing to back up or restore")]
    InMemory(String),
    #[error("{0} is not a usable backup for this database: {1}")]
    NotABackup(PathBuf, String),
    #[error(
        "{0} is in use ({1}); stop every zebrat server on it first (systemctl stop 'zebrat-*'), \
         then restore, then start them again"
    )]
    InUse(String, String),
}

/// Writes a backup of the database at `url` to `out`, which must not exist yet. The archive
/// appears under its name only when complete (it is written beside it, then renamed).
pub async fn backup(url: &str, out: &Path) -> Result<(), BackupError> {
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    in_memory_check(url)?;
    let partial = sibling(out, "partial");
    let written = match db::sqlite_path(url) {
        Some(path) => sqlite_backup(url, &path, &partial).await,
        None => pg_dump(url, &partial).await,
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, out).map_err(|source| BackupError::File {
        path: out.to_path_buf(),
        source,
    })
}

/// Replaces the database at `url` with the backup in `file`. Refuses while anything else is
/// connected to the database: a running server would keep serving from caches of the old
/// data, and on SQLite keep writing to a file no longer there.
pub async fn restore(url: &str, file: &Path) -> Result<(), BackupError> {
    in_memory_check(url)?;
    if !file.is_file() {
        return Err(BackupError::NotABackup(
            file.to_path_buf(),
            "no such file".into(),
        ));
    }
    match db::sqlite_path(url) {
        Some(path) => sqlite_restore(&path, file).await,
        None => pg_restore(url, file).await,
    }
}

/// Every `sqlite:` URL without a file (`sqlite::memory:`) would otherwise be taken for
/// PostgreSQL below.
fn in_memory_check(url: &str) -> Result<(), BackupError> {
    if url.starts_with("sqlite:") && db::sqlite_path(url).is_none() {
        return Err(BackupError::InMemory(url.to_owned()));
    }
    Ok(())
}

/// `name.ext` → `name.ext.<tag>-<pid>` in the same folder, so a rename onto `name.ext` stays
/// on one file system and is atomic.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{tag}-{}", std::process::id()));
    path.with_file_name(name)
}

async fn sqlite_open(path: &Path, exclusive: bool) -> Result<SqliteConnection, BackupError> {
    let mut opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false);
    if exclusive {
        // A server holds its file open in WAL mode, which keeps a shared lock on it for the
        // connection's life: an exclusive lock is then refused, after this short wait.
        opts = opts
            .locking_mode(SqliteLockingMode::Exclusive)
            .busy_timeout(Duration::from_secs(1));
    }
    Ok(SqliteConnection::connect_with(&opts).await?)
}

async fn sqlite_backup(url: &str, path: &Path, out: &Path) -> Result<(), BackupError> {
    if !path.is_file() {
        return Err(db::OpenError::Missing {
            path: path.to_path_buf(),
            url: redact_url(url),
        }
        .into());
    }
    let mut conn = sqlite_open(path, false).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(out.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

async fn sqlite_restore(path: &Path, file: &Path) -> Result<(), BackupError> {
    if path.exists() {
        let mut conn = sqlite_open(path, true).await?;
        if let Err(e) = sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await {
            return Err(BackupError::InUse(
                path.display().to_string(),
                e.to_string(),
            ));
        }
        sqlx::query("ROLLBACK").execute(&mut conn).await?;
        // The last connection to close checkpoints the WAL into the file and removes it.
        conn.close().await?;
    }
    // Checked on a copy, so the backup file itself is never opened for writing.
    let staged = sibling(path, "restoring");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::File { path, source }
    };
    std::fs::copy(file, &staged).map_err(io(&staged))?;
    if let Err(e) = sqlite_check(&staged).await {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", staged.display()));
        }
        return Err(BackupError::NotABackup(file.to_path_buf(), e.to_string()));
    }
    // A WAL left by a crashed server belongs to the old file: it must not be replayed onto
    // the restored one.
    for suffix in ["-wal", "-shm"] {
        let stale = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&stale)(e)),
            _ => {}
        }
    }
    std::fs::rename(&staged, path).map_err(io(path))
}

/// The file is an intact SQLite database with zebrat's migration table.
async fn sqlite_check(path: &Path) -> Result<(), BackupError> {
    let mut conn = sqlite_open(path, false).await?;
    let (verdict,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    let migrations: Result<(i64,), _> = sqlx::query_as("SELECT count(*) FROM seaql_migrations")
        .fetch_one(&mut conn)
        .await;
    conn.close().await?;
    match (verdict.as_str(), migrations) {
        ("ok", Ok(_)) => Ok(()),
        ("ok", Err(_)) => Err(BackupError::NotABackup(
            path.to_path_buf(),
            "no seaql_migrations table: not a zebrat database".into(),
        )),
        (problem, _) => Err(BackupError::NotABackup(
            path.to_path_buf(),
            format!("integrity check: {problem}"),
        )),
    }
}

/// A PostgreSQL client tool: from PATH, else from `pg_config --bindir`.
fn pg_tool(name: &'static str) -> Result<PathBuf, BackupError> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if let Some(tool) = on_path {
        return Ok(tool);
    }
    // pg_config failing to run, or being absent, means the same as the tool being absent.
    match std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        Ok(o) if o.status.success() => {
            let tool = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join(name);
            if tool.is_file() {
                Ok(tool)
            } else {
                Err(BackupError::ToolMissing(name))
            }
        }
        _ => Err(BackupError::ToolMissing(name)),
    }
}

/// Splits the password out of a connection URL, so it reaches the tool as `PGPASSWORD` rather
/// than on a command line every local user can read in `ps`.
fn libpq_target(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_owned(), None);
    };
    let Some((user, password)) = rest[..at].split_once(':') else {
        return (url.to_owned(), None);
    };
    (
        format!("{scheme}://{user}{}", &rest[at..]),
        Some(percent_decode(password)),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn run_pg_tool(tool: &'static str, url: &str, args: &[&str]) -> Result<(), BackupError> {
    let program = pg_tool(tool)?;
    let (target, password) = libpq_target(url);
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .arg(format!("--dbname={target}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let output = cmd.output().await.map_err(|source| BackupError::File {
        path: PathBuf::from(tool),
        source,
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(BackupError::ToolFailed {
            tool,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

async fn pg_dump(url: &str, out: &Path) -> Result<(), BackupError> {
    let out = out.to_string_lossy();
    // Custom format (compressed, restorable table by table); owners and grants are left out
    // so the archive restores under whatever role the target host uses.
    run_pg_tool(
        "pg_dump",
        url,
        &[
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            &out,
        ],
    )
    .await
}

async fn pg_restore(url: &str, file: &Path) -> Result<(), BackupError> {
    let mut magic = [0u8; 5];
    let header =
        std::fs::File::open(file).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
    if header.is_err() || &magic != b"PGDMP" {
        return Err(BackupError::NotABackup(
            file.to_path_buf(),
            "not a pg_dump custom-format archive".into(),
        ));
    }
    let conn = db::connect(url, 1).await?;
    let others = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let name = redact_url(url);
    conn.close().await?;
    if others > 0 {
        return Err(BackupError::InUse(
            name,
            format!("{others} other session(s) connected"),
        ));
    }
    let file = file.to_string_lossy();
    // One transaction: a restore that fails half-way leaves the database as it was.
    run_pg_tool(
        "pg_restore",
        url,
        &[
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            &file,
        ],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(
            libpq_target("postgres://zebrat:s%40cret@db:5432/zebrat?sslmode=require"),
            (
                "postgres://zebrat@db:5432/zebrat?sslmode=require".to_owned(),
                Some("s@cret".to_owned())
            )
        );
        assert_eq!(
            libpq_target("postgres://postgres@127.0.0.1/test"),
            ("postgres://postgres@127.0.0.1/test".to_owned(), None)
        );
    }

    #[test]
    fn partial_files_sit_beside_the_target() {
        let p = sibling(Path::new("/srv/b/zebrat.dump"), "partial");
        assert_eq!(p.parent(), Some(Path::new("/srv/b")));
        assert!(
            p.to_string_lossy()
                .starts_with("/srv/b/zebrat.dump.partial-")
        );
    }
}
