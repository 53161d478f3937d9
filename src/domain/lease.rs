//! The engine lease: the engine (ticks, candles, scheduler, queued orders) runs on exactly
//! one instance at a time.
//!
//! On PostgreSQL the lease is a session-level advisory lock held on a connection of its own.
//! The lock lives in the database the engine writes to, so leadership follows the data: a
//! leader that can no longer reach PostgreSQL loses it (the server ends its session), and a
//! Redis outage does not stop the market. Every engine transaction starts with a [`Fence`]
//! check, so a leader that lost its lease cannot commit another write; a new leader first
//! waits for any such transaction still in flight (the barrier lock) before it starts.
//!
//! SQLite allows one instance, so there the lease is always held.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement,
    sqlx::{self, Connection, PgConnection},
};

use super::{Error, Result};

/// The advisory lock key of the engine lease ("ZEBR"): `pg_locks.objid` on the leader's
/// lease session.
pub const ENGINE_LOCK: i64 = 0x5A45_4252;
/// Taken shared by every fenced transaction and briefly exclusive by a new leader.
const BARRIER_LOCK: i64 = ENGINE_LOCK + 1;
/// A lease check that takes longer than this counts as lost.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Is the lease still granted to backend `$1`? (`$2` is `ENGINE_LOCK`; a bigint key shows in
/// pg_locks as classid = high 32 bits, objid = low 32 bits.)
const HELD_SQL: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
     AND classid::bigint = $2 >> 32 AND objid::bigint = $2 & 4294967295 AND objsubid = 1 \
     AND pid = $1 AND granted)";

/// Proof, checked inside each engine transaction, that this instance still holds the lease.
#[derive(Debug, Clone)]
pub enum Fence {
    /// A single instance (SQLite): always valid.
    Solo,
    /// The advisory lock is held by the PostgreSQL backend with this pid.
    Advisory { pid: i32 },
}

impl Fence {
    /// Fails unless the lease is still held. Call first thing in the transaction it guards.
    pub async fn check(&self, txn: &impl ConnectionTrait) -> Result<()> {
        let Fence::Advisory { pid } = self else {
            return Ok(());
        };
        let backend = DbBackend::Postgres;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock_shared($1)",
            [BARRIER_LOCK.into()],
        ))
        .await?;
        let held = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                HELD_SQL,
                [(*pid).into(), ENGINE_LOCK.into()],
            ))
            .await?
            .map(|row| row.try_get_by_index::<bool>(0))
            .transpose()?
            .unwrap_or(false);
        if held {
            Ok(())
        } else {
            Err(Error::internal("the engine lease was lost"))
        }
    }
}

/// This instance's claim on the engine lease.
pub enum Lease {
    Solo,
    Advisory {
        url: String,
        /// The session holding (or trying for) the lock; reopened after errors.
        conn: Option<PgConnection>,
        /// Backend pid while the lock is held.
        held_by: Option<i32>,
    },
}

impl Lease {
    /// The right kind of lease for this database.
    pub fn for_database(db: &DatabaseConnection, url: &str) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => Lease::Advisory {
                url: url.to_owned(),
                conn: None,
                held_by: None,
            },
            _ => Lease::Solo,
        }
    }

    /// Takes the lease if it is free; `Some(fence)` when this instance now holds it.
    pub async fn try_acquire(&mut self) -> Result<Option<Fence>> {
        let Lease::Advisory { url, conn, held_by } = self else {
            return Ok(Some(Fence::Solo));
        };
        if conn.is_none() {
            *conn = Some(PgConnection::connect(url).await.map_err(Error::internal)?);
        }
        let Some(session) = conn.as_mut() else {
            return Ok(None);
        };
        let attempt = async {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(ENGINE_LOCK)
                .fetch_one(&mut *session)
                .await?;
            if !got {
                return Ok(None);
            }
            // Let a fenced transaction of the previous leader finish before we start.
            for barrier in [
                "SELECT pg_advisory_lock($1)",
                "SELECT pg_advisory_unlock($1)",
            ] {
                sqlx::query(barrier)
                    .bind(BARRIER_LOCK)
                    .execute(&mut *session)
                    .await?;
            }
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&mut *session)
                .await?;
            Ok::<_, sqlx::Error>(Some(pid))
        };
        match attempt.await {
            Ok(pid) => {
                *held_by = pid;
                Ok(pid.map(|pid| Fence::Advisory { pid }))
            }
            Err(e) => {
                // A broken session: start from a fresh one next time.
                *conn = None;
                Err(Error::internal(e))
            }
        }
    }

    /// Whether the lease is still ours (false when its session is gone or slow to answer).
    pub async fn still_held(&mut self) -> bool {
        let Lease::Advisory {
            conn: Some(session),
            held_by: Some(pid),
            ..
        } = self
        else {
            return matches!(self, Lease::Solo);
        };
        let check = sqlx::query_scalar::<_, bool>(HELD_SQL)
            .bind(*pid)
            .bind(ENGINE_LOCK)
            .fetch_one(&mut *session);
        matches!(
            tokio::time::timeout(CHECK_TIMEOUT, check).await,
            Ok(Ok(true))
        )
    }

    /// Gives the lease up by ending its session (the server then drops the lock).
    pub async fn release(&mut self) {
        if let Lease::Advisory { conn, held_by, .. } = self {
            *held_by = None;
            if let Some(session) = conn.take() {
                let _ = tokio::time::timeout(CHECK_TIMEOUT, session.close()).await;
            }
        }
    }
}
