//! Integration tests: the real server, talked to like a client would.

mod abuse;
mod accounts;
mod admin;
mod client_examples;
mod feeds;
mod helpers;
mod hostile;
mod http;
mod market;
mod migrations;
mod scale_out;
mod security;
mod trading;
mod websocket;
