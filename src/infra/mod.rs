//! Infrastructure the rules run on: the database connection, the engine lease and its fence,
//! rate limits, retrying failed steps, the local secret file and the metrics recorder. Knows
//! no transport and no business rule.

pub mod backup;
pub mod db;
pub mod lease;
pub mod local_secret;
pub mod metrics;
pub mod ratelimit;
pub mod retry;
