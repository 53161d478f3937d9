//! History for a stock that has none: a GBM path over past trading hours that ends exactly at
//! the live price, rolled up into candles.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use rand::{Rng, RngExt};

use chrono::{DateTime, Utc};
use entity::candle_data;
use rand::{SeedableRng, rngs::StdRng};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{
    Calendar,
    candles::{self, Candle, Interval},
    gbm::{self, Params},
    stocks::Quote,
};
use crate::domain::Result;

/// What backfilling needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub days: u32,
    pub max_step_pct: f64,
    /// Makes the history reproducible (mixed with the stock id).
    pub seed: Option<u64>,
}

impl From<&crate::config::Config> for Settings {
    fn from(config: &crate::config::Config) -> Self {
        Settings {
            days: config.candle_backfill_days,
            max_step_pct: config.max_tick_pct,
            seed: config.sim_seed,
        }
    }
}

/// Backfills a stock that has no candles yet; returns how many candles were written.
pub async fn ensure_history(
    conn: &impl ConnectionTrait,
    cal: &Calendar,
    settings: Settings,
    stock: &Quote,
    now: DateTime<Utc>,
) -> Result<usize> {
    let has_history = candle_data::Entity::find()
        .filter(candle_data::Column::StockId.eq(stock.id))
        .one(conn)
        .await?
        .is_some();
    if has_history || settings.days == 0 {
        return Ok(0);
    }
    let mut rng = match settings.seed {
        Some(seed) => {
            StdRng::seed_from_u64(seed ^ (stock.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        }
        None => rand::make_rng(),
    };
    let params = Params::for_step(
        stock.drift,
        stock.volatility,
        STEP_SECS as f64,
        settings.max_step_pct,
    );
    let out = candles(
        cal,
        cal.tz,
        cal.local_date(now),
        settings.days,
        stock.id,
        stock.last_cents,
        params,
        &mut rng,
    );
    candles::upsert(conn, &out, now).await?;
    Ok(out.len())
}

/// Spacing of the simulated history.
pub const STEP_SECS: i64 = 300;

/// Candles for the trading days in `[today - days, today)`, continuous with `end_cents`: the
/// path is drawn forward, then scaled so its last point is the live price.
#[allow(clippy::too_many_arguments)]
pub fn candles(
    cal: &Calendar,
    tz: Tz,
    today: NaiveDate,
    days: u32,
    stock_id: i64,
    end_cents: i64,
    params: Params,
    rng: &mut impl Rng,
) -> Vec<Candle> {
    let first = today - Duration::days(i64::from(days));
    let yesterday = today - Duration::days(1);
    let times: Vec<_> = cal
        .trading_days(first, yesterday)
        .into_iter()
        .filter_map(|d| cal.session(d))
        .flat_map(|(open, close)| {
            std::iter::successors(Some(open), move |t| Some(*t + Duration::seconds(STEP_SECS)))
                .take_while(move |t| *t < close)
        })
        .collect();
    if times.is_empty() {
        return Vec::new();
    }
    let mut log_price = 0.0_f64;
    let mut path: Vec<f64> = times
        .iter()
        .map(|_| {
            log_price += params.log_return(rng.sample(rand_distr::StandardNormal));
            log_price
        })
        .collect();
    let shift = (end_cents as f64 / 100.0).ln() - path.last().copied().unwrap_or(0.0);
    for p in &mut path {
        *p = gbm::to_cents((*p + shift).exp()) as f64;
    }
    let points: Vec<_> = times
        .into_iter()
        .zip(path.into_iter().map(|c| c as i64))
        .collect();
    let hourly = candles::aggregate(stock_id, Interval::H1, tz, points);
    let mut out = candles::roll_up(Interval::H4, tz, &hourly);
    out.extend(candles::roll_up(Interval::D1, tz, &hourly));
    out.extend(hourly);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::calendar::tests::nyse;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn thirty_days_of_history_ending_at_the_live_price() {
        let cal = nyse();
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(); // a Wednesday
        let params = Params::for_step(0.0001, 0.02, STEP_SECS as f64, 0.05);
        let mut rng = StdRng::seed_from_u64(1);
        let out = candles(&cal, cal.tz, today, 30, 9, 18950, params, &mut rng);
        let count = |i| out.iter().filter(|c| c.interval == i).count();
        // Oct 26 … Nov 24: 22 weekdays, no holidays in between.
        assert_eq!(count(Interval::D1), 22);
        // 09:30–16:00 touches 7 local hours and 2 four-hour blocks (08–12, 12–16).
        assert_eq!(count(Interval::H1), 22 * 7);
        assert_eq!(count(Interval::H4), 22 * 2);
        let last_day = out
            .iter()
            .filter(|c| c.interval == Interval::D1)
            .max_by_key(|c| c.bucket_start)
            .unwrap();
        assert_eq!(last_day.close, 18950);
        assert!(
            out.iter().all(|c| c.low > 0
                && c.low <= c.open.min(c.close)
                && c.high >= c.open.max(c.close))
        );
        // 78 five-minute steps per session.
        assert_eq!(last_day.tick_count, 78);
    }
}
