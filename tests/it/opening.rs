//! The opening gap: a trading day's first prices jump from the previous close by the overnight
//! volatility, before the queued orders run, so they fill at the day's real open.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use entity::price_ticks;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{TestApp, spawn_app_at};

const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } userErrors { code message } } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { status price } }";
const AAPL: &str = "{ stock(by: { symbol: \"AAPL\" }) { id price open previousClose } }";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal: {v}"))
        .parse()
        .unwrap()
}

async fn aapl(app: &TestApp) -> Value {
    app.gql(AAPL, json!({})).await["data"]["stock"].clone()
}

/// What a day's open did to AAPL and to a market buy queued overnight.
struct Open {
    /// The last price before the open.
    last_close: Decimal,
    /// The day's open and previous close, as `Stock` says after the open.
    open: Decimal,
    previous_close: Decimal,
    /// The queued buy's fill price.
    fill: Decimal,
    /// Ticks stored by then (the clock stands at the open, so no tick round has run).
    ticks: u64,
}

/// Queues a market buy of AAPL after Wednesday's close and opens the market on Friday
/// (Thanksgiving skipped), with `overrides` set.
async fn open_with_a_queued_buy(overrides: &[(&str, &str)]) -> Open {
    // Wednesday 2026-11-25, 16:30 EST: the demo stocks' day is the 25th, and it is over.
    let app = spawn_app_at(utc("2026-11-25T21:30:00Z"), overrides).await;
    app.override_market(None, None).await;
    app.wait_market(false).await;
    let stock = aapl(&app).await;
    let last_close = dec(&stock["price"]);

    let demo = app.demo().await;
    let queued = app
        .gql_as(
            &demo.access,
            PLACE,
            json!({ "i": { "stock": { "id": stock["id"] }, "side": "BUY", "quantity": 3 } }),
        )
        .await;
    let order = &queued["data"]["placeOrder"]["order"];
    assert_eq!(order["status"], "QUEUED", "{queued}");
    let order_id = order["id"].clone();

    app.clock.set(utc("2026-11-27T14:30:00Z"));
    app.wait_market(true).await;
    let demo = app.demo().await; // the first session's token has expired
    let order = || async {
        app.gql_as(&demo.access, ORDER, json!({ "id": order_id }))
            .await["data"]["order"]
            .clone()
    };
    app.eventually("the queued buy fills at the open", || async {
        order().await["status"] == "EXECUTED"
    })
    .await;
    let fill = order().await;
    let stock = aapl(&app).await;
    Open {
        last_close,
        open: dec(&stock["open"]),
        previous_close: dec(&stock["previousClose"]),
        fill: dec(&fill["price"]),
        ticks: price_ticks::Entity::find().count(&app.db).await.unwrap(),
    }
}

#[tokio::test]
async fn queued_orders_fill_at_the_gapped_open() {
    let gap = [("SIM_SEED", "3"), ("OVERNIGHT_VOLATILITY", "0.05")];
    let day = open_with_a_queued_buy(&gap).await;
    assert_eq!(day.previous_close, day.last_close, "yesterday's close");
    assert_ne!(day.open, day.last_close, "the day opened on a gap");
    assert_eq!(day.fill, day.open, "the queue met the day's open");
    assert_eq!(day.ticks, 12, "one opening tick per demo stock");
    // A jump the size of a few overnight standard deviations at most.
    let jump = (day.open / day.last_close)
        .to_string()
        .parse::<f64>()
        .unwrap()
        .ln();
    assert!(jump.abs() < 6.0 * 0.05, "jump {jump}");

    // The same seed opens at the same price.
    let again = open_with_a_queued_buy(&gap).await;
    assert_eq!((again.open, again.fill), (day.open, day.fill));
}

#[tokio::test]
async fn without_overnight_volatility_the_day_opens_at_the_last_close() {
    let day = open_with_a_queued_buy(&[("SIM_SEED", "3"), ("OVERNIGHT_VOLATILITY", "0")]).await;
    assert_eq!(day.fill, day.last_close);
    assert_eq!(
        day.ticks, 0,
        "no opening round: the first tick starts the day"
    );
}
