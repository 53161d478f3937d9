//! The computed exchange calendar, early closes and the days admins list, on the manual clock.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, code, spawn_app_at, user_error};

const STATE: &str = "{ marketState { isOpen reason nextOpen nextClose } }";
const CALENDAR: &str = "query($from: Date!, $to: Date!) { marketCalendar(from: $from, to: $to) { date kind closeTime name source holiday { id kind closeTime } } }";
const ADD: &str = "mutation($i: HolidayInput!) { addHoliday(input: $i) { holiday { id date name kind closeTime } marketState { isOpen reason nextClose } userErrors { code field message } } }";
const DELETE: &str = "mutation($id: ID!) { deleteHoliday(input: { id: $id }) { holiday { id kind } marketState { isOpen } userErrors { code } } }";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn state(app: &TestApp) -> Value {
    app.gql(STATE, json!({})).await["data"]["marketState"].clone()
}

/// The market on its schedule (demo data starts with the override holding it open).
async fn on_schedule(start: &str, overrides: &[(&str, &str)]) -> TestApp {
    let app = spawn_app_at(utc(start), overrides).await;
    app.override_market(None, None).await;
    app
}

async fn calendar(app: &TestApp, from: &str, to: &str) -> Value {
    app.gql(CALENDAR, json!({ "from": from, "to": to })).await
}

#[tokio::test]
async fn the_day_after_thanksgiving_closes_at_one_in_the_afternoon() {
    // Friday 2026-11-27, 09:00 EST: the day after Thanksgiving, an early close at 13:00 EST.
    let app = on_schedule("2026-11-27T14:00:00Z", &[]).await;
    app.wait_market(false).await;
    let s = state(&app).await;
    assert_eq!(s["nextOpen"], "2026-11-27T14:30:00Z", "{s}");
    assert_eq!(s["nextClose"], "2026-11-27T18:00:00Z", "{s}");

    app.clock.set(utc("2026-11-27T14:30:00Z"));
    app.wait_market(true).await;
    let s = state(&app).await;
    assert_eq!(
        s["reason"], "open: early close at 13:00 (Day after Thanksgiving)",
        "{s}"
    );
    assert_eq!(s["nextClose"], "2026-11-27T18:00:00Z");
    assert_eq!(s["nextOpen"], "2026-11-30T14:30:00Z");

    // The engine closes the market at 13:00, not at 16:00.
    app.clock.set(utc("2026-11-27T18:00:00Z"));
    app.wait_market(false).await;
    let s = state(&app).await;
    assert_eq!(s["reason"], "closed: outside trading hours", "{s}");
    assert_eq!(s["nextOpen"], "2026-11-30T14:30:00Z");
    assert_eq!(s["nextClose"], "2026-11-30T21:00:00Z");
}

#[tokio::test]
async fn computed_holidays_close_the_market_and_the_calendar_lists_them() {
    // Good Friday 2026 (April 3, EDT): closed, next open Monday.
    let app = on_schedule("2026-04-03T15:00:00Z", &[]).await;
    app.wait_market(false).await;
    let s = state(&app).await;
    assert_eq!(s["reason"], "closed: holiday (Good Friday)", "{s}");
    assert_eq!(s["nextOpen"], "2026-04-06T13:30:00Z");

    let days = calendar(&app, "2026-11-01", "2027-01-01").await;
    assert_eq!(
        days["data"]["marketCalendar"],
        json!([
            { "date": "2026-11-26", "kind": "HOLIDAY", "closeTime": null, "name": "Thanksgiving Day", "source": "EXCHANGE_RULE", "holiday": null },
            { "date": "2026-11-27", "kind": "EARLY_CLOSE", "closeTime": "13:00", "name": "Day after Thanksgiving", "source": "EXCHANGE_RULE", "holiday": null },
            { "date": "2026-12-24", "kind": "EARLY_CLOSE", "closeTime": "13:00", "name": "Christmas Eve", "source": "EXCHANGE_RULE", "holiday": null },
            { "date": "2026-12-25", "kind": "HOLIDAY", "closeTime": null, "name": "Christmas Day", "source": "EXCHANGE_RULE", "holiday": null },
            { "date": "2027-01-01", "kind": "HOLIDAY", "closeTime": null, "name": "New Year's Day", "source": "EXCHANGE_RULE", "holiday": null },
        ]),
        "{days}"
    );
    // Saturday New Year's Day 2028 is not observed on Friday, December 31, 2027.
    let around = calendar(&app, "2027-12-30", "2028-01-03").await;
    assert_eq!(around["data"]["marketCalendar"], json!([]), "{around}");

    let backwards = calendar(&app, "2026-12-31", "2026-01-01").await;
    assert_eq!(code(&backwards), Some("BAD_USER_INPUT"), "{backwards}");
    let too_long = calendar(&app, "2026-01-01", "2031-12-31").await;
    assert_eq!(code(&too_long), Some("BAD_USER_INPUT"), "{too_long}");
    let five_years = calendar(&app, "2026-01-01", "2030-12-31").await;
    assert_eq!(
        five_years["data"]["marketCalendar"]
            .as_array()
            .map(Vec::len),
        // Ten holidays a year but nine in 2028, and 2 + 1 + 2 + 3 + 3 early closes.
        Some(49 + 11),
        "{five_years}"
    );
}

#[tokio::test]
async fn admins_add_early_closes_and_lift_computed_days() {
    // Wednesday 2026-11-25, 10:00 EST: open.
    let app = on_schedule("2026-11-25T15:00:00Z", &[]).await;
    app.wait_market(true).await;
    let admin = app.admin().await;

    // Today closes at noon EST (17:00Z): the payload's state says so at once.
    let early = app
        .gql_as(
            &admin.access,
            ADD,
            json!({ "i": { "date": "2026-11-25", "name": "Half day", "kind": "EARLY_CLOSE", "closeTime": "12:00" } }),
        )
        .await;
    let payload = &early["data"]["addHoliday"];
    assert_eq!(payload["userErrors"], json!([]), "{early}");
    assert_eq!(payload["holiday"]["kind"], "EARLY_CLOSE");
    assert_eq!(payload["holiday"]["closeTime"], "12:00");
    assert_eq!(
        payload["marketState"],
        json!({ "isOpen": true, "reason": "open: early close at 12:00 (Half day)", "nextClose": "2026-11-25T17:00:00Z" })
    );
    app.clock.set(utc("2026-11-25T17:00:00Z"));
    app.wait_market(false).await;
    // Access tokens last 15 minutes and the clock moved on: log in again.
    let admin = app.admin().await;

    // An early close needs its time, and only an early close has one.
    for (input, field) in [
        (
            json!({ "date": "2026-12-01", "name": "X", "kind": "EARLY_CLOSE" }),
            "closeTime",
        ),
        (
            json!({ "date": "2026-12-01", "name": "X", "kind": "EARLY_CLOSE", "closeTime": "25:00" }),
            "closeTime",
        ),
        (
            json!({ "date": "2026-12-01", "name": "X", "closeTime": "13:00" }),
            "closeTime",
        ),
        (
            json!({ "date": "2026-12-01", "name": "X", "kind": "OPEN", "closeTime": "13:00" }),
            "closeTime",
        ),
    ] {
        let refused = app.gql_as(&admin.access, ADD, json!({ "i": input })).await;
        assert_eq!(
            user_error(&refused, "addHoliday"),
            Some("BAD_USER_INPUT"),
            "{input}: {refused}"
        );
        assert_eq!(
            refused["data"]["addHoliday"]["userErrors"][0]["field"],
            json!(["input", field])
        );
    }

    // OPEN lifts Thanksgiving: the market opens on the 26th as on any Thursday.
    let open = app
        .gql_as(
            &admin.access,
            ADD,
            json!({ "i": { "date": "2026-11-26", "name": "Trading on Thanksgiving", "kind": "OPEN" } }),
        )
        .await;
    let listing = open["data"]["addHoliday"]["holiday"].clone();
    assert_eq!(listing["kind"], "OPEN", "{open}");
    let days = calendar(&app, "2026-11-25", "2026-11-27").await;
    let days = &days["data"]["marketCalendar"];
    assert_eq!(days[0]["source"], "ADMIN", "{days}");
    assert_eq!(days[0]["holiday"]["closeTime"], "12:00");
    assert_eq!(
        (
            &days[1]["kind"],
            &days[1]["source"],
            &days[1]["holiday"]["id"]
        ),
        (&json!("OPEN"), &json!("ADMIN"), &listing["id"])
    );
    assert_eq!(days[2]["source"], "EXCHANGE_RULE");
    assert_eq!(state(&app).await["nextOpen"], "2026-11-26T14:30:00Z");
    app.clock.set(utc("2026-11-26T15:00:00Z"));
    app.wait_market(true).await;
    let admin = app.admin().await;

    // Deleting the listing gives the day back to the rules: closed again.
    let deleted = app
        .gql_as(&admin.access, DELETE, json!({ "id": listing["id"] }))
        .await;
    assert_eq!(
        deleted["data"]["deleteHoliday"]["marketState"]["isOpen"], false,
        "{deleted}"
    );
    app.wait_market(false).await;
    assert_eq!(
        state(&app).await["reason"],
        "closed: holiday (Thanksgiving Day)"
    );

    // The audit log records what each listing was.
    let log = app
        .gql_as(
            &admin.access,
            "{ auditLog(action: MARKET_HOLIDAY_ADD) { nodes { after } } }",
            json!({}),
        )
        .await;
    let after = &log["data"]["auditLog"]["nodes"][1]["after"];
    assert_eq!(
        *after,
        json!({ "date": "2026-11-25", "name": "Half day", "kind": "EARLY_CLOSE", "closeTime": "12:00" }),
        "{log}"
    );
}

#[tokio::test]
async fn without_exchange_rules_only_listed_days_close_the_market() {
    // Christmas 2026 trades when the calendar computes no holidays.
    let app = on_schedule("2026-12-25T15:00:00Z", &[("MARKET_CALENDAR", "none")]).await;
    app.wait_market(true).await;
    assert_eq!(state(&app).await["nextClose"], "2026-12-25T21:00:00Z");
    let days = calendar(&app, "2026-01-01", "2026-12-31").await;
    assert_eq!(days["data"]["marketCalendar"], json!([]), "{days}");
}
