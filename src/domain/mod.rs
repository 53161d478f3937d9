//! Business rules by area. Plain Rust over sea-orm; knows nothing of GraphQL or HTTP.

pub mod admin;
pub mod auth;
pub mod equity;
pub mod error;
pub mod events;
pub mod market;
pub mod money;
pub mod page;
pub mod seed;
pub mod text;
pub mod trading;

pub use error::{Error, Result};
