//! Who is connected (WebSockets and event streams): lets the server end every connection of a
//! user at once (deactivation, role change, logout everywhere, password reset) and count open
//! subscriptions for the admin statistics.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio_util::sync::CancellationToken;

use crate::bus::{self, Delivery, Event, SharedBus};

/// Why a user's sockets are ended; each maps to its own close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutOff {
    /// Their sessions were revoked (logout everywhere, password reset): log in again (4401).
    Revoked,
    /// The account was deactivated or its role changed (4403).
    Disabled,
}

/// One socket's cut-off signal, and why it fired.
#[derive(Clone, Default)]
struct Signal {
    token: CancellationToken,
    why: Arc<OnceLock<CutOff>>,
}

type ByUser = HashMap<i64, HashMap<u64, Signal>>;

#[derive(Default, Clone)]
pub struct Sessions {
    by_user: Arc<Mutex<ByUser>>,
    next_id: Arc<AtomicU64>,
}

/// Registration of one authenticated socket; dropping it deregisters.
pub struct Session {
    sessions: Sessions,
    user_id: i64,
    id: u64,
    signal: Signal,
}

impl Session {
    /// Whose connection this is.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// Completes when the user's sockets are cut off, with the reason.
    pub async fn cut_off(&self) -> CutOff {
        self.signal.token.cancelled().await;
        // Set before the token is cancelled; the default only guards a broken invariant.
        self.signal.why.get().copied().unwrap_or(CutOff::Disabled)
    }
}

impl Sessions {
    /// Registers a socket of `user_id`, unless they already have `most` open here.
    pub fn register(&self, user_id: i64, most: usize) -> Option<Session> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let signal = Signal::default();
        let mut by_user = self.lock();
        let sockets = by_user.entry(user_id).or_default();
        if sockets.len() >= most {
            return None;
        }
        sockets.insert(id, signal.clone());
        drop(by_user);
        Some(Session {
            sessions: self.clone(),
            user_id,
            id,
            signal,
        })
    }

    /// Ends every socket of `user_id` on this instance.
    pub fn cut_off(&self, user_id: i64, why: CutOff) {
        if let Some(sockets) = self.lock().remove(&user_id) {
            tracing::info!(
                user_id,
                sockets = sockets.len(),
                ?why,
                "closing the sockets of a user"
            );
            for signal in sockets.into_values() {
                let _ = signal.why.set(why);
                signal.token.cancel();
            }
        }
    }

    /// Cuts users off as `UserDisabled` and `SessionsRevoked` events arrive (from any
    /// instance), until `shutdown`.
    pub async fn follow(self, bus: SharedBus, shutdown: CancellationToken) {
        bus::follow(bus.as_ref(), &shutdown, |delivery| match delivery {
            Delivery::Event(e) => match *e {
                Event::UserDisabled { user_id } => self.cut_off(user_id, CutOff::Disabled),
                Event::SessionsRevoked { user_id } => self.cut_off(user_id, CutOff::Revoked),
                _ => {}
            },
            // Skipped events may have ended sessions; the tokens of those sockets are refused
            // from now on, so their next reconnect fails, but open sockets stay open until
            // they close or their token expires.
            Delivery::Missed(n) => tracing::warn!(skipped = n, "session follower lagged"),
        })
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ByUser> {
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
