//! The API's own scalars. They wrap the domain's types so that their wire format, description
//! and `@specifiedBy` are ours (the library's built-in ones accept JSON numbers for money and
//! carry no example), and so that a domain type cannot reach the schema unwrapped.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::domain::money::from_cents;

/// Exact numbers at the API edge (the schema's `Decimal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Decimal(pub rust_decimal::Decimal);

/// An exact decimal number written as a string, e.g. `"1234.56"` or `"-0.50"`: money (two
/// decimals), average costs (four) and percentages (two). Sent as a string too: a JSON number
/// is refused, because JSON parsers read numbers as binary floating point and lose cents.
#[Scalar(
    name = "Decimal",
    specified_by_url = "https://speleotrove.com/decimal/daconvs.html#refnumsyn"
)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => s
                .trim()
                .parse::<rust_decimal::Decimal>()
                .map(Decimal)
                .map_err(|_| InputValueError::custom(format!("`{s}` is not a decimal number"))),
            Value::Number(_) => Err(InputValueError::custom(
                "send decimals as strings, e.g. \"100.25\": a JSON number can lose cents",
            )),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        Decimal(d)
    }
}

/// Cents as a two-decimal [`Decimal`].
pub fn money(cents: i64) -> Decimal {
    Decimal(from_cents(cents))
}

/// Instants at the API edge (the schema's `DateTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<chrono::Utc>);

/// A point in time: an RFC 3339 string in UTC with up to nine fractional digits, e.g.
/// `"2026-03-02T14:30:00Z"` or `"2026-03-02T14:30:00.125Z"`. Inputs may carry any offset
/// (`"2026-03-02T09:30:00-05:00"`); outputs are always UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
                .map(|t| DateTime(t.with_timezone(&chrono::Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "`{s}` is not an RFC 3339 time such as \"2026-03-02T14:30:00Z\""
                    ))
                }),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime(t)
    }
}

/// Calendar days at the API edge (the schema's `Date`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub chrono::NaiveDate);

/// A calendar day without a time zone, `YYYY-MM-DD` (ISO 8601), e.g. `"2026-12-25"`. Market
/// days are days in the market time zone.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.iso.org/iso-8601-date-and-time-format.html"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not a date such as \"2026-12-25\""))
                }),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<chrono::NaiveDate> for Date {
    fn from(d: chrono::NaiveDate) -> Self {
        Date(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_strings_only() {
        let d = Decimal::parse(Value::String("12.50".into())).map(|d| d.0.to_string());
        assert_eq!(d.ok().as_deref(), Some("12.50"));
        assert!(Decimal::parse(Value::Number(12.into())).is_err());
        assert!(Decimal::parse(Value::String("12,50".into())).is_err());
        assert_eq!(money(-5).to_value(), Value::String("-0.05".into()));
    }

    #[test]
    fn times_parse_any_offset_and_print_utc() {
        let t = DateTime::parse(Value::String("2026-03-02T09:30:00-05:00".into()));
        assert_eq!(
            t.map(|t| t.to_value()).ok(),
            Some(Value::String("2026-03-02T14:30:00Z".into()))
        );
        assert!(DateTime::parse(Value::String("yesterday".into())).is_err());
    }

    #[test]
    fn dates_are_iso() {
        let d = Date::parse(Value::String("2026-12-25".into()));
        assert_eq!(
            d.map(|d| d.to_value()).ok(),
            Some(Value::String("2026-12-25".into()))
        );
        assert!(Date::parse(Value::String("25.12.2026".into())).is_err());
    }
}
