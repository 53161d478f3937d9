//! Administration. Every function takes an [`Admin`], which only [`Admin::verify`] makes: the
//! power is a value you must obtain, not a flag you remember to check. Every change writes an
//! `audit_log` row in the same transaction as the change itself.

pub mod market;
pub mod orders;
pub mod stats;
pub mod stocks;
pub mod users;

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde_json::Value;

use super::{
    Error, Result,
    auth::{AuthService, Role, Viewer},
    page::{self, Page, PageRequest},
};
use crate::{bus::SharedBus, clock::SharedClock};

/// Proof that the caller is an active admin right now (checked against the database, not
/// only the token), or the operator's command line, plus where the request came from, for the
/// audit log.
#[derive(Debug, Clone)]
pub struct Admin {
    pub actor: Actor,
    pub client_addr: Option<String>,
}

/// Who performed an admin action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An admin account.
    User(i64),
    /// The command line on a server (`zebrat market …`). Whoever runs it already holds the
    /// database credentials, so there is no account to check.
    Cli,
}

impl Actor {
    fn user_id(self) -> Option<i64> {
        match self {
            Actor::User(id) => Some(id),
            Actor::Cli => None,
        }
    }
}

/// The identifier clients see as `actorId`: the user's id, or `cli`.
impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(id) => write!(f, "{id}"),
            Actor::Cli => f.write_str("cli"),
        }
    }
}

impl Admin {
    /// The command line's authority; only the composition root's commands use it.
    pub fn command_line() -> Self {
        Admin {
            actor: Actor::Cli,
            client_addr: None,
        }
    }

    pub async fn verify(
        conn: &impl ConnectionTrait,
        viewer: Viewer,
        client_addr: Option<String>,
    ) -> Result<Self> {
        let user = entity::users::Entity::find_by_id(viewer.user_id)
            .one(conn)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| Error::Unauthenticated("account not found or deactivated".into()))?;
        if Role::parse(&user.role)? != Role::Admin {
            return Err(Error::Forbidden("this needs the ADMIN role".into()));
        }
        Ok(Admin {
            actor: Actor::User(user.id),
            client_addr,
        })
    }
}

/// The admin services. Cheap to clone.
#[derive(Clone)]
pub struct Administration {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: SharedClock,
    pub(crate) bus: SharedBus,
    /// Ends a user's sessions (password reset, deactivation).
    pub(crate) auth: AuthService,
    pub(crate) backfill: super::market::backfill::Settings,
    pub(crate) tz: chrono_tz::Tz,
    /// Which holidays and early closes the calendar computes.
    pub(crate) calendar: super::market::MarketCalendar,
    /// Drift and volatility of new stocks when the admin gives none.
    pub(crate) defaults: (f64, f64),
    /// Dropped after a stock changes, so that the next public read sees the change.
    pub(crate) board: super::market::board::QuoteBoard,
    /// Dropped with the board: a new stock's history is written with it.
    pub(crate) charts: super::market::charts::ChartCache,
}

impl Administration {
    /// Proof that `viewer` is an active admin right now (see [`Admin::verify`]).
    pub async fn verify(&self, viewer: Viewer, client_addr: Option<String>) -> Result<Admin> {
        Admin::verify(&self.db, viewer, client_addr).await
    }

    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        bus: SharedBus,
        auth: AuthService,
        config: &crate::config::Config,
        market: &super::market::Market,
    ) -> Self {
        Administration {
            db,
            clock,
            bus,
            auth,
            backfill: config.into(),
            tz: config.market_timezone,
            calendar: config.market_calendar,
            defaults: (config.default_drift, config.default_volatility),
            board: market.board(),
            charts: market.charts(),
        }
    }

    /// Hours, calendar and override as `conn` sees them.
    async fn market_config(
        &self,
        conn: &impl ConnectionTrait,
    ) -> Result<super::market::MarketConfig> {
        super::market::load_config(conn, self.tz, self.calendar).await
    }

    /// After a stock changed: this instance's quote board and charts at once, every other
    /// one's by event.
    async fn stocks_changed(&self) {
        self.board.invalidate();
        self.charts.invalidate();
        self.publish(crate::bus::Event::StocksChanged).await;
    }

    async fn publish(&self, event: crate::bus::Event) {
        if let Err(e) = self.bus.publish(event).await {
            tracing::warn!(error = %e, "publishing an admin event");
        }
    }

    /// One audit entry; None when there is none with this id.
    pub async fn audit_entry(&self, _admin: &Admin, id: i64) -> Result<Option<AuditEntry>> {
        let row = audit_log::Entity::find_by_id(id).one(&self.db).await?;
        Ok(row.map(AuditEntry::from))
    }

    /// The audit log, newest first, optionally filtered.
    pub async fn audit_log(
        &self,
        _admin: &Admin,
        action: Option<&str>,
        actor_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let mut q = audit_log::Entity::find();
        if let Some(action) = action {
            q = q.filter(audit_log::Column::Action.eq(action));
        }
        if let Some(actor) = actor_id {
            q = q.filter(audit_log::Column::ActorId.eq(actor));
        }
        page::fetch(&self.db, q, audit_log::Column::Id, page, |r| {
            Ok(AuditEntry::from(r))
        })
        .await
    }
}

/// One audited admin action.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    /// Who acted (displays as the `actorId` clients see: a user id, or `cli`).
    pub actor_id: Actor,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub client_addr: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(m: audit_log::Model) -> Self {
        // The table's check constraint pairs `actor = 'user'` with a non-NULL `actor_id`.
        let actor_id = match m.actor_id {
            Some(id) => Actor::User(id),
            None => Actor::Cli,
        };
        AuditEntry {
            id: m.id,
            actor_id,
            action: m.action,
            target_type: m.target_type,
            target_id: m.target_id,
            before: m.before,
            after: m.after,
            client_addr: m.client_addr,
            created_at: m.created_at,
        }
    }
}

/// What changed, for the audit row. Never put a password (or its hash) in here.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Writes the audit row; call inside the transaction of the change.
pub(crate) async fn audit(
    conn: &impl ConnectionTrait,
    admin: &Admin,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    audit_log::ActiveModel {
        actor_id: Set(admin.actor.user_id()),
        actor: Set(match admin.actor {
            Actor::User(_) => "user",
            Actor::Cli => "cli",
        }
        .into()),
        action: Set(change.action.into()),
        target_type: Set(change.target_type.into()),
        target_id: Set(change.target_id),
        before: Set(change.before),
        after: Set(change.after),
        client_addr: Set(admin.client_addr.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
