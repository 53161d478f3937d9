//! An order's terms: its type, its time in force, its prices and its trail, parsed once from
//! what the client sent. Everything that can be checked without the market is checked here,
//! each refusal naming the input field at fault; what depends on the price or on whether the
//! market is open is checked at placement ([`Terms::check_against`]).

use rust_decimal::Decimal;

use super::{
    order::{OrderType, Side, TimeInForce},
    units::Cents,
};
use crate::domain::{Error, Result, money};

/// A trailing stop's distance from the best price since placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trail {
    /// Basis points (hundredths of a percent) of the best price: `250` is 2.5 %.
    Percent { bps: i64 },
    /// A fixed amount.
    Amount(Cents),
}

impl Trail {
    /// The distance at reference price `reference`: a percentage is rounded down to the cent,
    /// so the stop sits at most that percentage away.
    pub fn offset(self, reference: Cents) -> Cents {
        match self {
            Trail::Amount(cents) => cents,
            Trail::Percent { bps } => {
                let offset = i128::from(reference.0) * i128::from(bps) / 10_000;
                // bps < 10 000, so the offset is below the reference and fits.
                Cents(i64::try_from(offset).unwrap_or(reference.0))
            }
        }
    }

    /// A trailing stop's stop price when the best price since placement is `reference`: below
    /// it by the trail for a sell, above it for a buy.
    pub fn stop(self, side: Side, reference: Cents) -> Cents {
        let offset = self.offset(reference);
        match side {
            Side::Sell => Cents(reference.0 - offset.0),
            Side::Buy => Cents(reference.0.saturating_add(offset.0)),
        }
    }

    /// The percentage as people write it (`2.5` for 250 basis points).
    pub fn percent(bps: i64) -> Decimal {
        Decimal::new(bps, 2)
    }
}

/// What a client asked for, before parsing.
#[derive(Debug, Clone, Default)]
pub struct TermsInput {
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    /// Percent, e.g. `2.5`.
    pub trail_percent: Option<Decimal>,
    pub trail_amount: Option<Decimal>,
}

/// Parsed and consistent terms: each type carries exactly the prices it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terms {
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub limit_price: Option<Cents>,
    /// The stop price the client set (STOP, STOP_LIMIT); a trailing stop's is derived.
    pub stop_price: Option<Cents>,
    pub trail: Option<Trail>,
}

/// A positive price in whole cents.
fn price(value: Option<Decimal>, field: &'static str) -> Result<Option<Cents>> {
    let Some(value) = value else { return Ok(None) };
    let cents = money::to_cents(value, field)?;
    if cents <= 0 {
        return Err(Error::bad_input(field, format!("{field} must be positive")));
    }
    Ok(Some(Cents(cents)))
}

/// A percentage above 0 and below 100 with at most two decimals, in basis points.
fn percent(value: Option<Decimal>) -> Result<Option<i64>> {
    const FIELD: &str = "trailPercent";
    let Some(value) = value else { return Ok(None) };
    let normalized = value.normalize();
    if normalized.scale() > 2 {
        return Err(Error::bad_input(
            FIELD,
            "trailPercent must have at most 2 decimal places, e.g. 2.5 for 2.5 %",
        ));
    }
    if normalized <= Decimal::ZERO || normalized >= Decimal::ONE_HUNDRED {
        return Err(Error::bad_input(
            FIELD,
            "trailPercent must be above 0 and below 100, e.g. 2.5 for 2.5 %",
        ));
    }
    let bps = (normalized * Decimal::ONE_HUNDRED).trunc();
    i64::try_from(bps)
        .map(Some)
        .map_err(|_| Error::bad_input(FIELD, "trailPercent is out of range"))
}

/// Refuses a term the order type does not use.
fn unused<T>(value: &Option<T>, field: &'static str, used_by: &str) -> Result<()> {
    match value {
        Some(_) => Err(Error::bad_input(
            field,
            format!("{field} applies to {used_by} orders only"),
        )),
        None => Ok(()),
    }
}

/// Requires a term the order type needs.
fn needed<T: Copy>(value: Option<T>, field: &'static str, order_type: OrderType) -> Result<T> {
    value.ok_or_else(|| {
        Error::bad_input(
            field,
            format!("a {} order needs a {field}", order_type.as_str()),
        )
    })
}

impl Terms {
    /// Parses and checks what a client sent (BAD_USER_INPUT naming the field at fault).
    pub fn parse(input: TermsInput) -> Result<Terms> {
        let order_type = input.order_type;
        let limit = price(input.limit_price, "limitPrice")?;
        let stop = price(input.stop_price, "stopPrice")?;
        let trail_amount = price(input.trail_amount, "trailAmount")?;
        let trail_percent = percent(input.trail_percent)?;
        if !order_type.has_limit() {
            unused(&limit, "limitPrice", "LIMIT and STOP_LIMIT")?;
        }
        if !matches!(order_type, OrderType::Stop | OrderType::StopLimit) {
            unused(&stop, "stopPrice", "STOP and STOP_LIMIT")?;
        }
        let trail = if order_type == OrderType::TrailingStop {
            match (trail_percent, trail_amount) {
                (Some(_), Some(_)) => {
                    return Err(Error::bad_input(
                        "trailAmount",
                        "give trailPercent or trailAmount, not both",
                    ));
                }
                (Some(bps), None) => Some(Trail::Percent { bps }),
                (None, Some(cents)) => Some(Trail::Amount(cents)),
                (None, None) => {
                    return Err(Error::bad_input(
                        "trailPercent",
                        "a TRAILING_STOP order needs trailPercent or trailAmount",
                    ));
                }
            }
        } else {
            unused(&trail_percent, "trailPercent", "TRAILING_STOP")?;
            unused(&trail_amount, "trailAmount", "TRAILING_STOP")?;
            None
        };
        let limit_price = if order_type.has_limit() {
            Some(needed(limit, "limitPrice", order_type)?)
        } else {
            None
        };
        let stop_price = if matches!(order_type, OrderType::Stop | OrderType::StopLimit) {
            Some(needed(stop, "stopPrice", order_type)?)
        } else {
            None
        };
        if input.time_in_force.is_immediate()
            && !matches!(order_type, OrderType::Market | OrderType::Limit)
        {
            return Err(Error::bad_input(
                "timeInForce",
                format!(
                    "{} applies to MARKET and LIMIT orders only: a stop waits for its price",
                    input.time_in_force.as_str()
                ),
            ));
        }
        Ok(Terms {
            order_type,
            time_in_force: input.time_in_force,
            limit_price,
            stop_price,
            trail,
        })
    }

    /// Checks the terms against the market at placement: IOC and FOK need it open, a stop
    /// must lie on the side of the current price it is meant to catch, and a sell's trail must
    /// leave a positive stop. Returns a trailing stop's first stop price.
    pub fn check_against(
        &self,
        side: Side,
        price: Cents,
        market_open: bool,
    ) -> Result<Option<Cents>> {
        if self.time_in_force.is_immediate() && !market_open {
            return Err(Error::bad_input(
                "timeInForce",
                format!(
                    "{} orders fill at once or are canceled, so they need an open market; \
                     the market is closed now (use DAY or GTC to wait for the open)",
                    self.time_in_force.as_str()
                ),
            ));
        }
        if let Some(stop) = self.stop_price {
            match side {
                Side::Buy if stop <= price => {
                    return Err(Error::bad_input(
                        "stopPrice",
                        format!(
                            "a buy stop must be above the current price ({price}): at or below \
                             it, it would trigger at once (use a market or limit order)"
                        ),
                    ));
                }
                Side::Sell if stop >= price => {
                    return Err(Error::bad_input(
                        "stopPrice",
                        format!(
                            "a sell stop must be below the current price ({price}): at or \
                             above it, it would trigger at once (use a market or limit order)"
                        ),
                    ));
                }
                Side::Buy | Side::Sell => {}
            }
        }
        let Some(trail) = self.trail else {
            return Ok(self.stop_price);
        };
        let offset = trail.offset(price);
        match side {
            Side::Sell if offset >= price => Err(Error::bad_input(
                "trailAmount",
                format!("a sell's trailAmount must be below the current price ({price})"),
            )),
            Side::Buy if price.checked_add(offset).is_none() => Err(Error::bad_input(
                "trailAmount",
                "trailAmount is out of range",
            )),
            // The first stop is the one a round would derive from the price at placement.
            Side::Buy | Side::Sell => Ok(Some(trail.stop(side, price))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> Option<Decimal> {
        Some(Decimal::from_str(s).unwrap())
    }

    fn input(order_type: OrderType) -> TermsInput {
        TermsInput {
            order_type,
            ..Default::default()
        }
    }

    /// The field and the message of a refusal.
    fn refused(input: TermsInput) -> (&'static str, String) {
        match Terms::parse(input) {
            Err(Error::BadInput {
                field: Some(field),
                message,
            }) => (field, message),
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn a_market_order_takes_no_prices() {
        assert_eq!(
            Terms::parse(input(OrderType::Market)).unwrap(),
            Terms::default()
        );
        let (field, message) = refused(TermsInput {
            limit_price: d("10"),
            ..input(OrderType::Market)
        });
        assert_eq!(field, "limitPrice");
        assert!(message.contains("LIMIT and STOP_LIMIT"), "{message}");
        assert_eq!(
            refused(TermsInput {
                stop_price: d("10"),
                ..input(OrderType::Market)
            })
            .0,
            "stopPrice"
        );
        assert_eq!(
            refused(TermsInput {
                trail_percent: d("1"),
                ..input(OrderType::Market)
            })
            .0,
            "trailPercent"
        );
    }

    #[test]
    fn each_type_needs_its_prices() {
        assert_eq!(refused(input(OrderType::Limit)).0, "limitPrice");
        assert_eq!(refused(input(OrderType::Stop)).0, "stopPrice");
        assert_eq!(
            refused(TermsInput {
                stop_price: d("10"),
                ..input(OrderType::StopLimit)
            })
            .0,
            "limitPrice"
        );
        let (field, message) = refused(input(OrderType::TrailingStop));
        assert_eq!(field, "trailPercent");
        assert!(message.contains("trailPercent or trailAmount"), "{message}");
        let terms = Terms::parse(TermsInput {
            limit_price: d("10.50"),
            stop_price: d("11"),
            time_in_force: TimeInForce::Gtc,
            ..input(OrderType::StopLimit)
        })
        .unwrap();
        assert_eq!(terms.limit_price, Some(Cents(1050)));
        assert_eq!(terms.stop_price, Some(Cents(1100)));
        assert_eq!(terms.time_in_force, TimeInForce::Gtc);
        // A limit order's stop is refused rather than ignored.
        assert_eq!(
            refused(TermsInput {
                limit_price: d("10"),
                stop_price: d("9"),
                ..input(OrderType::Limit)
            })
            .0,
            "stopPrice"
        );
    }

    #[test]
    fn prices_are_positive_whole_cents() {
        for (bad, message) in [
            ("0", "must be positive"),
            ("-1", "must be positive"),
            ("1.001", "at most 2 decimal places"),
        ] {
            let (field, got) = refused(TermsInput {
                limit_price: d(bad),
                ..input(OrderType::Limit)
            });
            assert_eq!(field, "limitPrice");
            assert!(got.contains(message), "{bad}: {got}");
        }
        assert_eq!(
            refused(TermsInput {
                stop_price: d("0.00"),
                ..input(OrderType::Stop)
            })
            .0,
            "stopPrice"
        );
    }

    #[test]
    fn a_trail_is_a_percent_or_an_amount_not_both() {
        let (field, message) = refused(TermsInput {
            trail_percent: d("2"),
            trail_amount: d("1"),
            ..input(OrderType::TrailingStop)
        });
        assert_eq!(field, "trailAmount");
        assert!(message.contains("not both"), "{message}");
        let percent = Terms::parse(TermsInput {
            trail_percent: d("2.5"),
            ..input(OrderType::TrailingStop)
        })
        .unwrap();
        assert_eq!(percent.trail, Some(Trail::Percent { bps: 250 }));
        let amount = Terms::parse(TermsInput {
            trail_amount: d("1.25"),
            ..input(OrderType::TrailingStop)
        })
        .unwrap();
        assert_eq!(amount.trail, Some(Trail::Amount(Cents(125))));
        for bad in ["0", "100", "-1", "0.001"] {
            assert_eq!(
                refused(TermsInput {
                    trail_percent: d(bad),
                    ..input(OrderType::TrailingStop)
                })
                .0,
                "trailPercent",
                "{bad}"
            );
        }
        assert_eq!(
            refused(TermsInput {
                trail_amount: d("0"),
                ..input(OrderType::TrailingStop)
            })
            .0,
            "trailAmount"
        );
    }

    #[test]
    fn immediate_orders_are_market_or_limit_and_need_an_open_market() {
        let (field, message) = refused(TermsInput {
            stop_price: d("10"),
            time_in_force: TimeInForce::Ioc,
            ..input(OrderType::Stop)
        });
        assert_eq!(field, "timeInForce");
        assert!(message.contains("MARKET and LIMIT"), "{message}");
        let fok = Terms::parse(TermsInput {
            limit_price: d("10"),
            time_in_force: TimeInForce::Fok,
            ..input(OrderType::Limit)
        })
        .unwrap();
        assert!(fok.check_against(Side::Buy, Cents(1000), true).is_ok());
        let err = fok
            .check_against(Side::Buy, Cents(1000), false)
            .unwrap_err();
        assert!(
            matches!(&err, Error::BadInput { field: Some("timeInForce"), message } if message.contains("market is closed")),
            "{err:?}"
        );
        // DAY and GTC wait for the open.
        let day = Terms::parse(TermsInput {
            limit_price: d("10"),
            ..input(OrderType::Limit)
        })
        .unwrap();
        assert!(day.check_against(Side::Buy, Cents(1000), false).is_ok());
    }

    #[test]
    fn a_stop_must_lie_beyond_the_current_price() {
        let stop = |s: &str| {
            Terms::parse(TermsInput {
                stop_price: d(s),
                ..input(OrderType::Stop)
            })
            .unwrap()
        };
        let price = Cents(10_000);
        assert_eq!(
            stop("101").check_against(Side::Buy, price, true).unwrap(),
            Some(Cents(10_100))
        );
        for at_or_below in ["100", "99"] {
            let err = stop(at_or_below)
                .check_against(Side::Buy, price, true)
                .unwrap_err();
            assert!(
                matches!(&err, Error::BadInput { field: Some("stopPrice"), message }
                    if message.contains("above the current price (100.00)")),
                "{err:?}"
            );
        }
        assert!(stop("99").check_against(Side::Sell, price, true).is_ok());
        let err = stop("100")
            .check_against(Side::Sell, price, false)
            .unwrap_err();
        assert!(
            matches!(&err, Error::BadInput { message, .. } if message.contains("below the current price")),
            "{err:?}"
        );
    }

    #[test]
    fn a_trailing_stop_starts_its_trail_from_the_current_price() {
        let trailing = |trail| Terms {
            order_type: OrderType::TrailingStop,
            trail: Some(trail),
            ..Default::default()
        };
        let pct = trailing(Trail::Percent { bps: 250 });
        // 2.5 % of 100.10 is 2.5025: rounded down to 2.50.
        assert_eq!(
            pct.check_against(Side::Sell, Cents(10_010), true).unwrap(),
            Some(Cents(9_760))
        );
        assert_eq!(
            pct.check_against(Side::Buy, Cents(10_010), true).unwrap(),
            Some(Cents(10_260))
        );
        let amount = trailing(Trail::Amount(Cents(500)));
        assert_eq!(
            amount
                .check_against(Side::Sell, Cents(10_000), true)
                .unwrap(),
            Some(Cents(9_500))
        );
        assert!(amount.check_against(Side::Sell, Cents(500), true).is_err());
        assert_eq!(
            Trail::Percent { bps: 250 }.offset(Cents(10_010)),
            Cents(250)
        );
        assert_eq!(Trail::percent(250).to_string(), "2.50");
    }
}
