//! Infrastructure the rules run on: the database connection, the engine lease and its fence,
//! rate limits, and retrying failed steps. Knows no transport and no business rule.

pub mod backup;
pub mod db;
pub mod lease;
pub mod ratelimit;
pub mod retry;
