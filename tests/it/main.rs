//! Integration tests: the real server, talked to like a client would.

mod accounts;
mod feeds;
mod helpers;
mod http;
mod market;
mod migrations;
mod trading;
mod websocket;
