//! What every scenario's clients share: GraphQL over HTTP and over `graphql-transport-ws`, from
//! a source address of their own, with the retries a real client makes.
//!
//! Each simulated client connects from its own loopback address (127.0.0.0/8 all routes to
//! this host on Linux), so the server's per-address limits (sockets, connections, cost budget)
//! apply per simulated client as they would in production, instead of to the tool as a whole.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Socket = WebSocketStream<tokio::net::TcpStream>;

/// Where the server is.
#[derive(Clone, Debug)]
pub struct Target {
    /// `http://host:port`, no path.
    pub base: String,
    pub addr: SocketAddr,
    /// Spread clients over loopback source addresses (only when the server is on loopback).
    pub spread: bool,
}

impl Target {
    pub fn new(url: &str) -> Result<Self, Error> {
        let base = url.trim_end_matches('/').to_string();
        let host_port = base
            .strip_prefix("http://")
            .ok_or("--url must be http://host:port")?;
        let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(host_port)?
            .next()
            .ok_or("--url does not resolve")?;
        Ok(Target {
            spread: addr.ip().is_loopback(),
            base,
            addr,
        })
    }

    pub fn graphql(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// The source address of simulated client `i`: 127.1.0.1, 127.1.0.2, … (never 127.0.0.1,
    /// which the operator's own tools use).
    pub fn source(&self, i: usize) -> Option<IpAddr> {
        if !self.spread {
            return None;
        }
        let n = i as u32 + 1;
        Some(IpAddr::V4(Ipv4Addr::new(
            127,
            1 + (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        )))
    }

    /// An HTTP client for simulated client `i`, keeping `connections` connections alive.
    pub fn http(&self, i: usize, connections: usize) -> Result<reqwest::Client, Error> {
        let mut b = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30));
        if let Some(ip) = self.source(i) {
            b = b.local_address(ip);
        }
        Ok(b.build()?)
    }
}

/// One GraphQL request; a `RATE_LIMITED` answer is retried after its `Retry-After` (up to five
/// times), as a well-behaved client does. Transport errors are returned.
pub async fn gql(
    http: &reqwest::Client,
    target: &Target,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value, Error> {
    for attempt in 0.. {
        let mut req = http
            .post(target.graphql())
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let answer = req.send().await?;
        let wait = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let body: Value = answer.json().await?;
        if attempt < 5 && error_code(&body) == Some("RATE_LIMITED") {
            tokio::time::sleep(Duration::from_secs(wait.unwrap_or(1).clamp(1, 30))).await;
            continue;
        }
        return Ok(body);
    }
    unreachable!("the loop returns")
}

/// The first top-level error's code, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// A customer of its own: registered, funded with `deposit` dollars; returns its access token.
pub async fn customer(
    http: &reqwest::Client,
    target: &Target,
    tag: &str,
    i: usize,
    deposit: u64,
) -> Result<String, Error> {
    const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { accessToken userErrors { code message } } }";
    const DEPOSIT: &str = "mutation($i: CashInput!) { deposit(input: $i) { cash { balance } userErrors { code message } } }";
    let email = format!("load-{tag}-{i}@example.com");
    let input = json!({ "i": { "email": email, "password": "load test password", "name": format!("Load {i}") } });
    let answer = gql(http, target, None, REGISTER, input).await?;
    let token = answer["data"]["register"]["accessToken"]
        .as_str()
        .ok_or_else(|| format!("register failed: {answer}"))?
        .to_string();
    let funded = gql(
        http,
        target,
        Some(&token),
        DEPOSIT,
        json!({ "i": { "amount": deposit.to_string() } }),
    )
    .await?;
    if funded["data"]["deposit"]["cash"].is_null() {
        return Err(format!("deposit failed: {funded}").into());
    }
    Ok(token)
}

/// The active stocks' ids and symbols.
pub async fn stocks(
    http: &reqwest::Client,
    target: &Target,
) -> Result<Vec<(String, String)>, Error> {
    let answer = gql(http, target, None, "{ stocks { id symbol } }", json!({})).await?;
    let list = answer["data"]["stocks"]
        .as_array()
        .ok_or_else(|| format!("stocks failed: {answer}"))?;
    Ok(list
        .iter()
        .filter_map(|s| {
            Some((
                s["id"].as_str()?.to_string(),
                s["symbol"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// Fails unless the market is open: every scenario needs tick rounds.
pub async fn require_open_market(http: &reqwest::Client, target: &Target) -> Result<(), Error> {
    let answer = gql(http, target, None, "{ marketState { isOpen } }", json!({})).await?;
    match answer["data"]["marketState"]["isOpen"].as_bool() {
        Some(true) => Ok(()),
        Some(false) => {
            Err("the market is closed: open it (`zebrat market open`) and run again".into())
        }
        None => Err(format!("marketState failed: {answer}").into()),
    }
}

/// A `graphql-transport-ws` socket from client `i`'s address, initialised (with `token` when
/// given) and acknowledged.
pub async fn socket(target: &Target, i: usize, token: Option<&str>) -> Result<Socket, Error> {
    let tcp = match target.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = target.source(i) {
        tcp.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = tcp.connect(target.addr).await?;
    let url = format!("ws{}/graphql/ws", target.base.trim_start_matches("http"));
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 4096;
    config.write_buffer_size = 0;
    let (mut ws, _) = client_async_with_config(request, stream, Some(config)).await?;
    let payload = match token {
        Some(t) => json!({ "authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": payload }).to_string(),
    ))
    .await?;
    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) if t.contains("connection_ack") => Ok(ws),
        other => Err(format!("no connection_ack: {other:?}").into()),
    }
}

/// Starts subscription `id` with `query` on `ws`.
pub async fn subscribe(
    ws: &mut Socket,
    id: &str,
    query: &str,
    variables: Value,
) -> Result<(), Error> {
    ws.send(Message::text(
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
            .to_string(),
    ))
    .await?;
    Ok(())
}

/// Backoff before reconnect number `attempt` (from 0): 100 ms doubling to 5 s, with jitter.
pub fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(6)).min(5000);
    Duration::from_millis(base / 2 + rand::random_range(0..=base / 2))
}

/// The server's resident memory in KiB, when its process id is known and local.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
