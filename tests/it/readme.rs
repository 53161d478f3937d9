//! The README's GraphQL runs as written: every ```graphql block, in order, against a fresh
//! server with the default limits, as a reader would run them in GraphiQL.
//!
//! Like the reader, the test sends the last `accessToken` an answer gave (what they paste into
//! the Headers tab), runs subscriptions over WebSocket until their first event, and replaces
//! each `"<field.path>"` with the value at that path of the last answer holding `field` (what
//! the README asks the reader to copy). No answer may hold an error or a user error, and the
//! demo accounts must come out as they went in.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

const README: &str = include_str!("../../README.md");

/// The limits a server has when none are set (the harness turns them off).
const DEFAULT_LIMITS: [(&str, &str); 7] = [
    ("RATE_LIMIT_LOGIN", "5/60"),
    ("RATE_LIMIT_LOGIN_GLOBAL", "1200/60"),
    ("RATE_LIMIT_REGISTER", "10/3600"),
    ("RATE_LIMIT_ORDERS", "10/60"),
    ("RATE_LIMIT_DEPOSITS", "10/60"),
    ("GRAPHQL_COST_BUDGET", "10000,500"),
    ("GRAPHQL_COST_BUDGET_ANONYMOUS", "1000,20"),
];

/// The contents of every ```graphql block, in order.
fn graphql_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start() == "```graphql" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                blocks.extend(current.take());
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(current.is_none(), "a ```graphql block is not closed");
    blocks
}

/// The operations of a block, one document each: a block may list several (each a top-level
/// `{ … }`, with its `query`/`mutation`/`subscription` head), with comments between them.
fn operations(block: &str) -> Vec<String> {
    let mut operations = Vec::new();
    let (mut depth, mut start) = (0usize, None::<usize>);
    let (mut in_string, mut escaped, mut in_comment) = (false, false, false);
    for (i, c) in block.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '#' {
            in_comment = true;
            continue;
        }
        if depth == 0 && start.is_none() && !c.is_whitespace() {
            start = Some(i);
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1).expect("balanced braces in the README");
                if depth == 0 {
                    let from = start.take().expect("an operation started");
                    operations.push(block[from..=i].to_string());
                }
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced braces in {block}");
    operations
}

/// `document` with each `"<field.path>"` replaced by that value of the answers so far.
fn substituted(document: &str, answers: &HashMap<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = document;
    while let Some(at) = rest.find("\"<") {
        let end = rest[at..]
            .find(">\"")
            .unwrap_or_else(|| panic!("an unclosed placeholder in {document}"))
            + at;
        let path = &rest[at + 2..end];
        let mut segments = path.split('.');
        let root = segments.next().unwrap_or_default();
        let mut value = answers
            .get(root)
            .unwrap_or_else(|| panic!("`<{path}>`: no earlier answer holds `{root}`"));
        for segment in segments {
            value = match segment.parse::<usize>() {
                Ok(index) => &value[index],
                Err(_) => &value[segment],
            };
        }
        assert!(
            value.is_string(),
            "`<{path}>` is not a string in the answers: {value}"
        );
        out.push_str(&rest[..at]);
        out.push_str(&value.to_string());
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Every `userErrors` list anywhere in `data` that is not empty.
fn user_errors(data: &Value) -> Vec<Value> {
    match data {
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(name, value)| match (name.as_str(), value) {
                ("userErrors", Value::Array(errors)) => errors.clone(),
                _ => user_errors(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(user_errors).collect(),
        _ => Vec::new(),
    }
}

/// Runs one query or mutation with `token` and returns its data (no errors, no user errors).
async fn run(app: &TestApp, token: Option<&str>, document: &str) -> Value {
    let body = match token {
        Some(token) => app.gql_as(token, document, json!({})).await,
        None => app.gql(document, json!({})).await,
    };
    assert!(body["errors"].is_null(), "{document}\n→ {body}");
    let problems = user_errors(&body["data"]);
    assert!(problems.is_empty(), "{document}\n→ {body}");
    body["data"].clone()
}

/// Subscribes with `token` and returns the first event's data (no errors).
async fn first_event(app: &TestApp, token: Option<&str>, document: &str) -> Value {
    let mut ws = app.ws_session(token).await;
    ws.subscribe("readme", document, json!({})).await;
    let event = app.tick_until_message(&mut ws, "readme").await;
    assert_eq!(event["type"], "next", "{document}\n→ {event}");
    assert!(
        event["payload"]["errors"].is_null(),
        "{document}\n→ {event}"
    );
    event["payload"]["data"].clone()
}

#[test]
fn blocks_split_into_their_operations() {
    let block = "mutation { a(input: { s: \"}{\" }) { b } }  # a comment with a { brace\n\
                 query Q { c }\n{ d { e } }\n";
    assert_eq!(
        operations(block),
        vec![
            "mutation { a(input: { s: \"}{\" }) { b } }",
            "query Q { c }",
            "{ d { e } }",
        ]
    );
    let answers = HashMap::from([("make".to_string(), json!({ "things": [{ "id": "X1" }] }))]);
    assert_eq!(
        substituted(r#"{ t(id: "<make.things.0.id>") }"#, &answers),
        r#"{ t(id: "X1") }"#
    );
}

/// An access token for `email`, checking the password without the GraphQL login (whose rate
/// limit belongs to the README's own logins).
async fn token_of(app: &TestApp, email: &str, password: &str) -> String {
    match app.services.auth.login(email, password).await {
        Ok(session) => session.access_token,
        Err(e) => panic!("{email} cannot log in with {password}: {e}"),
    }
}

#[tokio::test]
async fn the_readme_graphql_runs_as_written_in_order() {
    let app = spawn_app_with(&DEFAULT_LIMITS).await;
    app.wait_market(true).await;
    let demo = token_of(&app, "demo@example.com", "demo123").await;
    let demo_cash = run(&app, Some(&demo), "{ cash { balance } }").await;

    let mut token: Option<String> = None;
    let mut answers: HashMap<String, Value> = HashMap::new();
    let mut ran = 0;
    for block in graphql_blocks(README) {
        for operation in operations(&block) {
            let document = substituted(&operation, &answers);
            let data = match document.trim_start().starts_with("subscription") {
                true => first_event(&app, token.as_deref(), &document).await,
                false => run(&app, token.as_deref(), &document).await,
            };
            let Value::Object(fields) = data else {
                panic!("{document}\n→ no data");
            };
            for (field, value) in fields {
                // The reader pastes a new token into the Headers tab.
                if let Some(access) = value["accessToken"].as_str() {
                    token = Some(access.to_string());
                }
                answers.insert(field, value);
            }
            ran += 1;
        }
    }
    assert!(ran >= 25, "only {ran} operations found in the README");

    // The stock created is the one halted; the others still trade.
    let halted = run(&app, None, "{ stocks { symbol active } }").await;
    for stock in halted["stocks"].as_array().unwrap() {
        assert_eq!(stock["active"], stock["symbol"] != "ZBR", "{stock}");
    }
    // The market is back in demo mode, open.
    let state = run(&app, None, "{ marketState { isOpen emergency } }").await;
    assert_eq!(
        state["marketState"],
        json!({ "isOpen": true, "emergency": true })
    );
    // The demo accounts are as they were: same passwords, the customer's cash untouched.
    let demo = token_of(&app, "demo@example.com", "demo123").await;
    token_of(&app, "admin@example.com", "admin123").await;
    assert_eq!(
        run(&app, Some(&demo), "{ cash { balance } }").await,
        demo_cash
    );
    // Ann, whom the examples changed, logs in with the password they gave her.
    token_of(&app, "ann@example.com", "a new correct horse").await;
}
