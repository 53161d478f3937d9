//! Passwords: what a new one must be, and argon2id hashing bounded so a burst of logins
//! cannot flood memory.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, LazyLock, Mutex, mpsc},
};

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use tokio::sync::Semaphore;

use crate::domain::{Error, Result};

/// Shortest password accepted at registration.
pub const MIN_PASSWORD_LEN: usize = 8;
const MAX_PASSWORD_LEN: usize = 128;

/// Checks a new password given as the input `field`; the error never echoes the password.
pub fn validate_password(field: &'static str, password: &str) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(Error::bad_input(
            field,
            format!("password must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(Error::bad_input(
            field,
            format!("password must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    if is_common_password(password) {
        return Err(Error::bad_input(
            field,
            "this password is one of the most common ones; choose another",
        ));
    }
    Ok(())
}

/// Whether `password` is on the list of most-used passwords (ignoring case).
fn is_common_password(password: &str) -> bool {
    const LIST: &str = include_str!("../common_passwords.txt");
    let candidate = password.trim().to_lowercase();
    LIST.lines()
        .filter(|line| !line.starts_with('#'))
        .any(|line| line == candidate)
}

/// Hashes running at once in this process: one per core. Each argon2id hash holds 19 MiB
/// while it runs; unbounded, 100 concurrent logins held 1.9 GB. More hashes at once would not
/// finish sooner on these cores anyway; a login waiting here costs a few bytes, not 19 MiB.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hashing_threads()));

fn hashing_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs one hash on the hashing threads once a permit is free.
async fn bounded<T: Send + 'static>(
    hash: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let _permit = HASHING.acquire().await.map_err(Error::internal)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(hash());
    });
    match &*POOL {
        Some(jobs) => jobs
            .send(job)
            .map_err(|_| Error::internal("the hashing threads are gone"))?,
        // No thread of our own could be started: the blocking pool still works.
        None => drop(tokio::task::spawn_blocking(job)),
    }
    rx.await
        .map_err(|_| Error::internal("a password hash panicked"))?
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads hashes run on, started on first use and kept: as many as permits. Not tokio's
/// blocking pool: it starts a new thread whenever none is idle at that instant, and the
/// allocator gives each new thread an arena of its own, where a finished hash's 19 MiB stays
/// (measured: with two permits on the blocking pool, 100 logins still left 314 MiB resident).
/// A fixed set of threads reuses the same few arenas.
static POOL: LazyLock<Option<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let mut started = 0;
    for i in 0..hashing_threads() {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    // The lock guard is dropped at the end of this statement, before the job.
                    let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    };
                    // A panicking hash drops its answer channel (its caller gets an error) and
                    // leaves the thread alive for the next one.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            });
        match spawned {
            Ok(_) => started += 1,
            Err(e) => tracing::error!(error = %e, "starting a password hashing thread"),
        }
    }
    (started > 0).then_some(tx)
});

/// Hashes with argon2id (19 MiB, 2 passes, 1 lane) off the async threads.
pub async fn hash_password(password: String) -> Result<String> {
    bounded(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await
}

/// Whether `password` matches the stored `hash`.
pub(super) async fn verify_password(password: String, hash: String) -> Result<bool> {
    bounded(move || {
        let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}
