//! Integration tests: the real server, talked to like a client would.

mod abuse;
mod accounts;
mod admin;
mod backup;
mod client_examples;
mod faults;
mod feeds;
mod helpers;
mod hostile;
mod http;
mod market;
mod metrics;
mod migrations;
mod scale_out;
mod security;
mod trading;
mod web;
mod websocket;
