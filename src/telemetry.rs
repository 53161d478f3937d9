//! Logging setup: `RUST_LOG` filters (SQL statement logs stay quiet by default), and
//! `LOG_FORMAT` picks readable lines or one JSON object per line.
//!
//! Every HTTP request runs in a `request` span carrying its id, method, path and client (and,
//! once known, the GraphQL operation and the user): in both formats each line logged while
//! serving it carries those fields.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, with the current span's fields, for log collectors.
    Json,
}

impl LogFormat {
    /// `LOG_FORMAT` from the environment, read before the configuration is (its errors are
    /// logged); an invalid value falls back to text here and is refused by the configuration.
    pub fn from_env() -> Self {
        std::env::var("LOG_FORMAT")
            .ok()
            .and_then(|v| <Self as clap::ValueEnum>::from_str(v.trim(), true).ok())
            .unwrap_or_default()
    }
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Text => registry
            .with(fmt::layer().with_target(false).with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    // Every enclosing span, not only the innermost: the request id lives on
                    // the outer `request` span.
                    .with_current_span(false)
                    .with_span_list(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
}
