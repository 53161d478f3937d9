//! sea-orm entities, one file per table.
//!
//! Money columns are `BIGINT` counts of cents (suffix `_cents`): SQLite has no exact decimal
//! type, and integers keep sums and conditional updates exact in SQL on both databases.
//! The domain layer converts them to `rust_decimal::Decimal` at its edge.

pub mod audit_log;
pub mod candle_data;
pub mod cash_ledger;
pub mod cash_requests;
pub mod equity_snapshots;
pub mod market_calendar;
pub mod market_hours;
pub mod market_state;
pub mod orders;
pub mod positions;
pub mod price_ticks;
pub mod prices_live;
pub mod refresh_tokens;
pub mod stocks;
pub mod trades;
pub mod users;
