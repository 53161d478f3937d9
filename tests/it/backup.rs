//! `zebrat backup` / `zebrat restore`: a backup taken while the server trades restores every
//! balance, position, order, trade and ledger row exactly (on the database the run uses:
//! SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

use entity::{
    audit_log, cash_ledger, cash_requests, orders, positions, prices_live, trades, users,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryOrder, Statement};
use serde_json::{Value, json};
use zebrat::{Config, app};

use crate::helpers::{Session, TestApp, spawn_app};

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { \
     order { id status } userErrors { code message } } }";

/// Every row the money and holdings of the accounts live in, in a fixed order.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<users::Model>,
    ledger: Vec<cash_ledger::Model>,
    /// Idempotency keys with the answer (and ledger entry) their first request got.
    cash_requests: Vec<cash_requests::Model>,
    orders: Vec<orders::Model>,
    trades: Vec<trades::Model>,
    positions: Vec<positions::Model>,
    prices: Vec<prices_live::Model>,
    audit: Vec<audit_log::Model>,
}

async fn snapshot(db: &DatabaseConnection) -> Snapshot {
    Snapshot {
        users: users::Entity::find()
            .order_by_asc(users::Column::Id)
            .all(db)
            .await
            .expect("users"),
        ledger: cash_ledger::Entity::find()
            .order_by_asc(cash_ledger::Column::Id)
            .all(db)
            .await
            .expect("ledger"),
        cash_requests: cash_requests::Entity::find()
            .order_by_asc(cash_requests::Column::Id)
            .all(db)
            .await
            .expect("cash requests"),
        orders: orders::Entity::find()
            .order_by_asc(orders::Column::Id)
            .all(db)
            .await
            .expect("orders"),
        trades: trades::Entity::find()
            .order_by_asc(trades::Column::Id)
            .all(db)
            .await
            .expect("trades"),
        positions: positions::Entity::find()
            .order_by_asc(positions::Column::Id)
            .all(db)
            .await
            .expect("positions"),
        prices: prices_live::Entity::find()
            .order_by_asc(prices_live::Column::StockId)
            .all(db)
            .await
            .expect("prices"),
        audit: audit_log::Entity::find()
            .order_by_asc(audit_log::Column::Id)
            .all(db)
            .await
            .expect("audit log"),
    }
}

async fn stock_id(app: &TestApp, symbol: &str) -> String {
    let r = app
        .gql(
            "query($s: String!) { stock(by: { symbol: $s }) { id } }",
            json!({ "s": symbol }),
        )
        .await;
    r["data"]["stock"]["id"].as_str().expect("stock id").into()
}

async fn place(app: &TestApp, s: &Session, stock: &str, side: &str, qty: i64) -> Value {
    let r = app
        .gql_as(
            &s.access,
            PLACE,
            json!({ "i": { "stock": { "id": stock }, "side": side, "quantity": qty } }),
        )
        .await;
    let order = &r["data"]["placeOrder"]["order"];
    assert!(order.is_object(), "{r}");
    order.clone()
}

/// The settings a `zebrat backup` run on this database would read.
fn cli_config(url: &str) -> Config {
    let url = url.to_owned();
    Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "JWT_SECRET" => Some("backup-test-secret-long-enough-for-prod".into()),
        _ => None,
    })
    .expect("config")
}

/// Empties the database as a disaster would: every row gone on SQLite (the file stays), the
/// whole schema gone on PostgreSQL.
async fn wipe(url: &str) {
    let db = Database::connect(url).await.expect("connect to wipe");
    let backend = db.get_database_backend();
    let run = |sql: String| Statement::from_string(backend, sql);
    if url.starts_with("sqlite:") {
        db.execute_raw(run("PRAGMA foreign_keys = OFF".into()))
            .await
            .expect("foreign keys off");
        let tables = db
            .query_all_raw(run(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    .into(),
            ))
            .await
            .expect("tables");
        for t in tables {
            let name: String = t.try_get("", "name").expect("table name");
            db.execute_raw(run(format!("DELETE FROM \"{name}\"")))
                .await
                .expect("delete rows");
        }
    } else {
        for sql in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
            db.execute_raw(run(sql.into()))
                .await
                .expect("drop the schema");
        }
    }
    db.close().await.expect("close after wipe");
}

#[tokio::test]
async fn a_backup_taken_while_trading_restores_every_row() {
    let app = spawn_app().await;
    let url = app.services.config.database_url.clone();
    let (aapl, msft) = (stock_id(&app, "AAPL").await, stock_id(&app, "MSFT").await);

    // Live data: cash in and out, executed buys and a sell, then queued and cancelled orders
    // (with their reservations) while the market is closed.
    let demo = app.demo().await;
    let ann = app
        .register("ann@example.com", "long enough pw", "Ann")
        .await;
    for (s, amount) in [(&ann, "5000.00"), (&demo, "123.45")] {
        let r = app
            .gql_as(
                &s.access,
                "mutation($i: CashInput!) { deposit(input: $i) { cash { balance } userErrors { code } } }",
                json!({ "i": { "amount": amount, "idempotencyKey": "backup-deposit" } }),
            )
            .await;
        assert!(r["data"]["deposit"]["cash"].is_object(), "{r}");
    }
    assert_eq!(
        place(&app, &demo, &aapl, "BUY", 10).await["status"],
        "EXECUTED"
    );
    assert_eq!(
        place(&app, &ann, &msft, "BUY", 3).await["status"],
        "EXECUTED"
    );
    assert_eq!(
        place(&app, &demo, &aapl, "SELL", 4).await["status"],
        "EXECUTED"
    );
    let r = app
        .gql_as(
            &ann.access,
            "mutation { withdraw(input: { amount: \"100.10\" }) { cash { balance } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert!(r["data"]["withdraw"]["cash"].is_object(), "{r}");
    app.override_market(Some(false), Some("backup test")).await;
    app.wait_market(false).await;
    assert_eq!(place(&app, &ann, &aapl, "BUY", 2).await["status"], "QUEUED");
    assert_eq!(
        place(&app, &demo, &aapl, "SELL", 1).await["status"],
        "QUEUED"
    );
    let cancel = place(&app, &ann, &msft, "BUY", 1).await;
    let r = app
        .gql_as(
            &ann.access,
            "mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }",
            json!({ "id": cancel["id"] }),
        )
        .await;
    assert_eq!(
        r["data"]["cancelOrder"]["order"]["status"], "CANCELED",
        "{r}"
    );

    let before = snapshot(&app.db).await;
    assert!(before.ledger.len() >= 6 && before.orders.len() == 6 && before.trades.len() == 3);
    assert!(before.users.iter().any(|u| u.reserved_cents > 0));
    assert!(
        before.cash_requests.len() == 2
            && before.cash_requests.iter().all(|r| r.ledger_id.is_some())
    );
    assert!(before.positions.iter().any(|p| p.reserved_quantity > 0));

    // Online: taken while the server holds the database.
    let config = cli_config(&url);
    let dir = TempDir::new();
    let file = dir.0.join("zebrat.backup");
    app::backup(&config, &file).await.expect("backup written");
    let again = app::backup(&config, &file).await;
    assert!(
        again.is_err_and(|e| e.to_string().contains("already exists")),
        "a backup never overwrites a file"
    );

    // Restoring under a running server is refused, and changes nothing.
    let refused = app::restore(&config, &file).await;
    assert!(
        refused.is_err_and(|e| e.to_string().contains("in use")),
        "restore must refuse while a server is connected"
    );

    app.stopped().await;
    app.db.close_by_ref().await.expect("pool closed");
    wipe(&url).await;
    let wiped = Database::connect(&url).await.expect("reconnect");
    let empty = users::Entity::find().all(&wiped).await.unwrap_or_default();
    assert!(empty.is_empty(), "the wipe left users behind");
    wiped.close().await.expect("close");

    app::restore(&config, &file).await.expect("restored");

    let restored = Database::connect(&url).await.expect("reconnect");
    assert_eq!(snapshot(&restored).await, before);
    restored.close().await.expect("close");

    // And a server starts on the restored database and serves the same accounts.
    let peer = app.spawn_peer(&[]).await;
    let demo = peer.demo().await;
    let r = peer
        .gql_as(
            &demo.access,
            "{ cash { balance reserved } portfolio { positions { quantity } } }",
            json!({}),
        )
        .await;
    let demo_row = before
        .users
        .iter()
        .find(|u| u.email == "demo@example.com")
        .expect("demo user");
    let balance: rust_decimal::Decimal = r["data"]["cash"]["balance"]
        .as_str()
        .expect("balance")
        .parse()
        .expect("decimal");
    assert_eq!(balance, rust_decimal::Decimal::new(demo_row.cash_cents, 2));
    assert_eq!(r["data"]["portfolio"]["positions"][0]["quantity"], 6, "{r}");
    peer.stopped().await;
}

/// A folder for the backup, removed however the test ends.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("zebrat-backup-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("backup dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn commands_other_than_serve_and_migrate_never_create_a_sqlite_database() {
    let path = std::env::temp_dir().join(format!("zebrat-missing-{}.db", uuid::Uuid::new_v4()));
    // The default URL's `mode=rwc` asks SQLite to create the file: these commands must not.
    let config = cli_config(&format!("sqlite://{}?mode=rwc", path.display()));
    let market = app::override_market(&config, app::MarketOverride::Close(None)).await;
    let seed = app::seed(&config).await;
    let backup = app::backup(&config, &path.with_extension("backup")).await;
    for (command, result) in [
        ("market", market.err().map(|e| e.to_string())),
        ("seed", seed.err().map(|e| e.to_string())),
        ("backup", backup.err().map(|e| e.to_string())),
    ] {
        let message = result.unwrap_or_else(|| panic!("{command} ran without a database"));
        assert!(
            message.contains(&format!("no SQLite database at {}", path.display()))
                && message.contains("DATABASE_URL="),
            "{command}: {message}"
        );
    }
    assert!(!path.exists(), "a database file was created");
    assert!(!path.with_extension("backup").exists());
}
