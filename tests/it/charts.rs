//! Chart reads (candles) come from memory, follow the tick rounds, and agree with the database.

use chrono::{DateTime, Duration, Utc};
use entity::{candle_data, stocks};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use zebrat::{
    clock::Clock,
    domain::market::{
        CandleWindow, MAX_CANDLES,
        candles::{self, Candle, Interval},
    },
};

use crate::helpers::{TestApp, spawn_app_at};

/// AAPL's hourly chart from `$from` on, as a client reads it.
pub(crate) const CHART: &str = "query($from: DateTime) {
    candles(stock: {symbol: \"AAPL\"}, interval: H1, from: $from) {
        truncated candles { bucketStart open high low close tickCount isFinal }
    }
}";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub(crate) async fn aapl(app: &TestApp) -> i64 {
    stocks::Entity::find()
        .filter(stocks::Column::Symbol.eq("AAPL"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("AAPL is seeded")
        .id
}

/// The stock's hourly candles from `from` on, as the market service serves them.
async fn served(app: &TestApp, id: i64, from: DateTime<Utc>) -> Vec<Candle> {
    let window = CandleWindow {
        from: Some(from),
        to: None,
        last: None,
    };
    app.services
        .market
        .candles(id, Interval::H1, window)
        .await
        .unwrap()
        .candles
}

/// The same candles as the database holds them.
pub(crate) async fn stored(app: &TestApp, id: i64, from: DateTime<Utc>) -> Vec<Candle> {
    candles::query(
        &app.db,
        id,
        Interval::H1,
        Some(from),
        None,
        Some(MAX_CANDLES + 1),
    )
    .await
    .unwrap()
}

/// The statements ten reads of `query` cost, in the quietest of five windows of ten (ten when
/// each read goes to the database). The engine's scheduler and lease run statements of their
/// own every few seconds and they count too: on a slow machine a window may meet them, five in
/// a row do not.
pub(crate) async fn ten_reads_cost(app: &TestApp, query: &str, vars: &Value) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..5 {
        let before = app.statements.count();
        for _ in 0..10 {
            let r = app.gql(query, vars.clone()).await;
            assert!(r["data"]["candles"]["candles"].is_array(), "{r}");
        }
        least = least.min(app.statements.count() - before);
        if least == 0 {
            break;
        }
    }
    least
}

/// Served from memory: a row changed behind the API's back does not show until the series is
/// dropped; the rounds' candles do (a new hour's, and the last state of the one it closed), and
/// every answer but that row agrees with the database.
#[tokio::test]
async fn chart_reads_come_from_memory_and_follow_the_rounds() {
    // 10:59:30 in New York: the 10:00 hour closes within fifteen rounds.
    let app = spawn_app_at(
        utc("2026-11-25T15:59:30Z"),
        &[("CANDLE_BACKFILL_DAYS", "30")],
    )
    .await;
    app.wait_market(true).await;
    let id = aapl(&app).await;
    let from = app.clock.now() - Duration::days(30);
    let vars = json!({ "from": from.to_rfc3339() });
    app.eventually("the history", || async {
        !stored(&app, id, from).await.is_empty()
    })
    .await;
    let mut ticks = app.ws_session(None).await;
    ticks
        .subscribe("t", "subscription { ticks { seq } }", json!({}))
        .await;
    app.tick_until_message(&mut ticks, "t").await;
    app.eventually("the chart at the round's prices", || async {
        served(&app, id, from).await == stored(&app, id, from).await
    })
    .await;
    let chart = app.gql(CHART, vars.clone()).await;
    let live = chart["data"]["candles"]["candles"]
        .as_array()
        .and_then(|c| c.last().cloned())
        .unwrap_or_else(|| panic!("a chart: {chart}"));
    assert_eq!(live["bucketStart"], "2026-11-25T15:00:00Z", "{chart}");
    assert_eq!(live["isFinal"], false, "the live hour: {chart}");

    // Ten reads cost no more statements than one load (the window, and whether older candles
    // exist) does.
    let cost = ten_reads_cost(&app, CHART, &vars).await;
    assert!(
        cost <= 2,
        "chart reads went to the database: {cost} statements"
    );

    // A row changed with no event stays unseen: the answer is the memory's. (The series is
    // reloaded after 30 s; this test takes a few.)
    let before = stored(&app, id, from).await;
    let oldest = before[0];
    let row = candle_data::Entity::find()
        .filter(candle_data::Column::StockId.eq(id))
        .filter(candle_data::Column::Interval.eq("H1"))
        .filter(candle_data::Column::BucketStart.eq(oldest.bucket_start))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    candle_data::ActiveModel {
        id: Set(row.id),
        high_cents: Set(oldest.high + 100_000),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    assert_eq!(served(&app, id, from).await, before);

    // Rounds into the 11:00 hour: the new hour's candle appears, the 10:00 one is final with
    // its last prices, and nothing was reloaded (the changed row is still unseen).
    while app.clock.now() < utc("2026-11-25T16:00:00Z") {
        app.tick_until_message(&mut ticks, "t").await;
    }
    app.tick_until_message(&mut ticks, "t").await;
    let expected = async || {
        let mut expected = stored(&app, id, from).await;
        expected[0] = oldest;
        expected
    };
    app.eventually("the new hour's candle", || async {
        served(&app, id, from).await == expected().await
    })
    .await;
    let now = expected().await;
    let [.., closed, newest] = now.as_slice() else {
        panic!("two hours at least: {now:?}")
    };
    assert_eq!(
        (closed.bucket_start, newest.bucket_start),
        (utc("2026-11-25T15:00:00Z"), utc("2026-11-25T16:00:00Z"))
    );
    assert_eq!(now[..now.len() - 2], before[..before.len() - 1]);
    let chart = app.gql(CHART, vars.clone()).await;
    let hours = chart["data"]["candles"]["candles"].as_array().unwrap();
    let [.., closed_hour, new_hour] = hours.as_slice() else {
        panic!("{chart}")
    };
    assert_eq!(closed_hour["bucketStart"], "2026-11-25T15:00:00Z");
    assert_eq!(closed_hour["isFinal"], true, "the closed hour: {chart}");
    assert_eq!(closed_hour["tickCount"], closed.tick_count);
    assert_eq!(new_hour["isFinal"], false, "the new hour: {chart}");
    let cost = ten_reads_cost(&app, CHART, &vars).await;
    assert!(
        cost <= 2,
        "chart reads went to the database: {cost} statements"
    );

    // A stock changed (here: renamed): every series is dropped, the next read reloads.
    let admin = app.admin().await;
    let update = "mutation($i: UpdateStockInput!) { updateStock(input: $i) { stock { id } } }";
    let stock = app
        .gql("{ stock(by: {symbol: \"MSFT\"}) { id } }", json!({}))
        .await["data"]["stock"]["id"]
        .clone();
    let renamed = app
        .gql_as(
            &admin.access,
            update,
            json!({ "i": { "id": stock, "name": "Microsoft Corp." } }),
        )
        .await;
    assert!(
        renamed["data"]["updateStock"]["stock"].is_object(),
        "{renamed}"
    );
    assert_eq!(
        served(&app, id, from).await,
        stored(&app, id, from).await,
        "reloaded, the changed row with it"
    );
}

/// Reads the window cannot answer (before it, or more than it holds) go to the database and
/// answer as before; the trend comes from the same series.
#[tokio::test]
async fn reads_beyond_the_window_go_to_the_database() {
    // 40 days of history; the window holds the last 31.
    let app = spawn_app_at(
        utc("2026-11-25T15:00:00Z"),
        &[("CANDLE_BACKFILL_DAYS", "40")],
    )
    .await;
    let id = aapl(&app).await;
    let start = utc("2026-10-01T00:00:00Z");
    app.eventually("the history", || async {
        stored(&app, id, start).await.len() > 100
    })
    .await;
    let all = stored(&app, id, start).await;
    let window = |from, to, last| CandleWindow { from, to, last };
    let cases = [
        window(None, None, None),
        window(None, None, Some(5)),
        window(Some(start), None, Some(500)),
        window(Some(start), Some(all[10].bucket_start), None),
        window(None, Some(all[3].bucket_start), Some(2)),
        window(Some(all[all.len() - 3].bucket_start), None, None),
    ];
    for w in cases {
        let series = app
            .services
            .market
            .candles(id, Interval::H1, w)
            .await
            .unwrap();
        let db = candles::query(
            &app.db,
            id,
            Interval::H1,
            w.from,
            w.to,
            Some(w.last.map_or(MAX_CANDLES, |n| n as u64) + 1),
        )
        .await
        .unwrap();
        let truncated = db.len() as u64 > w.last.map_or(MAX_CANDLES, |n| n as u64);
        assert_eq!(series.truncated, truncated, "{w:?}");
        assert_eq!(series.candles, db[usize::from(truncated)..], "{w:?}");
    }
    let trend = app
        .gql("{ stock(by: {symbol: \"AAPL\"}) { trend } }", json!({}))
        .await;
    let closes: Vec<Value> = all[all.len() - 24..]
        .iter()
        .map(|c| json!(format!("{}.{:02}", c.close / 100, c.close % 100)))
        .collect();
    assert_eq!(trend["data"]["stock"]["trend"], json!(closes), "{trend}");
}
