//! The rules of working orders, pure: what a working order reserves, how a trailing stop
//! follows the price, and what an order does at a tick round's price. The engine's reads
//! select candidates with the same conditions in SQL (`evaluate`), then ask [`at_round`] again
//! for each order under its owner's lock: the SQL only narrows, this decides.

use super::{
    order::{Order, OrderType, Side},
    plan::{Refusal, Reservation, total},
    terms::Terms,
    units::{Cents, Shares},
};

/// Whether a round at `price` reaches a limit: at or below it for a buy, at or above it for a
/// sell.
pub fn limit_reached(side: Side, limit: Cents, price: Cents) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

/// Whether a round at `price` crosses a stop: at or above it for a buy, at or below it for a
/// sell.
pub fn stop_reached(side: Side, stop: Cents, price: Cents) -> bool {
    match side {
        Side::Buy => price >= stop,
        Side::Sell => price <= stop,
    }
}

/// The new best price when a round at `price` beats `reference` (higher for a sell, lower for
/// a buy); None when it does not.
pub fn track(side: Side, reference: Cents, price: Cents) -> Option<Cents> {
    let better = match side {
        Side::Sell => price > reference,
        Side::Buy => price < reference,
    };
    better.then_some(price)
}

/// What a working order does at a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Keeps working.
    Wait,
    /// A stop-limit's stop was crossed but not its limit: it works on as a limit order.
    Trigger,
    /// Fills at the round's price; `triggered` when a stop was crossed in this round.
    Fill { triggered: bool },
}

/// What a working order whose stop (a trailing stop's already follows this round) is
/// `order.stop_price_cents` does at a round at `price`. A stop-limit triggered in this round
/// fills in it too when the price also satisfies its limit.
pub fn at_round(order: &Order, price: Cents) -> Step {
    let side = order.side;
    let limit_ok = |limit: Option<i64>| limit.is_some_and(|l| limit_reached(side, Cents(l), price));
    let stop_crossed = order
        .stop_price_cents
        .is_some_and(|s| stop_reached(side, Cents(s), price));
    let triggered = order.triggered_at.is_some();
    match order.order_type {
        OrderType::Market => Step::Wait,
        OrderType::Limit if limit_ok(order.limit_price_cents) => Step::Fill { triggered: false },
        OrderType::Limit => Step::Wait,
        OrderType::Stop | OrderType::TrailingStop if stop_crossed => Step::Fill { triggered: true },
        OrderType::Stop | OrderType::TrailingStop => Step::Wait,
        OrderType::StopLimit if triggered && limit_ok(order.limit_price_cents) => {
            Step::Fill { triggered: false }
        }
        OrderType::StopLimit if triggered || !stop_crossed => Step::Wait,
        OrderType::StopLimit if limit_ok(order.limit_price_cents) => Step::Fill { triggered: true },
        OrderType::StopLimit => Step::Trigger,
    }
}

/// What a working order holds while it waits: a sell its shares; a buy its worst cost, that is
/// the limit × quantity for limit and stop-limit buys, and for stop and trailing-stop buys the
/// stop plus the largest move one round can make (`max_move_bps`, from `MAX_TICK_PCT`),
/// rounded up to the cent, per share. A stop buy that fills higher than that (a gap) is
/// checked against the cash available then.
pub fn reservation(
    side: Side,
    quantity: Shares,
    terms: &Terms,
    stop: Option<Cents>,
    max_move_bps: i64,
) -> Result<Reservation, Refusal> {
    if side == Side::Sell {
        return Ok(Reservation::Shares(quantity));
    }
    let per_share = match (terms.limit_price, stop) {
        (Some(limit), _) => limit,
        (None, Some(stop)) => {
            let scaled = i128::from(stop.0) * i128::from(10_000 + max_move_bps);
            let ceil = (scaled + 9_999) / 10_000;
            Cents(i64::try_from(ceil).map_err(|_| Refusal::TooLarge)?)
        }
        // A market order queued at the close reserves its estimate (`plan::reserve`).
        (None, None) => return Err(Refusal::TooLarge),
    };
    Ok(Reservation::Cash(total(per_share, quantity)?))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::trading::{
        order::{Status, TimeInForce},
        terms::Trail,
    };

    fn order(order_type: OrderType, side: Side) -> Order {
        let now = Utc::now();
        Order {
            id: 1,
            user_id: 1,
            stock_id: 1,
            side,
            quantity: 10,
            status: Status::Open,
            price_cents: None,
            total_cents: None,
            client_order_id: None,
            reject_reason: None,
            created_at: now,
            executed_at: None,
            order_type,
            time_in_force: TimeInForce::Day,
            limit_price_cents: None,
            stop_price_cents: None,
            trail_percent_bps: None,
            trail_amount_cents: None,
            trail_reference_cents: None,
            triggered_at: None,
            expires_at: None,
            canceled_at: None,
            updated_at: now,
            reserved_cents: 0,
            reserved_shares: 0,
            replaced_by: None,
        }
    }

    fn with(mut o: Order, limit: Option<i64>, stop: Option<i64>) -> Order {
        o.limit_price_cents = limit;
        o.stop_price_cents = stop;
        o
    }

    #[test]
    fn a_limit_fills_at_or_better_than_its_price() {
        let buy = with(order(OrderType::Limit, Side::Buy), Some(10_000), None);
        assert_eq!(at_round(&buy, Cents(10_001)), Step::Wait);
        assert_eq!(
            at_round(&buy, Cents(10_000)),
            Step::Fill { triggered: false }
        );
        assert_eq!(
            at_round(&buy, Cents(9_000)),
            Step::Fill { triggered: false }
        );
        let sell = with(order(OrderType::Limit, Side::Sell), Some(10_000), None);
        assert_eq!(at_round(&sell, Cents(9_999)), Step::Wait);
        assert_eq!(
            at_round(&sell, Cents(10_000)),
            Step::Fill { triggered: false }
        );
    }

    #[test]
    fn a_stop_fills_as_market_once_crossed() {
        let buy = with(order(OrderType::Stop, Side::Buy), None, Some(10_000));
        assert_eq!(at_round(&buy, Cents(9_999)), Step::Wait);
        assert_eq!(
            at_round(&buy, Cents(10_000)),
            Step::Fill { triggered: true }
        );
        let sell = with(order(OrderType::Stop, Side::Sell), None, Some(10_000));
        assert_eq!(at_round(&sell, Cents(10_001)), Step::Wait);
        assert_eq!(
            at_round(&sell, Cents(9_500)),
            Step::Fill { triggered: true }
        );
        let trailing = with(
            order(OrderType::TrailingStop, Side::Sell),
            None,
            Some(9_500),
        );
        assert_eq!(at_round(&trailing, Cents(9_600)), Step::Wait);
        assert_eq!(
            at_round(&trailing, Cents(9_500)),
            Step::Fill { triggered: true }
        );
    }

    #[test]
    fn a_stop_limit_becomes_a_limit_once_crossed() {
        // Sell: stop 95, limit 94.
        let sell = with(
            order(OrderType::StopLimit, Side::Sell),
            Some(9_400),
            Some(9_500),
        );
        assert_eq!(at_round(&sell, Cents(9_600)), Step::Wait);
        // Crossed and within the limit: triggers and fills in the same round.
        assert_eq!(
            at_round(&sell, Cents(9_450)),
            Step::Fill { triggered: true }
        );
        // Crossed below the limit: works on as a limit.
        assert_eq!(at_round(&sell, Cents(9_300)), Step::Trigger);
        let mut triggered = sell.clone();
        triggered.triggered_at = Some(Utc::now());
        assert_eq!(at_round(&triggered, Cents(9_300)), Step::Wait);
        // A triggered stop-limit is a limit: above the stop again, it still fills.
        assert_eq!(
            at_round(&triggered, Cents(9_800)),
            Step::Fill { triggered: false }
        );
        // A market order never works.
        assert_eq!(
            at_round(&order(OrderType::Market, Side::Buy), Cents(1)),
            Step::Wait
        );
    }

    #[test]
    fn a_trailing_stop_follows_the_best_price() {
        let pct = Trail::Percent { bps: 500 };
        assert_eq!(pct.stop(Side::Sell, Cents(10_000)), Cents(9_500));
        assert_eq!(pct.stop(Side::Buy, Cents(10_000)), Cents(10_500));
        // 5 % of 100.19 is 5.0095: the offset is rounded down.
        assert_eq!(pct.stop(Side::Sell, Cents(10_019)), Cents(9_519));
        let amount = Trail::Amount(Cents(300));
        assert_eq!(amount.stop(Side::Sell, Cents(10_000)), Cents(9_700));
        assert_eq!(
            track(Side::Sell, Cents(10_000), Cents(10_100)),
            Some(Cents(10_100))
        );
        assert_eq!(track(Side::Sell, Cents(10_000), Cents(9_900)), None);
        assert_eq!(track(Side::Sell, Cents(10_000), Cents(10_000)), None);
        assert_eq!(
            track(Side::Buy, Cents(10_000), Cents(9_900)),
            Some(Cents(9_900))
        );
        assert_eq!(track(Side::Buy, Cents(10_000), Cents(10_100)), None);
    }

    #[test]
    fn reservations_hold_the_worst_cost_or_the_shares() {
        let limit = Terms {
            order_type: OrderType::Limit,
            limit_price: Some(Cents(10_000)),
            ..Default::default()
        };
        assert_eq!(
            reservation(Side::Buy, Shares(3), &limit, None, 500),
            Ok(Reservation::Cash(Cents(30_000)))
        );
        assert_eq!(
            reservation(Side::Sell, Shares(3), &limit, None, 500),
            Ok(Reservation::Shares(Shares(3)))
        );
        let stop = Terms {
            order_type: OrderType::Stop,
            stop_price: Some(Cents(10_001)),
            ..Default::default()
        };
        // 100.01 × 1.05 = 105.0105, rounded up to 105.02 a share.
        assert_eq!(
            reservation(Side::Buy, Shares(2), &stop, stop.stop_price, 500),
            Ok(Reservation::Cash(Cents(21_004)))
        );
        let stop_limit = Terms {
            order_type: OrderType::StopLimit,
            limit_price: Some(Cents(10_200)),
            stop_price: Some(Cents(10_100)),
            ..Default::default()
        };
        assert_eq!(
            reservation(
                Side::Buy,
                Shares(1),
                &stop_limit,
                stop_limit.stop_price,
                500
            ),
            Ok(Reservation::Cash(Cents(10_200)))
        );
        assert_eq!(
            reservation(Side::Buy, Shares(i64::MAX), &limit, None, 500),
            Err(Refusal::TooLarge)
        );
    }
}
