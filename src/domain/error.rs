//! The one error type of the domain; every variant a client can act on has a stable code.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    BadInput {
        message: String,
        field: Option<&'static str>,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("{0}")]
    InsufficientShares(String),
    /// The stock is inactive: no ticks, no new orders.
    #[error("{0}")]
    StockHalted(String),
    /// Anything the client cannot fix; the detail is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The `extensions.code` clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::BadInput { .. } => "BAD_USER_INPUT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::Conflict(_) => "CONFLICT",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::InsufficientFunds(_) => "INSUFFICIENT_FUNDS",
            Error::InsufficientShares(_) => "INSUFFICIENT_SHARES",
            Error::StockHalted(_) => "STOCK_HALTED",
            Error::Internal(_) => "INTERNAL",
        }
    }

    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        Error::BadInput {
            message: message.into(),
            field: Some(field),
        }
    }

    /// True for a database that was busy (SQLite's write lock held by another connection): the
    /// same command may succeed when tried again.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Internal(m) if m.contains("database is locked")
            || m.contains("(code: 5)")
            || m.contains("(code: 517)"))
    }

    pub fn internal(source: impl std::fmt::Display) -> Self {
        Error::Internal(source.to_string())
    }

    /// Maps a unique-constraint violation to `Conflict(message)`, anything else to `Internal`.
    pub fn conflict_on_unique(err: DbErr, message: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(message.into()),
            _ => Error::from(err),
        }
    }
}

impl From<crate::infra::ratelimit::RateLimited> for Error {
    fn from(e: crate::infra::ratelimit::RateLimited) -> Self {
        Error::RateLimited {
            retry_after_secs: e.retry_after_secs,
        }
    }
}

impl From<crate::infra::lease::LeaseError> for Error {
    fn from(e: crate::infra::lease::LeaseError) -> Self {
        Error::internal(e)
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::Internal(format!("database: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_database_is_busy_and_other_failures_are_not() {
        let locked = Error::from(DbErr::Custom(
            "error returned from database: (code: 5) database is locked".into(),
        ));
        assert!(locked.is_busy());
        assert!(!Error::from(DbErr::Custom("no such table: users".into())).is_busy());
        assert!(!Error::Conflict("database is locked".into()).is_busy());
    }
}
