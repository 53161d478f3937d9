//! Integration tests: the real server, talked to like a client would.

mod accounts;
mod helpers;
mod http;
mod migrations;
mod websocket;
