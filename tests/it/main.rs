//! Integration tests: the real server, talked to like a client would.

mod abuse;
mod accounts;
mod admin;
mod backup;
mod client_caches;
mod client_examples;
mod cost;
mod faults;
mod feeds;
mod helpers;
mod hostile;
mod http;
mod market;
mod market_data;
mod metrics;
mod migrations;
mod nodes;
mod operations;
mod persisted;
mod scale_out;
mod schema_docs;
mod security;
mod sse;
mod trading;
mod web;
mod websocket;
