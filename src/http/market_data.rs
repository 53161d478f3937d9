//! Plain market data for tools that do not speak GraphQL, over the same market service as the
//! GraphQL API (no entity is read here):
//!
//! - `GET /market/prices`: every active stock's symbol, name, price, change, change percent and
//!   time of the price, as JSON;
//! - `GET /market/stocks/{symbol}/candles?interval=1H|4H|1D&from=&to=&last=&format=json|csv`:
//!   one stock's candles, oldest first.
//!
//! Money is a decimal string, as in GraphQL. Errors are `{"error": {"code", "message"}}` with
//! the status of their code: 400 `BAD_USER_INPUT` (an unknown interval or format, a date that
//! does not parse, `last` out of 1–2000), 404 `NOT_FOUND` (an unknown symbol), 500 `INTERNAL`.
//!
//! Caching: prices may be cached for one tick interval. A candle answer whose candles are all
//! final (their buckets have ended) carries a strong `ETag` and `Last-Modified` (when the last
//! bucket ended) and answers `If-None-Match` / `If-Modified-Since` with 304; one that still
//! holds a live candle carries neither, as it changes with the next tick.

use std::fmt::Write as _;

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    domain::{
        Error,
        market::{
            CandleSeries, CandleWindow, Finality,
            calendar::local_instant,
            candles::{Candle, Interval},
            stocks::{Listing, Quote},
        },
        money::from_cents,
    },
    graphql::market::change_percent,
    http::AppState,
};

/// `GET /market/prices`.
pub async fn prices(State(state): State<AppState>) -> Response {
    let quotes = match state.services.market.stocks(Listing::Active).await {
        Ok(quotes) => quotes,
        Err(e) => return failure(e),
    };
    let last_modified = quotes.iter().map(|q| q.updated_at).max();
    let body = Prices {
        prices: quotes.iter().map(Price::from).collect(),
    };
    let Ok(body) = serde_json::to_vec(&body) else {
        return failure(Error::internal("serializing prices"));
    };
    let max_age = state.services.config.tick_interval.as_secs().max(1);
    let mut response = (StatusCode::OK, [json_type()], body).into_response();
    let headers = response.headers_mut();
    set(
        headers,
        header::CACHE_CONTROL,
        format!("public, max-age={max_age}"),
    );
    if let Some(at) = last_modified {
        set(headers, header::LAST_MODIFIED, http_date(at));
    }
    response
}

#[derive(Serialize)]
struct Prices {
    prices: Vec<Price>,
}

/// One stock's price, as `/market/prices` lists it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Price {
    symbol: String,
    name: String,
    /// Last price, e.g. `"189.12"`.
    price: String,
    /// `price - previousClose`.
    change: String,
    /// `change / previousClose` in percent, two decimals.
    change_percent: String,
    /// When the price last changed (RFC 3339, UTC).
    updated_at: String,
}

impl From<&Quote> for Price {
    fn from(q: &Quote) -> Self {
        Price {
            symbol: q.symbol.clone(),
            name: q.name.clone(),
            price: from_cents(q.last_cents).to_string(),
            change: from_cents(q.last_cents - q.prev_close_cents).to_string(),
            change_percent: change_percent(q.last_cents, q.prev_close_cents)
                .0
                .to_string(),
            updated_at: rfc3339(q.updated_at),
        }
    }
}

/// The query string of a candle request, every value as sent (checked below, to name the
/// parameter at fault).
#[derive(serde::Deserialize, Default)]
struct CandleQuery {
    interval: Option<String>,
    from: Option<String>,
    to: Option<String>,
    last: Option<String>,
    format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// `GET /market/stocks/{symbol}/candles`.
pub async fn candles(
    State(state): State<AppState>,
    Path(symbol): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let market = &state.services.market;
    let query: CandleQuery = match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
        Ok(query) => query,
        Err(e) => return failure(Error::bad_input("query", format!("bad query string: {e}"))),
    };
    let (interval, window, format) = match parse_candle_query(&query, market.timezone()) {
        Ok(parsed) => parsed,
        Err(e) => return failure(e),
    };
    let stock = match market.stock_by_symbol(&symbol).await {
        Ok(stock) => stock,
        Err(Error::NotFound(_)) => {
            return failure(Error::NotFound(format!("stock {}", symbol.trim())));
        }
        Err(e) => return failure(e),
    };
    let series = match market.candles(stock.id, interval, window).await {
        Ok(series) => series,
        Err(e) => return failure(e),
    };
    let finality = market.finality(&series);
    let (content_type, body) = match format {
        Format::Json => {
            let body = CandlesBody::new(&stock.symbol, interval, &series, &finality);
            match serde_json::to_vec(&body) {
                Ok(body) => (json_type().1, body),
                Err(_) => return failure(Error::internal("serializing candles")),
            }
        }
        Format::Csv => (
            HeaderValue::from_static("text/csv; charset=utf-8"),
            csv(&series.candles, &finality).into_bytes(),
        ),
    };
    let now = state.services.clock.now();
    cacheable(
        &headers,
        &finality,
        window,
        now,
        state.services.config.tick_interval,
    )
    .respond(content_type, body)
}

fn parse_candle_query(
    query: &CandleQuery,
    tz: chrono_tz::Tz,
) -> Result<(Interval, CandleWindow, Format), Error> {
    let interval = match query.interval.as_deref().map(str::trim) {
        None | Some("") => Interval::D1,
        Some(raw) => parse_interval(raw).ok_or_else(|| {
            Error::bad_input(
                "interval",
                format!("interval `{raw}` is not one of 1H, 4H, 1D"),
            )
        })?,
    };
    let time = |field: &'static str, raw: &Option<String>| -> Result<_, Error> {
        match raw.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => parse_time(raw, tz).map(Some).ok_or_else(|| {
                Error::bad_input(
                    field,
                    format!(
                        "{field} `{raw}` is not an RFC 3339 time (2026-03-02T14:30:00Z) or a \
                         date (2026-03-02, midnight in the market time zone)"
                    ),
                )
            }),
        }
    };
    let last = match query.last.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i32>().map_err(|_| {
            Error::bad_input("last", format!("last `{raw}` is not a whole number"))
        })?),
    };
    let window = CandleWindow {
        from: time("from", &query.from)?,
        to: time("to", &query.to)?,
        last,
    };
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(raw) => {
            return Err(Error::bad_input(
                "format",
                format!("format `{raw}` is not json or csv"),
            ));
        }
    };
    Ok((interval, window, format))
}

/// `1H`, `4H`, `1D` (also GraphQL's `H1`, `H4`, `D1`), in any case.
fn parse_interval(raw: &str) -> Option<Interval> {
    match raw.to_ascii_uppercase().as_str() {
        "1H" | "H1" => Some(Interval::H1),
        "4H" | "H4" => Some(Interval::H4),
        "1D" | "D1" => Some(Interval::D1),
        _ => None,
    }
}

/// An RFC 3339 time, or a date meaning its midnight in the market time zone.
fn parse_time(raw: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    Some(local_instant(tz, date, NaiveTime::MIN))
}

/// `1H`, `4H`, `1D`: the names this endpoint uses.
fn interval_name(i: Interval) -> &'static str {
    match i {
        Interval::H1 => "1H",
        Interval::H4 => "4H",
        Interval::D1 => "1D",
    }
}

#[derive(Serialize)]
struct CandlesBody {
    symbol: String,
    interval: &'static str,
    candles: Vec<CandleRow>,
    /// The window held older candles than these (cut by `last`, or by the limit of 2000).
    truncated: bool,
}

/// One candle as JSON (prices as decimal strings).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CandleRow {
    bucket_start: String,
    open: String,
    high: String,
    low: String,
    close: String,
    tick_count: i64,
    /// The bucket has ended: the candle no longer changes.
    is_final: bool,
}

impl CandlesBody {
    fn new(symbol: &str, interval: Interval, s: &CandleSeries, f: &Finality) -> Self {
        CandlesBody {
            symbol: symbol.to_string(),
            interval: interval_name(interval),
            candles: s
                .candles
                .iter()
                .zip(&f.is_final)
                .map(|(c, is_final)| CandleRow {
                    bucket_start: rfc3339(c.bucket_start),
                    open: from_cents(c.open).to_string(),
                    high: from_cents(c.high).to_string(),
                    low: from_cents(c.low).to_string(),
                    close: from_cents(c.close).to_string(),
                    tick_count: c.tick_count,
                    is_final: *is_final,
                })
                .collect(),
            truncated: s.truncated,
        }
    }
}

/// The candles as CSV, with a header line (no value needs quoting).
fn csv(candles: &[Candle], finality: &Finality) -> String {
    let mut out = String::from("bucketStart,open,high,low,close,tickCount,isFinal\n");
    for (c, is_final) in candles.iter().zip(&finality.is_final) {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            rfc3339(c.bucket_start),
            from_cents(c.open),
            from_cents(c.high),
            from_cents(c.low),
            from_cents(c.close),
            c.tick_count,
            is_final
        );
    }
    out
}

/// How a candle answer may be cached, and whether the client's copy is still good.
struct Cacheable<'a> {
    request: &'a HeaderMap,
    /// `Some` when every candle is final: the validators.
    last_ended: Option<Option<DateTime<Utc>>>,
    cache_control: String,
}

fn cacheable<'a>(
    request: &'a HeaderMap,
    finality: &Finality,
    window: CandleWindow,
    now: DateTime<Utc>,
    tick: std::time::Duration,
) -> Cacheable<'a> {
    let cache_control = if !finality.all_final() {
        // The live candle changes with the next tick.
        format!("public, max-age={}", tick.as_secs().max(1))
    } else if window.to.is_some_and(|to| to <= now) {
        // A window wholly in the past: its candles are final and no newer one can join them.
        "public, max-age=86400".to_string()
    } else {
        // Final for now, but a newer candle may join the window: revalidate (304 is cheap).
        "public, no-cache".to_string()
    };
    Cacheable {
        request,
        last_ended: finality.all_final().then_some(finality.last_ended),
        cache_control,
    }
}

impl Cacheable<'_> {
    fn respond(self, content_type: HeaderValue, body: Vec<u8>) -> Response {
        let mut headers = HeaderMap::new();
        set(
            &mut headers,
            header::CACHE_CONTROL,
            self.cache_control.clone(),
        );
        let Some(last_ended) = self.last_ended else {
            headers.insert(header::CONTENT_TYPE, content_type);
            return (StatusCode::OK, headers, body).into_response();
        };
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
        set(&mut headers, header::ETAG, etag.clone());
        if let Some(at) = last_ended {
            set(&mut headers, header::LAST_MODIFIED, http_date(at));
        }
        if self.not_modified(&etag, last_ended) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::CONTENT_TYPE, content_type);
        (StatusCode::OK, headers, body).into_response()
    }

    /// `If-None-Match` (weak comparison) decides when sent; else `If-Modified-Since`.
    fn not_modified(&self, etag: &str, last_ended: Option<DateTime<Utc>>) -> bool {
        let text = |name| self.request.get(name).and_then(|v| v.to_str().ok());
        if let Some(tags) = text(header::IF_NONE_MATCH) {
            return tags
                .split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag);
        }
        let since = text(header::IF_MODIFIED_SINCE)
            .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
            .map(|t| t.with_timezone(&Utc));
        matches!((since, last_ended), (Some(since), Some(at)) if at.timestamp() <= since.timestamp())
    }
}

/// The error as `{"error": {"code", "message"}}` with its status; internal detail is logged.
fn failure(e: Error) -> Response {
    let status = match e.code() {
        "BAD_USER_INPUT" => StatusCode::BAD_REQUEST,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match &e {
        Error::Internal(detail) => {
            tracing::error!(error = %detail, "answering market data");
            "internal error".to_string()
        }
        e => e.to_string(),
    };
    let body = serde_json::json!({ "error": { "code": e.code(), "message": message } });
    (status, [json_type()], body.to_string()).into_response()
}

fn json_type() -> (header::HeaderName, HeaderValue) {
    (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    )
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(name, value);
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// An HTTP date: `Mon, 02 Mar 2026 15:00:00 GMT`.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    #[test]
    fn parameters_are_read_or_named_at_fault() {
        let q = |interval: &str, from: &str, last: &str, format: &str| CandleQuery {
            interval: Some(interval.into()),
            from: Some(from.into()),
            to: None,
            last: Some(last.into()),
            format: Some(format.into()),
        };
        let (i, w, f) = parse_candle_query(&q("4h", "2026-03-02", "5", "csv"), New_York).unwrap();
        assert_eq!(i, Interval::H4);
        assert_eq!(w.from, Some("2026-03-02T05:00:00Z".parse().unwrap()));
        assert_eq!(w.last, Some(5));
        assert!(f == Format::Csv);
        let (i, ..) = parse_candle_query(&CandleQuery::default(), New_York).unwrap();
        assert_eq!(i, Interval::D1, "daily candles by default");
        let field = |e: Error| match e {
            Error::BadInput { field, .. } => field,
            _ => None,
        };
        let bad = |q: CandleQuery| field(parse_candle_query(&q, New_York).err().unwrap());
        assert_eq!(bad(q("2H", "", "", "")), Some("interval"));
        assert_eq!(bad(q("1H", "yesterday", "", "")), Some("from"));
        assert_eq!(bad(q("1H", "", "ten", "")), Some("last"));
        assert_eq!(bad(q("1H", "", "", "xml")), Some("format"));
    }

    #[test]
    fn http_dates_round_trip() {
        let t: DateTime<Utc> = "2026-03-02T15:00:00Z".parse().unwrap();
        assert_eq!(http_date(t), "Mon, 02 Mar 2026 15:00:00 GMT");
        let back = DateTime::parse_from_rfc2822(&http_date(t)).unwrap();
        assert_eq!(back.with_timezone(&Utc), t);
    }
}
