//! Who is connected: lets the server end every socket of a user at once (deactivation, role
//! change, password reset) and count open subscriptions for the admin statistics.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio_util::sync::CancellationToken;

use crate::bus::{Event, SharedBus};

#[derive(Default, Clone)]
pub struct Sessions {
    by_user: Arc<Mutex<HashMap<i64, HashMap<u64, CancellationToken>>>>,
    next_id: Arc<AtomicU64>,
}

/// Registration of one authenticated socket; dropping it deregisters.
pub struct Session {
    sessions: Sessions,
    user_id: i64,
    id: u64,
    pub cut_off: CancellationToken,
}

impl Sessions {
    /// Registers a socket of `user_id`, unless they already have `most` open here.
    pub fn register(&self, user_id: i64, most: usize) -> Option<Session> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let cut_off = CancellationToken::new();
        let mut by_user = self.lock();
        let sockets = by_user.entry(user_id).or_default();
        if sockets.len() >= most {
            return None;
        }
        sockets.insert(id, cut_off.clone());
        drop(by_user);
        Some(Session {
            sessions: self.clone(),
            user_id,
            id,
            cut_off,
        })
    }

    /// Ends every socket of `user_id` on this instance.
    pub fn cut_off(&self, user_id: i64) {
        if let Some(sockets) = self.lock().remove(&user_id) {
            tracing::info!(
                user_id,
                sockets = sockets.len(),
                "closing the sockets of a user"
            );
            for token in sockets.into_values() {
                token.cancel();
            }
        }
    }

    /// Cuts users off as `UserDisabled` events arrive (from any instance), until `shutdown`.
    pub async fn follow(self, bus: SharedBus, shutdown: CancellationToken) {
        let mut events = bus.subscribe();
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => return,
                e = events.recv() => e,
            };
            match event {
                Ok(e) => {
                    if let Event::UserDisabled { user_id } = *e {
                        self.cut_off(user_id);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "session follower lagged");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, HashMap<u64, CancellationToken>>> {
        self.by_user.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut by_user = self.sessions.lock();
        if let Some(sockets) = by_user.get_mut(&self.user_id) {
            sockets.remove(&self.id);
            if sockets.is_empty() {
                by_user.remove(&self.user_id);
            }
        }
    }
}
