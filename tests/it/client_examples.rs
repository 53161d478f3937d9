//! `client-examples/operations` is a contract: every document the examples send must run
//! against the current API without errors.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn operations() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/client-examples/operations");
    let mut ops: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("client-examples/operations exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    ops.sort();
    assert!(
        ops.len() >= 5,
        "expected the example operations, found {}",
        ops.len()
    );
    ops
}

/// Variables the examples pass to each operation.
fn variables(name: &str) -> Value {
    match name {
        "Login" => json!({ "input": { "email": "demo@example.com", "password": "demo123" } }),
        "StockCandles" => json!({ "symbol": "AAPL" }),
        "Ticks" => json!({ "symbols": ["AAPL", "MSFT", "NVDA"] }),
        _ => json!({}),
    }
}

#[tokio::test]
async fn every_example_operation_runs_without_errors() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    for (name, doc) in operations() {
        let vars = variables(&name);
        let is_subscription = doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("subscription"));
        let body = if is_subscription {
            let mut ws = app.ws_session(Some(&demo.access)).await;
            ws.subscribe("1", &doc, vars).await;
            let mut msg = None;
            for _ in 0..50 {
                app.tick();
                if let Some(m) = ws.next_within(Duration::from_millis(200)).await {
                    msg = Some(m);
                    break;
                }
            }
            let msg = msg.unwrap_or_else(|| panic!("{name}: no message"));
            assert_eq!(msg["type"], "next", "{name}: {msg}");
            msg["payload"].clone()
        } else {
            app.gql_as(&demo.access, &doc, vars).await
        };
        assert!(body.get("errors").is_none(), "{name}: {body}");
        let data = body["data"].as_object();
        assert!(data.is_some_and(|d| !d.is_empty()), "{name}: {body}");
        // A nullable root (`stock(by:)`) answers null for a name that matches nothing.
        for (field, value) in data.into_iter().flatten() {
            assert!(!value.is_null(), "{name}: {field} is null: {body}");
        }
    }
}
