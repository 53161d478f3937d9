//! Planning one tick round, pure: every active stock takes one GBM step, its live price row
//! follows (with the new-trading-day rollover), and the live candles take the new price. The
//! market service reads the inputs and writes the plan in one transaction.
//!
//! A stock's first price of a trading day jumps from its last one by the opening gap
//! (`OVERNIGHT_VOLATILITY`): at the open the engine runs an opening round that only does
//! that ([`opening`]), before the queued orders run, so they meet the day's real open; a tick
//! round that still finds a stock on an older day (open around the clock past midnight, a stock
//! resumed from a halt) gaps it before its step.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rand::{SeedableRng, rngs::StdRng};

use super::{
    candles::{Candle, Interval},
    gbm::{self, Params},
    stocks::{LivePrice, Quote},
};
use crate::domain::events::{Tick, TickDay};

/// What one GBM step needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Simulated seconds per round (`TICK_INTERVAL_SECS`).
    pub secs: f64,
    /// Largest move of one round, as a fraction (`MAX_TICK_PCT`).
    pub max_pct: f64,
    /// Standard deviation of the log jump from the previous close to a day's first price
    /// (`OVERNIGHT_VOLATILITY`); 0 turns the gap off.
    pub overnight: f64,
}

impl From<&crate::config::Config> for Step {
    fn from(config: &crate::config::Config) -> Self {
        Step {
            secs: config.tick_interval.as_secs_f64(),
            max_pct: config.max_tick_pct,
            overnight: config.overnight_volatility,
        }
    }
}

/// The simulation's memory between rounds: owned by whoever runs the rounds (the engine).
pub struct Simulation {
    rng: StdRng,
    /// Unrounded prices by stock id, so sub-cent moves accumulate instead of being rounded
    /// away.
    exact: HashMap<i64, f64>,
}

impl Simulation {
    /// Reproducible with a seed (`SIM_SEED`), random without.
    pub fn new(seed: Option<u64>) -> Self {
        Simulation {
            rng: match seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => rand::make_rng(),
            },
            exact: HashMap::new(),
        }
    }

    /// Keeps the exact prices of a committed tick round. Only this round's stocks stay: one
    /// that left and comes back resyncs from its stored price anyway.
    pub fn remember(&mut self, exact: HashMap<i64, f64>) {
        self.exact = exact;
    }

    /// Keeps the exact prices of a committed opening round, beside the others' (an opening
    /// round moves only the stocks starting a new day).
    pub fn remember_also(&mut self, exact: HashMap<i64, f64>) {
        self.exact.extend(exact);
    }
}

/// One round's writes and event, before they are stored.
#[derive(Debug, Clone)]
pub struct Plan {
    pub prices: Vec<LivePrice>,
    pub ticks: Vec<Tick>,
    /// The new exact prices, for [`Simulation::remember`] once the round is committed.
    pub exact: HashMap<i64, f64>,
}

/// Moves every stock in `quotes` one step; `today` is the market-local date of the round. A
/// stock still on an older day opens with the gap first.
pub fn plan(quotes: &[Quote], sim: &mut Simulation, step: Step, today: NaiveDate) -> Plan {
    let mut out = Plan::with_capacity(quotes.len());
    for q in quotes {
        let mut start = start_price(sim.exact.get(&q.id).copied(), q.last_cents);
        if q.session_date != today {
            start = gbm::opening_gap(start, step.overnight, &mut sim.rng);
        }
        let params = Params::for_step(q.drift, q.volatility, step.secs, step.max_pct);
        let exact = params.step(start, &mut sim.rng);
        out.push(q, exact, today);
    }
    out
}

/// The opening round of trading day `today`: each stock of `quotes` still on an older day
/// jumps from its last price by the opening gap and starts the new day there; the others are
/// left out. Empty when the gap is off.
pub fn opening(quotes: &[Quote], sim: &mut Simulation, step: Step, today: NaiveDate) -> Plan {
    let mut out = Plan::with_capacity(0);
    if step.overnight <= 0.0 {
        return out;
    }
    for q in quotes.iter().filter(|q| q.session_date != today) {
        let start = start_price(sim.exact.get(&q.id).copied(), q.last_cents);
        let exact = gbm::opening_gap(start, step.overnight, &mut sim.rng);
        out.push(q, exact, today);
    }
    out
}

impl Plan {
    fn with_capacity(n: usize) -> Self {
        Plan {
            prices: Vec::with_capacity(n),
            ticks: Vec::with_capacity(n),
            exact: HashMap::with_capacity(n),
        }
    }

    /// `q` trades at `exact` on `today`: its live row, its tick, its exact price.
    fn push(&mut self, q: &Quote, exact: f64, today: NaiveDate) {
        let live = next_live(q, gbm::to_cents(exact), today);
        self.exact.insert(q.id, exact);
        self.ticks.push(Tick {
            stock_id: q.id,
            symbol: q.symbol.clone(),
            price_cents: live.last,
            prev_close_cents: live.prev_close,
            day: Some(TickDay {
                name: q.name.clone(),
                open_cents: live.open,
                high_cents: live.high,
                low_cents: live.low,
            }),
        });
        self.prices.push(live);
    }
}

/// Where a stock's step starts: the exact price from the last round, unless the stored price
/// no longer rounds to it (an admin or another leader changed it): then the stored one.
pub fn start_price(exact: Option<f64>, stored_cents: i64) -> f64 {
    exact
        .filter(|p| gbm::to_cents(*p) == stored_cents)
        .unwrap_or(stored_cents as f64 / 100.0)
}

/// The live row after a trade at `price` on trading day `today`. A new trading day starts
/// from yesterday's last price: it becomes the previous close, and the day's open, high and
/// low start at the new price.
pub fn next_live(q: &Quote, price: i64, today: NaiveDate) -> LivePrice {
    let (open, high, low, prev_close) = if q.session_date == today {
        (
            q.open_cents,
            q.high_cents.max(price),
            q.low_cents.min(price),
            q.prev_close_cents,
        )
    } else {
        (price, price, price, q.last_cents)
    };
    LivePrice {
        stock_id: q.id,
        last: price,
        open,
        high,
        low,
        prev_close,
        change: price - prev_close,
        session_date: today,
    }
}

/// The bucket start of every interval's live candle at `now`.
pub fn live_buckets(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Vec<(Interval, DateTime<Utc>)> {
    Interval::ALL
        .iter()
        .map(|i| (*i, i.bucket_start(now, tz)))
        .collect()
}

/// The live candle of every interval for each tick, with the tick's price added: the stored
/// one (from `stored`, by stock and interval) or a fresh one.
pub fn live_candles(
    mut stored: HashMap<(i64, Interval), Candle>,
    ticks: &[Tick],
    buckets: &[(Interval, DateTime<Utc>)],
) -> Vec<Candle> {
    let mut out = Vec::with_capacity(ticks.len() * buckets.len());
    for t in ticks {
        for &(interval, start) in buckets {
            let candle = match stored.remove(&(t.stock_id, interval)) {
                Some(mut c) => {
                    c.push(t.price_cents);
                    c
                }
                None => Candle::first(t.stock_id, interval, start, t.price_cents),
            };
            out.push(candle);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono_tz::America::New_York;
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A stock on the 25th: opened at 100.00, ranged 98.00–103.00, last 101.00, closed at
    /// 99.00 the day before.
    fn quote(id: i64) -> Quote {
        Quote {
            id,
            symbol: format!("S{id}"),
            name: format!("Stock {id}"),
            active: true,
            drift: 0.0001,
            volatility: 0.02,
            last_cents: 10100,
            open_cents: 10000,
            high_cents: 10300,
            low_cents: 9800,
            prev_close_cents: 9900,
            session_date: day(25),
            updated_at: utc("2026-11-25T20:00:00Z"),
        }
    }

    const STEP: Step = Step {
        secs: 2.0,
        max_pct: 0.05,
        overnight: 0.0,
    };

    const GAPPED: Step = Step {
        overnight: 0.02,
        ..STEP
    };

    #[test]
    fn the_same_day_extends_the_range_and_keeps_open_and_previous_close() {
        let q = quote(1);
        let inside = next_live(&q, 10200, day(25));
        assert_eq!(
            (inside.open, inside.high, inside.low, inside.prev_close),
            (10000, 10300, 9800, 9900)
        );
        assert_eq!((inside.last, inside.change), (10200, 300));
        let above = next_live(&q, 10400, day(25));
        assert_eq!((above.high, above.low), (10400, 9800));
        let below = next_live(&q, 9700, day(25));
        assert_eq!((below.high, below.low, below.change), (10300, 9700, -200));
        assert_eq!(below.session_date, day(25));
    }

    #[test]
    fn a_new_day_starts_from_yesterdays_last_price() {
        let next = next_live(&quote(1), 10250, day(26));
        assert_eq!(
            next,
            LivePrice {
                stock_id: 1,
                last: 10250,
                open: 10250,
                high: 10250,
                low: 10250,
                prev_close: 10100,
                change: 150,
                session_date: day(26),
            }
        );
        // Any other date counts as a new day too (days skipped over a weekend or holiday).
        assert_eq!(next_live(&quote(1), 10250, day(30)).prev_close, 10100);
    }

    #[test]
    fn the_exact_price_is_kept_only_while_the_stored_cents_match() {
        assert_eq!(start_price(Some(101.004), 10100), 101.004);
        assert_eq!(start_price(Some(100.996), 10100), 100.996);
        // Changed elsewhere: start again from the stored price.
        assert_eq!(start_price(Some(101.004), 15000), 150.0);
        assert_eq!(start_price(None, 10100), 101.0);
    }

    #[test]
    fn a_plan_moves_every_stock_once_and_is_reproducible() {
        let quotes = [quote(1), quote(2)];
        let mut a = Simulation::new(Some(7));
        let plan_a = plan(&quotes, &mut a, STEP, day(25));
        let plan_b = plan(&quotes, &mut Simulation::new(Some(7)), STEP, day(25));
        assert_eq!(plan_a.prices, plan_b.prices);
        assert_eq!(plan_a.prices.len(), 2);
        for (price, tick) in plan_a.prices.iter().zip(&plan_a.ticks) {
            assert_eq!(price.stock_id, tick.stock_id);
            assert_eq!(price.last, tick.price_cents);
            assert_eq!(price.prev_close, tick.prev_close_cents);
            // The tick carries the stock's name and day as stored, so that subscribers need
            // no read to show the whole stock.
            assert_eq!(
                tick.day,
                Some(TickDay {
                    name: format!("Stock {}", tick.stock_id),
                    open_cents: price.open,
                    high_cents: price.high,
                    low_cents: price.low,
                })
            );
            assert_eq!(gbm::to_cents(plan_a.exact[&price.stock_id]), price.last);
            // At most the cap away from the start.
            assert!((price.last - 10100).abs() <= 10100 * 5 / 100 + 1);
        }
        assert_eq!(plan_a.ticks[1].symbol, "S2");
    }

    #[test]
    fn a_new_day_in_a_plan_starts_the_ticks_day_afresh() {
        let plan = plan(&[quote(1)], &mut Simulation::new(Some(3)), STEP, day(26));
        let tick = &plan.ticks[0];
        let price = tick.price_cents;
        assert_eq!(tick.prev_close_cents, 10100, "yesterday's last price");
        assert_eq!(
            tick.day
                .as_ref()
                .map(|d| (d.open_cents, d.high_cents, d.low_cents)),
            Some((price, price, price))
        );
    }

    #[test]
    fn the_opening_round_gaps_only_the_stocks_starting_a_new_day() {
        let mut moved_on = quote(2);
        moved_on.session_date = day(26);
        let quotes = [quote(1), moved_on];
        let mut sim = Simulation::new(Some(21));
        let open = opening(&quotes, &mut sim, GAPPED, day(26));
        assert_eq!(open.ticks.len(), 1, "stock 2 opened already");
        let (tick, live) = (&open.ticks[0], &open.prices[0]);
        assert_eq!(tick.stock_id, 1);
        // The gap drawn from the same seed, from yesterday's last price.
        let mut rng = StdRng::seed_from_u64(21);
        let expected = gbm::opening_gap(101.0, 0.02, &mut rng);
        assert_eq!(open.exact[&1], expected);
        assert_ne!(live.last, 10100, "the seed's draw moves the price");
        assert_eq!(
            (live.open, live.high, live.low, live.prev_close),
            (live.last, live.last, live.last, 10100),
            "the new day starts at the gapped price"
        );
        // Reproducible with the seed.
        let again = opening(&quotes, &mut Simulation::new(Some(21)), GAPPED, day(26));
        assert_eq!(again.prices, open.prices);
        // Once on today, a stock is not gapped again.
        assert!(
            opening(&[moved_on_today()], &mut sim, GAPPED, day(26))
                .ticks
                .is_empty()
        );
    }

    fn moved_on_today() -> Quote {
        let mut q = quote(3);
        q.session_date = day(26);
        q
    }

    #[test]
    fn without_the_gap_the_day_opens_at_the_last_price() {
        // No opening round at all, and a new day's first tick is a plain step (same draws).
        let mut sim = Simulation::new(Some(4));
        assert!(
            opening(&[quote(1)], &mut sim, STEP, day(26))
                .ticks
                .is_empty()
        );
        let new_day = plan(&[quote(1)], &mut Simulation::new(Some(4)), STEP, day(26));
        let same_day = plan(&[quote(1)], &mut Simulation::new(Some(4)), STEP, day(25));
        assert_eq!(new_day.exact, same_day.exact);
        assert_eq!(new_day.prices[0].prev_close, 10100);
    }

    #[test]
    fn a_tick_that_starts_a_new_day_gaps_before_its_step() {
        let q = quote(1);
        let gapped = plan(
            std::slice::from_ref(&q),
            &mut Simulation::new(Some(8)),
            GAPPED,
            day(26),
        );
        // Same draws by hand: the gap, then the step from the gapped price.
        let mut rng = StdRng::seed_from_u64(8);
        let open = gbm::opening_gap(101.0, 0.02, &mut rng);
        let params = Params::for_step(q.drift, q.volatility, STEP.secs, STEP.max_pct);
        assert_eq!(gapped.exact[&1], params.step(open, &mut rng));
        // The same day: no gap, so the step's draw is the seed's first.
        let plain = plan(&[q], &mut Simulation::new(Some(8)), GAPPED, day(25));
        let mut rng = StdRng::seed_from_u64(8);
        assert_eq!(plain.exact[&1], params.step(101.0, &mut rng));
    }

    #[test]
    fn remembered_exact_prices_carry_sub_cent_moves_into_the_next_round() {
        let mut q = quote(1);
        let mut sim = Simulation::new(Some(1));
        sim.remember(HashMap::from([(1, 101.004)]));
        let mut twin = Simulation::new(Some(1));
        twin.remember(HashMap::from([(1, 100.0)]));
        let kept = plan(std::slice::from_ref(&q), &mut sim, STEP, day(25));
        // Same draw from a different stored start: the remembered exact price was used.
        q.last_cents = 10000;
        let other = plan(std::slice::from_ref(&q), &mut twin, STEP, day(25));
        let ratio = kept.exact[&1] / other.exact[&1];
        assert!((ratio - 101.004 / 100.0).abs() < 1e-12, "ratio {ratio}");
    }

    #[test]
    fn live_candles_extend_the_stored_ones_or_start_fresh() {
        let now = utc("2026-11-25T15:45:00Z");
        let buckets = live_buckets(now, New_York);
        assert_eq!(buckets.len(), Interval::ALL.len());
        let hour = utc("2026-11-25T15:00:00Z");
        let mut stored = HashMap::new();
        let mut h1 = Candle::first(1, Interval::H1, hour, 10000);
        h1.push(9900);
        stored.insert((1, Interval::H1), h1);
        let ticks = [1, 2].map(|id| Tick {
            stock_id: id,
            symbol: format!("S{id}"),
            price_cents: 10100,
            prev_close_cents: 9900,
            day: None,
        });
        let candles = live_candles(stored, &ticks, &buckets);
        assert_eq!(candles.len(), 2 * buckets.len());
        let extended = candles
            .iter()
            .find(|c| c.stock_id == 1 && c.interval == Interval::H1)
            .unwrap();
        assert_eq!(
            (extended.open, extended.high, extended.low, extended.close),
            (10000, 10100, 9900, 10100)
        );
        assert_eq!(extended.tick_count, 3);
        let fresh = candles
            .iter()
            .find(|c| c.stock_id == 2 && c.interval == Interval::D1)
            .unwrap();
        assert_eq!(
            *fresh,
            Candle::first(2, Interval::D1, utc("2026-11-25T05:00:00Z"), 10100)
        );
    }
}
