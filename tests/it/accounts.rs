use chrono::Duration;
use serde_json::json;

use crate::helpers::{code, require_multi_instance_backends, spawn_app, user_error};

const ME: &str = "{ me { id email name role active } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(input: { token: $t }) { accessToken refreshToken user { email } userErrors { code } } }";

#[tokio::test]
async fn register_login_and_me() {
    let app = spawn_app().await;
    let registered = app
        .register("Ann@Example.com", "correct horse", "Ann")
        .await;
    let me = app.gql_as(&registered.access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com");
    assert_eq!(me["data"]["me"]["role"], "CUSTOMER");
    assert_eq!(me["data"]["me"]["id"], registered.user_id.as_str());

    let login = app.login("ann@example.com", "correct horse").await;
    assert_eq!(login.user_id, registered.user_id);
    let me = app.gql_as(&login.access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["name"], "Ann");
}

#[tokio::test]
async fn seeded_accounts_have_their_roles() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = app.gql_as(&admin.access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "ADMIN");
    let demo = app.demo().await;
    let me = app.gql_as(&demo.access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "CUSTOMER");
}

#[tokio::test]
async fn me_needs_a_valid_token() {
    let app = spawn_app().await;
    let anonymous = app.gql(ME, json!({})).await;
    assert_eq!(code(&anonymous), Some("UNAUTHENTICATED"));
    let forged = app.gql_as("not.a.jwt", ME, json!({})).await;
    assert_eq!(code(&forged), Some("UNAUTHENTICATED"));

    // A token signed with another secret is refused.
    let other =
        crate::helpers::spawn_app_with(&[("JWT_SECRET", "another-secret-entirely-0123456789")])
            .await;
    let foreign = other.demo().await;
    assert_eq!(
        code(&app.gql_as(&foreign.access, ME, json!({})).await),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn viewer_is_null_for_anonymous_callers_and_the_user_otherwise() {
    let app = spawn_app().await;
    let q = "{ viewer { id email role } }";
    let anonymous = app.gql(q, json!({})).await;
    assert!(anonymous["errors"].is_null(), "no error: {anonymous}");
    assert_eq!(anonymous["data"], json!({ "viewer": null }));
    // Unlike `me`, which needs a caller.
    let me = app.gql("{ me { id } }", json!({})).await;
    assert_eq!(code(&me), Some("UNAUTHENTICATED"), "{me}");

    let demo = app.demo().await;
    let both = app
        .gql_as(&demo.access, "{ viewer { id email } me { id } }", json!({}))
        .await;
    assert_eq!(
        both["data"]["viewer"]["id"],
        demo.user_id.as_str(),
        "{both}"
    );
    assert_eq!(both["data"]["viewer"]["email"], "demo@example.com");
    assert_eq!(both["data"]["me"]["id"], both["data"]["viewer"]["id"]);

    // A token that does not verify is an error, so a client knows to refresh or log in.
    let forged = app.gql_as("not.a.jwt", q, json!({})).await;
    assert_eq!(code(&forged), Some("UNAUTHENTICATED"), "{forged}");
    app.clock.advance(Duration::minutes(16));
    let expired = app.gql_as(&demo.access, q, json!({})).await;
    assert_eq!(code(&expired), Some("UNAUTHENTICATED"), "{expired}");
}

#[tokio::test]
async fn access_tokens_expire() {
    let app = spawn_app().await;
    let demo = app.demo().await;
    assert!(app.gql_as(&demo.access, ME, json!({})).await["data"]["me"].is_object());
    app.clock.advance(Duration::minutes(16));
    let expired = app.gql_as(&demo.access, ME, json!({})).await;
    assert_eq!(code(&expired), Some("UNAUTHENTICATED"), "{expired}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = spawn_app().await;
    let q = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let wrong = app
        .gql(
            q,
            json!({ "i": { "email": "demo@example.com", "password": "nope-nope" } }),
        )
        .await;
    let unknown = app
        .gql(
            q,
            json!({ "i": { "email": "nobody@example.com", "password": "nope-nope" } }),
        )
        .await;
    assert_eq!(code(&wrong), Some("UNAUTHENTICATED"));
    assert!(
        wrong["data"].is_null(),
        "a top-level error, not a userError: {wrong}"
    );
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
}

#[tokio::test]
async fn registration_validates_its_input() {
    let app = spawn_app().await;
    let q = "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken user { id } userErrors { code field message } } }";
    let cases = [
        (
            json!({ "email": "not-an-email", "password": "long enough", "name": "A" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short", "name": "A" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "long enough", "name": "   " }),
            "name",
        ),
    ];
    for (input, field) in cases {
        let body = app.gql(q, json!({ "i": input })).await;
        assert!(
            body["errors"].is_null(),
            "an expected failure is data: {body}"
        );
        assert_eq!(
            user_error(&body, "register"),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        assert_eq!(
            body["data"]["register"]["userErrors"][0]["field"],
            json!(["input", field])
        );
        let payload = &body["data"]["register"];
        assert!(
            payload["accessToken"].is_null() && payload["user"].is_null(),
            "{body}"
        );
        assert!(
            !body.to_string().contains("long enough"),
            "password echoed: {body}"
        );
    }
    // Nothing was stored: the address is still free.
    app.register("a@example.com", "long enough", "A").await;
}

#[tokio::test]
async fn duplicate_registration_is_a_conflict_even_when_racing() {
    let app = spawn_app().await;
    let q =
        "mutation($i: RegisterInput!) { register(input: $i) { user { id } userErrors { code } } }";
    let vars =
        json!({ "i": { "email": "twin@example.com", "password": "long enough", "name": "Twin" } });
    let attempts = futures_util::future::join_all((0..8).map(|_| app.gql(q, vars.clone()))).await;
    let ok = attempts
        .iter()
        .filter(|b| b["data"]["register"]["user"].is_object())
        .count();
    let conflicts = attempts
        .iter()
        .filter(|b| {
            user_error(b, "register") == Some("CONFLICT") && b["data"]["register"]["user"].is_null()
        })
        .count();
    assert_eq!((ok, conflicts), (1, 7), "{attempts:?}");
    // Same address in other case is the same account.
    let again = app
        .gql(
            q,
            json!({ "i": { "email": "TWIN@example.com", "password": "long enough", "name": "T" } }),
        )
        .await;
    assert_eq!(user_error(&again, "register"), Some("CONFLICT"), "{again}");
    assert!(again["errors"].is_null(), "{again}");
    assert!(again["data"]["register"]["user"].is_null(), "{again}");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let first = app.demo().await;
    let q = REFRESH;
    let rotated = app.gql(q, json!({ "t": first.refresh })).await;
    let second = rotated["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second, first.refresh);
    assert_eq!(
        rotated["data"]["refreshToken"]["user"]["email"],
        "demo@example.com"
    );
    let access = rotated["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap();
    assert!(app.gql_as(access, ME, json!({})).await["data"]["me"].is_object());

    // Replaying the first token fails, and takes the rotated one down with it.
    let replay = app.gql(q, json!({ "t": first.refresh })).await;
    assert_eq!(code(&replay), Some("UNAUTHENTICATED"), "{replay}");
    assert!(
        replay["data"].is_null(),
        "a used token is a top-level error: {replay}"
    );
    let after = app.gql(q, json!({ "t": second })).await;
    assert_eq!(code(&after), Some("UNAUTHENTICATED"), "{after}");

    // Another login's family is untouched.
    let other = app.demo().await;
    let fresh = app.gql(q, json!({ "t": other.refresh })).await;
    assert!(
        fresh["data"]["refreshToken"]["refreshToken"].is_string(),
        "{fresh}"
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_yield_one_session() {
    let app = spawn_app().await;
    let s = app.demo().await;
    let q = REFRESH;
    let results =
        futures_util::future::join_all((0..6).map(|_| app.gql(q, json!({ "t": s.refresh })))).await;
    let ok = results
        .iter()
        .filter(|b| b["data"]["refreshToken"]["refreshToken"].is_string())
        .count();
    assert!(ok <= 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|b| b["data"]["refreshToken"]["refreshToken"].is_string()
                || code(b) == Some("UNAUTHENTICATED")),
        "{results:?}"
    );
}

#[tokio::test]
async fn refresh_tokens_expire() {
    let app = spawn_app().await;
    let s = app.demo().await;
    app.clock.advance(Duration::days(31));
    let q = REFRESH;
    assert_eq!(
        code(&app.gql(q, json!({ "t": s.refresh })).await),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn logout_revokes_refresh_tokens() {
    let app = spawn_app().await;
    let refresh = REFRESH;

    let a = app.demo().await;
    let out = app
        .gql(
            "mutation($t: String) { logout(input: { refreshToken: $t }) { revoked userErrors { code } } }",
            json!({ "t": a.refresh }),
        )
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
    assert_eq!(
        code(&app.gql(refresh, json!({ "t": a.refresh })).await),
        Some("UNAUTHENTICATED")
    );

    // Without a token, logout ends every session of the caller.
    let (b, c) = (app.demo().await, app.demo().await);
    let out = app
        .gql_as(&b.access, "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
    for s in [b, c] {
        assert_eq!(
            code(&app.gql(refresh, json!({ "t": s.refresh })).await),
            Some("UNAUTHENTICATED")
        );
    }

    // Anonymous logout without a token has nothing to revoke.
    assert_eq!(
        code(&app.gql("mutation { logout { revoked } }", json!({})).await),
        Some("UNAUTHENTICATED")
    );
}

const DEPOSIT: &str =
    "mutation { deposit(input: { amount: \"1\" }) { cash { balance } userErrors { code } } }";
const ORDER_UPDATES: &str = "subscription { orderUpdates { order { id } } }";

#[tokio::test]
async fn logging_out_everywhere_ends_access_tokens_and_open_sockets() {
    let app = spawn_app().await;
    let (phone, laptop) = (app.demo().await, app.demo().await);
    let mut ws = app.ws_session(Some(&phone.access)).await;
    ws.subscribe("o", ORDER_UPDATES, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let out = app
        .gql_as(&laptop.access, "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");

    assert_eq!(ws.closed_with().await, Some(4401), "the open socket closes");
    for s in [&phone, &laptop] {
        let dep = app.gql_as(&s.access, DEPOSIT, json!({})).await;
        assert_eq!(code(&dep), Some("UNAUTHENTICATED"), "{dep}");
        let me = app.gql_as(&s.access, ME, json!({})).await;
        assert_eq!(code(&me), Some("UNAUTHENTICATED"), "{me}");
        let mut ws = app.ws("graphql-transport-ws").await;
        ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", s.access) } }))
            .await;
        assert_eq!(ws.closed_with().await, Some(4403), "no new socket");
    }
    // Logging in again starts a working session.
    let again = app.demo().await;
    let me = app.gql_as(&again.access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "demo@example.com", "{me}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: run with TEST_DATABASE_URL, TEST_REDIS_URL and -- --ignored"]
async fn logging_out_on_one_instance_ends_the_sessions_on_another() {
    require_multi_instance_backends();
    let a = spawn_app().await;
    let b = a.spawn_peer(&[]).await;
    let demo = a.demo().await;
    // B has seen the token (and may remember the session as valid).
    let me = b.gql_as(&demo.access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "demo@example.com", "{me}");
    let mut ws = b.ws_session(Some(&demo.access)).await;
    ws.subscribe("o", ORDER_UPDATES, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let out = a
        .gql_as(&demo.access, "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
    let started = std::time::Instant::now();
    assert_eq!(ws.closed_with().await, Some(4401), "B closes the socket");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "closed within a second"
    );
    loop {
        let dep = b.gql_as(&demo.access, DEPOSIT, json!({})).await;
        if code(&dep) == Some("UNAUTHENTICATED") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "B still accepts the token: {dep}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

const CHANGE_PASSWORD: &str = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken refreshToken user { email } userErrors { code field message } } }";

/// Asks to change the password of the session `access` from `current` to `new`.
async fn change_password(
    app: &crate::helpers::TestApp,
    access: &str,
    current: &str,
    new: &str,
) -> serde_json::Value {
    app.gql_as(
        access,
        CHANGE_PASSWORD,
        json!({ "i": { "currentPassword": current, "newPassword": new } }),
    )
    .await
}

/// The `field` path of the first user error of `changePassword`.
fn refused_field(body: &serde_json::Value) -> &serde_json::Value {
    &body["data"]["changePassword"]["userErrors"][0]["field"]
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_a_good_new_one() {
    let app = spawn_app().await;
    let ann = app
        .register("ann@example.com", "correct horse", "Ann")
        .await;

    let wrong = change_password(&app, &ann.access, "incorrect horse", "battery staple").await;
    assert_eq!(
        user_error(&wrong, "changePassword"),
        Some("BAD_USER_INPUT"),
        "{wrong}"
    );
    assert_eq!(*refused_field(&wrong), json!(["input", "currentPassword"]));
    assert!(wrong["data"]["changePassword"]["accessToken"].is_null());

    for weak in ["short", "password1", "correct horse"] {
        let refused = change_password(&app, &ann.access, "correct horse", weak).await;
        assert_eq!(
            user_error(&refused, "changePassword"),
            Some("BAD_USER_INPUT"),
            "{weak}: {refused}"
        );
        assert_eq!(
            *refused_field(&refused),
            json!(["input", "newPassword"]),
            "{weak}"
        );
    }
    // Nothing changed: the session still works, and so does the old password.
    assert!(app.gql_as(&ann.access, ME, json!({})).await["data"]["me"].is_object());
    app.login("ann@example.com", "correct horse").await;

    let anonymous = app
        .gql(
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": "correct horse", "newPassword": "battery staple" } }),
        )
        .await;
    assert_eq!(code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");
}

#[tokio::test]
async fn a_changed_password_ends_every_other_session_and_starts_a_fresh_one() {
    let app = spawn_app().await;
    let phone = app
        .register("ann@example.com", "correct horse", "Ann")
        .await;
    let laptop = app.login("ann@example.com", "correct horse").await;
    let mut ws = app.ws_session(Some(&laptop.access)).await;
    ws.subscribe("o", ORDER_UPDATES, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let changed = change_password(&app, &phone.access, "correct horse", "battery staple").await;
    let payload = &changed["data"]["changePassword"];
    assert_eq!(payload["userErrors"], json!([]), "{changed}");
    assert_eq!(payload["user"]["email"], "ann@example.com");
    let fresh_access = payload["accessToken"].as_str().unwrap();
    let fresh_refresh = payload["refreshToken"].as_str().unwrap();

    assert_eq!(
        ws.closed_with().await,
        Some(4401),
        "the laptop's socket closes"
    );
    for old in [&phone, &laptop] {
        let me = app.gql_as(&old.access, ME, json!({})).await;
        assert_eq!(code(&me), Some("UNAUTHENTICATED"), "{me}");
        let refreshed = app.gql(REFRESH, json!({ "t": old.refresh })).await;
        assert_eq!(code(&refreshed), Some("UNAUTHENTICATED"), "{refreshed}");
    }
    // The caller's new session works, refresh included.
    let me = app.gql_as(fresh_access, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    let refreshed = app.gql(REFRESH, json!({ "t": fresh_refresh })).await;
    assert!(
        refreshed["data"]["refreshToken"]["accessToken"].is_string(),
        "{refreshed}"
    );

    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let old = app
        .gql(
            login,
            json!({ "i": { "email": "ann@example.com", "password": "correct horse" } }),
        )
        .await;
    assert_eq!(code(&old), Some("UNAUTHENTICATED"), "{old}");
    let again = app.login("ann@example.com", "battery staple").await;
    assert!(app.gql_as(&again.access, ME, json!({})).await["data"]["me"].is_object());
}

#[tokio::test]
async fn a_temporary_password_from_an_admin_reset_can_be_changed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let demo = app.demo().await;
    let reset = app
        .gql_as(
            &admin.access,
            "mutation($i: ResetUserPasswordInput!) { resetUserPassword(input: $i) { temporaryPassword } }",
            json!({ "i": { "id": demo.user_id } }),
        )
        .await;
    let temporary = reset["data"]["resetUserPassword"]["temporaryPassword"]
        .as_str()
        .unwrap_or_else(|| panic!("{reset}"))
        .to_string();

    let session = app.login("demo@example.com", &temporary).await;
    let changed = change_password(&app, &session.access, &temporary, "my own secret").await;
    assert_eq!(
        changed["data"]["changePassword"]["userErrors"],
        json!([]),
        "{changed}"
    );
    app.login("demo@example.com", "my own secret").await;
    let with_temporary = app
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": "demo@example.com", "password": temporary } }),
        )
        .await;
    assert_eq!(code(&with_temporary), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn guessing_the_current_password_meets_the_login_limit() {
    let app = crate::helpers::spawn_app_with(&[("RATE_LIMIT_LOGIN", "3/60")]).await;
    let ann = app
        .register("ann@example.com", "correct horse", "Ann")
        .await;
    for guess in ["guess one", "guess two", "guess three"] {
        let wrong = change_password(&app, &ann.access, guess, "battery staple").await;
        assert_eq!(user_error(&wrong, "changePassword"), Some("BAD_USER_INPUT"));
    }
    // Even the right password waits now: the limit counts attempts, as login does.
    let limited = change_password(&app, &ann.access, "correct horse", "battery staple").await;
    assert_eq!(code(&limited), Some("RATE_LIMITED"), "{limited}");
    assert!(app.gql_as(&ann.access, ME, json!({})).await["data"]["me"].is_object());
}
