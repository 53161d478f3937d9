//! What admins send to the admin mutations.

use async_graphql::{ID, InputObject};

use crate::graphql::{
    accounts::Role,
    market::CalendarDayKind,
    scalars::{Date, Decimal},
};

/// A stock to list.
#[derive(InputObject)]
pub struct CreateStockInput {
    /// 1–10 letters, digits or dots; stored upper-case. CONFLICT when taken.
    pub symbol: String,
    /// Company name, 1–100 characters, stored NFKC-normalized; no control or invisible
    /// formatting characters.
    pub name: String,
    /// The first price, positive, at most two decimals, e.g. `"150.00"`.
    pub initial_price: Decimal,
    /// Expected log return per trading day (default `DEFAULT_DRIFT`).
    pub drift: Option<f64>,
    /// Standard deviation of log returns per trading day (default `DEFAULT_VOLATILITY`).
    pub volatility: Option<f64>,
}

/// Changes to a stock; fields left null stay as they are.
#[derive(InputObject)]
pub struct UpdateStockInput {
    /// The stock's global id.
    pub id: ID,
    /// New company name, as in `createStock`.
    pub name: Option<String>,
    /// New expected log return per trading day.
    pub drift: Option<f64>,
    /// New standard deviation of log returns per trading day.
    pub volatility: Option<f64>,
    /// `false` halts the stock: no ticks, no new orders, its queued orders are rejected. Its
    /// working orders stay OPEN but cannot fill until it is active again.
    pub active: Option<bool>,
}

/// The hours of one weekday.
#[derive(InputObject)]
pub struct MarketHoursInput {
    /// Monday = 0 … Sunday = 6.
    pub day: i32,
    /// `HH:MM` in the market time zone.
    pub open: String,
    /// `HH:MM`, after `open`.
    pub close: String,
    /// No trading at all on this weekday.
    pub closed: bool,
}

/// A calendar day to list: a holiday, an early close, or a day open as usual. It replaces
/// whatever the exchange's rules say of its date.
#[derive(InputObject)]
pub struct HolidayInput {
    /// The day, in the market time zone. CONFLICT when that date is listed already.
    pub date: Date,
    /// E.g. `"Christmas Day"`, 1–100 characters.
    pub name: String,
    /// `HOLIDAY` (the default) closes the day, `EARLY_CLOSE` closes it at `closeTime`, `OPEN`
    /// keeps the weekday's regular hours on a day the exchange's rules would close or shorten.
    #[graphql(default)]
    pub kind: CalendarDayKind,
    /// For `EARLY_CLOSE` only (required there): the local closing time, `HH:MM`.
    pub close_time: Option<String>,
}

/// A holiday to remove.
#[derive(InputObject)]
pub struct DeleteHolidayInput {
    /// The holiday's global id.
    pub id: ID,
}

/// An emergency override.
#[derive(InputObject)]
pub struct MarketOverrideInput {
    /// True holds the market open, false holds it closed.
    pub open: bool,
    /// Shown to users in `MarketState.reason`, e.g. `"exchange outage"`.
    pub reason: Option<String>,
}

/// Changes to an account; fields left null stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The account's global id.
    pub id: ID,
    /// New display name, as in `register`.
    pub name: Option<String>,
    /// New login email, as in `register`. CONFLICT when another account has it or one that
    /// looks like it.
    pub email: Option<String>,
    /// New role. The last active admin cannot be demoted (CONFLICT).
    pub role: Option<Role>,
    /// `false` deactivates: no login, refresh tokens revoked, open sockets closed, queued and
    /// working orders canceled (their reservations released).
    pub active: Option<bool>,
}

/// A password reset.
#[derive(InputObject)]
pub struct ResetUserPasswordInput {
    /// The account's global id.
    pub id: ID,
    /// The new password (at least 8 characters); null generates a temporary one.
    pub new_password: Option<String>,
}

/// A user's order to cancel.
#[derive(InputObject)]
pub struct CancelUserOrderInput {
    /// The global id of any user's QUEUED or OPEN order.
    pub id: ID,
    /// Why, 1–200 characters: kept on the order (its `rejectReason`, for its owner) and in
    /// the audit log.
    pub reason: String,
}
