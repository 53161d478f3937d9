//! Profit and return over a period, net of deposits and withdrawals (pure).
//!
//! The return is the modified Dietz return: the gain net of flows, over the starting value
//! plus each flow weighted by the part of the period it was invested,
//!
//! ```text
//! R = (E₁ − E₀ − F) / (E₀ + Σ Fᵢ·(t₁ − tᵢ)/(t₁ − t₀))
//! ```
//!
//! so depositing money is never a "return", and money deposited late in the period counts
//! for the time it was there. It needs only the two values and the flows (the ledger's
//! deposits and withdrawals), not a valuation at every flow as a time-weighted return would.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A deposit (positive) or withdrawal (negative) at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub at: DateTime<Utc>,
    pub cents: i64,
}

/// Where a period starts: an instant and the account's value then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base {
    pub at: DateTime<Utc>,
    pub equity_cents: i64,
    /// The account's creation (value 0): flows at the base instant come after it. A recorded
    /// value already holds the flows of its instant.
    pub created: bool,
}

impl Base {
    /// A recorded value.
    pub fn recorded(at: DateTime<Utc>, equity_cents: i64) -> Base {
        Base {
            at,
            equity_cents,
            created: false,
        }
    }

    /// Nothing, at the account's creation.
    pub fn created(at: DateTime<Utc>) -> Base {
        Base {
            at,
            equity_cents: 0,
            created: true,
        }
    }

    fn counts(&self, flow: &Flow) -> bool {
        flow.at > self.at || (self.created && flow.at == self.at)
    }
}

/// Profit or loss (cents) and return (percent, four decimals) from `base` to `at`, where the
/// account was worth `equity_cents`. `flows` may hold any flows: only those after the base
/// and at or before `at` count.
pub fn performance(
    base: Base,
    flows: &[Flow],
    at: DateTime<Utc>,
    equity_cents: i64,
) -> (i64, Decimal) {
    let span = (at - base.at).num_seconds().max(0) as i128;
    let counted = flows.iter().filter(|f| base.counts(f) && f.at <= at);
    let net_flows: i64 = counted.clone().map(|f| f.cents).sum();
    let profit = equity_cents - base.equity_cents - net_flows;
    // Everything scaled by the span (seconds) to stay in integers: the invested capital
    // times the span.
    let invested: i128 = if span == 0 {
        // No time passed: only the base and flows at this instant, fully weighted.
        i128::from(base.equity_cents) + i128::from(net_flows)
    } else {
        i128::from(base.equity_cents) * span
            + counted
                .map(|f| i128::from(f.cents) * (at - f.at).num_seconds().max(0) as i128)
                .sum::<i128>()
    };
    let scale = if span == 0 { 1 } else { span };
    let nothing = Decimal::new(0, 4);
    if invested <= 0 {
        return (profit, nothing);
    }
    let (Ok(numerator), Ok(denominator)) = (
        Decimal::try_from_i128_with_scale(i128::from(profit) * scale * 100, 0),
        Decimal::try_from_i128_with_scale(invested, 0),
    ) else {
        return (profit, nothing);
    };
    let mut percent = (numerator / denominator).round_dp(4);
    percent.rescale(4);
    (profit, percent)
}

#[cfg(test)]
// Cents written as dollars_cents (10_000_00 is 10,000.00).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn pct(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn without_flows_the_return_is_the_gain_over_the_start() {
        let base = Base::recorded(t("2026-11-02T00:00:00Z"), 10_000_00);
        let (profit, r) = performance(base, &[], t("2026-11-03T00:00:00Z"), 10_500_00);
        assert_eq!((profit, r), (500_00, pct("5.0000")));
        let (profit, r) = performance(base, &[], t("2026-11-03T00:00:00Z"), 9_000_00);
        assert_eq!((profit, r), (-1_000_00, pct("-10.0000")));
    }

    #[test]
    fn a_deposit_is_not_a_return_and_counts_for_the_time_it_was_invested() {
        let base = Base::recorded(t("2026-11-02T00:00:00Z"), 10_000_00);
        // 10,000 deposited half way; the account ends at 20,000 + 1,500 gain.
        let flows = [Flow {
            at: t("2026-11-02T12:00:00Z"),
            cents: 10_000_00,
        }];
        let (profit, r) = performance(base, &flows, t("2026-11-03T00:00:00Z"), 21_500_00);
        assert_eq!(profit, 1_500_00);
        // 1,500 / (10,000 + 10,000 × ½) = 10 %.
        assert_eq!(r, pct("10.0000"));
        // Depositing alone earns nothing.
        let (profit, r) = performance(base, &flows, t("2026-11-03T00:00:00Z"), 20_000_00);
        assert_eq!((profit, r), (0, pct("0.0000")));
    }

    #[test]
    fn an_account_that_starts_empty_measures_against_its_first_deposit() {
        let base = Base::recorded(t("2026-11-02T00:00:00Z"), 0);
        let flows = [Flow {
            at: t("2026-11-02T00:00:00Z"),
            cents: 5_000_00,
        }];
        // The deposit at the base instant itself is part of the base, not after it.
        let base_with = Base::recorded(base.at, 5_000_00);
        assert_eq!(
            performance(base_with, &flows, t("2026-11-09T00:00:00Z"), 5_250_00),
            (250_00, pct("5.0000"))
        );
        // At an account's creation the first deposit, in the same instant, comes after it and
        // weighs the whole period.
        let created = Base::created(base.at);
        assert_eq!(
            performance(created, &flows, t("2026-11-09T00:00:00Z"), 5_250_00),
            (250_00, pct("5.0000"))
        );
        // A deposit a second after an empty base weighs all but a second of the week: the
        // same return to four decimals.
        let flows = [Flow {
            at: t("2026-11-02T00:00:01Z"),
            cents: 5_000_00,
        }];
        assert_eq!(
            performance(base, &flows, t("2026-11-09T00:00:00Z"), 5_250_00),
            (250_00, pct("5.0000"))
        );
    }

    #[test]
    fn flows_outside_the_period_do_not_count_and_nothing_invested_is_zero() {
        let base = Base::recorded(t("2026-11-02T00:00:00Z"), 0);
        let flows = [
            Flow {
                at: t("2026-11-01T00:00:00Z"),
                cents: 1_00,
            },
            Flow {
                at: t("2026-11-05T00:00:00Z"),
                cents: 1_00,
            },
        ];
        assert_eq!(
            performance(base, &flows, t("2026-11-03T00:00:00Z"), 0),
            (0, Decimal::ZERO)
        );
        // A withdrawal of everything: no capital left to measure against.
        let base = Base::recorded(base.at, 1_00);
        let out = [Flow {
            at: t("2026-11-02T00:00:01Z"),
            cents: -1_00,
        }];
        assert_eq!(
            performance(base, &out, t("2026-11-02T00:00:01Z"), 0),
            (0, Decimal::ZERO)
        );
    }
}
