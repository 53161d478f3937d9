//! Candle intervals and their buckets in the market time zone.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::local_instant;

/// A candle's length. On the wire and in storage: `H1`, `H4`, `D1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Interval {
    H1,
    H4,
    D1,
}

impl Interval {
    pub const ALL: [Interval; 3] = [Interval::H1, Interval::H4, Interval::D1];

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::H1 => "H1",
            Interval::H4 => "H4",
            Interval::D1 => "D1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// Start of the bucket holding `t`: local hour, local 4-hour block, or local day.
    pub fn bucket_start(self, t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = t.with_timezone(&tz);
        let hour = match self {
            Interval::H1 => local.hour(),
            Interval::H4 => local.hour() - local.hour() % 4,
            Interval::D1 => 0,
        };
        let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
        local_instant(tz, local.date_naive(), time)
    }

    /// A little more than the longest bucket, to bound queries.
    pub fn max_len(self) -> Duration {
        match self {
            Interval::H1 => Duration::hours(2),
            Interval::H4 => Duration::hours(5),
            Interval::D1 => Duration::hours(25),
        }
    }
}
