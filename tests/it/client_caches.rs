//! Issue 18's client-cache tests: an Apollo Client and a urql Graphcache client, in Node, against
//! this server (`client-examples/cache-tests`, run with `node --test`). They prove that a
//! normalized cache stays right with no refetch: after `placeOrder`, after a tick round, for
//! two users' `Cash` seen by an admin, and for `node(id:)` on every type.
//!
//! Node is required: without it this test fails (CI has it), it never passes silently.

use std::{path::PathBuf, process::Stdio, time::Duration};

use chrono::Utc;
use tokio::process::Command;

use crate::helpers::spawn_app_with;

/// `npm ci` plus both suites, with room for a slow machine.
const NODE_TIMEOUT: Duration = Duration::from_secs(600);

fn cache_tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("client-examples/cache-tests")
}

/// Runs `program args` in `dir` with `envs`; returns (success, stdout + stderr).
async fn run(program: &str, args: &[&str], envs: &[(&str, String)]) -> (bool, String) {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cache_tests_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = match tokio::time::timeout(NODE_TIMEOUT, cmd.output()).await {
        Err(_) => panic!(
            "`{program} {}` took longer than {NODE_TIMEOUT:?}",
            args.join(" ")
        ),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{program}` is not installed: the client-cache tests (client-examples/cache-tests) \
             need Node.js 20+ with npm on PATH"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_and_graphcache_caches_stay_right_without_refetching() {
    let (ok, version) = run("node", &["--version"], &[]).await;
    assert!(ok, "node --version failed: {version}");

    if !cache_tests_dir().join("node_modules").is_dir() {
        let (ok, out) = run("npm", &["ci", "--no-audit", "--no-fund"], &[]).await;
        assert!(ok, "npm ci in client-examples/cache-tests failed:\n{out}");
    }

    // One tick round a second, on a clock that follows the wall clock (the harness's clock only
    // moves when told to): the Node tests wait for a round in real time.
    let app = spawn_app_with(&[("TICK_INTERVAL_SECS", "1")]).await;
    let clock = app.clock.clone();
    let follow = tokio::spawn(async move {
        loop {
            clock.set(Utc::now());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Open before Node starts, so the first order executes (the tests also force it open over
    // GraphQL, as the scenario says).
    app.override_market(Some(true), Some("client cache tests"))
        .await;
    app.wait_market(true).await;

    let (ok, out) = run(
        "node",
        &["--test", "--test-concurrency=1", "test/"],
        &[
            ("ZEBRAT_URL", app.url("")),
            ("ZEBRAT_ADMIN_EMAIL", "admin@example.com".into()),
            ("ZEBRAT_ADMIN_PASSWORD", "admin123".into()),
            ("ZEBRAT_DEMO_EMAIL", "demo@example.com".into()),
            ("ZEBRAT_DEMO_PASSWORD", "demo123".into()),
        ],
    )
    .await;
    follow.abort();
    println!("{out}"); // shown with --nocapture
    assert!(
        ok,
        "the client-cache tests failed (node {}):\n{out}",
        version.trim()
    );
    // A runner that found no test exits 0 too.
    let count = |what: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("# {what} ")))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no `# {what}` line in node's summary:\n{out}"))
    };
    assert!(count("pass") >= 8, "node --test ran too few tests:\n{out}");
    assert_eq!(count("fail") + count("cancelled"), 0, "{out}");
}
