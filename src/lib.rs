//! Zebrat: a stock-trading simulator served as a GraphQL API with live subscriptions.

pub mod app;
pub mod bus;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod graphql;
pub mod http;
pub mod infra;
pub mod services;
pub mod telemetry;

pub use app::Application;
pub use config::Config;
