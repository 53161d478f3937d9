//! GraphQL over Server-Sent Events (`graphql-sse`), read as a client would: an HTTP response
//! whose body is parsed event by event.

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// One event of the stream: its name and its data, parsed (`Null` when empty).
#[derive(Debug)]
struct Event {
    event: String,
    data: Value,
}

/// An open event stream.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
    /// Comment lines seen, for the shutdown test.
    comments: Vec<String>,
}

impl EventStream {
    /// The next event within `wait`; `None` if none came, or the stream ended.
    async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an event within 10 s")
    }

    /// Whether the server ends the stream within `wait` (events before the end are skipped).
    async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) => return true,
                Ok(Err(_)) | Err(_) => return false,
            }
        }
    }

    /// Takes one whole event off the buffer, skipping comments.
    fn parse_one(&mut self) -> Option<Event> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut event, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(comment) = line.strip_prefix(':') {
                    self.comments.push(comment.trim().to_string());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if event.is_empty() {
                continue; // a keep-alive comment
            }
            let data = match data.is_empty() {
                true => Value::Null,
                false => serde_json::from_str(&data).expect("event data is JSON"),
            };
            return Some(Event { event, data });
        }
    }
}

/// POSTs `query` to `path` asking for an event stream; returns the response as it came.
async fn post_stream(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(path))
        .header(header::ACCEPT, "text/event-stream")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

/// An accepted event stream for `query`.
async fn subscribe(app: &TestApp, token: Option<&str>, query: &str) -> EventStream {
    let response = post_stream(app, "/graphql/stream", token, query, json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    EventStream {
        response,
        buffer: String::new(),
        comments: Vec::new(),
    }
}

async fn live_counts(app: &TestApp) -> (i64, i64) {
    let admin = app.admin().await;
    let body = app
        .gql_as(
            &admin.access,
            "{ adminStats { openConnections openSubscriptions } }",
            json!({}),
        )
        .await;
    let stats = &body["data"]["adminStats"];
    (
        stats["openConnections"].as_i64().expect("counts"),
        stats["openSubscriptions"].as_i64().expect("counts"),
    )
}

const TICKS: &str = "subscription { ticks(symbols: [\"AAPL\"]) { seq stocks { symbol price } } }";

#[tokio::test]
async fn public_feeds_stream_and_share_one_execution_with_websockets() {
    let app = spawn_app().await;
    app.override_market(Some(true), Some("sse test")).await;
    app.wait_market(true).await;
    assert_eq!(app.feeds.len(), 0);
    let mut first = subscribe(&app, None, TICKS).await;
    let mut second = subscribe(&app, None, TICKS).await;
    // Only streams so far: the one execution is theirs.
    app.eventually("one shared execution", || async { app.feeds.len() == 1 })
        .await;
    let mut ws = app.ws_session(None).await;
    ws.subscribe("t", TICKS, json!({})).await;
    assert_eq!(live_counts(&app).await, (3, 3), "two streams and a socket");
    assert_eq!(app.feeds.len(), 1, "the socket joins it");

    let mut event = None;
    for _ in 0..50 {
        app.tick();
        if let Some(e) = first.next_within(Duration::from_millis(200)).await {
            event = Some(e);
            break;
        }
    }
    let event = event.expect("a tick round");
    assert_eq!(event.event, "next");
    let stocks = &event.data["data"]["ticks"]["stocks"];
    assert_eq!(stocks[0]["symbol"], "AAPL", "{:?}", event.data);
    assert!(stocks[0]["price"].is_string(), "money is a string");
    let again = second.next().await;
    assert_eq!(again.data["data"]["ticks"], event.data["data"]["ticks"]);
    assert_eq!(app.feeds.len(), 1, "still one execution");

    // A client ends a subscription by closing its stream.
    drop(first);
    drop(second);
    app.eventually("streams released", || async {
        live_counts(&app).await == (1, 1)
    })
    .await;
}

#[tokio::test]
async fn graphql_answers_an_event_stream_when_asked_for_one() {
    let app = spawn_app().await;
    let response = post_stream(
        &app,
        "/graphql",
        None,
        "{ marketState { isOpen timezone } }",
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let mut stream = EventStream {
        response,
        buffer: String::new(),
        comments: Vec::new(),
    };
    let next = stream.next().await;
    assert_eq!(next.event, "next");
    assert_eq!(
        next.data["data"]["marketState"]["timezone"], "America/New_York",
        "{:?}",
        next.data
    );
    assert_eq!(stream.next().await.event, "complete");
    assert!(stream.ends_within(Duration::from_secs(5)).await);

    // Without the header, `/graphql` answers JSON as always.
    let plain = app.gql("{ marketState { isOpen } }", json!({})).await;
    assert!(plain["data"]["marketState"]["isOpen"].is_boolean());
}

#[tokio::test]
async fn account_feeds_need_a_valid_token() {
    let app = spawn_app().await;
    let anonymous = post_stream(
        &app,
        "/graphql/stream",
        None,
        "subscription { orderUpdates { order { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let hidden = "subscription { ...F } fragment F on Subscription { portfolio { id } }";
    let anonymous = post_stream(&app, "/graphql/stream", None, hidden, json!({})).await;
    assert_eq!(
        anonymous.status(),
        StatusCode::UNAUTHORIZED,
        "behind a fragment"
    );

    let forged = post_stream(&app, "/graphql/stream", Some("forged"), TICKS, json!({})).await;
    assert_eq!(
        forged.status(),
        StatusCode::UNAUTHORIZED,
        "a bad token on any feed"
    );

    let demo = app.demo().await;
    let mut mine = subscribe(
        &app,
        Some(&demo.access),
        "subscription { orderUpdates { order { id status clientOrderId } } }",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let placed = app
        .gql_as(
            &demo.access,
            "mutation { placeOrder(input: {stock: {symbol: \"AAPL\"}, side: BUY, quantity: 1, clientOrderId: \"sse-1\"}) { order { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let id = placed["data"]["placeOrder"]["order"]["id"].clone();
    assert!(id.is_string(), "{placed}");
    let update = mine.next().await;
    assert_eq!(update.event, "next");
    assert_eq!(update.data["data"]["orderUpdates"]["order"]["id"], id);
    assert_eq!(
        update.data["data"]["orderUpdates"]["order"]["clientOrderId"],
        "sse-1"
    );
}

#[tokio::test]
async fn request_errors_come_in_the_stream_and_http_errors_as_statuses() {
    let app = spawn_app().await;
    let mut invalid = subscribe(&app, None, "subscription { nope }").await;
    let next = invalid.next().await;
    assert_eq!(next.event, "next");
    assert_eq!(
        next.data["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{:?}",
        next.data
    );
    assert_eq!(invalid.next().await.event, "complete");

    let get_mutation = app
        .http
        .get(app.url("/graphql/stream"))
        .query(&[("query", "mutation { logout { revoked } }")])
        .header(header::ACCEPT, "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get_mutation.status(), StatusCode::METHOD_NOT_ALLOWED);

    let not_json = app
        .http
        .post(app.url("/graphql/stream"))
        .header(header::ACCEPT, "text/event-stream")
        .header(header::CONTENT_TYPE, "text/plain")
        .body("{ __typename }")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A GET subscription, as `EventSource` would open it.
    let mut by_get = EventStream {
        response: app
            .http
            .get(app.url("/graphql/stream"))
            .query(&[("query", "subscription { marketState { isOpen } }")])
            .header(header::ACCEPT, "text/event-stream")
            .send()
            .await
            .unwrap(),
        buffer: String::new(),
        comments: Vec::new(),
    };
    assert_eq!(by_get.response.status(), StatusCode::OK);
    let state = by_get.next().await;
    assert!(state.data["data"]["marketState"]["isOpen"].is_boolean());
}

#[tokio::test]
async fn streams_and_sockets_share_the_per_address_cap() {
    let app = spawn_app_with(&[("WS_MAX_CONNECTIONS_PER_CLIENT", "2")]).await;
    let state = "subscription { marketState { isOpen } }";
    let first = subscribe(&app, None, state).await;
    let _socket = app.ws_session(None).await;
    let refused = post_stream(&app, "/graphql/stream", None, state, json!({})).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(first);
    let mut ok = None;
    for _ in 0..50 {
        let response = post_stream(&app, "/graphql/stream", None, state, json!({})).await;
        if response.status() == StatusCode::OK {
            ok = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok.is_some(), "a closed stream gives its place back");
}

#[tokio::test]
async fn a_logged_in_stream_ends_with_its_token_or_its_sessions() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL_SECS", "60")]).await;
    let demo = app.demo().await;
    let feed = "subscription { orderUpdates { order { id } } }";
    let mut expiring = subscribe(&app, Some(&demo.access), feed).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.clock.advance(chrono::Duration::seconds(61));
    let last = expiring.next().await;
    assert_eq!(
        last.data["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{:?}",
        last.data
    );
    assert_eq!(expiring.next().await.event, "complete");
    assert!(expiring.ends_within(Duration::from_secs(5)).await);

    let fresh = app.demo().await;
    let mut revoked = subscribe(&app, Some(&fresh.access), feed).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = app
        .gql_as(&fresh.access, "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
    let last = revoked.next().await;
    assert_eq!(
        last.data["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert!(
        last.data["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

#[tokio::test]
async fn streams_end_cleanly_when_the_server_stops() {
    let app = spawn_app().await;
    let mut stream = subscribe(&app, None, "subscription { marketState { isOpen } }").await;
    assert_eq!(stream.next().await.event, "next");
    app.stop();
    assert!(
        stream.ends_within(Duration::from_secs(5)).await,
        "the body ends instead of hanging"
    );
    assert!(
        stream.buffer.contains(": server shutting down"),
        "{:?}",
        stream.buffer
    );
    assert!(
        !stream.buffer.contains("event: complete"),
        "no complete: the client reconnects"
    );
    tokio::time::timeout(Duration::from_secs(10), app.stopped())
        .await
        .expect("the server stops with a stream open");
}

#[tokio::test]
async fn one_reserved_stream_carries_many_operations() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    let token_header = "x-graphql-event-stream-token";
    let reserve = app
        .http
        .put(app.url("/graphql/stream"))
        .bearer_auth(&demo.access)
        .send()
        .await
        .unwrap();
    assert_eq!(reserve.status(), StatusCode::CREATED);
    let token = reserve.text().await.unwrap();

    // Operations sent before the stream opens wait for it.
    let run = |id: &'static str, query: &'static str| {
        app.http
            .post(app.url("/graphql/stream"))
            .header(token_header, &token)
            .json(&json!({ "query": query, "extensions": { "operationId": id } }))
            .send()
    };
    let accepted = run("me", "{ me { email } }").await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);

    let response = app
        .http
        .get(app.url("/graphql/stream"))
        .header(token_header, &token)
        .header(header::ACCEPT, "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = EventStream {
        response,
        buffer: String::new(),
        comments: Vec::new(),
    };
    let me = stream.next().await;
    assert_eq!(me.event, "next");
    assert_eq!(me.data["id"], "me");
    assert_eq!(
        me.data["payload"]["data"]["me"]["email"],
        "demo@example.com"
    );
    let done = stream.next().await;
    assert_eq!(
        (done.event.as_str(), &done.data["id"]),
        ("complete", &json!("me"))
    );

    let second_open = app
        .http
        .get(app.url("/graphql/stream"))
        .query(&[("token", token.as_str())])
        .header(header::ACCEPT, "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(
        second_open.status(),
        StatusCode::CONFLICT,
        "one stream per token"
    );

    let state = "subscription { marketState { isOpen } }";
    assert_eq!(
        run("s", state).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        run("s", state).await.unwrap().status(),
        StatusCode::CONFLICT,
        "an id in use"
    );
    let first = stream.next().await;
    assert_eq!(first.data["id"], "s");
    assert!(first.data["payload"]["data"]["marketState"]["isOpen"].is_boolean());
    let stop = app
        .http
        .delete(app.url("/graphql/stream"))
        .query(&[("operationId", "s")])
        .header(token_header, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), StatusCode::OK);
    app.eventually("the id is free again", || async {
        run("s", state).await.unwrap().status() == StatusCode::ACCEPTED
    })
    .await;

    let unknown = app
        .http
        .post(app.url("/graphql/stream"))
        .header(token_header, "nope")
        .json(&json!({ "query": "{ __typename }", "extensions": { "operationId": "x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    drop(stream);
    app.eventually("the reservation ends with its stream", || async {
        run("late", "{ __typename }").await.unwrap().status() == StatusCode::NOT_FOUND
    })
    .await;
}

/// The `graphql-sse` npm client (`client-examples/sse`, `node --test`) against this server:
/// ticks, an order placed and seen on the account feed, a refused token, the single-connection
/// mode. Node is required: without it this test fails (CI has it), it never passes silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_sse_client_subscribes_and_trades() {
    use std::{path::PathBuf, process::Stdio};

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("client-examples/sse");
    let run = |program: &'static str,
               args: &'static [&'static str],
               envs: Vec<(&'static str, String)>| {
        let dir = dir.clone();
        async move {
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(args)
                .current_dir(dir)
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .envs(envs);
            let out = match tokio::time::timeout(Duration::from_secs(300), cmd.output()).await {
                Err(_) => panic!("`{program} {}` took longer than 5 minutes", args.join(" ")),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                    "`{program}` is not installed: client-examples/sse needs Node.js 20+ with npm"
                ),
                Ok(Err(e)) => panic!("could not run `{program}`: {e}"),
                Ok(Ok(out)) => out,
            };
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        }
    };
    if !dir.join("node_modules").is_dir() {
        let (ok, out) = run("npm", &["ci", "--no-audit", "--no-fund"], Vec::new()).await;
        assert!(ok, "npm ci in client-examples/sse failed:\n{out}");
    }

    // A tick round a second on a clock that follows the wall clock: Node waits in real time.
    let app = spawn_app_with(&[("TICK_INTERVAL_SECS", "1")]).await;
    let clock = app.clock.clone();
    let follow = tokio::spawn(async move {
        loop {
            clock.set(chrono::Utc::now());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    app.override_market(Some(true), Some("graphql-sse client test"))
        .await;
    app.wait_market(true).await;

    let (ok, out) = run(
        "node",
        &["--test", "--test-concurrency=1", "test/"],
        vec![("ZEBRAT_URL", app.url(""))],
    )
    .await;
    follow.abort();
    println!("{out}"); // shown with --nocapture
    assert!(ok, "the graphql-sse client tests failed:\n{out}");
    // A runner that found no test exits 0 too.
    let count = |what: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("# {what} ")))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no `# {what}` line in node's summary:\n{out}"))
    };
    assert!(count("pass") >= 5, "node --test ran too few tests:\n{out}");
    assert_eq!(count("fail") + count("cancelled"), 0, "{out}");
}

#[tokio::test]
async fn a_reserved_stream_without_operations_ends_like_an_idle_socket() {
    let app = spawn_app_with(&[("WS_IDLE_TIMEOUT_SECS", "1")]).await;
    let token = app
        .http
        .put(app.url("/graphql/stream"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut stream = EventStream {
        response: app
            .http
            .get(app.url("/graphql/stream"))
            .query(&[("token", token.as_str())])
            .header(header::ACCEPT, "text/event-stream")
            .send()
            .await
            .unwrap(),
        buffer: String::new(),
        comments: Vec::new(),
    };
    assert_eq!(stream.response.status(), StatusCode::OK);
    assert!(stream.ends_within(Duration::from_secs(5)).await);
    let late = app
        .http
        .post(app.url("/graphql/stream"))
        .header("x-graphql-event-stream-token", &token)
        .json(&json!({ "query": "{ __typename }", "extensions": { "operationId": "x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        late.status(),
        StatusCode::NOT_FOUND,
        "the reservation ended with it"
    );
}
