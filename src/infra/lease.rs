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
//! A leader that freezes (SIGSTOP, a stalled VM) keeps its TCP session alive, since the kernel
//! answers keepalives for a paused process, so the lock alone would stay held for ever. The
//! leader therefore checks its lease every second on the lease session itself, and that
//! session's last statement is its heartbeat: a standby that finds the lock held by a session
//! idle for longer than [`FROZEN_AFTER`] ends that backend (and any transaction of the old
//! leader idle as long under the barrier), takes the lease, and the frozen leader's writes
//! fail their fence when it wakes.
//!
//! SQLite allows one instance, so there the lease is always held.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement,
    sqlx::{self, Connection, PgConnection},
};

/// Why the lease could not be checked or taken.
#[derive(Debug, thiserror::Error)]
#[error("engine lease: {0}")]
pub struct LeaseError(String);

impl From<sea_orm::DbErr> for LeaseError {
    fn from(e: sea_orm::DbErr) -> Self {
        LeaseError(format!("database: {e}"))
    }
}

type Result<T, E = LeaseError> = std::result::Result<T, E>;

/// The advisory lock key of the engine lease ("ZEBR"): `pg_locks.objid` on the leader's
/// lease session.
pub const ENGINE_LOCK: i64 = 0x5A45_4252;
/// Taken shared by every fenced transaction and briefly exclusive by a new leader.
const BARRIER_LOCK: i64 = ENGINE_LOCK + 1;
/// A lease check that takes longer than this counts as lost.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for a whole attempt at the lease (connect, lock, barrier).
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// A leader whose lease session has been silent this long is taken for frozen: a standby ends
/// its session and takes over. The leader speaks on it every second (`still_held`).
pub const FROZEN_AFTER: Duration = Duration::from_secs(10);

/// Ends the backends of a frozen leader: the lease session, idle for `$2` seconds while holding
/// the lock, and its transactions left idle as long under the barrier (which a new leader
/// waits for). `$1` is `ENGINE_LOCK`; only sessions of this database count.
const END_FROZEN_SQL: &str = "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a \
     JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted \
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     AND l.classid::bigint = ($1::bigint >> 32) AND l.objsubid = 1 \
     AND l.objid::bigint IN ($1::bigint & 4294967295, ($1::bigint + 1) & 4294967295) \
     WHERE a.pid <> pg_backend_pid() AND a.state IN ('idle', 'idle in transaction') \
     AND a.state_change < now() - make_interval(secs => $2)";

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
            Err(LeaseError("the engine lease was lost".into()))
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
        /// The backend of a session we gave up on while it held the lock: if the server has
        /// not noticed yet, it still holds the lease, and nobody could take it.
        orphan: Option<i32>,
    },
}

/// Server-side keepalives on the lease session, so the server drops the lock of a leader that
/// vanished within about 20 s instead of the system default of hours.
const KEEPALIVES: &str = "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; \
     SET tcp_keepalives_count = 3; SET tcp_user_timeout = 10000";

impl Lease {
    /// The right kind of lease for this database.
    pub fn for_database(db: &DatabaseConnection, url: &str) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => Lease::Advisory {
                url: url.to_owned(),
                conn: None,
                held_by: None,
                orphan: None,
            },
            _ => Lease::Solo,
        }
    }

    /// Takes the lease if it is free; `Some(fence)` when this instance now holds it. Every
    /// step is bounded in time: a stuck session is dropped and the next call starts afresh.
    pub async fn try_acquire(&mut self) -> Result<Option<Fence>> {
        let Lease::Advisory {
            url,
            conn,
            held_by,
            orphan,
        } = self
        else {
            return Ok(Some(Fence::Solo));
        };
        let attempt = async {
            if conn.is_none() {
                let mut fresh = PgConnection::connect(url).await?;
                sqlx::raw_sql(KEEPALIVES).execute(&mut fresh).await?;
                *conn = Some(fresh);
            }
            let Some(session) = conn.as_mut() else {
                return Ok(None);
            };
            if let Some(pid) = *orphan {
                // Only if that backend still holds our lock (pids are reused).
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
                     AND pid = $1 AND objid::bigint = $2 AND granted AND database = \
                     (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .bind(pid)
                .bind(ENGINE_LOCK & 0xFFFF_FFFF)
                .execute(&mut *session)
                .await?;
                *orphan = None;
            }
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(ENGINE_LOCK)
                .fetch_one(&mut *session)
                .await?;
            if !got {
                // Held: by a live leader, or by a frozen one whose session has gone silent.
                let ended = sqlx::query(END_FROZEN_SQL)
                    .bind(ENGINE_LOCK)
                    .bind(FROZEN_AFTER.as_secs_f64())
                    .execute(&mut *session)
                    .await?
                    .rows_affected();
                if ended > 0 {
                    tracing::warn!(
                        sessions = ended,
                        "the engine leader was silent for {} s: its sessions were ended",
                        FROZEN_AFTER.as_secs()
                    );
                }
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
        match tokio::time::timeout(STEP_TIMEOUT, attempt).await {
            Ok(Ok(pid)) => {
                *held_by = pid;
                Ok(pid.map(|pid| Fence::Advisory { pid }))
            }
            Ok(Err(e)) => {
                // A broken session: start from a fresh one next time.
                *conn = None;
                Err(LeaseError(e.to_string()))
            }
            Err(_) => {
                *conn = None;
                Err(LeaseError(
                    "the lease session did not answer in time".into(),
                ))
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

    /// Forgets a lease found lost: its session may be half-open with the server still holding
    /// the lock, so its backend is ended from a fresh session at the next attempt.
    pub fn abandon(&mut self) {
        if let Lease::Advisory {
            conn,
            held_by,
            orphan,
            ..
        } = self
        {
            *orphan = held_by.take();
            *conn = None;
        }
    }

    /// Gives the lease up by ending its session (the server then drops the lock). If the
    /// session does not close cleanly, its backend is remembered and ended from a fresh
    /// session at the next attempt.
    pub async fn release(&mut self) {
        if let Lease::Advisory {
            conn,
            held_by,
            orphan,
            ..
        } = self
        {
            let pid = held_by.take();
            if let Some(session) = conn.take() {
                let closed = tokio::time::timeout(CHECK_TIMEOUT, session.close()).await;
                if !matches!(closed, Ok(Ok(()))) {
                    *orphan = pid;
                }
            }
        }
    }
}
