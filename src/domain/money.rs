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
    let out_of_range = || Error::bad_input(field, format!("{field} is out of range"));
    // `Decimal`'s `*` panics past 28 digits: a client can send that many.
    normalized
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or_else(out_of_range)?
        .trunc()
        .try_into()
        .map_err(|_| out_of_range())
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
        // Past Decimal's own range once multiplied by 100: an error, not a panic.
        let huge = Decimal::from_str("1000000000000000000000000000").unwrap();
        let err = to_cents(huge, "amount").unwrap_err();
        assert!(err.to_string().contains("amount is out of range"), "{err}");
        assert!(to_cents(Decimal::MAX, "amount").is_err());
        assert!(to_cents(Decimal::MIN, "amount").is_err());
    }
}
