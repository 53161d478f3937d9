//! Exact money: `Decimal` in the domain and the API, whole cents in the database.

use rust_decimal::Decimal;

use super::{Error, Result};

/// Cents → dollars, exactly.
pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Dollars → cents; refuses more than two decimal places or values beyond the column range.
pub fn to_cents(amount: Decimal, field: &'static str) -> Result<i64> {
    let normalized = amount.normalize();
    if normalized.scale() > 2 {
        return Err(Error::bad_input(
            field,
            format!("{field} must have at most 2 decimal places"),
        ));
    }
    (normalized * Decimal::ONE_HUNDRED)
        .trunc()
        .try_into()
        .map_err(|_| Error::bad_input(field, format!("{field} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn round_trips_exactly() {
        for text in [
            "0",
            "0.01",
            "19.99",
            "1234567.89",
            "-5.10",
            "92233720368547758.07",
        ] {
            let d = Decimal::from_str(text).unwrap();
            let cents = to_cents(d, "amount").unwrap();
            assert_eq!(from_cents(cents), d, "{text}");
        }
        assert_eq!(
            to_cents(Decimal::from_str("0.10").unwrap(), "x").unwrap(),
            10
        );
        assert_eq!(from_cents(10).to_string(), "0.10");
    }

    #[test]
    fn refuses_sub_cent_and_overflow() {
        assert!(to_cents(Decimal::from_str("0.001").unwrap(), "amount").is_err());
        assert!(to_cents(Decimal::from_str("1e20").unwrap(), "amount").is_err());
    }
}
