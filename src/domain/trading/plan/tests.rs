//! One test per branch of the fill plan.

use chrono::{NaiveDate, Utc};

use super::*;

const BUY: Side = Side::Buy;
const SELL: Side = Side::Sell;

fn funds(balance: i64, reserved: i64) -> Funds {
    Funds {
        balance: Cents(balance),
        reserved: Cents(reserved),
    }
}

fn held(quantity: i64, reserved: i64, basis: i64) -> Holding {
    Holding {
        quantity: Shares(quantity),
        reserved: Shares(reserved),
        basis: Cents(basis),
    }
}

const NONE: Holding = Holding {
    quantity: Shares(0),
    reserved: Shares(0),
    basis: Cents(0),
};

#[test]
fn a_buy_is_covered_by_available_cash_up_to_the_cent() {
    // 3 × 10.00 against 30.00 available: exactly enough.
    assert_eq!(
        cover(BUY, Shares(3), Cents(3000), funds(3000, 0), NONE),
        Ok(())
    );
    assert_eq!(
        cover(BUY, Shares(3), Cents(3001), funds(3000, 0), NONE),
        Err(Refusal::InsufficientFunds {
            needed: Cents(3001),
            available: Cents(3000),
            estimate: false
        })
    );
}

#[test]
fn reserved_cash_is_spoken_for() {
    assert_eq!(
        cover(BUY, Shares(1), Cents(500), funds(1000, 500), NONE),
        Ok(())
    );
    assert!(matches!(
        cover(BUY, Shares(1), Cents(501), funds(1000, 500), NONE),
        Err(Refusal::InsufficientFunds {
            available: Cents(500),
            ..
        })
    ));
}

#[test]
fn a_sell_is_covered_by_free_shares_up_to_the_share() {
    assert_eq!(
        cover(SELL, Shares(5), Cents(1), funds(0, 0), held(5, 0, 100)),
        Ok(())
    );
    assert_eq!(
        cover(SELL, Shares(6), Cents(1), funds(0, 0), held(5, 0, 100)),
        Err(Refusal::InsufficientShares { free: Shares(5) })
    );
}

#[test]
fn shares_reserved_by_queued_sells_are_spoken_for() {
    assert_eq!(
        cover(SELL, Shares(2), Cents(1), funds(0, 0), held(5, 3, 100)),
        Ok(())
    );
    assert_eq!(
        cover(SELL, Shares(3), Cents(1), funds(0, 0), held(5, 3, 100)),
        Err(Refusal::InsufficientShares { free: Shares(2) })
    );
}

#[test]
fn nothing_held_covers_no_sell_and_a_sell_needs_no_cash() {
    assert_eq!(
        cover(SELL, Shares(1), Cents(0), funds(1_000_000, 0), NONE),
        Err(Refusal::InsufficientShares { free: Shares(0) })
    );
    assert_eq!(
        cover(SELL, Shares(1), Cents(999), funds(0, 0), held(1, 0, 5)),
        Ok(())
    );
}

#[test]
fn price_times_quantity_that_overflows_is_refused_not_a_panic() {
    assert_eq!(total(Cents(i64::MAX), Shares(2)), Err(Refusal::TooLarge));
    assert_eq!(total(Cents(250), Shares(4)), Ok(Cents(1000)));
    assert_eq!(
        fill(BUY, Shares(2), Cents(i64::MAX), funds(i64::MAX, 0), NONE),
        Err(Refusal::TooLarge)
    );
    assert_eq!(
        preview(SELL, Shares(2), Cents(i64::MAX), funds(0, 0), NONE),
        Err(Refusal::TooLarge)
    );
    assert_eq!(
        reserve(BUY, Shares(3), Cents(i64::MAX / 2), funds(0, 0), NONE),
        Err(Refusal::TooLarge)
    );
    let error = Error::from(Refusal::TooLarge);
    assert_eq!(error.code(), "BAD_USER_INPUT");
}

#[test]
fn a_cost_basis_that_would_overflow_is_refused() {
    let rich = funds(i64::MAX, 0);
    assert_eq!(
        fill(BUY, Shares(1), Cents(10), rich, held(1, 0, i64::MAX - 5)),
        Err(Refusal::TooLarge)
    );
}

#[test]
fn a_buy_adds_shares_and_cost_and_realizes_nothing() {
    let f = fill(
        BUY,
        Shares(3),
        Cents(12_000),
        funds(100_000, 0),
        held(1, 0, 10_000),
    )
    .unwrap();
    assert_eq!(
        f,
        Fill {
            price: Cents(12_000),
            total: Cents(36_000),
            quantity_after: Shares(4),
            basis_after: Cents(46_000),
            realized: Cents(0),
        }
    );
}

#[test]
fn a_partial_sell_realizes_pnl_against_the_average_cost() {
    // 1 @ 100 and 3 @ 120: 4 shares costing 460.00 (average 115); sell 2 @ 130.
    let f = fill(
        SELL,
        Shares(2),
        Cents(13_000),
        funds(0, 0),
        held(4, 0, 46_000),
    )
    .unwrap();
    assert_eq!(f.total, Cents(26_000));
    assert_eq!(f.quantity_after, Shares(2));
    assert_eq!(f.basis_after, Cents(23_000), "average cost stays 115");
    assert_eq!(f.realized, Cents(3_000), "2 × (130 − 115)");
}

#[test]
fn a_partial_sell_rounds_the_removed_cost_down_and_the_last_sell_takes_the_rest() {
    // 3 shares costing 10.00: selling one removes 3.33, selling the last two removes 6.67.
    let first = fill(SELL, Shares(1), Cents(300), funds(0, 0), held(3, 0, 1000)).unwrap();
    assert_eq!(first.basis_after, Cents(667));
    assert_eq!(first.realized, Cents(300 - 333));
    let rest = fill(SELL, Shares(2), Cents(300), funds(0, 0), held(2, 0, 667)).unwrap();
    assert_eq!(rest.basis_after, Cents(0));
    assert_eq!(rest.quantity_after, Shares(0));
    assert_eq!(rest.realized, Cents(600 - 667), "a loss is negative");
}

#[test]
fn a_sell_with_a_huge_basis_does_not_overflow_the_proportion() {
    let f = fill(
        SELL,
        Shares(1),
        Cents(1),
        funds(0, 0),
        held(2, 0, i64::MAX - 1),
    )
    .unwrap();
    assert_eq!(f.basis_after, Cents(i64::MAX / 2));
}

#[test]
fn fills_are_refused_by_the_same_rule() {
    assert_eq!(
        fill(BUY, Shares(2), Cents(500), funds(1500, 600), NONE),
        Err(Refusal::InsufficientFunds {
            needed: Cents(1000),
            available: Cents(900),
            estimate: false
        })
    );
    assert_eq!(
        fill(SELL, Shares(2), Cents(500), funds(0, 0), held(2, 1, 100)),
        Err(Refusal::InsufficientShares { free: Shares(1) })
    );
}

#[test]
fn a_quote_reports_after_trade_amounts_even_when_it_cannot_be_covered() {
    let buy = preview(BUY, Shares(3), Cents(1000), funds(2500, 0), held(1, 0, 900)).unwrap();
    assert_eq!(buy.total, Cents(3000));
    assert_eq!(buy.cash_after, Cents(-500));
    assert_eq!(buy.shares_after, Shares(4));
    assert_eq!(buy.problem, Some(QuoteProblem::InsufficientFunds));

    let sell = preview(
        SELL,
        Shares(3),
        Cents(1000),
        funds(2500, 0),
        held(1, 0, 900),
    )
    .unwrap();
    assert_eq!(sell.cash_after, Cents(5500));
    assert_eq!(sell.shares_after, Shares(-2));
    assert_eq!(sell.problem, Some(QuoteProblem::InsufficientShares));
}

#[test]
fn a_quote_that_can_be_covered_has_no_problem() {
    let buy = preview(BUY, Shares(3), Cents(1000), funds(3000, 0), NONE).unwrap();
    assert_eq!((buy.cash_after, buy.problem), (Cents(0), None));
    let sell = preview(SELL, Shares(1), Cents(1000), funds(0, 0), held(1, 0, 900)).unwrap();
    assert_eq!((sell.shares_after, sell.problem), (Shares(0), None));
}

#[test]
fn a_quote_counts_reservations_like_placement() {
    let buy = preview(BUY, Shares(1), Cents(1000), funds(1500, 600), NONE).unwrap();
    assert_eq!(
        buy.cash_after,
        Cents(500),
        "the balance after, not available"
    );
    assert!(buy.problem.is_some(), "only 9.00 available");
    let sell = preview(SELL, Shares(1), Cents(1000), funds(0, 0), held(1, 1, 900)).unwrap();
    assert!(sell.problem.is_some());
}

#[test]
fn a_queued_buy_reserves_its_estimate_and_a_queued_sell_its_shares() {
    assert_eq!(
        reserve(BUY, Shares(10), Cents(10_000), funds(100_000, 0), NONE),
        Ok(Reservation::Cash(Cents(100_000)))
    );
    assert_eq!(
        reserve(SELL, Shares(5), Cents(5_000), funds(0, 0), held(5, 0, 100)),
        Ok(Reservation::Shares(Shares(5)))
    );
}

#[test]
fn a_queued_order_that_cannot_be_covered_is_refused_with_an_estimate() {
    let refused = reserve(BUY, Shares(10), Cents(10_000), funds(100_000, 1), NONE).unwrap_err();
    assert_eq!(refused.to_string(), "needs about 1000.00, available 999.99");
    assert_eq!(Error::from(refused).code(), "INSUFFICIENT_FUNDS");
    let refused = reserve(SELL, Shares(1), Cents(1), funds(0, 0), held(5, 5, 100)).unwrap_err();
    assert_eq!(refused.to_string(), "holds 0 free shares");
    assert_eq!(Error::from(refused).code(), "INSUFFICIENT_SHARES");
}

#[test]
fn refusals_read_as_before() {
    let r = Refusal::InsufficientFunds {
        needed: Cents(1050),
        available: Cents(3),
        estimate: false,
    };
    assert_eq!(r.to_string(), "needs 10.50, available 0.03");
}

fn quote(active: bool, last_cents: i64) -> Quote {
    Quote {
        id: 7,
        symbol: "AAPL".into(),
        name: "Apple".into(),
        active,
        drift: 0.0,
        volatility: 0.0,
        last_cents,
        open_cents: last_cents,
        high_cents: last_cents,
        low_cents: last_cents,
        prev_close_cents: last_cents,
        session_date: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
        updated_at: Utc::now(),
    }
}

#[test]
fn at_the_open_an_active_stock_fills_at_its_last_price() {
    assert_eq!(
        at_open(Ok(Some(quote(true, 12_345)))).unwrap(),
        AtOpen::Fill {
            price: Cents(12_345)
        }
    );
}

#[test]
fn at_the_open_a_halted_or_vanished_stock_rejects() {
    assert_eq!(
        at_open(Ok(Some(quote(false, 100)))).unwrap(),
        AtOpen::Reject("the stock is halted")
    );
    assert_eq!(
        at_open(Ok(None)).unwrap(),
        AtOpen::Reject("the stock is halted")
    );
}

#[test]
fn at_the_open_a_failed_lookup_is_an_error_not_a_halt() {
    for failure in [
        Error::internal("database is locked"),
        Error::internal("connection closed"),
    ] {
        let outcome = at_open(Err(failure));
        assert!(
            matches!(outcome, Err(Error::Internal(_))),
            "the order must stay queued: {outcome:?}"
        );
    }
}

#[test]
fn a_quote_too_large_to_represent_is_an_error_not_a_problem() {
    assert_eq!(
        preview(BUY, Shares(2), Cents(i64::MAX), funds(0, 0), NONE),
        Err(Refusal::TooLarge)
    );
    // The total fits; the balance after it does not.
    assert_eq!(
        preview(
            SELL,
            Shares(1),
            Cents(10),
            funds(i64::MAX, 0),
            held(1, 0, 1)
        ),
        Err(Refusal::TooLarge)
    );
}

#[test]
fn each_quote_problem_reads_differently() {
    let all = [
        QuoteProblem::InsufficientFunds,
        QuoteProblem::InsufficientShares,
        QuoteProblem::StockHalted,
    ];
    let messages: std::collections::HashSet<_> = all.iter().map(|p| p.message()).collect();
    assert_eq!(messages.len(), all.len());
    assert_eq!(QuoteProblem::StockHalted.message(), "the stock is halted");
}
