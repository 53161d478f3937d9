//! Abuse found by attacking a running server (issue #19): numbers that overflowed, slow and
//! silent connections, hashing floods, targeted lockouts, idle sockets, and the smaller gaps.
//! Tests that need many clients use loopback source addresses (127.0.0.N).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::{TestApp, code, spawn_app, spawn_app_with, user_error};

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
/// Beyond `Decimal`'s range once multiplied into cents.
const HUGE: &str = "1000000000000000000000000000";

/// A TCP connection to `app` from 127.0.0.`n`.
async fn connect_from(app: &TestApp, n: u8) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, n], 0))).unwrap();
    socket.connect(app.addr).await.unwrap()
}

/// An HTTP client whose connections come from 127.0.0.`n`.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .unwrap()
}

async fn gql_from(app: &TestApp, client: &reqwest::Client, query: &str, vars: Value) -> Value {
    client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .expect("an answer, not a dropped connection")
        .json()
        .await
        .unwrap()
}

async fn login_from(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Value {
    let vars = json!({ "i": { "email": email, "password": password } });
    gql_from(app, client, LOGIN, vars).await
}

/// Whether the server closes `stream` (EOF or reset) within `wait`; anything it sends before
/// (a 408, say) is skipped.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Sends a bare `GET /health` on `stream` and returns the response head.
async fn get_health(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: zebrat\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A `graphql-transport-ws` socket from 127.0.0.`n` (not initialised).
async fn ws_from(app: &TestApp, n: u8) -> Result<WebSocketStream<TcpStream>, tungstenite::Error> {
    let stream = connect_from(app, n).await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    client_async(request, stream).await.map(|(ws, _)| ws)
}

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

// Finding 4: a number too big for the cents conversion panicked the handler.
#[tokio::test]
async fn huge_amounts_are_out_of_range_on_http_and_websocket() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    let out_of_range = |r: &Value, field: &str| {
        assert_eq!(user_error(r, field), Some("BAD_USER_INPUT"), "{field}: {r}");
        let message = r["data"][field]["userErrors"][0]["message"]
            .as_str()
            .unwrap();
        assert!(message.contains("out of range"), "{field}: {r}");
    };
    for field in ["deposit", "withdraw"] {
        let query = format!(
            "mutation($a: Decimal!) {{ {field}(input: {{amount: $a}}) {{ cash {{ balance }} userErrors {{ code field message }} }} }}"
        );
        let r = app.gql_as(&demo.access, &query, json!({ "a": HUGE })).await;
        out_of_range(&r, field);
        assert!(r["data"][field]["cash"].is_null(), "{field}: {r}");
    }
    let admin = app.admin().await;
    let create = "mutation($i: CreateStockInput!) { createStock(input: $i) { stock { id } userErrors { code field message } } }";
    let input = json!({ "i": { "symbol": "BIG", "name": "Big", "initialPrice": HUGE } });
    let r = app.gql_as(&admin.access, create, input).await;
    assert_eq!(user_error(&r, "createStock"), Some("BAD_USER_INPUT"), "{r}");
    assert!(r["data"]["createStock"]["stock"].is_null(), "{r}");

    let mut ws = app.ws_session(Some(&demo.access)).await;
    ws.subscribe(
        "1",
        "mutation($a: Decimal!) { deposit(input: {amount: $a}) { cash { balance } userErrors { code field message } } }",
        json!({ "a": HUGE }),
    )
    .await;
    let msg = ws.next_for("1").await;
    out_of_range(&msg["payload"], "deposit");
    // The socket survived: it still answers.
    ws.subscribe("2", "{ marketState { isOpen } }", json!({}))
        .await;
    assert_eq!(ws.next_for("2").await["type"], "next");
}

// Finding 2: slowloris.
#[tokio::test]
async fn slow_and_silent_connections_are_closed() {
    let app = spawn_app_with(&[
        ("HTTP_HEADER_TIMEOUT_SECS", "1"),
        ("HTTP_IDLE_TIMEOUT_SECS", "1"),
    ])
    .await;
    let mut silent = connect_from(&app, 40).await;
    let mut slow = connect_from(&app, 41).await;
    let started = Instant::now();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: zebrat\r\n")
        .await
        .unwrap();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(8) {
        // One header line every 300 ms, never the blank line that ends the head.
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err()
            || closed_within(&mut slow, Duration::from_millis(300)).await
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickling connection was still open after 8 s");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)).await,
        "a silent connection is closed"
    );
    // Ordinary clients are not affected.
    let mut normal = connect_from(&app, 42).await;
    assert!(get_health(&mut normal).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn connections_per_client_address_are_capped() {
    let app = spawn_app_with(&[("HTTP_MAX_CONNECTIONS_PER_CLIENT", "4")]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from(&app, 50).await);
    }
    let mut extra = connect_from(&app, 50).await;
    assert!(
        closed_within(&mut extra, Duration::from_secs(3)).await,
        "a fifth connection from one address is closed"
    );
    assert!(get_health(&mut held[0]).await.starts_with("HTTP/1.1 200"));
    let other = client_from(51)
        .get(app.url("/health"))
        .send()
        .await
        .unwrap();
    assert!(
        other.status().is_success(),
        "another address is not affected"
    );
    // A closed connection frees its place.
    drop(held.pop());
    let mut served = false;
    for _ in 0..40 {
        let mut again = connect_from(&app, 50).await;
        let _ = again
            .write_all(b"GET /health HTTP/1.1\r\nHost: zebrat\r\n\r\n")
            .await;
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(2), again.read(&mut buf)).await
            && buf[..n].starts_with(b"HTTP/1.1 200")
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served,
        "a place freed by a closed connection is given again"
    );
}

// Finding 3: 100 concurrent hashes took 1.9 GB, and it stayed.
#[tokio::test]
async fn bursts_of_logins_keep_memory_bounded() {
    // A hundred hashes on two permits take longer than an operation may in a debug build on a
    // busy machine: the timeout would shed the last logins, which is not what is measured here.
    let app = spawn_app_with(&[
        ("RATE_LIMIT_LOGIN", "5/60"),
        ("GRAPHQL_TIMEOUT_SECS", "300"),
    ])
    .await;
    let _alone = MEMORY_TESTS.lock().await;
    let warm = login_from(&app, &client_from(59), "demo@example.com", "wrong password").await;
    assert_eq!(code(&warm), Some("UNAUTHENTICATED"), "{warm}");
    let baseline = resident_bytes();
    let first = login_burst(&app, 60).await;
    let settled = resident_bytes();
    let second = login_burst(&app, 120).await;
    let mib = |bytes: u64| bytes / (1024 * 1024);
    let (growth, kept, again) = (
        mib(first.saturating_sub(baseline)),
        mib(settled.saturating_sub(baseline)),
        mib(second.saturating_sub(settled)),
    );
    eprintln!("100 logins: +{growth} MiB at peak, +{kept} MiB kept; again: +{again} MiB");
    assert!(
        growth < 300,
        "resident memory grew by {growth} MiB during a burst"
    );
    // What a burst keeps (the allocator's arenas) is reused by the next one, not added to.
    assert!(again < 50, "a second burst added {again} MiB");
}

/// 100 concurrent logins with wrong passwords from 20 addresses from 127.0.0.`first` on, five
/// each (every address within its own limit); returns the peak resident memory meanwhile.
async fn login_burst(app: &TestApp, first: u8) -> u64 {
    let sampler = PeakSampler::start();
    let clients: Vec<_> = (first..first + 20).map(client_from).collect();
    let logins = (0..100).map(|i| {
        let client = &clients[i % 20];
        async move {
            let email = format!("user{i}@example.com");
            login_from(app, client, &email, "wrong password").await
        }
    });
    let answers = futures_util::future::join_all(logins).await;
    let peak = sampler.stop().await;
    for r in &answers {
        assert_eq!(code(r), Some("UNAUTHENTICATED"), "{r}");
    }
    peak
}

#[tokio::test]
async fn logins_have_a_global_rate() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN_GLOBAL", "3/60")]).await;
    for n in 61..64 {
        let r = login_from(&app, &client_from(n), "demo@example.com", "nope").await;
        assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{r}");
    }
    let r = login_from(&app, &client_from(64), "demo@example.com", "demo123").await;
    assert_eq!(code(&r), Some("RATE_LIMITED"), "{r}");
}

// Finding 5: five wrong passwords from anywhere locked the owner out.
#[tokio::test]
async fn wrong_passwords_from_elsewhere_do_not_lock_the_owner_out() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN", "5/60")]).await;
    let attacker = client_from(90);
    for _ in 0..5 {
        let r = login_from(&app, &attacker, "demo@example.com", "guess").await;
        assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{r}");
    }
    let r = login_from(&app, &attacker, "demo@example.com", "guess").await;
    assert_eq!(code(&r), Some("RATE_LIMITED"), "{r}");
    let r = login_from(&app, &attacker, "admin@example.com", "guess").await;
    assert_eq!(
        code(&r),
        Some("RATE_LIMITED"),
        "the per-address limit holds: {r}"
    );
    let owner = client_from(91);
    let r = login_from(&app, &owner, "demo@example.com", "demo123").await;
    assert!(r["data"]["login"]["accessToken"].is_string(), "{r}");
}

// Finding 6: anonymous sockets were unlimited per client and never idled out.
#[tokio::test]
async fn sockets_per_client_address_are_capped() {
    let app = spawn_app_with(&[("WS_MAX_CONNECTIONS_PER_CLIENT", "3")]).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(ws_from(&app, 100).await.expect("within the cap"));
    }
    match ws_from(&app, 100).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("a fourth socket from one address: {:?}", other.map(|_| ())),
    }
    ws_from(&app, 101)
        .await
        .expect("another address is not affected");
    drop(open.pop());
    app.eventually("a freed place", || async {
        ws_from(&app, 100).await.is_ok()
    })
    .await;
}

#[tokio::test]
async fn sockets_without_a_subscription_idle_out() {
    let app = spawn_app_with(&[("WS_IDLE_TIMEOUT_SECS", "1")]).await;
    let mut idle = app.ws_session(None).await;
    let mut busy = app.ws_session(None).await;
    busy.subscribe("m", "subscription { marketState { isOpen } }", json!({}))
        .await;
    assert_eq!(busy.next_for("m").await["type"], "next");
    let started = Instant::now();
    assert_eq!(idle.closed_with().await, Some(4408));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // A socket with a subscription stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    busy.send(json!({ "type": "ping" })).await;
    loop {
        let msg = busy.next_within_raw().await;
        if msg["type"] == "pong" {
            break;
        }
    }
}

// Finding 8: the smaller ones.
#[tokio::test]
async fn hsts_is_on_by_default_in_production() {
    let app = spawn_app_with(&[("ZEBRAT_PROFILE", "production")]).await;
    let r = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let off = spawn_app_with(&[("ZEBRAT_PROFILE", "production"), ("HSTS", "false")]).await;
    let r = off.http.get(off.url("/health")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn header_floods_get_431_with_the_security_headers() {
    let app = spawn_app().await;
    let mut stream = connect_from(&app, 110).await;
    let mut request = String::from("GET /health HTTP/1.1\r\nHost: zebrat\r\n");
    for i in 0..150 {
        request.push_str(&format!("X-Flood-{i}: 1\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut head)).await;
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 431"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(head.contains("content-security-policy:"), "{head}");
}

#[tokio::test]
async fn deposits_are_rate_limited_per_user() {
    let app = spawn_app_with(&[("RATE_LIMIT_DEPOSITS", "2/60")]).await;
    let demo = app.demo().await;
    let deposit =
        "mutation { deposit(input: {amount: \"1\"}) { cash { available } userErrors { code } } }";
    for _ in 0..2 {
        let r = app.gql_as(&demo.access, deposit, json!({})).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let r = app.gql_as(&demo.access, deposit, json!({})).await;
    assert_eq!(code(&r), Some("RATE_LIMITED"), "{r}");
}

#[tokio::test]
async fn an_oversized_socket_message_closes_with_1009() {
    let app = spawn_app().await;
    let mut ws = app.ws_session(None).await;
    ws.send_raw(Message::text("x".repeat(100 * 1024))).await;
    assert_eq!(ws.closed_with().await, Some(1009));
}

// Finding 1: one anonymous request cost a gigabyte.

/// One alias of the amplifier: every stock, each with its hourly candles and its trend.
const AMPLIFIER: &str =
    "stocks { candles(interval: H1) { candles { open high low close } } trend }";

/// The batch: 10 operations of 20 aliases each (about 16 KB).
fn amplification_batch() -> Value {
    let aliases: String = (0..20).map(|i| format!("a{i}: {AMPLIFIER} ")).collect();
    let ops: Vec<Value> = (0..10)
        .map(|_| json!({ "query": format!("{{ {aliases}}}") }))
        .collect();
    Value::Array(ops)
}

const DEPOSIT: &str =
    "mutation { deposit(input: {amount: \"1\"}) { cash { balance } userErrors { code } } }";

// On worker threads, as the server runs: on the test's single thread every request would wait
// for the others' parsing and validation, whatever the limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amplifying_batch_is_bounded_and_other_clients_are_served_meanwhile() {
    // Lists count by their sizes: an alias of the amplifier costs 1 + 100 stocks x (2000
    // candles x 5 + a 24-point trend), about a million points, so each operation is twenty
    // million and the default GRAPHQL_MAX_COMPLEXITY refuses it before it runs, budgets or
    // not (the test helpers turn budgets off). Unweighted, an alias counted 8 points where it
    // read 12 stocks' candles (about 370 ms of this debug build) and the batch answered 42 MB.
    let app = spawn_app().await;
    let demo = app.demo().await;
    let customer = client_from(131);
    let deposit = || async {
        let started = Instant::now();
        let r: Value = customer
            .post(app.url("/graphql"))
            .bearer_auth(&demo.access)
            .json(&json!({ "query": DEPOSIT }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r["data"]["deposit"]["cash"]["balance"].is_string(), "{r}");
        started.elapsed()
    };
    let quiet = deposit().await;
    let batch = amplification_batch();
    assert!(batch.to_string().len() > 15_000);

    let _alone = MEMORY_TESTS.lock().await;
    let baseline = resident_bytes();
    let sampler = PeakSampler::start();
    let started = Instant::now();
    let attacker = client_from(130);
    let bursts = (0..4).map(|_| async {
        let r = attacker
            .post(app.url("/graphql"))
            .json(&batch)
            .send()
            .await
            .expect("an answer");
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.expect("a JSON batch")
    });
    let deposits = async {
        let mut latencies = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            latencies.push(deposit().await);
        }
        latencies
    };
    let (answers, latencies) = tokio::join!(futures_util::future::join_all(bursts), deposits);
    let burst = started.elapsed();
    let peak = sampler.stop().await;

    for answer in &answers {
        let ops = answer.as_array().expect("one answer per operation");
        assert_eq!(ops.len(), 10);
        for op in ops {
            assert_eq!(code(op), Some("QUERY_TOO_COMPLEX"), "{op}");
            assert!(op["data"].is_null(), "nothing ran: {op}");
        }
    }
    let growth = peak.saturating_sub(baseline) / (1024 * 1024);
    let worst = latencies.iter().max().copied().unwrap_or_default();
    eprintln!(
        "amplification: 4 x 10 operations refused in {burst:?}; memory +{growth} MiB at peak; \
         deposits {latencies:?} (quiet: {quiet:?})"
    );
    assert!(growth < 100, "resident memory grew by {growth} MiB");
    // The issue asks for 50 ms, measured on a release build. Here even refusing costs: parsing
    // and validating one operation of the batch takes about 20 ms unoptimized (1 ms in
    // release), and each time the deposit waits on the database it waits for such a stretch
    // to end. Measured on two shared cores: 0.3-0.4 s (with the parser crates optimized in
    // the dev profile, under 0.25 s); 5 to 28 s before the limits.
    assert!(
        worst < Duration::from_secs(1),
        "a deposit took {worst:?} during the burst"
    );
}

/// Tests that measure this process's memory run one at a time.
static MEMORY_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Samples the resident memory every 10 ms until stopped; answers the peak.
struct PeakSampler {
    sampling: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<u64>,
}

impl PeakSampler {
    fn start() -> Self {
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let task = tokio::spawn({
            let sampling = sampling.clone();
            async move {
                let mut peak = 0;
                while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(resident_bytes());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                peak
            }
        });
        PeakSampler { sampling, task }
    }

    async fn stop(self) -> u64 {
        self.sampling
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.task.await.unwrap().max(resident_bytes())
    }
}

// Finding 8: the WebSocket Origin check trusted the request's own Host and ignored the scheme.
#[tokio::test]
async fn socket_origins_must_match_a_configured_origin_exactly() {
    let app = spawn_app_with(&[
        ("PUBLIC_ORIGIN", "https://zebrat.example.com"),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
    ])
    .await;
    let open = |origin: Option<&str>, host: Option<&str>| {
        let mut request = format!("ws://{}/graphql/ws", app.addr)
            .into_client_request()
            .unwrap();
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        if let Some(origin) = origin {
            headers.insert("Origin", HeaderValue::from_str(origin).unwrap());
        }
        if let Some(host) = host {
            headers.insert("Host", HeaderValue::from_str(host).unwrap());
        }
        async move {
            match tokio_tungstenite::connect_async(request).await {
                Ok(_) => 101,
                Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
                Err(e) => panic!("{e}"),
            }
        }
    };
    assert_eq!(open(Some("https://zebrat.example.com"), None).await, 101);
    assert_eq!(
        open(Some("https://ZEBRAT.example.com:443"), None).await,
        101
    );
    assert_eq!(open(Some("https://app.example.com"), None).await, 101);
    assert_eq!(open(None, None).await, 101, "non-browser clients send none");
    assert_eq!(
        open(Some("http://zebrat.example.com"), None).await,
        403,
        "the wrong scheme"
    );
    assert_eq!(
        open(Some("https://zebrat.example.com:8443"), None).await,
        403,
        "another port"
    );
    assert_eq!(open(Some("null"), None).await, 403);
    // A page whose name was rebound to this server sends a Host that matches its Origin.
    let rebound = format!("rebound.example:{}", app.addr.port());
    assert_eq!(
        open(Some(&format!("http://{rebound}")), Some(&rebound)).await,
        403,
        "DNS rebinding"
    );
}

// Finding 7: look-alike identities.

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { user { id email name } userErrors { code field message } } }";

async fn register(app: &TestApp, email: &str, name: &str) -> Value {
    let input = json!({ "email": email, "password": "long enough", "name": name });
    app.gql(REGISTER, json!({ "i": input })).await
}

#[tokio::test]
async fn look_alike_emails_are_refused() {
    let app = spawn_app().await;
    let duplicate = register(&app, "demo@example.com", "Dup").await;
    assert_eq!(
        user_error(&duplicate, "register"),
        Some("CONFLICT"),
        "{duplicate}"
    );
    let refusal = &duplicate["data"]["register"]["userErrors"][0]["message"];
    for look_alike in [
        "d\u{435}mo@example.com",           // a Cyrillic е
        "dem\u{3BF}@example.com",           // a Greek ο
        "ｄｅｍｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", // fullwidth
        "DEMO@\u{24D4}xample.com",          // capitals and a circled e
    ] {
        let r = register(&app, look_alike, "Mallory").await;
        assert_eq!(
            user_error(&r, "register"),
            Some("CONFLICT"),
            "{look_alike:?}: {r}"
        );
        assert!(r["data"]["register"]["user"].is_null(), "{r}");
        // No more said than for the address itself.
        assert_eq!(&r["data"]["register"]["userErrors"][0]["message"], refusal);
    }
    for invisible in ["demo\u{200B}@example.com", "\u{202E}demo@example.com"] {
        let r = register(&app, invisible, "Mallory").await;
        assert_eq!(user_error(&r, "register"), Some("BAD_USER_INPUT"), "{r}");
        assert_eq!(
            r["data"]["register"]["userErrors"][0]["field"],
            json!(["input", "email"])
        );
    }
    // A different address registers, stored in its plain spelling.
    let r = register(&app, "ｄｅｍｏ２@example.com", "Dana Two").await;
    assert_eq!(
        r["data"]["register"]["user"]["email"], "demo2@example.com",
        "{r}"
    );
    let r = register(&app, "dome@example.com", "Dom").await;
    assert!(r["data"]["register"]["user"].is_object(), "{r}");
}

#[tokio::test]
async fn racing_look_alike_registrations_leave_one_account() {
    let app = spawn_app().await;
    // Five spellings of one address, all at once: the unique index on the skeleton lets one
    // through whatever the order.
    let spellings = [
        "race@example.com",
        "r\u{430}ce@example.com",
        "ra\u{441}e@example.com",
        "rac\u{435}@example.com",
        "ｒａｃｅ@example.com",
    ];
    let answers =
        futures_util::future::join_all(spellings.iter().map(|e| register(&app, e, "Racer"))).await;
    let made = answers
        .iter()
        .filter(|r| r["data"]["register"]["user"].is_object())
        .count();
    let conflicts = answers
        .iter()
        .filter(|r| user_error(r, "register") == Some("CONFLICT"))
        .count();
    assert_eq!((made, conflicts), (1, 4), "{answers:?}");
}

#[tokio::test]
async fn an_admin_cannot_give_an_account_a_look_alike_email() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let update = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { email name } userErrors { code field message } } }";
    let change = |email: &str| json!({ "i": { "id": demo.user_id, "email": email } });
    let r = app
        .gql_as(&admin.access, update, change("\u{430}dmin@example.com"))
        .await;
    assert_eq!(user_error(&r, "updateUser"), Some("CONFLICT"), "{r}");
    // Its own address in another spelling is still its own.
    let r = app
        .gql_as(&admin.access, update, change("ＤＥＭＯ@example.com"))
        .await;
    assert_eq!(
        r["data"]["updateUser"]["user"]["email"], "demo@example.com",
        "{r}"
    );
    let r = app
        .gql_as(
            &admin.access,
            update,
            json!({ "i": { "id": demo.user_id, "name": "Dana\u{202E}omeD" } }),
        )
        .await;
    assert_eq!(user_error(&r, "updateUser"), Some("BAD_USER_INPUT"), "{r}");
    assert_eq!(
        r["data"]["updateUser"]["userErrors"][0]["field"],
        json!(["input", "name"])
    );
}

#[tokio::test]
async fn names_refuse_overrides_and_control_characters() {
    let app = spawn_app().await;
    for name in ["Eve\u{202E}nilrehc", "Ann\u{7}", "\u{200B}"] {
        let r = register(&app, "eve@example.com", name).await;
        assert_eq!(
            user_error(&r, "register"),
            Some("BAD_USER_INPUT"),
            "{name:?}: {r}"
        );
        assert_eq!(
            r["data"]["register"]["userErrors"][0]["field"],
            json!(["input", "name"])
        );
    }
    // Fullwidth letters and odd spaces are spelled plainly.
    let r = register(&app, "eve@example.com", "\u{3000}Ｅｖｅ\u{A0}Lin").await;
    assert_eq!(r["data"]["register"]["user"]["name"], "Eve Lin", "{r}");

    let admin = app.admin().await;
    let create = "mutation($i: CreateStockInput!) { createStock(input: $i) { stock { name } userErrors { code field } } }";
    for name in ["Acme\u{0}Corp", "Acme\u{1B}[31m", "Acme \u{202E}proC"] {
        let input = json!({ "symbol": "ACME", "name": name, "initialPrice": "10" });
        let r = app
            .gql_as(&admin.access, create, json!({ "i": input }))
            .await;
        assert_eq!(
            user_error(&r, "createStock"),
            Some("BAD_USER_INPUT"),
            "{name:?}: {r}"
        );
        assert_eq!(
            r["data"]["createStock"]["userErrors"][0]["field"],
            json!(["input", "name"])
        );
    }
    let input = json!({ "symbol": "ACME", "name": "Ａｃｍｅ Corp", "initialPrice": "10" });
    let r = app
        .gql_as(&admin.access, create, json!({ "i": input }))
        .await;
    assert_eq!(
        r["data"]["createStock"]["stock"]["name"], "Acme Corp",
        "{r}"
    );
}

#[tokio::test]
async fn accounts_from_before_the_skeleton_get_one_at_start() {
    use entity::users;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use zebrat::domain::auth::backfill_skeletons;

    let app = spawn_app().await;
    let db = &app.db;
    let admin = app.admin().await;
    let demo = app.demo().await;
    // As a database from the previous release holds them: no skeletons, and two addresses
    // that already look alike (the admin's, the older row, now spelled with a Cyrillic е).
    users::Entity::update_many()
        .col_expr(users::Column::EmailSkeleton, Expr::value(None::<String>))
        .exec(db)
        .await
        .unwrap();
    users::Entity::update_many()
        .col_expr(users::Column::Email, Expr::value("d\u{435}mo@example.com"))
        .filter(users::Column::Id.eq(admin.db_id))
        .exec(db)
        .await
        .unwrap();

    // The newer look-alike is left without one (and logged), not an error that stops a start.
    assert_eq!(backfill_skeletons(db).await.unwrap(), 1);
    assert_eq!(backfill_skeletons(db).await.unwrap(), 0, "idempotent");
    let skeleton = |id| async move {
        users::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .email_skeleton
    };
    assert_eq!(
        skeleton(admin.db_id).await.as_deref(),
        Some(zebrat::domain::text::skeleton("demo@example.com").as_str())
    );
    assert_eq!(skeleton(demo.db_id).await, None);
    // Look-alikes of the filled row are refused again.
    let r = register(&app, "dem\u{3BF}@example.com", "Mallory").await;
    assert_eq!(user_error(&r, "register"), Some("CONFLICT"), "{r}");
}
