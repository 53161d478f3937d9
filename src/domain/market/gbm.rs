//! Geometric Brownian motion: the pure price step.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

/// Seconds in one trading day (09:30–16:00): drift and volatility are per trading day.
pub const TRADING_DAY_SECS: f64 = 6.5 * 3600.0;

#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Expected log return per trading day.
    pub drift: f64,
    /// Standard deviation of log returns per trading day.
    pub volatility: f64,
    /// Step length in trading days.
    pub dt: f64,
    /// Largest move of one step, as a fraction (0.05 = 5 %).
    pub cap: f64,
}

impl Params {
    /// Parameters for a step of `secs` seconds.
    pub fn for_step(drift: f64, volatility: f64, secs: f64, cap: f64) -> Self {
        Params {
            drift,
            volatility,
            dt: secs / TRADING_DAY_SECS,
            cap,
        }
    }

    /// The log return for a standard normal draw `z`, capped.
    pub fn log_return(&self, z: f64) -> f64 {
        let r = (self.drift - 0.5 * self.volatility.powi(2)) * self.dt
            + self.volatility * self.dt.sqrt() * z;
        r.clamp((1.0 - self.cap).ln(), (1.0 + self.cap).ln())
    }

    /// One step from `price`.
    pub fn step(&self, price: f64, rng: &mut impl Rng) -> f64 {
        price * self.log_return(rng.sample(StandardNormal)).exp()
    }
}

/// A trading day's first price from the last one: a lognormal jump whose log has standard
/// deviation `volatility` and mean −volatility²/2, so the expected price is the last one.
/// Draws nothing when `volatility` is 0 (the gap is off).
pub fn opening_gap(price: f64, volatility: f64, rng: &mut impl Rng) -> f64 {
    if volatility <= 0.0 {
        return price;
    }
    let z: f64 = rng.sample(StandardNormal);
    price * (volatility * z - 0.5 * volatility * volatility).exp()
}

/// Rounds to whole cents, never below one cent: prices stay positive.
pub fn to_cents(price: f64) -> i64 {
    if price.is_finite() {
        ((price * 100.0).round() as i64).max(1)
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn sample_returns(p: Params, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut price = 100.0;
        (0..n)
            .map(|_| {
                let next = p.step(price, &mut rng);
                let r = (next / price).ln();
                price = next;
                r
            })
            .collect()
    }

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn log_returns_have_the_theoretical_mean_and_variance() {
        let n = 200_000;
        for (drift, vol, secs) in [
            (0.001, 0.02, TRADING_DAY_SECS),
            (0.0001, 0.02, 2.0),
            (0.002, 0.05, 3600.0),
        ] {
            let p = Params::for_step(drift, vol, secs, 0.5);
            let (mean, var) = mean_var(&sample_returns(p, n, 7));
            let expected_mean = (drift - vol * vol / 2.0) * p.dt;
            let expected_var = vol * vol * p.dt;
            // Four standard errors: a false alarm about once in 16,000 runs (and the seed is fixed).
            let se_mean = (expected_var / n as f64).sqrt();
            let se_var = expected_var * (2.0 / n as f64).sqrt();
            assert!(
                (mean - expected_mean).abs() < 4.0 * se_mean,
                "mean {mean} vs {expected_mean}"
            );
            assert!(
                (var - expected_var).abs() < 4.0 * se_var,
                "var {var} vs {expected_var}"
            );
        }
    }

    #[test]
    fn one_step_never_moves_more_than_the_cap() {
        // Wild volatility so the cap binds often.
        let p = Params::for_step(0.0, 0.5, TRADING_DAY_SECS, 0.05);
        let returns = sample_returns(p, 50_000, 11);
        let moves: Vec<f64> = returns.iter().map(|r| r.exp() - 1.0).collect();
        assert!(moves.iter().all(|m| m.abs() <= 0.05 + 1e-12));
        let capped = moves
            .iter()
            .filter(|m| (m.abs() - 0.05).abs() < 1e-9)
            .count();
        assert!(
            capped > 10_000,
            "cap should bind often, bound {capped} times"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_path() {
        let p = Params::for_step(0.0001, 0.02, 2.0, 0.05);
        assert_eq!(sample_returns(p, 100, 42), sample_returns(p, 100, 42));
        assert_ne!(sample_returns(p, 100, 42), sample_returns(p, 100, 43));
    }

    #[test]
    fn opening_gaps_have_the_overnight_volatility_and_keep_the_expected_price() {
        let n = 200_000;
        let volatility = 0.01;
        let mut rng = StdRng::seed_from_u64(5);
        let gaps: Vec<f64> = (0..n)
            .map(|_| opening_gap(100.0, volatility, &mut rng) / 100.0)
            .collect();
        let logs: Vec<f64> = gaps.iter().map(|g| g.ln()).collect();
        let (mean, var) = mean_var(&logs);
        let expected_var = volatility * volatility;
        let se_mean = (expected_var / n as f64).sqrt();
        let se_var = expected_var * (2.0 / n as f64).sqrt();
        assert!(
            (mean + expected_var / 2.0).abs() < 4.0 * se_mean,
            "mean {mean}"
        );
        assert!((var - expected_var).abs() < 4.0 * se_var, "var {var}");
        // A martingale: on average the open is the last price.
        let (gap_mean, _) = mean_var(&gaps);
        assert!((gap_mean - 1.0).abs() < 4.0 * volatility / (n as f64).sqrt());
    }

    #[test]
    fn a_zero_overnight_volatility_neither_gaps_nor_draws() {
        let mut rng = StdRng::seed_from_u64(9);
        assert_eq!(opening_gap(101.25, 0.0, &mut rng), 101.25);
        // The stream is untouched: the next draw is the seed's first.
        let next: f64 = rng.sample(StandardNormal);
        let first: f64 = StdRng::seed_from_u64(9).sample(StandardNormal);
        assert_eq!(next, first);
    }

    #[test]
    fn prices_stay_positive_whole_cents() {
        assert_eq!(to_cents(189.504), 18950);
        assert_eq!(to_cents(0.001), 1);
        assert_eq!(to_cents(f64::NAN), 1);
    }
}
